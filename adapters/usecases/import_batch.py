"""Importing files sent together (from the web page): each through its own importer, one
report for all, and the rejected rows given back as a spreadsheet.

The importers are those of the command line (`importing`, `import_payments`, `fec`,
`facturx`), called the same way, so a file records the same facts from either door. The
report says, file by file, what was created, what was already known and what was
rejected (or refused whole, and why); every row that recorded nothing comes with its line
and its reason in French. The rejected rows are given back as they were written, a
`Motif` column added, as a CSV French Excel opens (`;`, UTF-8 with its mark).

A report is kept in the store of documents, under the digest of its content (which names
the person who imported), for its page and its download to be found again.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from adapters.infra.blobs import BlobRefused, BlobStore
from adapters.infra.export_formats import safe_cell
from adapters.usecases.facturx import facturx_row, import_facturx
from adapters.usecases.fec import import_fec
from adapters.usecases.import_files import LABELS, BadRow, cells_by_line, text_lines
from adapters.usecases.import_payments import import_payments
from adapters.usecases.importing import ImportReport, import_invoices
from domain.service import CaseFiles
from domain.terms import PaymentTerms

KINDS = {"factures": "Factures (CSV)", "paiements": "Paiements et avoirs (CSV)",
         "fec": "FEC : fichier des écritures comptables", "facturx": "Factures Factur-X (PDF)"}
"""What can be imported, as the import form names it."""
SHOWN_ROWS = 500
"""Rejected rows a report keeps for its page; the download holds them all."""
REPORT_MEDIA = "application/vnd.relance.import-report+json"
REJECTS_MEDIA = "text/csv"


@dataclass(frozen=True)
class Upload:
    """A file sent to import: its name and its bytes."""

    name: str
    data: bytes


@dataclass
class FileOutcome:
    """What importing one file did; `refused` says why a file was not imported at all."""

    name: str
    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    debtors_updated: int = 0
    refused: str = ""


@dataclass
class BatchReport:
    """What an import of several files did, by whom and when. `rows` are the rejected rows
    (file, line, reason), at most `SHOWN_ROWS` of `rows_total`; `rejects` is the digest of
    the rejected rows' CSV in the store ('' when none, or when it was too big to keep)."""

    kind: str
    actor: str
    at: str
    files: list[FileOutcome] = field(default_factory=list)
    rows: list[tuple[str, int, str]] = field(default_factory=list)
    rows_total: int = 0
    to_confirm: int = 0
    rejects: str = ""

    def total(self, name: str) -> int:
        """The sum over the files of one count ('created', 'unchanged', 'rejected')."""
        return sum(getattr(outcome, name) for outcome in self.files)

    @property
    def refused(self) -> list[FileOutcome]:
        """The files refused whole."""
        return [outcome for outcome in self.files if outcome.refused]


Importer = Callable[[CaseFiles, Upload], ImportReport]


def importer(kind: str, actor: str, terms: PaymentTerms, confirm_duplicates: bool,
             blobs: BlobStore) -> Importer:
    """The command line's importer of a kind, acting as `actor`, with its options (payment
    terms, duplicates confirmed); a Factur-X PDF is kept on its file, as from the command
    line."""
    if kind == "factures":
        return lambda files, upload: import_invoices(files, upload.data, actor)
    if kind == "paiements":
        return lambda files, upload: import_payments(
            files, upload.data, actor, confirm_duplicates=confirm_duplicates)
    if kind == "fec":
        return lambda files, upload: import_fec(files, upload.data, actor, terms,
                                                confirm_duplicates=confirm_duplicates)
    if kind == "facturx":
        return lambda files, upload: import_facturx(files, upload.data, actor, terms,
                                                    blobs=blobs, filename=upload.name)
    raise ValueError(f"unknown import kind {kind!r}")


