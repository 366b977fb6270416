"""Documents on a file: attached from the file page or the API, handed back by digest.

`POST /dossiers/N/documents` (the file page's form: a file, its kind, a note) and
`POST /api/files/N/documents` (multipart) attach a PDF, PNG or JPEG of at most 20 MiB,
checked by its content; `GET .../documents/SHA256` gives it back as it was stored, with
its type and name. The routes are declared before the file pages' and the API's own:
`{number:ref}` takes any text, and `.../documents/<64 hex digits>` must reach them first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import UploadFile as ReceivedFile

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_RECORD, Session
from adapters.messages import in_french
from adapters.usecases.attachments import (
    UPLOAD_KINDS,
    Attached,
    DocumentAltered,
    DocumentLine,
    DocumentNotFound,
    DocumentRefused,
    documents_of,
    stored_document,
    upload,
)
from domain.attachments import MAX_DOCUMENT_SIZE, InvalidDocument
from domain.errors import DomainError, InvalidText, InvoiceNotFound
from web.api import REFUSED, Refused, caller, recorder
from web.auth import check_csrf, require_role, require_user
from web.dependencies import get_runtime
from web.downloads import content_disposition
from web.files import _file_page, _show_fact


class DigestConvertor(Convertor[str]):
    """A document's SHA-256 in an address: 64 lowercase hexadecimal characters (so that
    `.../documents/reminder_1`, a letter's preview, is not taken for one)."""

    regex = "[0-9a-f]{64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("sha256", DigestConvertor())

router = APIRouter()
Number = Annotated[str, Path(max_length=100, description="The invoice number")]
Digest = Annotated[str, Path(pattern="^[0-9a-f]{64}$",
                             description="The document's SHA-256 (64 hexadecimal digits)")]
KINDS_PATTERN = "^(" + "|".join(UPLOAD_KINDS) + ")$"
BINARY = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD = {200: {"description": "The document's bytes, as stored",
                  "content": {"application/pdf": BINARY, "image/png": BINARY,
                              "image/jpeg": BINARY}}}


# -- the file page ------------------------------------------------------------------------

@router.post("/dossiers/{number:ref}/documents", name="attachment_upload",
             include_in_schema=False)
async def upload_page(request: Request, number: str,
                      runtime: Annotated[Runtime, Depends(get_runtime)],
                      session: Annotated[Session, Depends(require_role(*CAN_RECORD))]
                      ) -> Response:
    """Attaches the document sent with the file page's form; refused in French beside the
    form (422) when it is not a PDF, PNG or JPEG of at most 20 MiB."""
    async with request.form(max_files=1, max_fields=10) as form:
        check_csrf(session, str(form.get("csrf", "")))
        kind, note = str(form.get("nature", ""))[:40], str(form.get("note", ""))[:2000]
        received = form.get("fichier")
        content, filename = (await received.read(MAX_DOCUMENT_SIZE + 1), received.filename
                             or "") if isinstance(received, ReceivedFile) else (b"", "")
    return await run_in_threadpool(_upload_page, request, runtime, session, number, content,
                                   filename, kind, note)


def _upload_page(request: Request, runtime: Runtime, session: Session, number: str,
                 content: bytes, filename: str, kind: str, note: str) -> Response:
    values = {"document_kind": kind, "document_note": note}
    try:
        attached = upload(runtime, session.user.login, number, content, filename, kind, note)
    except DocumentRefused as refused:
        error = refused.french
    except DomainError as refused:
        if isinstance(refused, InvoiceNotFound):
            raise
        error = in_french(refused)
    else:
        return _show_fact(request, number, attached.notification_id, "piece")
    return _file_page(request, runtime, number, None, errors={"_attachment": error},
                      values=values, status_code=422)


@router.get("/dossiers/{number:ref}/documents/{sha256:sha256}", name="attachment_download",
            include_in_schema=False, dependencies=[Depends(require_user)])
def download_page(number: str, sha256: str,
                  runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """A document of the file, as it was stored, with its type and name."""
    return _download(runtime, number, sha256)


def _download(runtime: Runtime, number: str, sha256: str) -> Response:
    try:
        document, content = stored_document(runtime, number, sha256)
    except DocumentNotFound:
        raise HTTPException(404, "no such document on this file") from None
    except DocumentAltered:
        raise HTTPException(409, "the stored document no longer matches its digest; "
                                 "run relance verify") from None
    return Response(content, media_type=document.media_type, headers={
        "Content-Disposition": content_disposition(document.filename)})


# -- the API ------------------------------------------------------------------------------

class DocumentOut(BaseModel):
    """A document on a file: its digest, kind, name, type, size, note, who attached it and
    when (business time), and the fact that did."""

    version: int
    sha256: str
    kind: str
    kind_label: str
    filename: str
    media_type: str
    size: int
    note: str
    attached_by: str
    attached_at: datetime


class AttachedOut(BaseModel):
    """A document attached, or already there (`recorded` false: nothing new was recorded),
    and the log position to wait for before reading the file."""

    document: DocumentOut
    recorded: bool
    notification_id: int | None


def _out(line: DocumentLine) -> DocumentOut:
    return DocumentOut(**{name: getattr(line, name) for name in DocumentOut.model_fields})


@router.get("/api/files/{number:ref}/documents", response_model=list[DocumentOut],
            tags=["documents"], responses=REFUSED)
def list_documents(number: Number, request: Request) -> list[DocumentOut]:
    """The documents of a file, in the order they were attached."""
    return [_out(line) for line in documents_of(caller(request).runtime, number)]


@router.post("/api/files/{number:ref}/documents", response_model=AttachedOut,
             tags=["documents"], responses=REFUSED)
async def post_document(
        number: Number, request: Request,
        file: Annotated[UploadFile, File(description="A PDF, PNG or JPEG of at most 20 MiB, "
                                         "checked by its content")],
        kind: Annotated[str, Form(pattern=KINDS_PATTERN, description="What the document "
                                  "is: " + ", ".join(UPLOAD_KINDS))],
        note: Annotated[str, Form(max_length=2000)] = "") -> Any:
    """Attaches a document to a file (multipart: `file`, `kind`, `note`). The same bytes
    already on the file record nothing (`recorded` false). A file that is not a PDF, PNG
    or JPEG, or is larger than 20 MiB, is refused (422)."""
    runtime, user = recorder(request)
    content = await file.read(MAX_DOCUMENT_SIZE + 1)
    try:
        attached: Attached = await run_in_threadpool(
            upload, runtime, user.login, number, content, file.filename or "", kind, note)
    except DocumentRefused as refused:
        return JSONResponse(Refused(code=refused.code, detail=str(refused),
                                    fields={"file": refused.french}).model_dump(),
                            status_code=422)
    except (InvalidDocument, InvalidText) as refused:
        return JSONResponse(Refused(code=refused.code, detail=refused.detail,
                                    fields={"note": in_french(refused)}).model_dump(),
                            status_code=422)
    line = next(line for line in documents_of(runtime, number)
                if line.sha256 == attached.document.sha256)
    return AttachedOut(document=_out(line), recorded=attached.recorded,
                       notification_id=attached.notification_id)


@router.get("/api/files/{number:ref}/documents/{sha256:sha256}", response_class=Response,
            tags=["documents"], responses={**REFUSED, **DOWNLOAD})
def get_document(number: Number, sha256: Digest, request: Request) -> Response:
    """A document of the file, its bytes as stored, with its media type and name."""
    return _download(caller(request).runtime, number, sha256)
