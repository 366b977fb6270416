"""A Factur-X e-invoice becomes a file: number, buyer and SIREN, amount, due date, PO."""

import datetime
from decimal import Decimal

import facturx
import pytest
from weasyprint import HTML

from adapters.usecases.facturx import import_facturx
from adapters.usecases.import_files import BadRow
from domain.terms import PaymentTerms

TERMS = PaymentTerms.parse("30")


def facturx_pdf(number: str = "FX-2026-001", due: datetime.date | None = None,
                total: str = "1500.00") -> bytes:
    """A real Factur-X PDF (BASIC WL), its XML made and checked by the factur-x package."""
    data = {
        "BT-24": "urn:factur-x.eu:1p0:basicwl", "BT-1": number, "BT-3": "380",
        "BT-2": datetime.date(2026, 10, 1), "BT-5": "EUR", "BT-13": "BC-12",
        "BT-72": datetime.date(2026, 9, 28),
        "BG-4": {"name": "Menuiseries Arnaud SAS", "legal_identifier": "552100554",
                 "legal_identifier_schemeid": "0002", "vat_identifier": "FR12552100554",
                 "country_code": "FR"},
        "BG-7": {"name": "Dupuis & Fils", "identifiers": {"": "411DUP"},
                 "legal_identifier": "732829320", "legal_identifier_schemeid": "0002",
                 "country_code": "FR"},
        "BG-23": [{"BT-116": "1250.00", "BT-117": "250.00", "BT-118": "S", "BT-119": "20.00"}],
        "BT-106": "1250.00", "BT-109": "1250.00", "BT-110": "250.00", "BT-112": total,
        "BT-115": total,
    }
    if due:
        data["BT-9"] = due
    xml = facturx.generate_cii_xml(data, level="basicwl", check_schematron=False)
    pdf = HTML(string=f"<h1>Facture {number}</h1><p>1 500,00 € TTC</p>").write_pdf()
    return facturx.generate_from_binary(pdf, xml, check_xsd=False)


def test_a_facturx_invoice_becomes_a_file_once(files):
    pdf = facturx_pdf(due=datetime.date(2026, 10, 31))
    report = import_facturx(files, pdf, "import", TERMS)
    assert report.created == 1
    case = files.case("FX-2026-001")
    assert (case.amount, case.currency) == (Decimal("1500.00"), "EUR")
    assert (case.debtor.name, case.debtor.siren, case.debtor.account) == (
        "Dupuis & Fils", "732829320", "411DUP")
    assert (case.issued_on, case.due_on) == (datetime.date(2026, 10, 1),
                                             datetime.date(2026, 10, 31))
    assert case.po_reference == "BC-12"
    again = import_facturx(files, pdf, "import", TERMS)
    assert (again.created, again.unchanged) == (0, 1)


def test_without_a_due_date_the_payment_terms_decide(files):
    import_facturx(files, facturx_pdf("FX-2026-002"), "import", PaymentTerms.parse("45fdm"))
    assert files.case("FX-2026-002").due_on == datetime.date(2026, 11, 30)


def test_a_pdf_without_facturx_data_is_refused_clearly(files):
    plain = HTML(string="<p>Pas une facture électronique</p>").write_pdf()
    with pytest.raises(BadRow, match="Factur-X"):
        import_facturx(files, plain, "import", TERMS)


def test_a_facturx_invoice_sent_again_with_another_amount_is_a_discrepancy(files):
    import_facturx(files, facturx_pdf(), "import", TERMS)
    head = files.recorder.max_notification_id()
    report = import_facturx(files, facturx_pdf(total="1600.00"), "import", TERMS)
    assert (report.created, report.unchanged) == (0, 0)
    assert [(d.line, d.field) for d in report.discrepancies] == [(1, "amount")]
    assert "montant enregistré 1\u202f500,00\u00a0€, nouveau 1\u202f600,00\u00a0€" in str(
        report.discrepancies[0])
    assert files.recorder.max_notification_id() == head


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "fichier vide"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PDF illisible : ce fichier n'est pas un "
     "PDF valide"),
    (b"%PDF-1.4\ncoupe", "PDF illisible : ce fichier n'est pas un PDF valide"),
])
def test_an_empty_or_unreadable_file_is_refused_in_french_only(files, data, reason):
    with pytest.raises(BadRow) as refused:
        import_facturx(files, data, "import", TERMS)
    assert str(refused.value) == reason
