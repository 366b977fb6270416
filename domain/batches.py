"""Many new files at once: an import, an ERP's push, the demo portfolio.

A file per invoice is opened (and, for the demo, its history played on it) and saved many
per transaction, for speed; invoices registered earlier are told apart from new ones, and
a refused invoice never stops the others. Like every command, this runs in the
application service: nothing outside it builds a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import RecordConflictError

from domain.engine import FileEngine, Recorded
from domain.errors import AlreadyRegistered, DomainError, MissingInformation
from domain.invoice import Invoice
from domain.values import Contact, Debtor, Money, Stamp

BATCH = 250
"""Files saved per transaction."""
CREATED, UNCHANGED = "created", "unchanged"
Outcome = str | DomainError
"""What became of one file: created, unchanged (registered before), or its refusal."""
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Registration:
    """An invoice to register, as an import row, an ERP or the demo gives it."""

    number: str
    debtor: Debtor
    amount: Money
    issued_on: date
    due_on: date
    po_reference: str = ""
    billing_recipient: Contact | None = None
    penalty_rate: Decimal | None = None


@dataclass(frozen=True)
class Step:
    """A later fact of a file recorded in bulk: when and by whom (`stamp`), which thing
    done on the file (a public command of `Invoice`), with which arguments."""

    stamp: Stamp
    command: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewFile:
    """A file to open in bulk: its invoice, when it was registered, and what followed."""

    registration: Registration
    stamp: Stamp
    steps: Sequence[Step] = ()
    postcode: str = ""
    """The debtor's postcode, when the source gives it (owner rules by region)."""


class BatchCommands(FileEngine):
    """Commands that open many files at once."""

    def register_invoices(self, actor: str, registrations: Sequence[Registration], *,
                          occurred_at: datetime | None = None,
                          progress: Progress | None = None,
                          postcodes: Sequence[str] = ()) -> list[Outcome]:
        """Opens the file of each invoice, many per transaction; one outcome per invoice.
        `postcodes`, when the source gives them, are the debtors' (one per invoice), for
        the owner rules by département."""
        now = self._now()
        stamp = Stamp(actor, occurred_at or now, now)
        codes = list(postcodes) or [""] * len(registrations)
        return self.record_files([NewFile(r, stamp, postcode=code)
                                  for r, code in zip(registrations, codes, strict=True)],
                                 progress)

    def record_files(self, files: Sequence[NewFile], progress: Progress | None = None
                     ) -> list[Outcome]:
        """Opens each file and plays its steps, many files per transaction; one outcome per
        file, in order. A file registered before is 'unchanged' and left as it is."""
        outcomes: list[Outcome] = [UNCHANGED] * len(files)
        owed: dict[str, tuple[Decimal, str]] = {}
        batch: list[tuple[int, Invoice]] = []
        numbers: set[str] = set()
        for index, new in enumerate(files):
            try:
                invoice = _opened(new)
                number, account, outstanding = _owing(invoice, new)
                if number in numbers:
                    raise AlreadyRegistered(f"invoice {number} comes twice", number=number)
            except DomainError as error:
                outcomes[index] = error
            else:
                numbers.add(number)
                batch.append((index, invoice))
                before = owed.get(account, (Decimal(0), ""))[0]
                owed[account] = (before + outstanding, new.postcode)
            if len(batch) >= BATCH or index == len(files) - 1:
                self._save_batch(batch, outcomes)
                batch = []
            if progress:
                progress(index + 1, len(files))
        if files:
            self.give_owners(files[0].stamp.actor, owed)
        return outcomes

    def give_owners(self, actor: str, debtors: dict[str, tuple[Decimal, str]]  # noqa: ARG002
                    ) -> Recorded | None:
        """Gives new debtors their owner by the team's rules: `domain.debtor_book` does;
        a service without debtors' records gives none."""
        return None

    def _save_batch(self, batch: Sequence[tuple[int, Invoice]], outcomes: list[Outcome]
                    ) -> None:
        """Saves new files in one transaction; those registered before stay unchanged."""
        if not batch:
            return
        # Taken out of the files first: a save that fails has already taken them, and
        # the files registered before are then sorted out one by one with their facts.
        facts = [(index, invoice.collect_events()) for index, invoice in batch]
        try:
            self.save(*(fact for _, some in facts for fact in some))
        except RecordConflictError:
            pass  # some were registered before: sort them out one by one
        else:
            for index, _ in batch:
                outcomes[index] = CREATED
            return
        for (index, invoice), (_, some) in zip(batch, facts, strict=True):
            if invoice.id in self.repository:
                continue
            try:
                self.save(*some)
            except RecordConflictError:
                continue
            outcomes[index] = CREATED


def _owing(invoice: Invoice, new: NewFile) -> tuple[str, str, Decimal]:
    """The file's number, its debtor's account and what it owes. A file only registered
    owes its invoice's amount, read from its registration: folding its case for these
    three would cost an import a twentieth of its time."""
    if new.steps:
        case = invoice.case
        return case.number, case.debtor.account, case.outstanding
    registered = invoice.entry(1).data
    return registered["number"], registered["debtor"].account, registered["amount"]


def _opened(new: NewFile) -> Invoice:
    invoice = Invoice.register(new.stamp, **vars(new.registration))
    for step in new.steps:
        if step.command.startswith("_") or not callable(getattr(Invoice, step.command, None)):
            raise MissingInformation(f"no command {step.command!r} on a file",
                                     field="command")
        getattr(invoice, step.command)(step.stamp, **step.args)
    return invoice
