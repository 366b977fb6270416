"""Imports (supervisors): files of the accounting software sent from the browser.

`GET /imports` shows the form (the files, their kind, the payment terms when a file does
not give the due date, duplicates confirmed); `POST /imports` imports them as the person
logged in, through the command line's importers (`adapters.usecases.import_batch`), then
redirects to the report, kept under its digest: what was created, already known, rejected,
each rejected row with its line and reason, and the rejected rows to download. A report
is shown only to the person who imported. The upload is bounded by the body limit of
`web.middleware`; the import runs in the request's thread, never on the event loop.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as ReceivedFile

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, Session
from adapters.usecases.import_batch import (
    KINDS,
    REJECTS_MEDIA,
    BatchReport,
    Upload,
    import_uploads,
    keep,
    kept,
)
from domain.attachments import size_in_french
from domain.errors import DomainError
from domain.terms import PaymentTerms
from web.auth import check_csrf, require_role
from web.dependencies import get_runtime
from web.downloads import content_disposition
from web.middleware import DOCUMENT_BODY
from web.urls import path_for

router = APIRouter()
log = structlog.get_logger("relance.import")
Supervisor = Annotated[Session, Depends(require_role(*CAN_MANAGE_TEAM))]
DIGEST = re.compile("[0-9a-f]{64}")
MAX_UPLOAD = DOCUMENT_BODY - 1024 * 1024
"""What the files of one upload may weigh together (the rest of the body is the form)."""


@router.get("/imports", response_class=HTMLResponse, name="imports")
def imports_page(request: Request, session: Supervisor) -> Response:
    """The import form."""
    return _page(request, session)


@router.post("/imports", name="imports_run")
def imports_run(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                session: Supervisor,
                csrf: Annotated[str, Form(max_length=200)] = "",
                nature: Annotated[str, Form(max_length=20)] = "",
                delai: Annotated[str, Form(max_length=20)] = "30",
                doublons: Annotated[str, Form(max_length=10)] = "",
                fichiers: Annotated[list[UploadFile | str] | None, File()] = None
                ) -> Response:
    """Imports the files sent, then redirects to the report (post/redirect/get)."""
    check_csrf(session, csrf)
    chosen = {"nature": nature, "delai": delai, "doublons": doublons}
    sent = [upload for upload in fichiers or []  # a browser sends '' for no file chosen
            if isinstance(upload, ReceivedFile) and (upload.filename or upload.size)]
    if nature not in KINDS:
        return _page(request, session, chosen, "Choisissez ce que contiennent les fichiers.")
    if not sent:
        return _page(request, session, chosen, "Choisissez au moins un fichier à importer.")
    try:
        terms = PaymentTerms.parse(delai.strip() or "30")
    except DomainError:
        return _page(request, session, chosen, f"Délai de paiement illisible : « {delai} » "
                     "(30, 60, 45fdm… attendu).")
    uploads = [Upload((upload.filename or "fichier")[:200], upload.file.read())
               for upload in sent]
    if sum(len(upload.data) for upload in uploads) > MAX_UPLOAD:
        return _page(request, session, chosen, "Les fichiers dépassent "
                     f"{size_in_french(MAX_UPLOAD)} à eux tous : importez-les en plusieurs "
                     "fois.", 413)
    batch = import_uploads(runtime.files, runtime.blobs, nature, uploads, session.user.login,
                           runtime.files.now(), terms, confirm_duplicates=doublons == "on")
    log.info("import from the web", kind=nature, files=len(uploads),
             created=batch.total("created"), unchanged=batch.total("unchanged"),
             rejected=batch.total("rejected"), refused=len(batch.refused))
    digest = keep(runtime.blobs, batch)
    return RedirectResponse(path_for(request, "import_report", digest=digest), status_code=303)


@router.get("/imports/{digest}", response_class=HTMLResponse, name="import_report")
def import_report(request: Request, digest: str,
                  runtime: Annotated[Runtime, Depends(get_runtime)],
                  session: Supervisor) -> Response:
    """An import's report, for the person who made it."""
    batch = _report_of(runtime, digest, session)
    return _page(request, session, {"nature": batch.kind}, report=batch, digest=digest)


@router.get("/imports/{digest}/lignes-rejetees.csv", name="import_rejects")
def import_rejects(digest: str, runtime: Annotated[Runtime, Depends(get_runtime)],
                   session: Supervisor) -> Response:
    """The rejected rows of an import, as written, with their reason: a CSV for Excel."""
    batch = _report_of(runtime, digest, session)
    content = runtime.blobs.get(batch.rejects) if batch.rejects else None
    if content is None:
        raise HTTPException(404, "no rejected rows kept for this import")
    at = datetime.fromisoformat(batch.at)
    name = f"lignes-rejetees-{at:%Y%m%dT%H%M%SZ}.csv"
    return Response(content, media_type=f"{REJECTS_MEDIA}; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(name)})


def _report_of(runtime: Runtime, digest: str, session: Session) -> BatchReport:
    """The report under a digest, if this person made it (404 otherwise: a report says
    nothing of its existence to others)."""
    batch = kept(runtime.blobs, digest) if DIGEST.fullmatch(digest) else None
    if batch is None or batch.actor != session.user.login:
        raise HTTPException(404, "no such import report")
    return batch


def _page(request: Request, session: Session, chosen: dict[str, str] | None = None,
          error: str = "", status_code: int | None = None, *,
          report: BatchReport | None = None, digest: str = "") -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "imports.html",
        {"kinds": KINDS, "chosen": {"nature": "factures", "delai": "30", "doublons": "",
                                    **(chosen or {})},
         "error": error, "limit": size_in_french(MAX_UPLOAD), "report": report,
         "digest": digest, "at": datetime.fromisoformat(report.at) if report else None,
         "who": session.user.name},
        status_code=status_code or (422 if error else 200))
