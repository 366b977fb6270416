"""Reading a Factur-X / ZUGFeRD e-invoice: the XML inside the PDF becomes a file.

The package `factur-x` extracts the embedded XML and reads it into EN 16931 terms:
number (BT-1), issue date (BT-2), currency (BT-5), due date (BT-9, else the payment
terms), purchase order (BT-13), buyer (BG-7: name, identifier, SIREN under scheme
0002; its postal address, BG-8, becomes the debtor's billing address, and its contact
point, BG-9, the invoice's billing contact) and total including tax (BT-112). An empty
file, a file that is not a PDF and a PDF without Factur-X data are refused in French (the
package's own message goes to the logs); an invoice sent again with another amount, due
date or buyer is a discrepancy. The PDF itself is kept: stored and attached to the file
as its invoice (`adapters.usecases.attachments`); imported again identically, it adds
nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.infra.blobs import BlobStore
from adapters.usecases.attachments import record_document
from adapters.usecases.import_files import BadRow
from adapters.usecases.importing import ImportReport, register_rows
from domain.attachments import MAX_DOCUMENT_SIZE, AttachmentKind, size_in_french
from domain.service import CaseFiles
from domain.terms import PaymentTerms

SIREN_SCHEME = "0002"
log = logging.getLogger("relance.import")


def facturx_row(pdf: bytes, terms: PaymentTerms) -> dict[str, str]:
    """The invoice of a Factur-X PDF, as an import row."""
    if not pdf.strip():
        raise BadRow("fichier vide")
    # Imported here: factur-x brings lxml and requests, which no other command needs.
    from facturx import get_facturx_xml_from_pdf, parse_ubl_cii_xml

    try:
        _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    except Exception as error:  # noqa: BLE001 - factur-x raises bare Exception on bad PDFs
        log.info("unreadable PDF: %s", error)
        raise BadRow("PDF illisible : ce fichier n'est pas un PDF valide") from None
    if not xml:
        raise BadRow("ce PDF ne contient pas de facture Factur-X")
    try:
        data: dict[str, Any] = parse_ubl_cii_xml(xml, check_xsd=False)
    except Exception as error:  # noqa: BLE001 - and on bad XML: reported, not swallowed
        log.info("unreadable Factur-X XML: %s", error)
        raise BadRow("XML Factur-X illisible : les données de la facture ne se lisent "
                     "pas") from None
    buyer = data.get("BG-7") or {}
    siren = buyer.get("legal_identifier", "") \
        if buyer.get("legal_identifier_schemeid") == SIREN_SCHEME else ""
    identifiers = buyer.get("identifiers") or {}
    account = next((str(v) for v in identifiers.values() if v), "") \
        or (f"SIREN{siren}" if siren else "")
    issued = data.get("BT-2")
    if issued is None:
        raise BadRow("date de facture absente (BT-2)")
    due = data.get("BT-9") or terms.due_on(issued)
    return {
        **_buyer_details(buyer),
        "number": str(data.get("BT-1", "")), "debtor_account": account,
        "debtor_name": str(buyer.get("name", "")), "siren": str(siren),
        "amount": str(data.get("BT-112", "")), "currency": str(data.get("BT-5", "EUR")),
        "issued_on": issued.isoformat(), "due_on": due.isoformat(),
        "po_reference": str(data.get("BT-13", "") or ""),
    }


def _buyer_details(buyer: dict[str, Any]) -> dict[str, str]:
    """The buyer's postal address and first contact point, as import columns."""
    lines = [str(buyer.get(k) or "") for k in ("addr_l1", "addr_l2", "addr_l3")]
    contact = next(iter(buyer.get("contacts") or []), {})
    row = {"billing_street": "\n".join(line for line in lines if line.strip()),
           "billing_postcode": str(buyer.get("postcode") or ""),
           "billing_city": str(buyer.get("city") or ""),
           "billing_country": str(buyer.get("country_code") or ""),
           "contact_name": str(contact.get("name") or ""),
           "contact_phone": str(contact.get("phone") or ""),
           "contact_email": str(contact.get("email") or "")}
    return {name: value for name, value in row.items() if value.strip()}


def import_facturx(files: CaseFiles, pdf: bytes, actor: str, terms: PaymentTerms,
                   blobs: BlobStore | None = None, filename: str = "") -> ImportReport:
    """Registers the invoice of a Factur-X PDF (once: a second import changes nothing) and,
    given the store of documents, attaches the PDF to its file as the invoice (`filename`:
    its name, else the invoice number's)."""
    if blobs is not None and len(pdf) > MAX_DOCUMENT_SIZE:
        raise BadRow(f"PDF trop volumineux pour être joint au dossier : "
                     f"{size_in_french(MAX_DOCUMENT_SIZE)} au plus")
    row = facturx_row(pdf, terms)
    report = register_rows(files, [(1, row)], actor)
    if blobs is not None and report.outcomes.get(1) in ("created", "unchanged"):
        number = row["number"].strip()
        named = filename or number.replace("/", "-").replace("\\", "-") + ".pdf"
        record_document(files, blobs, actor, number, pdf, named,
                        "application/pdf", AttachmentKind.INVOICE_PDF.value)
    return report
