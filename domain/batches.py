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
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from domain.engine import FileEngine, Recorded
from domain.errors import AlreadyRegistered, DomainError, MissingInformation
from domain.facts import Fact
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
        batch: list[tuple[int, Opened]] = []
        numbers: set[str] = set()
        for index, new in enumerate(files):
            try:
                opened = _opened(new)
                if opened.number in numbers:
                    raise AlreadyRegistered(f"invoice {opened.number} comes twice",
                                            number=opened.number)
            except DomainError as error:
                outcomes[index] = error
            else:
                numbers.add(opened.number)
                batch.append((index, opened))
                before = owed.get(opened.account, (Decimal(0), ""))[0]
                owed[opened.account] = (before + opened.owes, new.postcode)
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

    def _save_batch(self, batch: Sequence[tuple[int, Opened]], outcomes: list[Outcome]
                    ) -> None:
        """Saves new files in one transaction; those registered before stay unchanged."""
        if not batch:
            return
        try:
            self.save(*(fact for _, opened in batch for fact in opened.facts))
        except RecordConflictError:
            pass  # some were registered before: sort them out one by one
        else:
            for index, _ in batch:
                outcomes[index] = CREATED
            return
        for index, opened in batch:
            if opened.file_id in self.repository:
                continue
            try:
                self.save(*opened.facts)
            except RecordConflictError:
                continue
            outcomes[index] = CREATED


@dataclass(frozen=True)
class Opened:
    """A new file's facts, to save, and what its debtor owes on it."""

    file_id: UUID
    facts: Sequence[Fact]
    number: str
    account: str
    owes: Decimal


def _opened(new: NewFile) -> Opened:
    """The facts of a new file. A file only registered is its registration alone, saved
    without folding the file from it: its number, debtor and amount are the fact's own
    (folding a file for each invoice cost an import a tenth of its Python's CPU)."""
    if not new.steps:
        fact = Invoice.registration(new.stamp, **vars(new.registration))
        return Opened(fact.originator_id, [fact], fact.number, fact.debtor.account,
                      fact.amount)
    invoice = Invoice.register(new.stamp, **vars(new.registration))
    for step in new.steps:
        if step.command.startswith("_") or not callable(getattr(Invoice, step.command, None)):
            raise MissingInformation(f"no command {step.command!r} on a file",
                                     field="command")
        getattr(invoice, step.command)(step.stamp, **step.args)
    case = invoice.case
    return Opened(invoice.id, invoice.collect_events(), case.number, case.debtor.account,
                  case.outstanding)
