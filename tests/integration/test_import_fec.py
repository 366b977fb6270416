"""The FEC: open customer receivables become files, lettered credits their payments."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.usecases.fec import import_fec
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


def test_payment_terms_are_read_as_people_write_them():
    assert PaymentTerms.parse("30").due_on(date(2026, 1, 15)) == date(2026, 2, 14)
    assert PaymentTerms.parse("45 jours fin de mois").due_on(date(2026, 1, 20)) == date(
        2026, 3, 31)
    assert PaymentTerms.parse("60j").due_on(date(2026, 1, 1)) == date(2026, 3, 2)
