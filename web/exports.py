"""Exports from the web, for auditors (and supervisors): a file, a debtor, the portfolio.

An export is recorded (who, what, when, digest of the bytes handed over), so it is asked
for with a form (POST, with its CSRF token), never by a plain link. A portfolio export
streams: the file is written while it is read, in constant memory; it is recorded once it
is complete. A CSV opens in French Excel: UTF-8 with its mark, or Windows-1252 if asked.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_EXPORT, Session
from adapters.infra.export_formats import CSV_ENCODINGS, UTF8_BOM, WINDOWS_1252, ExportError, Scope
from adapters.parsing import parse_instant
from adapters.usecases.exporting import FORMATS, export
from adapters.usecases.exporting import Request as ExportRequest
from domain.errors import DomainError, InvoiceNotFound
from projections.queries import BUCKETS, PHASE_OF_STATUS, PortfolioFilter
from web.auth import check_csrf, require_role
from web.dependencies import get_runtime
from web.downloads import content_disposition

router = APIRouter()
log = structlog.get_logger("relance.exports")
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "pdf": "application/pdf"}
CSV_WINDOWS_1252 = "text/csv; charset=windows-1252"
Exporter = Annotated[Session, Depends(require_role(*CAN_EXPORT))]


@router.post("/exports", name="export")
def make_export(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                session: Exporter,
                csrf: Annotated[str, Form(max_length=200)] = "",
                perimetre: Annotated[str, Form(max_length=20)] = "file",
                cle: Annotated[str, Form(max_length=200)] = "",
                format: Annotated[str, Form(max_length=10)] = "json",
                tel_quel: Annotated[str, Form(max_length=40)] = "",
                statut: Annotated[str, Form(max_length=30)] = "",
                agent: Annotated[str, Form(max_length=100)] = "",
                tranche: Annotated[str, Form(max_length=20)] = "",
                encodage: Annotated[str, Form(max_length=20)] = UTF8_BOM) -> Response:
    """Writes the export asked for and hands it over as a download."""
    check_csrf(session, csrf)
    if perimetre not in ("file", "debtor", "portfolio") or format not in FORMATS or \
            encodage not in CSV_ENCODINGS:
        return _refused(request, "Choisissez un périmètre, un format et un encodage "
                        "d'export.", 422)
    try:
        as_of = parse_instant(tel_quel) if tel_quel.strip() else None
    except ValueError:
        return _refused(request, "La date « tel qu'il était le » est invalide : par exemple "
                        "01/12/2026 12:21 (heure de Paris).", 422)
    filters = PortfolioFilter(status=statut if statut in PHASE_OF_STATUS else "", agent=agent,
                              bucket=tranche if tranche in BUCKETS else "")
    key = cle if perimetre != "portfolio" else " ".join(
        f"{k}={v}" for k, v in (("statut", filters.status), ("agent", agent),
                                ("tranche", filters.bucket)) if v)
    asked = ExportRequest(Scope(perimetre, key), format, session.user.login, as_of, filters,
                          encoding=encodage)
    name = _file_name(asked, runtime.files.now())
    headers = {"Content-Disposition": content_disposition(name),
               "Cache-Control": "no-store"}
    media = CSV_WINDOWS_1252 if format == "csv" and encodage == WINDOWS_1252 else MEDIA[format]
    if perimetre == "portfolio" and format != "pdf":
        return StreamingResponse(_stream(runtime, asked), media_type=media, headers=headers)
    buffer: io.StringIO | io.BytesIO = io.StringIO() if format == "json" else io.BytesIO()
    try:
        written = export(runtime, asked, buffer)
    except InvoiceNotFound:
        return _refused(request, "Aucun dossier pour ce numéro de facture.", 404)
    except ExportError as error:
        return _refused(request, f"Export impossible : {error.french}.", 422)
    except DomainError as error:
        return _refused(request, f"Export impossible ({error.code}).", 422)
    body = buffer.getvalue()
    return Response(body.encode("utf-8") if isinstance(body, str) else body,
                    media_type=media,
                    headers={**headers, "X-Relance-Export-Digest": written.digest})


def _stream(runtime: Runtime, asked: ExportRequest) -> Iterator[bytes]:
    """The export's bytes as they are written, through a small bounded queue. If the
    download stops midway, the writer stops too (and the export is not recorded)."""
    chunks: queue.Queue[bytes | Exception | None] = queue.Queue(maxsize=64)
    cancelled = threading.Event()
    pipe = _Pipe(chunks, cancelled)
    context = structlog.contextvars.get_contextvars()

    def write() -> None:
        structlog.contextvars.bind_contextvars(**context)
        try:
            export(runtime, asked, pipe)
            pipe.flush()
            pipe.put(None)
        except _Cancelled:
            log.info("export abandoned by the client", scope=asked.scope.kind)
        except Exception as error:  # noqa: BLE001 - handed to the reader, which stops
            with contextlib.suppress(_Cancelled):
                pipe.put(error)

    threading.Thread(target=write, name="relance-export", daemon=True).start()
    try:
        while True:
            chunk = chunks.get()
            if chunk is None:
                return
            if isinstance(chunk, Exception):
                log.error("export failed midway", error=repr(chunk))
                return
            yield chunk
    finally:
        cancelled.set()


class _Cancelled(Exception):
    """The download was abandoned: stop writing."""


class _Pipe(io.TextIOBase):
    """A stream whose writes (text, as UTF-8, or bytes already encoded) go, 64 KiB at a
    time, into a bounded queue."""

    def __init__(self, chunks: queue.Queue, cancelled: threading.Event) -> None:
        self.chunks = chunks
        self.cancelled = cancelled
        self.pending: list[bytes] = []
        self.size = 0

    def write(self, text: str | bytes) -> int:  # type: ignore[override]
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        self.pending.append(data)
        self.size += len(data)
        if self.size >= 65536:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.put(b"".join(self.pending))
            self.pending, self.size = [], 0

    def put(self, item: bytes | Exception | None) -> None:
        """Hands an item to the reader, waiting while the queue is full, unless abandoned."""
        while True:
            if self.cancelled.is_set():
                raise _Cancelled
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def _file_name(asked: ExportRequest, now: datetime) -> str:
    what = asked.scope.key if asked.scope.kind != "portfolio" else "portefeuille"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in what)[:60] or "export"
    return f"relance-{safe}-{now:%Y%m%dT%H%M%SZ}.{asked.fmt}"


def _refused(request: Request, message: str, status_code: int) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"message": message}, status_code=status_code)
