"""Reading the Fichier des Écritures Comptables (FEC, article A47 A-1 du LPF).

Open customer receivables (accounts 411..., the auxiliary account being the debtor)
become files; the credits lettered with them (same lettering code) are allotted to them,
oldest invoice first. A lettered credit booked in the sales journal (a journal code
starting with V, as VT or VE, or AV, or a journal named « ventes » or « avoirs ») or
labelled « avoir... » is a credit note (avoir) and is recorded as one; every other
lettered credit (bank, cash, miscellaneous operations) is a payment. Invoices fully
settled by their lettering are left out. Due dates come from a due-date column when the
FEC has one, else from payment terms. A FEC that is not text, or has no line after its
header, is refused whole; a line that does not read is rejected with its number.

The FEC's eighteen columns (article A47 A-1) know a customer only by its auxiliary
account and label: the label is the debtor's name, and nothing else of the debtor is in
them. Columns some accounting software adds after them, named as in the CSV import
(`siren`, `siret`, `forme_juridique`, `adresse_facturation`, `code_postal`, `ville`,
`adresse_siege`..., `contact`, `fonction_contact`, `role_contact`, `email`, `telephone`),
are read as the CSV's are, from the invoice's line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from adapters.usecases.import_files import INVOICE_COLUMNS, BadRow, plain_name, text_lines
from adapters.usecases.import_payments import CREDIT_NOTE, PAYMENT, record_payment_rows
from adapters.usecases.importing import ImportReport, Progress, register_rows
from domain.service import CaseFiles
from domain.terms import PaymentTerms

DUE_COLUMNS = ("dateecheance", "echeancedate", "echeance", "dateech")
SALES_JOURNAL_CODES = ("V", "AV")
SALES_JOURNAL_WORDS = ("vente", "avoir")
DEBTOR_DETAILS = ("siren", "siret", "legal_form", "office_street", "office_street_2",
                  "office_postcode", "office_city", "office_country", "billing_street",
                  "billing_street_2", "billing_postcode", "billing_city", "billing_country",
                  "contact_name", "contact_function", "contact_role", "contact_phone",
                  "contact_email")
"""What a FEC's added columns may say of the debtor (see the module's doc)."""


@dataclass
class _Line:
    line: int
    journal: str
    journal_name: str
    account: str
    aux: str
    aux_name: str
    piece: str
    day: date
    label: str
    debit: Decimal
    credit: Decimal
    letter: str
    due: date | None
    extra: dict[str, str]
    """The debtor's details in the columns added after the standard ones."""

    @property
    def is_credit_note(self) -> bool:
        """True for a credit of the customer booked as an avoir, not received money."""
        return (self.journal.upper().startswith(SALES_JOURNAL_CODES)
                or any(w in self.journal_name.lower() for w in SALES_JOURNAL_WORDS)
                or self.label.lower().startswith("avoir"))


def _amount(text: str) -> Decimal:
    cleaned = text.strip().replace(" ", "").replace(",", ".") or "0"
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise BadRow(f"montant illisible : {text!r}") from None


