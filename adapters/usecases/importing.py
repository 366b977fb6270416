"""Getting invoices and payments in from the accounting software (CSV).

Columns are recognised by their usual French or English names; amounts and dates in
French ("1 500,00", "31/03/2026") or ISO form; `;`, `,` or tab separated; UTF-8 or
Windows-1252. Every import is idempotent: a file imported twice records nothing new
the second time and says so. A bad row never stops the others and never records half
of itself: it is reported with its line number and the reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.messages import in_french
from adapters.parsing import parse_date
from domain.batches import Registration
from domain.errors import DomainError
from domain.service import CaseFiles
from domain.values import Contact, Debtor, Money, PaymentMeans

Progress = Callable[[int, int], None]

INVOICE_COLUMNS = {
    "number": ("number", "invoice_number", "numero", "numero_facture", "facture", "n_facture"),
    "debtor_account": ("debtor_account", "account", "compte", "compte_client", "code_client"),
    "debtor_name": ("debtor_name", "debtor", "client", "raison_sociale", "nom_client"),
    "siren": ("siren", "debtor_siren"),
    "amount": ("amount", "amount_incl_tax", "montant", "montant_ttc", "ttc"),
    "currency": ("currency", "devise"),
    "issued_on": ("issued_on", "issue_date", "date", "date_facture", "date_emission"),
    "due_on": ("due_on", "due_date", "echeance", "date_echeance"),
    "po_reference": ("po_reference", "po", "reference_commande", "commande", "bon_de_commande"),
    "contact_name": ("contact_name", "contact", "destinataire", "nom_contact"),
    "contact_email": ("contact_email", "email", "courriel", "e_mail"),
    "contact_phone": ("contact_phone", "phone", "telephone", "tel"),
}
PAYMENT_COLUMNS = {
    "number": INVOICE_COLUMNS["number"],
    "amount": ("amount", "montant", "montant_regle"),
    "received_on": ("received_on", "date", "date_paiement", "date_reglement"),
    "means": ("means", "mode", "moyen", "mode_de_reglement", "moyen_de_paiement"),
    "reference": ("reference", "ref", "libelle", "reference_paiement"),
}
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


class BadRow(ValueError):
    """A row that cannot be read; its message says why, in French."""


@dataclass
class ImportReport:
    """What an import did: rows recorded, rows already there, rows rejected and why.

    `outcomes` gives, for each row (by line number, or index for the API), 'created',
    'unchanged' or 'rejected'.
    """

    created: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict)

    def count(self, ref: int, outcome: str) -> None:
        """Notes what happened to one row."""
        self.outcomes[ref] = outcome
        if outcome == "created":
            self.created += 1
        elif outcome == "unchanged":
            self.unchanged += 1

    def reject(self, ref: int, reason: str) -> None:
        """Notes a rejected row and why."""
        self.outcomes[ref] = "rejected"
        self.rejected.append((ref, reason))

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejected


def refusal(error: DomainError) -> str:
    """A refused row's reason: the French sentence, then the precise detail."""
    return f"{in_french(error)} ({error.detail})"


def _key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "_" for c in plain.strip().lower()).strip("_")


def read_rows(data: bytes, columns: dict[str, Sequence[str]]
              ) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as {field: text}, with their line numbers (header is line 1)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        return
    aliases = {alias: name for name, names in columns.items() for alias in names}
    mapping = {i: aliases.get(_key(h)) for i, h in enumerate(header)}
    missing = {"number", "amount"} - set(mapping.values())
    if missing:
        raise BadRow(f"colonnes introuvables : {', '.join(sorted(missing))}")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a field over the csv module's 128 KiB limit
            yield reader.line_num, UnreadableRow(f"ligne illisible ({_csv_error(error)})")
            continue
        if not any(c.strip() for c in cells):
            continue
        yield reader.line_num, {name: cells[i].strip() for i, name in mapping.items()
                                if name and i < len(cells)}


