"""Documents on a file: their bytes stored by digest, their arrival recorded as a fact, and
the invoice handed to an e-mail.

A document is stored first (`adapters.infra.blobs`, content-addressed: the same bytes are
one row), then recorded on the file by `DocumentAttached`, which names it by its SHA-256.
The same bytes attached again to the same file record nothing. What people upload is
checked by its content, not its name: a PDF, a PNG or a JPEG, at most 20 MiB.

The invoice that goes with a duplicate is the file's invoice PDF (the latest attached),
else a copy relance lays out from the registered data, marked as a copy; that copy is
stored and attached too, so the next duplicate sends the very same bytes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from adapters.bootstrap import Runtime
from adapters.infra.blobs import BlobRefused, BlobStore, sha256_of
from adapters.infra.invoice_copy import InvoiceCopy, invoice_copy_pdf
from domain.attachments import (
    ATTACHMENT_KINDS,
    MAX_DOCUMENT_SIZE,
    UPLOADED_KINDS,
    AttachmentKind,
    size_in_french,
)
from domain.case import AttachedDocument, Case
from domain.invoice import Invoice
from domain.service import CaseFiles
from projections import french

log = logging.getLogger("relance.documents")

MEDIA_TYPES: dict[str, tuple[bytes, tuple[str, ...], str]] = {
    "application/pdf": (b"%PDF-", (".pdf",), "PDF"),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",), "PNG"),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg"), "JPEG"),
}
"""What may be attached: each media type, the bytes its content starts with, the file
name endings it goes by, and its name for people."""
UPLOAD_KINDS = {kind.value: ATTACHMENT_KINDS[kind.value] for kind in UPLOADED_KINDS}
"""The kinds people choose from when they attach a document (French words)."""


class DocumentRefused(ValueError):
    """A document that is not attached: the message is the English detail, `french` the
    sentence shown beside the form, `code` the API's stable code."""

    def __init__(self, code: str, detail: str, french: str) -> None:
        super().__init__(detail)
        self.code = code
        self.french = french


class DocumentNotFound(LookupError):
    """No such document on this file, or its bytes are no longer in the store."""


class DocumentAltered(ValueError):
    """The stored bytes no longer hash to the digest the file records: not handed out."""


@dataclass(frozen=True)
class Attachment:
    """A document as an e-mail carries it: its name, media type and bytes, and their
    digest (which the fact recording the e-mail names)."""

    filename: str
    media_type: str
    content: bytes
    sha256: str


@dataclass(frozen=True)
class Attached:
    """What attaching did: the document as the file lists it, whether a fact was recorded
    (not when the same bytes were already on the file), and the log position to wait for."""

    document: AttachedDocument
    recorded: bool
    notification_id: int | None


@dataclass(frozen=True)
class DocumentLine:
    """A document as the file page and the API list it."""

    version: int
    sha256: str
    kind: str
    kind_label: str
    filename: str
    media_type: str
    size: int
    size_label: str
    note: str
    attached_by: str
    attached_at: datetime


# -- attaching ----------------------------------------------------------------------------

def upload(runtime: Runtime, actor: str, number: str, content: bytes, filename: str,
           kind: str, note: str = "") -> Attached:
    """Attaches what a person sent: its kind must be one people choose, its content a
    PDF, a PNG or a JPEG (whatever its name says) of at most 20 MiB."""
    if kind not in UPLOAD_KINDS:
        raise DocumentRefused("invalid_kind", f"document kind {kind[:40]!r} is not one of "
                              f"{', '.join(UPLOAD_KINDS)}", "Choisissez la nature du document.")
    media_type = media_type_of(content, filename)
    return attach(runtime, actor, number, content, filename, media_type, kind, note)


def attach(runtime: Runtime, actor: str, number: str, content: bytes, filename: str,
           media_type: str, kind: str, note: str = "") -> Attached:
    """Stores the bytes, then records them on the file (once)."""
    return record_document(runtime.files, runtime.blobs, actor, number, content, filename,
                           media_type, kind, note)


def record_document(files: CaseFiles, blobs: BlobStore, actor: str, number: str,
                    content: bytes, filename: str, media_type: str, kind: str,
                    note: str = "") -> Attached:
    """`attach` for callers holding the service and the store rather than a runtime (the
    Factur-X import)."""
    files.file(number)  # no file, nothing stored
    if media_type not in MEDIA_TYPES or not content.startswith(MEDIA_TYPES[media_type][0]):
        raise DocumentRefused("unsupported_media_type",
                              f"the content is not {media_type[:60]!r}",
                              "Ce fichier n'est ni un PDF, ni une image PNG ou JPEG.")
    try:
        digest = blobs.put(content, media_type)
    except BlobRefused as refused:
        raise DocumentRefused("too_large" if content else "empty_document", str(refused),
                              refused.french) from None
    recorded = files.attach_document(actor, number, sha256=digest, kind=kind,
                                     filename=clean_filename(filename, media_type),
                                     media_type=media_type, size=len(content), note=note)
    document = next(d for d in files.case(number).documents if d.sha256 == digest)
    return Attached(document, bool(recorded.facts), recorded.notification_id)


