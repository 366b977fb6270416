"""The copy of an invoice that relance lays out from the registered data, when no PDF of
the invoice is on the file: a PDF marked, on top and at the foot of every page, as a copy
that does not replace the original invoice."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from adapters.infra.documents import SHIPPED, Creditor
from adapters.infra.pdf import html_to_pdf

TEMPLATE = "_invoice_copy.html.j2"
COPY_MARK = ("COPIE — établie par relance d'après les données enregistrées ; ne remplace "
             "pas la facture originale")


@dataclass(frozen=True)
class InvoiceCopy:
    """What the copy shows, each value already as people read it (dates, amount)."""

    number: str
    issued_on: str
    due_on: str
    amount: str
    currency: str
    debtor_name: str
    debtor_account: str
    debtor_siren: str = ""
    po_reference: str = ""
    billing_contact: str = ""


def invoice_copy_pdf(invoice: InvoiceCopy, creditor: Creditor, window: list[str],
                     made_on: str) -> bytes:
    """The copy as a PDF: the creditor top left, the debtor's address in the envelope's
    window (`window`: its lines), the invoice's data, and the mark of a copy."""
    env = Environment(loader=FileSystemLoader(str(SHIPPED)), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True))
    html = env.get_template(TEMPLATE).render(
        invoice=asdict(invoice), creditor=creditor, window=window or [invoice.debtor_name],
        made_on=made_on)
    return html_to_pdf(html)
