"""Exports for auditors and lawyers: the record of files as JSON, CSV or a PDF dossier.

The JSON export carries, for every fact, the exact content its digest covers, so that
`verify_export` can check it without the database: each file's chain, each entry against
its own digest, and the whole export against its `export_digest`, a chain over the
header, every file entry and the footer. An export is written file by file (constant
memory); only the running digests are kept. "As it stood on <instant>" keeps the facts
recorded by then, and the amounts are computed on that day.

The CSV holds one row per fact with French headers, as French Excel opens it: `;`
between cells, days and times of Paris (JJ/MM/AAAA HH:MM), amounts with a decimal comma,
UTF-8 with its byte-order mark, or Windows-1252 for older Excel (a character it lacks is
replaced by its nearest, else `?`, never an error); a cell that a spreadsheet would read
as a formula is neutralised. Its digest is that of the bytes written.

The PDF dossier is PDF/A-3b, with the JSON export embedded as its data attachment: the
machine-readable record travels inside the human-readable one. The files' documents
(invoice PDF, signed plan, receipts...) are embedded beside it, each listed with its
SHA-256, as long as their bytes still match it.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from domain.attachments import ATTACHMENT_KINDS, size_in_french
from domain.case import Case
from domain.chain import GENESIS, ChainCheck, canonical, digest_of
from domain.facts import BASE_FIELDS, Fact
from domain.invoice import Invoice, invoice_id
from domain.penalties import LawRates, penalties
from domain.sealing import ERASED, SealedText, commitment_of
from domain.service import CaseFiles
from domain.stored import stored_content
from domain.values import Contact, Debtor, paris_day
from projections.french import day, instant, money, status, word
from projections.history import describe, label

FORMAT = "relance-export/1"
TEMPLATES = Path(__file__).parent / "document_templates"
ATTACHMENT = "relance-export.json"
PDF_FILES_LIMIT = 500
"""A PDF dossier is read by a person: beyond this, export JSON or CSV."""
EMBEDDED_LIMIT = 100 * 1024 * 1024
"""Bytes of documents a PDF dossier embeds at most; the documents beyond are listed, not
embedded (a dossier per file then carries them)."""
CSV_HEADERS = ("Facture", "Débiteur", "Version", "Fait", "Date de l'événement",
               "Enregistré le", "Par", "Résumé", "Montant", "Devise", "Empreinte précédente",
               "Empreinte")
UTF8_BOM, WINDOWS_1252 = "utf-8-sig", "cp1252"
CSV_ENCODINGS = {UTF8_BOM: "UTF-8 (Excel récent, LibreOffice)",
                 WINDOWS_1252: "Windows-1252 (ancien Excel)"}
"""The encodings a CSV is written in, as the export form names them; UTF-8 by default."""
NEAREST_1252 = {"\u202f": "\u00a0", "\u2009": " ", "\u2007": " ", "\u2212": "-",
                "\u2010": "-", "\u2011": "-", "\u2192": "->", "\u2190": "<-",
                "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\u0141": "L",
                "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u2032": "'", "\u2033": '"'}
"""Characters Windows-1252 lacks, and what stands for them (French amounts are grouped
with a narrow no-break space)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FACT_VIEWS = {"version": lambda c: c["originator_version"],
              "occurred_at": lambda c: c["state"]["occurred_at"]["$datetime"],
              "recorded_at": lambda c: c["state"]["timestamp"]["$datetime"],
              "actor": lambda c: c["state"]["actor"],
              "prev_hash": lambda c: c["state"]["prev_hash"],
              "kind": lambda c: c["topic"].rsplit(":", 1)[-1].rsplit(".", 1)[-1],
              "fields": lambda c: {k: v for k, v in c["state"].items()
                                   if k not in BASE_FIELDS and k != "class_version"}}
"""How each shown field of a fact follows from the content its digest covers."""


class ExportError(ValueError):
    """An export that cannot be made as asked (nothing to export, too big for a PDF)."""

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail)
        self.french = french


@dataclass(frozen=True)
class Scope:
    """What an export covers: one file, a debtor's files, or a portfolio."""

    kind: str
    """'file', 'debtor' or 'portfolio'."""
    key: str = ""
    """The invoice number, the debtor's account, or a description of the filters."""


@dataclass
class Written:
    """What an export wrote: its digest, and how many files and facts it holds."""

    digest: str = ""
    files: int = 0
    facts: int = 0


# -- one file's record --------------------------------------------------------------------