def import_uploads(files: CaseFiles, blobs: BlobStore, kind: str, uploads: Sequence[Upload],
                   actor: str, now: datetime, terms: PaymentTerms,
                   confirm_duplicates: bool = False) -> BatchReport:
    """Imports each file with its kind's importer as `actor`, keeps the rejected rows' CSV
    in the store of documents and returns the report."""
    run = importer(kind, actor, terms, confirm_duplicates, blobs)
    batch = BatchReport(kind=kind, actor=actor, at=now.isoformat())
    given_back: list[tuple[Upload, ImportReport | None, str]] = []
    for upload in uploads:
        outcome = FileOutcome(upload.name)
        try:
            report = run(files, upload)
        except BadRow as error:
            outcome.refused = str(error)
            given_back.append((upload, None, str(error)))
        else:
            reasons = report.reasons()
            outcome.created, outcome.unchanged = report.created, report.unchanged
            outcome.rejected, outcome.debtors_updated = len(reasons), report.debtors_updated
            batch.to_confirm += len(report.to_confirm)
            batch.rows.extend((upload.name, line, reason)
                              for line, reason in sorted(reasons.items()))
            given_back.append((upload, report, ""))
        batch.files.append(outcome)
    batch.rows_total = len(batch.rows)
    batch.rows = batch.rows[:SHOWN_ROWS]
    if batch.rows_total or batch.refused:
        try:
            batch.rejects = blobs.put(rejected_rows(kind, given_back, terms), REJECTS_MEDIA)
        except BlobRefused:
            batch.rejects = ""  # too big to keep: the page says so
    return batch


# -- the rejected rows, as they were written --------------------------------------------

def rejected_rows(kind: str, imported: Sequence[tuple[Upload, ImportReport | None, str]],
                  terms: PaymentTerms) -> bytes:
    """The rows that recorded nothing, as written in their file, with their line and a
    `Motif` column (a file refused whole is one row with its reason), as a CSV French
    Excel opens: `;`, UTF-8 with its mark, formulas neutralised."""
    several = len(imported) > 1
    columns: list[str] = []
    rows: list[tuple[str, str, dict[str, str], str]] = []
    for upload, report, refused in imported:
        if report is None:
            rows.append((upload.name, "", {}, refused))
            continue
        reasons = report.reasons()
        if not reasons:
            continue
        header, cells = _original(kind, upload.data, terms)
        columns.extend(name for name in header if name not in columns)
        for line, reason in sorted(reasons.items()):
            written = cells.get(line, [])
            rows.append((upload.name, str(line) if kind != "facturx" else "",
                         dict(zip(header, written, strict=False)), reason))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([*(["Fichier"] if several else []), "Ligne", *columns, "Motif"])
    for name, line, values, reason in rows:
        writer.writerow([safe_cell(v) for v in (*([name] if several else []), line,
                                                 *(values.get(c, "") for c in columns),
                                                 reason)])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _original(kind: str, data: bytes, terms: PaymentTerms
              ) -> tuple[list[str], dict[int, list[str]]]:
    """A file's header and its lines' cells as written (for a Factur-X PDF, what it says
    of its invoice, as line 1); nothing when the file does not read again."""
    try:
        if kind == "fec":
            lines = [line.removesuffix("\r") for line in text_lines(data).lines]
            separator = "\t" if lines[0].count("\t") >= lines[0].count("|") else "|"
            return _unique(lines[0].split(separator)), {number: line.split(separator)
                                               for number, line in enumerate(lines, start=1)}
        if kind == "facturx":
            row = facturx_row(data, terms)
            return [LABELS.get(name, name) for name in row], {1: list(row.values())}
        header, cells = cells_by_line(data)
        return _unique(header), cells
    except BadRow:
        return [], {}


def _unique(header: list[str]) -> list[str]:
    """Column names told apart when a file repeats one (« montant », « montant (2) »)."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


# -- keeping a report ---------------------------------------------------------------------

def keep(blobs: BlobStore, batch: BatchReport) -> str:
    """Stores the report in the store of documents; returns its digest."""
    return blobs.put(json.dumps(asdict(batch), ensure_ascii=False, sort_keys=True)
                     .encode("utf-8"), REPORT_MEDIA)


def kept(blobs: BlobStore, digest: str) -> BatchReport | None:
    """The report stored under a digest (None when there is no report under it)."""
    info = blobs.info(digest)
    content = blobs.get(digest) if info is not None and info.media_type == REPORT_MEDIA \
        else None
    if content is None:
        return None
    data: dict[str, Any] = json.loads(content)
    return BatchReport(**{**data, "files": [FileOutcome(**f) for f in data["files"]],
                          "rows": [tuple(row) for row in data["rows"]]})