def media_type_of(content: bytes, filename: str) -> str:
    """The media type of uploaded bytes, read from their first bytes; refused when they are
    none of PDF, PNG or JPEG, larger than 20 MiB, or named as another type than they are."""
    if not content:
        raise DocumentRefused("empty_document", "the file is empty",
                              "Le fichier est vide : choisissez un document.")
    if len(content) > MAX_DOCUMENT_SIZE:
        raise DocumentRefused(
            "too_large", f"a document has at most {MAX_DOCUMENT_SIZE} bytes",
            f"Le document dépasse la taille permise ({size_in_french(MAX_DOCUMENT_SIZE)} "
            "au plus).")
    found = next((kind for kind, (magic, _, _) in MEDIA_TYPES.items()
                  if content.startswith(magic)), None)
    if found is None:
        raise DocumentRefused(
            "unsupported_media_type", "the content is none of PDF, PNG or JPEG",
            "Ce fichier n'est ni un PDF, ni une image PNG ou JPEG (son contenu a été lu, "
            "pas seulement son nom) : rien n'a été joint.")
    ending = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    known = {e: name for _, (_, endings, name) in MEDIA_TYPES.items() for e in endings}
    if ending in known and ending not in MEDIA_TYPES[found][1]:
        raise DocumentRefused(
            "media_type_mismatch", f"a {MEDIA_TYPES[found][2]} named {ending}",
            f"Ce fichier est un {MEDIA_TYPES[found][2]} mais son nom le dit "
            f"{known[ending]} : renommez-le ou choisissez le bon fichier.")
    return found


def clean_filename(name: str, media_type: str) -> str:
    """The name a document keeps: the last part of what was sent (no folders), one line of
    at most 200 characters, ending as its type does."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if c.isprintable()).strip()[:180]
    endings = MEDIA_TYPES[media_type][1] if media_type in MEDIA_TYPES else ()
    if endings and not base.lower().endswith(endings):
        base = (base or "document") + endings[0]
    return base or "document"


# -- reading ------------------------------------------------------------------------------

def documents_of(runtime: Runtime, number: str) -> list[DocumentLine]:
    """The documents of a file, in the order they were attached."""
    return document_lines(runtime.files.case(number))


def document_lines(case: Case) -> list[DocumentLine]:
    """The documents of a folded file, as pages and the API list them."""
    return [DocumentLine(d.version, d.sha256, d.kind, ATTACHMENT_KINDS.get(d.kind, d.kind),
                         d.filename, d.media_type, d.size, size_in_french(d.size), d.note,
                         d.attached_by, d.attached_at)
            for d in case.documents]


def stored_document(runtime: Runtime, number: str, sha256: str
                    ) -> tuple[AttachedDocument, bytes]:
    """A document of the file and its bytes, checked against the digest the file records."""
    document = next((d for d in runtime.files.case(number).documents if d.sha256 == sha256),
                    None)
    content = runtime.blobs.get(sha256) if document is not None else None
    if document is None or content is None:
        raise DocumentNotFound(f"no document {sha256[:16]} on file {number}")
    if sha256_of(content) != sha256:
        log.warning("document altered in the store", extra={"number": number,
                                                             "sha256": sha256})
        raise DocumentAltered(f"document {sha256[:16]} no longer matches its digest")
    return document, content


# -- the invoice that goes with a duplicate -----------------------------------------------

def invoice_attachment(runtime: Runtime, number: str, actor: str) -> Attachment:
    """The invoice to send: the file's invoice PDF (the latest attached), else the copy
    relance laid out earlier (while the registered data is unchanged since), else a new
    copy, stored and attached to the file under `actor`'s name."""
    file = runtime.files.file(number)
    for document in reversed(file.case.documents):
        usable = document.kind == AttachmentKind.INVOICE_PDF or (
            document.kind == AttachmentKind.INVOICE_COPY and _copy_is_current(file, document))
        if not usable:
            continue
        content = runtime.blobs.get(document.sha256)
        if content is not None and sha256_of(content) == document.sha256:
            return Attachment(document.filename, document.media_type, content,
                              document.sha256)
        log.warning("invoice document missing or altered in the store",
                    extra={"number": number, "sha256": document.sha256})
    content = _invoice_copy(runtime, file)
    attached = attach(runtime, actor, number, content, f"copie-facture-{_safe(number)}.pdf",
                      "application/pdf", AttachmentKind.INVOICE_COPY.value)
    return Attachment(attached.document.filename, "application/pdf", content,
                      attached.document.sha256)


def _copy_is_current(file: Invoice, copy: AttachedDocument) -> bool:
    """True unless the registration was corrected after the copy was laid out."""
    registration = file.entries[0]
    return all(version < copy.version for version in registration.corrected_by)


def _invoice_copy(runtime: Runtime, file: Invoice) -> bytes:
    """The copy's PDF, from the registration as it stands (corrections applied)."""
    d = file.entries[0].data
    debtor, contact = d["debtor"], d["billing_recipient"]
    record = runtime.files.debtor_record(debtor.account)
    address = record.mailing_address() if record else ""
    window = [record.identity.get("legal_name") or debtor.name, *address.split("\n")] \
        if record is not None and address else [debtor.name]
    copy = InvoiceCopy(
        number=d["number"], issued_on=french.day(d["issued_on"]),
        due_on=french.day(d["due_on"]), amount=french.money(d["amount"], d["currency"]),
        currency=d["currency"], debtor_name=debtor.name, debtor_account=debtor.account,
        debtor_siren=debtor.siren, po_reference=d["po_reference"],
        billing_contact=" — ".join(p for p in (contact.name, contact.email) if p))
    return invoice_copy_pdf(copy, runtime.creditor, window, french.day(runtime.today()))


def _safe(number: str) -> str:
    """An invoice number as part of a file name."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in number).strip("-") \
        or "facture"