def file_record(files: CaseFiles, number: str, as_of: datetime | None, rates: LawRates,
                rate_for: Callable[[Case], Decimal | None] = lambda case: case.penalty_rate
                ) -> dict[str, Any] | None:
    """A file's whole record as exported (None when nothing was recorded by `as_of`)."""
    file_id = invoice_id(number)
    invoice: Invoice | None = None
    exported: list[dict[str, Any]] = []
    for stored in files.recorder.select_events(file_id):
        fact: Fact = files.mapper.to_domain_event(stored)  # type: ignore[assignment]
        if as_of is not None and fact.timestamp > as_of:
            break
        invoice = fact.mutate(invoice)  # type: ignore[assignment]
        state, content, _ = stored_content(files.mapper, stored.state, stored.topic,
                                           file_id, stored.originator_version)
        entry = {**{name: shown(content) for name, shown in FACT_VIEWS.items()},
                 "label": label(fact.kind),
                 "summary": describe(fact.kind, fact.data()), "digest": state.get("digest"),
                 "content": content}
        people = opened_people(fact.data())
        if people:
            entry["people"] = people
        exported.append(_with_digest(entry))
    if invoice is None:
        return None
    case = invoice.case
    on = paris_day(as_of or files.now())
    owed = penalties(case, on, rates, rate_for(case))
    record = {
        "number": case.number, "file_id": file_id.hex,
        "debtor": canonical(case.debtor),
        "invoice": {"amount": str(case.amount), "currency": case.currency,
                    "issued_on": case.issued_on.isoformat(),
                    "due_on": case.due_on.isoformat()},
        "computed": {
            "on": on.isoformat(), "status": case.status(on).value,
            "status_label": status(case.status(on)),
            "paid": str(case.paid), "credited": str(case.credited),
            "discount_granted": str(case.discount_granted),
            "outstanding": str(case.outstanding),
            "interest": str(owed.interest), "indemnity": str(owed.indemnity),
            "indemnity_currency": owed.indemnity_currency,
            "penalties_basis": owed.basis, "provisional_rate": owed.provisional,
            "missing_rates": list(owed.missing),
            "interest_lines": [
                {"from": line.start.isoformat(), "to": line.end.isoformat(),
                 "balance": str(line.balance), "percent": str(line.percent),
                 "amount": str(line.amount), "explanation": line.explanation}
                for line in owed.lines]},
        "documents": _documents(exported),
        "promises": _promises(case, invoice, on),
        "facts": exported,
        "head": {"version": exported[-1]["version"], "digest": exported[-1]["digest"]},
    }
    record["entry_digest"] = record_digest(record)
    return record


def opened_people(data: dict[str, Any]) -> dict[str, Any]:
    """What a fact holds sealed (domain/sealing.py: the people it names, the text people
    wrote), by commitment: the data and its salt while the key exists, so that the export
    proves them against the content; « donnée effacée » once erased."""
    opened: dict[str, Any] = {}
    for value in data.values():
        for one in ([*value.values(), value] if isinstance(value, dict) else [value]):
            if isinstance(one, Contact | Debtor | SealedText) and one.subject:
                commitment = one.__dict__["commitment"]
                opened[commitment] = ERASED if one.is_erased else {
                    **one.plain(), "salt": one.__dict__["salt"]}
    return opened


def _sealed_in(content: Any) -> set[str]:
    """The commitments a fact's content holds."""
    if isinstance(content, dict):
        sealed = content.get("$sealed")
        if isinstance(sealed, dict) and len(content) == 1:
            return {sealed.get("commitment", "")}
        return set().union(*(_sealed_in(v) for v in content.values()))
    if isinstance(content, list):
        return set().union(*(_sealed_in(v) for v in content))
    return set()


def _people_hold(f: dict[str, Any]) -> bool:
    """Whether each person an exported fact shows matches a commitment of its content."""
    people = f.get("people") or {}
    if not isinstance(people, dict) or not set(people) <= _sealed_in(f["content"]):
        return False
    for commitment, opened in people.items():
        if opened == ERASED:
            continue
        if not isinstance(opened, dict):
            return False
        plain = {k: v for k, v in opened.items() if k != "salt"}
        if commitment_of(str(opened.get("salt", "")), plain) != commitment:
            return False
    return True


def _with_digest(entry: dict[str, Any]) -> dict[str, Any]:
    entry.pop("entry_digest", None)
    entry["entry_digest"] = digest_of(entry)
    return entry