class UnreadableRow(dict[str, str]):
    """A row the CSV reader could not read: rejected with its reason, the others go on."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _csv_error(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return f"un champ dépasse {csv.field_size_limit() // 1024} Kio"
    return "guillemets ou séparateurs mal placés"


def _date(row: dict[str, str], name: str, label: str) -> Any:
    text = row.get(name, "")
    if not text:
        raise BadRow(f"{label} manquante")
    try:
        return parse_date(text)
    except ValueError:
        raise BadRow(f"{label} illisible : {text!r}") from None


def _registration(row: dict[str, str]) -> Registration:
    if isinstance(row, UnreadableRow):
        raise BadRow(row.reason)
    try:
        amount = Money.parse(row.get("amount", ""), (row.get("currency") or "EUR").upper())
        return Registration(
            number=row.get("number", ""),
            debtor=Debtor(row.get("debtor_account", ""), row.get("debtor_name", ""),
                          row.get("siren", "")),
            amount=amount, issued_on=_date(row, "issued_on", "date de facture"),
            due_on=_date(row, "due_on", "date d'échéance"),
            po_reference=row.get("po_reference", ""),
            billing_recipient=Contact(name=row.get("contact_name", ""),
                                      email=row.get("contact_email", ""),
                                      phone=row.get("contact_phone", "")),
        )
    except DomainError as error:
        raise BadRow(refusal(error)) from None


def import_invoices(files: CaseFiles, data: bytes, actor: str,
                    progress: Progress | None = None) -> ImportReport:
    """Registers every new invoice of a CSV file, many per transaction."""
    return register_rows(files, list(read_rows(data, INVOICE_COLUMNS)), actor, progress)


def register_rows(files: CaseFiles, rows: Sequence[tuple[int, dict[str, str]]], actor: str,
                  progress: Progress | None = None) -> ImportReport:
    """Registers invoice rows ({field: text}, by reference) through the service's bulk
    command (many per transaction); a number twice in the rows is reported here."""
    report = ImportReport()
    seen: dict[str, int] = {}
    accepted: list[tuple[int, Registration]] = []
    for ref, row in rows:
        try:
            registration = _registration(row)
        except BadRow as error:
            report.reject(ref, str(error))
            continue
        number = registration.number.strip()
        if number in seen:
            report.reject(ref, f"numéro déjà présent ligne {seen[number]}")
            continue
        seen[number] = ref
        accepted.append((ref, registration))
    outcomes = files.register_invoices(
        actor, [registration for _, registration in accepted],
        progress=(lambda done, _: progress(done, len(accepted))) if progress else None)
    for (ref, _), outcome in zip(accepted, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            report.reject(ref, refusal(outcome))
        else:
            report.count(ref, outcome)
    report.rejected.sort()
    return report


def import_payments(files: CaseFiles, data: bytes, actor: str,
                    progress: Progress | None = None) -> ImportReport:
    """Records every new payment of a CSV file (partial payments allowed)."""
    return record_payment_rows(files, list(read_rows(data, PAYMENT_COLUMNS)), actor, progress)


def record_payment_rows(files: CaseFiles, rows: Sequence[tuple[int, dict[str, str]]],
                        actor: str, progress: Progress | None = None) -> ImportReport:
    """Records payment rows ({field: text}, by reference), each at most once."""
    report = ImportReport()
    occurrences: dict[str, int] = {}
    for done, (ref, row) in enumerate(rows, start=1):
        try:
            if isinstance(row, UnreadableRow):
                raise BadRow(row.reason)
            number = row.get("number", "")
            amount = Money.parse(row.get("amount", ""))
            received_on = _date(row, "received_on", "date de paiement")
            means = MEANS.get(_key(row.get("means", "")), PaymentMeans.OTHER)
            identity = "|".join((number, str(amount.amount), received_on.isoformat(),
                                 row.get("reference", "")))
            occurrences[identity] = occurrences.get(identity, 0) + 1
            key = "payment:" + hashlib.sha256(
                f"{identity}|{occurrences[identity]}".encode()).hexdigest()
            recorded = files.receive_payment(
                actor, number, amount=amount, received_on=received_on, means=means,
                reference=row.get("reference", ""), idempotency_key=key)
        except BadRow as error:
            report.reject(ref, str(error))
        except DomainError as error:
            report.reject(ref, refusal(error))
        else:
            report.count(ref, "unchanged" if recorded.replayed else "created")
        if progress:
            progress(done, len(rows))
    return report


def read_file(path: Path) -> bytes:
    """The bytes of a file to import, or a clear error."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise BadRow(f"fichier illisible : {error.strerror or error}") from None