def _day(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y%m%d").date()  # noqa: DTZ007 - a date
    except ValueError:
        raise BadRow(f"date illisible : {text!r} (AAAAMMJJ attendu)") from None



def _lines(data: bytes, report: ImportReport) -> list[_Line]:
    text = text_lines(data)
    rows = [row.removesuffix("\r") for row in text.lines]
    separator = "\t" if rows[0].count("\t") >= rows[0].count("|") else "|"
    header = [h.strip().lower() for h in rows[0].split(separator)]
    needed = ("journalcode", "comptenum", "compauxnum", "compauxlib", "pieceref",
              "ecrituredate", "ecriturelib", "debit", "credit", "ecriturelet")
    missing = [n for n in needed if n not in header]
    if missing:
        raise BadRow(f"colonnes FEC introuvables : {', '.join(missing)}")
    col = {name: header.index(name) for name in header}
    due_col = next((col[c] for c in DUE_COLUMNS if c in col), None)
    aliases = {alias: name for name in DEBTOR_DETAILS for alias in INVOICE_COLUMNS[name]}
    extra_cols = {i: aliases[plain_name(h)] for i, h in enumerate(header)
                  if plain_name(h) in aliases}
    if not any(row.strip() for row in rows[1:]):
        raise BadRow("aucune écriture à importer : le FEC n'a que son en-tête")
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        cells = row.split(separator)
        if not row.strip():
            continue
        if len(cells) < len(header):
            report.reject(number, "ligne incomplète")
            continue
        if not cells[col["comptenum"]].strip().startswith("411"):
            continue
        if number in text.undecodable:
            report.reject(number, f"ligne illisible (caractères invalides en {text.encoding})")
            continue
        try:
            piece_day = cells[col["piecedate"]] if "piecedate" in col else ""
            due_text = cells[due_col].strip() if due_col is not None else ""
            lines.append(_Line(
                line=number, journal=cells[col["journalcode"]].strip(),
                journal_name=cells[col["journallib"]].strip() if "journallib" in col else "",
                account=cells[col["comptenum"]].strip(), aux=cells[col["compauxnum"]].strip(),
                aux_name=cells[col["compauxlib"]].strip(), piece=cells[col["pieceref"]].strip(),
                day=_day(piece_day or cells[col["ecrituredate"]]),
                label=cells[col["ecriturelib"]].strip(), debit=_amount(cells[col["debit"]]),
                credit=_amount(cells[col["credit"]]), letter=cells[col["ecriturelet"]].strip(),
                due=_day(due_text) if due_text else None,
                extra={name: cells[i].strip() for i, name in extra_cols.items()
                       if cells[i].strip()}))
        except BadRow as error:
            report.reject(number, str(error))
    return lines


def import_fec(files: CaseFiles, data: bytes, actor: str, terms: PaymentTerms,
               progress: Progress | None = None, *,
               confirm_duplicates: bool = False) -> ImportReport:
    """Files for the open receivables of a FEC, and their lettered payments and credit
    notes."""
    report = ImportReport()
    lines = _lines(data, report)
    invoices = [ln for ln in lines if ln.debit > 0]
    credits = [ln for ln in lines if ln.credit > 0]
    groups: dict[tuple[str, str], list[_Line]] = defaultdict(list)
    for credit in credits:
        if credit.letter:
            groups[(credit.aux, credit.letter.upper())].append(credit)
    open_rows, payment_rows = [], []
    by_group: dict[tuple[str, str], list[_Line]] = defaultdict(list)
    for invoice in invoices:
        by_group[(invoice.aux, invoice.letter.upper())].append(invoice)
    for key, members in by_group.items():
        paid = groups.get(key, []) if key[1] else []
        available = sorted(((c.day, c.line, c.credit, c) for c in paid), key=lambda t: t[:2])
        for invoice in sorted(members, key=lambda i: (i.day, i.line)):
            allocated, owed = [], invoice.debit
            while owed > 0 and available:
                day, line, amount, credit = available.pop(0)
                used = min(amount, owed)
                allocated.append((credit, used))
                owed -= used
                if amount > used:
                    available.insert(0, (day, line, amount - used, credit))
            if owed <= 0:
                continue  # settled by its lettering: nothing to collect
            open_rows.append((invoice.line, {
                "number": invoice.piece, "debtor_account": invoice.aux,
                "debtor_name": invoice.aux_name, "amount": str(invoice.debit),
                "issued_on": invoice.day.isoformat(),
                "due_on": (invoice.due or terms.due_on(invoice.day)).isoformat(),
                **invoice.extra}))
            payment_rows.extend((credit.line, _settlement(invoice, credit, used))
                                for credit, used in allocated)
    report.merge(register_rows(files, open_rows, actor, progress))
    report.merge(record_payment_rows(files, payment_rows, actor,
                                     confirm_duplicates=confirm_duplicates))
    return report


def _settlement(invoice: _Line, credit: _Line, used: Decimal) -> dict[str, str]:
    """The payments row of what a lettered credit settles of an invoice."""
    return {"number": invoice.piece, "amount": str(used), "received_on": credit.day.isoformat(),
            "kind": CREDIT_NOTE if credit.is_credit_note else PAYMENT,
            "means": "virement" if credit.journal.upper().startswith("B") else "",
            "reference": _reference(credit)}


def _reference(credit: _Line) -> str:
    return f"FEC {credit.journal} {credit.piece} {credit.label}".strip()
