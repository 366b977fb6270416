"""Reading the Fichier des Écritures Comptables (FEC, article A47 A-1 du LPF).

Open customer receivables (accounts 411..., the auxiliary account being the debtor)
become files; the credits lettered with them (same lettering code) become payments,
oldest invoice first. Invoices fully settled by their lettering are left out. Due
dates come from a due-date column when the FEC has one, else from payment terms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from adapters.usecases.importing import (
    BadRow,
    ImportReport,
    Progress,
    record_payment_rows,
    register_rows,
)
from domain.service import CaseFiles
from domain.terms import PaymentTerms

DUE_COLUMNS = ("dateecheance", "echeancedate", "echeance", "dateech")


@dataclass
class _Line:
    line: int
    journal: str
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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    rows = text.splitlines()
    if not rows:
        raise BadRow("fichier vide")
    separator = "\t" if rows[0].count("\t") >= rows[0].count("|") else "|"
    header = [h.strip().lower() for h in rows[0].split(separator)]
    needed = ("journalcode", "comptenum", "compauxnum", "compauxlib", "pieceref",
              "ecrituredate", "ecriturelib", "debit", "credit", "ecriturelet")
    missing = [n for n in needed if n not in header]
    if missing:
        raise BadRow(f"colonnes FEC introuvables : {', '.join(missing)}")
    col = {name: header.index(name) for name in header}
    due_col = next((col[c] for c in DUE_COLUMNS if c in col), None)
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
        try:
            piece_day = cells[col["piecedate"]] if "piecedate" in col else ""
            due_text = cells[due_col].strip() if due_col is not None else ""
            lines.append(_Line(
                line=number, journal=cells[col["journalcode"]].strip(),
                account=cells[col["comptenum"]].strip(), aux=cells[col["compauxnum"]].strip(),
                aux_name=cells[col["compauxlib"]].strip(), piece=cells[col["pieceref"]].strip(),
                day=_day(piece_day or cells[col["ecrituredate"]]),
                label=cells[col["ecriturelib"]].strip(), debit=_amount(cells[col["debit"]]),
                credit=_amount(cells[col["credit"]]), letter=cells[col["ecriturelet"]].strip(),
                due=_day(due_text) if due_text else None))
        except BadRow as error:
            report.reject(number, str(error))
    return lines


def import_fec(files: CaseFiles, data: bytes, actor: str, terms: PaymentTerms,
               progress: Progress | None = None) -> ImportReport:
    """Files for the open receivables of a FEC, and their lettered payments."""
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
                "due_on": (invoice.due or terms.due_on(invoice.day)).isoformat()}))
            for credit, used in allocated:
                payment_rows.append((credit.line, {
                    "number": invoice.piece, "amount": str(used),
                    "received_on": credit.day.isoformat(),
                    "means": "virement" if credit.journal.upper().startswith("B") else "",
                    "reference": _reference(credit)}))
    invoices_report = register_rows(files, open_rows, actor, progress)
    payments_report = record_payment_rows(files, payment_rows, actor)
    for part in (invoices_report, payments_report):
        report.created += part.created
        report.unchanged += part.unchanged
        report.rejected.extend(part.rejected)
        report.outcomes.update(part.outcomes)
    report.rejected.sort()
    return report


def _reference(credit: _Line) -> str:
    return f"FEC {credit.journal} {credit.piece} {credit.label}".strip()
