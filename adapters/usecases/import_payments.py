"""Getting payments and credit notes in from the accounting software (CSV).

The file is read by `import_files` and the outcome is an `ImportReport` of `importing`.
The rules:
- A payments line is a payment, or a credit note (avoir) when its nature column says so
  (a means of payment there, "virement", says a payment too); partial payments are
  allowed.
- A line identical to an earlier one of the same file (same invoice, amount, date,
  means, reference and nature) is held until a person confirms it is another one; a copy
  confirmed by an earlier import is not held again.
- Each line is recorded at most once: its idempotency key is made of what it says and of
  which copy of it in the file it is, so a file imported twice records nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from adapters.usecases.import_files import (
    PAYMENT_COLUMNS,
    BadRow,
    UnreadableRow,
    plain_name,
    read_rows,
    row_date,
    row_money,
)
from adapters.usecases.importing import Duplicate, ImportReport, Progress, refusal
from domain.errors import DomainError
from domain.receipts import receipt_id
from domain.service import CaseFiles, Recorded
from domain.values import Money, PaymentMeans
from projections.french import day, money, word

MEANS = {
    "bill_of_exchange": PaymentMeans.BILL_OF_EXCHANGE,
    "direct_debit": PaymentMeans.DIRECT_DEBIT, "cash": PaymentMeans.CASH,
    "virement": PaymentMeans.TRANSFER, "vir": PaymentMeans.TRANSFER,
    "transfer": PaymentMeans.TRANSFER, "cheque": PaymentMeans.CHEQUE,
    "chq": PaymentMeans.CHEQUE, "lcr": PaymentMeans.BILL_OF_EXCHANGE,
    "effet": PaymentMeans.BILL_OF_EXCHANGE, "carte": PaymentMeans.CARD,
    "cb": PaymentMeans.CARD, "card": PaymentMeans.CARD,
    "prelevement": PaymentMeans.DIRECT_DEBIT, "especes": PaymentMeans.CASH,
}
PAYMENT, CREDIT_NOTE = "paiement", "avoir"
NATURES = {
    "": PAYMENT, "paiement": PAYMENT, "payment": PAYMENT, "reglement": PAYMENT,
    "encaissement": PAYMENT, "avoir": CREDIT_NOTE, "credit_note": CREDIT_NOTE,
    "credit": CREDIT_NOTE, "note_de_credit": CREDIT_NOTE,
}
"""A payments line's nature, as accounting software writes it (case and accents aside);
a means of payment there ("virement") says a payment too."""


@dataclass(frozen=True)
class MoneyLine:
    """A payments line, read: a payment or a credit note (avoir) on an invoice."""

    nature: str
    number: str
    amount: Money
    on: date
    means: PaymentMeans
    reference: str

    def identity(self) -> str:
        """What the line's idempotency key is made of (a payment's, as it always was)."""
        fields = (self.number, str(self.amount.amount), self.on.isoformat(), self.reference)
        return "|".join(fields if self.nature == PAYMENT else (self.nature, *fields))

    def idempotency_key(self, occurrence: int) -> str:
        """The key of the line's `occurrence`-th copy in its file: each copy is recorded
        once, however often the file comes back."""
        digest = hashlib.sha256(f"{self.identity()}|{occurrence}".encode()).hexdigest()
        return f"{'payment' if self.nature == PAYMENT else 'credit_note'}:{digest}"

    def describe(self) -> str:
        """The line as a person reads it."""
        shown = [f"{self.nature} {self.number} de {money(self.amount.amount)} du {day(self.on)}"]
        if self.nature == PAYMENT:
            shown.append(word("means", self.means))
        return ", ".join([*shown, *([self.reference] if self.reference else [])])


def _money_line(row: dict[str, str]) -> MoneyLine:
    if isinstance(row, UnreadableRow):
        raise BadRow(row.reason)
    kind = plain_name(row.get("kind", ""))
    nature = NATURES.get(kind) or (PAYMENT if kind in MEANS else None)
    if nature is None:
        raise BadRow(f"nature inconnue : {row.get('kind')!r} (paiement ou avoir attendu)")
    return MoneyLine(
        nature=nature, number=row.get("number", ""),
        amount=row_money(row).require_positive(),
        on=row_date(row, "received_on",
                 "date de paiement" if nature == PAYMENT else "date de l'avoir"),
        means=MEANS.get(plain_name(row.get("means", "")) or kind, PaymentMeans.OTHER),
        reference=row.get("reference", ""))


def import_payments(files: CaseFiles, data: bytes, actor: str,
                    progress: Progress | None = None, *,
                    confirm_duplicates: bool = False) -> ImportReport:
    """Records every new payment and credit note of a CSV file (partial payments allowed)."""
    return record_payment_rows(files, list(read_rows(data, PAYMENT_COLUMNS)), actor, progress,
                               confirm_duplicates=confirm_duplicates)


def record_payment_rows(files: CaseFiles, rows: Sequence[tuple[int, dict[str, str]]],
                        actor: str, progress: Progress | None = None, *,
                        confirm_duplicates: bool = False) -> ImportReport:
    """Records payment and credit-note rows ({field: text}, by reference), each at most
    once; a row identical to an earlier one is held unless duplicates are confirmed."""
    report = ImportReport()
    occurrences: dict[str, int] = {}
    first_seen: dict[tuple[str, str], int] = {}
    for done, (ref, row) in enumerate(rows, start=1):
        try:
            line = _money_line(row)
            identity = line.identity()
            occurrences[identity] = occurrences.get(identity, 0) + 1
            key = line.idempotency_key(occurrences[identity])
            first = first_seen.setdefault((identity, line.means), ref)
            if first != ref and not confirm_duplicates and not _recorded_before(files, key):
                report.hold(Duplicate(ref, first, line.describe()))
            else:
                recorded = _record(files, actor, line, key)
                report.count(ref, "unchanged" if recorded.replayed else "created")
        except BadRow as error:
            report.reject(ref, str(error))
        except DomainError as error:
            report.reject(ref, refusal(error), error)
        if progress:
            progress(done, len(rows))
    return report


def _recorded_before(files: CaseFiles, key: str) -> bool:
    """True when a line under this key was recorded by an earlier import (confirmed then)."""
    return receipt_id(key) in files.repository


def _record(files: CaseFiles, actor: str, line: MoneyLine, key: str) -> Recorded:
    if line.nature == CREDIT_NOTE:
        return files.apply_credit_note(actor, line.number, amount=line.amount,
                                       issued_on=line.on, reference=line.reference,
                                       idempotency_key=key)
    return files.receive_payment(actor, line.number, amount=line.amount, received_on=line.on,
                                 means=line.means, reference=line.reference,
                                 idempotency_key=key)
