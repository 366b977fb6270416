"""Documents on a file (pièces du dossier): what kinds there are, and how a document is
named in the record.

A document is referenced by the SHA-256 of its bytes, never carried in a fact: the bytes
live in the store's table of documents (`adapters.infra.blobs`), and the fact that
attaches them (`DocumentAttached`) names their digest, kind, name, media type and size.
The same bytes attached twice to a file are one document: the second time records
nothing.

Glossary: facture (the invoice as issued), copie de facture (a copy relance lays out from
the registered data when no invoice PDF is on the file), échéancier signé (a payment plan
signed by the debtor), bon de livraison signé (a signed delivery note: the delivery is not
in doubt), accusé de réception (the acknowledgement of a registered letter).
"""

from __future__ import annotations

import re
from enum import StrEnum

from domain.errors import DomainError
from domain.values import one_line, require_text

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FILENAME = 200
MAX_DOCUMENT_SIZE = 20 * 1024 * 1024
"""20 MiB: a scanned signed plan or a photographed delivery note fits; a file that does
not is refused before anything is stored."""


class InvalidDocument(DomainError):
    """A document that cannot be attached as described (no digest, unknown kind, no name,
    an impossible size)."""

    code = "invalid_document"


class AttachmentKind(StrEnum):
    """What a document on a file is."""

    INVOICE_PDF = "invoice_pdf"
    INVOICE_COPY = "invoice_copy"
    SIGNED_PLAN = "signed_plan"
    DELIVERY_RECEIPT = "delivery_receipt"
    REGISTERED_RECEIPT = "registered_receipt"
    DEBTOR_DOCUMENT = "debtor_document"
    PAYMENT_PROOF = "payment_proof"
    OTHER = "other"


ATTACHMENT_KINDS: dict[str, str] = {
    "invoice_pdf": "facture (PDF)",
    "invoice_copy": "copie de facture établie par relance",
    "signed_plan": "échéancier signé",
    "delivery_receipt": "bon de livraison signé",
    "registered_receipt": "accusé de réception de recommandé",
    "debtor_document": "pièce envoyée par le débiteur",
    "payment_proof": "justificatif de paiement du débiteur",
    "other": "autre document",
}
"""The French word of each kind of document, as the file page, the history and the PDF
dossier show it."""
UPLOADED_KINDS = tuple(k for k in AttachmentKind if k is not AttachmentKind.INVOICE_COPY)
"""What people attach; the invoice copy is laid out by relance only."""


def attachment_kind(value: str) -> AttachmentKind:
    """A kind of document, or a refusal naming the kinds there are."""
    try:
        return AttachmentKind(value)
    except ValueError:
        raise InvalidDocument(f"unknown document kind {str(value)[:40]!r}; kinds: "
                              f"{', '.join(AttachmentKind)}", field="kind") from None


def digest(value: str) -> str:
    """A SHA-256 digest as 64 lowercase hexadecimal characters, or a refusal."""
    text = (value or "").strip().lower()
    if not SHA256.match(text):
        raise InvalidDocument(f"{str(value)[:80]!r} is not a SHA-256 digest", field="sha256")
    return text


def filename(value: str) -> str:
    """A document's name: one line, not empty, at most 200 characters."""
    text = one_line(require_text(value, "filename"), "filename")
    if len(text) > MAX_FILENAME:
        raise InvalidDocument(f"a file name has at most {MAX_FILENAME} characters",
                              field="filename")
    return text


def size(value: int) -> int:
    """A document's size in bytes: from 1 byte to 20 MiB."""
    if isinstance(value, bool) or not isinstance(value, int) or \
            not 0 < value <= MAX_DOCUMENT_SIZE:
        raise InvalidDocument(f"a document has from 1 byte to {MAX_DOCUMENT_SIZE} bytes, "
                              f"got {value!r}", field="size")
    return value


def size_in_french(value: int) -> str:
    """A size as people read it: « 820 octets », « 14 Ko », « 2,4 Mo »."""
    if value < 1024:
        return f"{value} octets"
    if value < 1024 * 1024:
        return f"{round(value / 1024)} Ko"
    megabytes = f"{value / (1024 * 1024):.1f}".removesuffix(".0")
    return f"{megabytes.replace('.', ',')} Mo"
