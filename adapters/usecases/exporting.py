"""Making an export from a running relance: choosing the files, writing, recording it.

The CLI and the web both come here, so that every export is recorded the same way
(who, what, as of when, with which digest) before it is handed over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import structlog

from adapters.bootstrap import Runtime
from adapters.infra.export_formats import (
    CSV_ENCODINGS,
    UTF8_BOM,
    ExportError,
    Scope,
    Written,
    header,
    records,
    write_csv,
    write_json,
    write_pdf,
)
from adapters.infra.timestamps import Anchors
from domain.errors import InvoiceNotFound
from domain.invoice import invoice_id
from projections.queries import PortfolioFilter

FORMATS = ("json", "csv", "pdf")
security = structlog.get_logger("relance.security")


@dataclass(frozen=True)
class Request:
    """An export asked for: scope, format, as of when (None: now), by whom; a CSV's
    encoding (`CSV_ENCODINGS`: UTF-8 with its byte-order mark unless asked otherwise)."""

    scope: Scope
    fmt: str
    actor: str
    as_of: datetime | None = None
    filters: PortfolioFilter | None = None
    encoding: str = UTF8_BOM


def count(runtime: Runtime, request: Request) -> int:
    """How many files the export covers (for a progress bar)."""
    return sum(1 for _ in numbers(runtime, request))


def numbers(runtime: Runtime, request: Request) -> Iterator[str]:
    """The numbers of the files in scope, in order."""
    scope = request.scope
    if scope.kind == "file":
        if not runtime.files.recorder.select_events(invoice_id(scope.key), limit=1):
            raise InvoiceNotFound(f"no file for invoice {scope.key}", number=scope.key)
        yield scope.key
        return
    runtime.wait_for_views(runtime.files.recorder.max_notification_id(), timeout=10)
    filters = request.filters or PortfolioFilter()
    if scope.kind == "debtor":
        filters = PortfolioFilter(debtor=scope.key)
    found = False
    for number in runtime.reads.numbers(runtime.today(), filters):
        found = True
        yield number
    if not found and scope.kind == "debtor":
        raise ExportError(f"no file for debtor {scope.key}",
                          f"aucun dossier pour le débiteur {scope.key}")


def export(runtime: Runtime, request: Request, out: IO[str] | IO[bytes],
           progress: Callable[[int], None] | None = None) -> Written:
    """Writes the export to `out` (text for JSON, bytes for CSV and PDF) and records it
    with the digest of what was written."""
    if request.fmt not in FORMATS:
        raise ExportError(f"unknown format {request.fmt!r}",
                          f"format inconnu : choisissez parmi {', '.join(FORMATS)}")
    if request.encoding not in CSV_ENCODINGS:
        raise ExportError(f"unknown encoding {request.encoding!r}",
                          "encodage inconnu : UTF-8 ou Windows-1252")
    files = runtime.files
    head = header(request.scope, request.as_of, request.actor, files.now())
    anchors = Anchors(runtime.views, postgres=runtime.store.is_postgres).all()
    if anchors:  # the store's roots signed by an authority so far: evidence that travels
        head["timestamps"] = [anchor.as_json() for anchor in anchors]

    def counted() -> Iterator[dict]:
        for done, record in enumerate(
                records(files, numbers(runtime, request), request.as_of, runtime.law_rates),
                start=1):
            yield record
            if progress:
                progress(done)

    if request.fmt == "json":
        written = write_json(out, head, counted())  # type: ignore[arg-type]
    elif request.fmt == "csv":
        written = write_csv(out, counted(), request.encoding)  # type: ignore[arg-type]
    else:
        pdf, written = write_pdf(list(counted()), head, runtime.creditor, runtime.blobs.get)
        out.write(pdf)  # type: ignore[arg-type]
    if not written.files:
        raise ExportError("nothing was recorded in this scope by then",
                          "rien n'était enregistré dans ce périmètre à cette date")
    files.record_export(request.actor, digest=written.digest, scope=request.scope.kind,
                        key=request.scope.key, fmt=request.fmt, as_of=request.as_of,
                        files=written.files, facts=written.facts)
    security.info("export made", by=request.actor, scope=request.scope.kind,
                  key=request.scope.key[:200], format=request.fmt, digest=written.digest,
                  files=written.files, facts=written.facts)
    return written
