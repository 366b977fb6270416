"""The FEC: open customer receivables become files, lettered credits their payments."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.usecases.fec import import_fec
from adapters.usecases.import_files import BadRow
from domain.errors import InvoiceNotFound
from domain.terms import PaymentTerms

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"


@pytest.mark.parametrize("name", ["fec_tab.txt", "fec_pipe.txt"])
def test_open_receivables_become_files_with_their_lettered_payments(files, name):
    report = import_fec(files, (FIXTURES / name).read_bytes(), "import",
                        PaymentTerms.parse("45fdm"))
    open_invoice = files.case("F-100")
    assert open_invoice.amount == Decimal("1200.00")
    assert open_invoice.debtor.name == "Boulangerie Lemoine"
    assert open_invoice.due_on == date(2026, 10, 1)            # from the FEC's column
    partly_paid = files.case("F-101")
    assert partly_paid.paid == Decimal("1000.00")
    assert partly_paid.outstanding == Decimal("2000.00")
    assert partly_paid.due_on == date(2026, 10, 31)            # 05/09 + 45 days, end of month
    with pytest.raises(InvoiceNotFound):
        files.case("F-102")                                     # settled by its lettering
    assert [line for line, _ in report.rejected] == [8]
    assert "montant illisible" in report.rejected[0][1]
    assert report.created == 3                                  # two files and one payment


def test_importing_the_same_fec_again_records_nothing(files):
    data = (FIXTURES / "fec_tab.txt").read_bytes()
    import_fec(files, data, "import", PaymentTerms.parse("30"))
    head = files.recorder.max_notification_id()
    again = import_fec(files, data, "import", PaymentTerms.parse("30"))
    assert (again.created, again.unchanged) == (0, 3)
    assert files.recorder.max_notification_id() == head


def test_lettered_credit_notes_of_the_sales_journal_are_recorded_as_credit_notes(files):
    data = (FIXTURES / "fec_avoirs.txt").read_bytes()
    report = import_fec(files, data, "import", PaymentTerms.parse("30"))
    assert (report.created, report.rejected) == (6, [])     # two files, two avoirs, two payments
    pharmacy = files.case("F-200")
    assert (pharmacy.credited, pharmacy.paid, pharmacy.outstanding) == (
        Decimal("500.00"), Decimal("300.00"), Decimal("1200.00"))
    assert [(n.amount, n.issued_on) for n in pharmacy.credit_notes] == [
        (Decimal("500.00"), date(2026, 9, 15))]
    assert "AV-20" in pharmacy.credit_notes[0].reference
    grocer = files.case("F-202")                              # an avoir by its label, in OD
    assert (grocer.credited, grocer.paid) == (Decimal("100.00"), Decimal("250.00"))
    with pytest.raises(InvoiceNotFound):
        files.case("F-201")                                   # settled by its avoir
    head = files.recorder.max_notification_id()
    again = import_fec(files, data, "import", PaymentTerms.parse("30"))
    assert (again.created, again.unchanged) == (0, 6)
    assert files.recorder.max_notification_id() == head


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "fichier vide"),
    ((FIXTURES / "fec_tab.txt").read_bytes().split(b"\n")[0] + b"\n",
     "aucune écriture à importer : le FEC n'a que son en-tête"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "ce fichier n'est pas du texte"),
])
def test_an_empty_a_header_only_or_a_binary_fec_is_refused_in_french(files, data, reason):
    with pytest.raises(BadRow, match=reason):
        import_fec(files, data, "import", PaymentTerms.parse("30"))


def test_a_fec_line_with_a_byte_that_does_not_read_is_rejected_alone(files):
    data = (FIXTURES / "fec_tab.txt").read_bytes().replace(
        b"Facture F-100\t1200", b"Facture F-100 \xff\t1200")
    report = import_fec(files, data, "import", PaymentTerms.parse("30"))
    assert (2, "ligne illisible (caractères invalides en UTF-8)") in report.rejected
    with pytest.raises(InvoiceNotFound):
        files.case("F-100")
    assert files.case("F-101").paid == Decimal("1000.00")


def test_payment_terms_are_read_as_people_write_them():
    assert PaymentTerms.parse("30").due_on(date(2026, 1, 15)) == date(2026, 2, 14)
    assert PaymentTerms.parse("45 jours fin de mois").due_on(date(2026, 1, 20)) == date(
        2026, 3, 31)
    assert PaymentTerms.parse("60j").due_on(date(2026, 1, 1)) == date(2026, 3, 2)