def record_digest(record: dict[str, Any]) -> str:
    """A file entry's digest: its own fields, and its facts through their digests."""
    return digest_of({**{k: v for k, v in record.items() if k not in ("facts", "entry_digest")},
                      "facts": [f["entry_digest"] for f in record["facts"]]})


def _documents(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What went out, with its proofs: SMTP Message-ID, registered letter, document digest."""
    proofs = ("template", "channel", "recipient", "subject", "message_id", "document_sha256",
              "registered_letter_number", "level", "attachments")
    return [{"version": f["version"], "kind": f["kind"], "sent_at": f["occurred_at"],
             **{k: f["fields"].get(k) or "" for k in proofs}}
            for f in facts
            if f["kind"] in ("PreDueReminderSent", "ReminderSent", "DocumentSent",
                             "FormalNoticeSent", "DuplicateSent")]


def _promises(case: Case, invoice: Invoice, on: date) -> list[dict[str, Any]]:
    """Every promise and how it ended: kept, broken, replaced by another, or pending."""
    made = [e for e in invoice.entries if e.kind == "PaymentPromised" and e.is_effective]
    out = []
    for i, entry in enumerate(made):
        d = entry.data
        start = paris_day(entry.occurred_at)
        paid = case.paid_between(start, d["promised_on"])
        following = made[i + 1] if i + 1 < len(made) else None
        if paid >= d["amount"]:
            outcome = "kept"
        elif following is not None and paris_day(following.occurred_at) <= d["promised_on"]:
            outcome = "replaced"
        elif on > d["promised_on"]:
            outcome = "broken"
        else:
            outcome = "pending"
        out.append({"version": entry.version, "made_on": start.isoformat(),
                    "promised_on": d["promised_on"].isoformat(), "amount": str(d["amount"]),
                    "by": d["promised_by"].name, "paid_by_then": str(paid),
                    "outcome": outcome})
    return out


# -- JSON ---------------------------------------------------------------------------------

def header(scope: Scope, as_of: datetime | None, actor: str, now: datetime) -> dict[str, Any]:
    """The first part of every export: what, as of when, by whom, when."""
    return {"format": FORMAT, "scope": {"kind": scope.kind, "key": scope.key},
            "as_of": as_of.isoformat() if as_of else None, "exported_at": now.isoformat(),
            "exported_by": actor}


def write_json(out: IO[str], head: dict[str, Any],
               records: Iterable[dict[str, Any]]) -> Written:
    """Writes the export as it goes (one file at a time); returns its digest."""
    written = Written()
    running = _chain(GENESIS, digest_of(head))
    out.write('{"header": ' + _dumps(head) + ', "files": [')
    for record in records:
        out.write((",\n" if written.files else "\n") + _dumps(record))
        running = _chain(running, record["entry_digest"])
        written.files += 1
        written.facts += len(record["facts"])
    footer = {"files": written.files, "facts": written.facts}
    written.digest = _chain(running, digest_of(footer))
    out.write('\n], "footer": ' + _dumps({**footer, "export_digest": written.digest}) + "}\n")
    return written


def _chain(running: str, digest: str) -> str:
    return hashlib.sha256(f"{running}{digest}".encode()).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# -- CSV ----------------------------------------------------------------------------------

def write_csv(out: IO[bytes], records: Iterable[dict[str, Any]],
              encoding: str = UTF8_BOM) -> Written:
    """One row per fact, French headers and formats, in `encoding` (see the module's doc);
    the digest is the SHA-256 of the bytes written."""
    written = Written()
    hashing = _Encoded(out, encoding)
    rows = csv.writer(hashing, delimiter=";", lineterminator="\r\n")
    rows.writerow(CSV_HEADERS)
    for record in records:
        for f in record["facts"]:
            amount = f["fields"].get("amount")
            rows.writerow([safe_cell(v) for v in (
                record["number"], record["debtor"]["$Debtor"]["name"], f["version"],
                f["label"], french_instant(f["occurred_at"]), french_instant(f["recorded_at"]),
                f["actor"], f["summary"],
                decimal_comma(amount["$decimal"]) if isinstance(amount, dict) else "",
                f["fields"].get("currency", "") if amount else "",
                f["prev_hash"], f["digest"])])
            written.facts += 1
        written.files += 1
    written.digest = hashing.digest.hexdigest()
    return written


class _Encoded:
    """Writes text as bytes in a spreadsheet's encoding (the byte-order mark first for
    UTF-8), keeping the SHA-256 of the bytes written (the CSV's digest)."""

    def __init__(self, out: IO[bytes], encoding: str) -> None:
        self.out = out
        self.encoding = encoding
        self.digest = hashlib.sha256()
        if encoding == UTF8_BOM:
            self._put(codecs.BOM_UTF8)

    def write(self, text: str) -> int:
        self._put(spreadsheet_bytes(text, self.encoding))
        return len(text)

    def _put(self, data: bytes) -> None:
        self.digest.update(data)
        self.out.write(data)


def spreadsheet_bytes(text: str, encoding: str) -> bytes:
    """Text in a CSV encoding (without the byte-order mark): UTF-8, or Windows-1252 with
    each character it lacks replaced by its nearest (« ő » by « o »), else by `?`."""
    if encoding != WINDOWS_1252:
        return text.encode("utf-8")
    try:
        return text.encode(WINDOWS_1252)
    except UnicodeEncodeError:
        return "".join(_nearest_1252(c) for c in text).encode(WINDOWS_1252)


def _nearest_1252(char: str) -> str:
    try:
        char.encode(WINDOWS_1252)
        return char
    except UnicodeEncodeError:
        pass
    if char in NEAREST_1252:
        return NEAREST_1252[char]
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    try:
        return plain.encode(WINDOWS_1252).decode(WINDOWS_1252) or "?"
    except UnicodeEncodeError:
        return "?"


def decimal_comma(value: str | Decimal) -> str:
    """An amount as a French spreadsheet reads it as a number: '1500.50' as '1500,50'."""
    return format(Decimal(value), "f").replace(".", ",")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# -- PDF ----------------------------------------------------------------------------------

def render_dossier(context: dict[str, Any]) -> str:
    """The dossier's HTML, in French."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    env.filters.update(iso_instant=french_instant, iso_day=french_day,
                       amount=french_money, document=lambda name: word("document", name),
                       fact=label, piece=lambda kind: ATTACHMENT_KINDS.get(kind, kind),
                       size=size_in_french)
    return env.get_template("_dossier.html.j2").render(
        **{"embedded": {}, **context}, attachment=ATTACHMENT)


def write_pdf(records: list[dict[str, Any]], head: dict[str, Any], creditor: Any,
              documents: Callable[[str], bytes | None] | None = None
              ) -> tuple[bytes, Written]:
    """The dossier as PDF/A-3b, with the JSON export attached (fetching nothing), and the
    files' documents, read by digest from `documents` (the store of documents)."""
    from weasyprint import Attachment

    from adapters.infra.pdf import html_to_pdf

    if len(records) > PDF_FILES_LIMIT:
        raise ExportError(f"a PDF dossier holds at most {PDF_FILES_LIMIT} files",
                          f"un dossier PDF contient au plus {PDF_FILES_LIMIT} dossiers : "
                          "exportez en JSON ou CSV au-delà")
    buffer = io.StringIO()
    written = write_json(buffer, head, records)
    embedded = _embedded(records, documents)
    html = render_dossier({"records": records, "header": head, "written": written,
                           "creditor": creditor,
                           "embedded": {sha: name for sha, (name, _) in embedded.items()}})
    attachment = Attachment(string=buffer.getvalue(), name=ATTACHMENT,
                            description="Le dossier complet, vérifiable : relance verify",
                            relationship="Data")
    pieces = [Attachment(string=content, name=name, relationship="Supplement",
                         description=f"SHA-256 {sha}")
              for sha, (name, content) in embedded.items() if content is not None]
    pdf = html_to_pdf(html, pdf_variant="pdf/a-3b", attachments=[attachment, *pieces],
                      custom_metadata=True)
    return pdf, written


MESSAGES = ("ReplyReceived", "AutoReplyReceived", "DeliveryFailed")
"""Facts naming a message as received (kept apart by its digest, embedded like documents)."""


def _embedded(records: list[dict[str, Any]], documents: Callable[[str], bytes | None] | None
              ) -> dict[str, tuple[str, bytes | None]]:
    """Each document the records attach, by digest: the name it is embedded under and its
    bytes; an empty name and no bytes when it is not embedded (missing from the store, no
    longer matching its digest, or beyond `EMBEDDED_LIMIT`)."""
    embedded: dict[str, tuple[str, bytes | None]] = {}
    total = 0
    for record in records:
        for fact in record["facts"]:
            fields = fact["fields"]
            if fact["kind"] == "DocumentAttached":
                sha, name = fields.get("sha256", ""), fields.get("filename") or "document"
            elif fact["kind"] in MESSAGES:
                sha, name = fields.get("mail_sha256", ""), "message.eml"
            else:
                continue
            if not sha or sha in embedded:
                continue
            content = documents(sha) if documents is not None else None
            if content is None or hashlib.sha256(content).hexdigest() != sha or \
                    total + len(content) > EMBEDDED_LIMIT:
                embedded[sha] = ("", None)
                continue
            total += len(content)
            embedded[sha] = (f"{sha[:12]}-{name}", content)
    return embedded


def embedded_json(pdf: bytes) -> str:
    """The JSON export attached to a PDF dossier."""
    from pypdf import PdfReader

    attachments = PdfReader(io.BytesIO(pdf)).attachments
    if ATTACHMENT not in attachments:
        raise ExportError(f"no {ATTACHMENT} attached to this PDF",
                          f"ce PDF ne contient pas de {ATTACHMENT}")
    return attachments[ATTACHMENT][0].decode("utf-8")


# -- verifying an export, offline ---------------------------------------------------------




def verify_export(path: Path) -> tuple[str | None, Written]:
    """Checks an export file (JSON, or a PDF dossier with its JSON) without the database.

    Returns the first problem in words (None when it holds) and what it holds.
    """
    raw = path.read_bytes()
    text = embedded_json(raw) if raw.startswith(b"%PDF") else raw.decode("utf-8")
    try:
        document = json.loads(text)
        return _verify(document)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return f"the export cannot be read as a relance export ({error!r})", Written()


def _verify(document: dict[str, Any]) -> tuple[str | None, Written]:
    head, records, footer = document["header"], document["files"], document["footer"]
    if head.get("format") != FORMAT:
        return f"unknown export format {head.get('format')!r}", Written()
    written = Written()
    check = ChainCheck()
    running = _chain(GENESIS, digest_of(head))
    for record in records:
        number = record.get("number", "?")
        for position, f in enumerate(record["facts"], start=1):
            content = f["content"]
            where = f"{number}, fact {position} ({FACT_VIEWS['kind'](content)})"
            if content["originator_id"] != record["file_id"]:
                return f"{where}: it belongs to another file", written
            reason = check.check(content, f["digest"])
            if reason:
                return f"{where}: {reason}", written
            for name, shown in FACT_VIEWS.items():
                if f[name] != shown(content):
                    return f"{where}: its {name} differs from its recorded content", written
            if not _people_hold(f):
                return f"{where}: a person it shows does not match its sealed data", written
            if digest_of({k: v for k, v in f.items() if k != "entry_digest"}) != \
                    f["entry_digest"]:
                return f"{where}: its summary or label was changed after export", written
            written.facts += 1
        version, last = check.heads.get(record["file_id"], (0, ""))
        if record["head"] != {"version": version, "digest": last}:
            return f"{number}: its head is not its last fact (facts cut off?)", written
        if record_digest(record) != record["entry_digest"]:
            return f"{number}: its amounts, documents or promises were changed", written
        running = _chain(running, record["entry_digest"])
        written.files += 1
    counts = {"files": footer["files"], "facts": footer["facts"]}
    if counts != {"files": written.files, "facts": written.facts}:
        return "files or facts were removed from or added to the export", written
    written.digest = _chain(running, digest_of(counts))
    if written.digest != footer["export_digest"]:
        return "the export digest does not match its content", written
    return None, written


# -- reading scopes -----------------------------------------------------------------------

def records(files: CaseFiles, numbers: Iterable[str], as_of: datetime | None,
            rates: LawRates) -> Iterator[dict[str, Any]]:
    """Each file's record in turn (files with nothing recorded by `as_of` are left out)."""
    playbook = files.playbook()
    debtor_rates = playbook.penalty_rates if playbook else {}

    def rate_for(case: Case) -> Decimal | None:
        """The invoice's own contractual rate, else its debtor's (as `penalty_rate`)."""
        if case.penalty_rate is not None:
            return case.penalty_rate
        return debtor_rates.get(case.debtor.account)

    for number in numbers:
        record = file_record(files, number, as_of, rates, rate_for)
        if record is not None:
            yield record


def french_money(value: str, currency: str = "EUR") -> str:
    """'1500.00' as '1 500,00 €', for the PDF."""
    return money(Decimal(value), currency)


def french_instant(value: str) -> str:
    """An ISO instant as people read it, for the PDF."""
    return instant(datetime.fromisoformat(value))


def french_day(value: str) -> str:
    """An ISO date as people read it, for the PDF."""
    return day(date.fromisoformat(value))
