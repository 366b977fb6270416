"""CSV imports from accounting software: French formats, idempotent, row by row."""

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.usecases.importing import BadRow, import_invoices, import_payments

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
INVOICES = (FIXTURES / "factures_cp1252.csv").read_bytes()
PAYMENTS = (FIXTURES / "paiements.csv").read_bytes()


def test_a_windows_1252_semicolon_file_with_french_formats_is_imported(files):
    report = import_invoices(files, INVOICES, "import")
    assert report.created == 2
    case = files.case("FA-1001")
    assert case.amount == Decimal("1500.00")
    assert case.debtor.name == "Dupuis & Fils"
    assert case.billing_recipient.email == "marie@dupuis.example"
    assert files.case("FA-1002").amount == Decimal("250.50")
    assert str(files.case("FA-1002").due_on) == "2026-11-14"


def test_bad_rows_are_reported_with_line_and_reason_and_never_stop_the_good_ones(files):
    report = import_invoices(files, INVOICES, "import")
    assert [line for line, _ in report.rejected] == [4, 5, 6, 7]
    reasons = dict(report.rejected)
    assert "montant" in reasons[4]
    assert "due date 2026-09-01 is before issue date" in reasons[5]
    assert reasons[6] == "numéro déjà présent ligne 2"
    assert "debtor_account is empty" in reasons[7]
    assert not report.ok


def test_importing_the_same_file_twice_records_nothing_new(files):
    import_invoices(files, INVOICES, "import")
    head = files.recorder.max_notification_id()
    again = import_invoices(files, INVOICES, "import")
    assert (again.created, again.unchanged) == (0, 2)
    assert files.recorder.max_notification_id() == head


def test_payments_are_recorded_once_even_when_the_file_comes_back(files):
    import_invoices(files, INVOICES, "import")
    report = import_payments(files, PAYMENTS, "import")
    assert report.created == 3
    assert files.case("FA-1001").paid == Decimal("1000.00")
    assert files.case("FA-1002").outstanding == Decimal("0.00")
    assert [line for line, _ in report.rejected] == [5, 6, 7]
    assert "Aucun dossier" in dict(report.rejected)[5]
    assert "dépasse le solde" in dict(report.rejected)[6]
    again = import_payments(files, PAYMENTS, "import")
    assert (again.created, again.unchanged) == (0, 3)
    assert files.case("FA-1001").paid == Decimal("1000.00")


def test_a_file_without_the_needed_columns_is_refused_whole(files):
    with pytest.raises(BadRow, match="colonnes introuvables : amount"):
        import_invoices(files, b"numero;client\nFA-1;X\n", "import")


def test_a_field_over_the_csv_limit_is_a_row_error_and_the_next_rows_still_come_in(files):
    data = ("numero;compte;client;montant;date;echeance;destinataire\n"
            "BIG-1;411A;Alpha;100,00;01/10/2026;31/10/2026;Jean\n"
            f"BIG-2;411A;Alpha;100,00;01/10/2026;31/10/2026;{'x' * 200_000}\n"
            "BIG-3;411A;Alpha;100,00;01/10/2026;31/10/2026;Marie\n").encode()
    report = import_invoices(files, data, "import")
    assert report.created == 2
    assert report.rejected == [(3, "ligne illisible (un champ dépasse 128 Kio)")]
    assert files.case("BIG-3").billing_recipient.name == "Marie"
