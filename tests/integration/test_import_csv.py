"""CSV imports from accounting software: French formats, idempotent, row by row."""

import io
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.usecases.import_files import INVOICE_COLUMNS, LABELS, PAYMENT_COLUMNS, BadRow
from adapters.usecases.import_payments import import_payments
from adapters.usecases.importing import import_invoices
from tests.e2e.cli_runner import relance

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
INVOICES = (FIXTURES / "factures_cp1252.csv").read_bytes()
PAYMENTS = (FIXTURES / "paiements.csv").read_bytes()
ENGLISH = re.compile(r"\b(is|the|before|after|empty|must|amount|invoice|exceeds|not)\b")
EURO = "\u00a0€"
HEADER = "numero;compte;client;montant;date;echeance\n"


def euros(text: str) -> str:
    """An amount as the French format writes it: '1 500,00' -> '1\u202f500,00\u00a0€'."""
    return text.replace(" ", "\u202f") + EURO


def png() -> bytes:
    """The start of a real PNG image: its signature and header chunk."""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06"


def zipped() -> bytes:
    """A ZIP archive (an .xlsx workbook is one) holding a CSV."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("factures.csv", HEADER + "FA-1;411A;Alpha;10,00;01/10/2026;31/10/2026\n")
    return buffer.getvalue()


def test_a_windows_1252_semicolon_file_with_french_formats_is_imported(files):
    report = import_invoices(files, INVOICES, "import")
    assert report.created == 2
    case = files.case("FA-1001")
    assert case.amount == Decimal("1500.00")
    assert case.debtor.name == "Dupuis & Fils"
    assert case.billing_recipient.email == "marie@dupuis.example"
    assert files.case("FA-1002").amount == Decimal("250.50")
    assert str(files.case("FA-1002").due_on) == "2026-11-14"


def test_bad_rows_are_reported_with_line_and_reason_in_french_and_never_stop_the_good_ones(
        files):
    report = import_invoices(files, INVOICES, "import")
    assert [line for line, _ in report.rejected] == [4, 5, 6, 7]
    reasons = dict(report.rejected)
    assert "montant « abc »" in reasons[4]
    assert reasons[5] == ("Les données de la facture sont incohérentes. "
                          "(échéance 01/09/2026 avant la date de facture 01/10/2026)")
    assert reasons[6] == "numéro déjà présent ligne 2"
    assert reasons[7] == "Une information obligatoire est manquante. (compte client)"
    assert not [reason for reason in reasons.values() if ENGLISH.search(reason)]
    assert not report.ok
    assert report.details()[5].endswith(           # the API adds the code and English detail
        "[invalid_invoice: due date 2026-09-01 is before issue date 2026-10-01]")


def test_importing_the_same_file_twice_records_nothing_new(files):
    import_invoices(files, INVOICES, "import")
    head = files.recorder.max_notification_id()
    again = import_invoices(files, INVOICES, "import")
    assert (again.created, again.unchanged) == (0, 2)
    assert files.recorder.max_notification_id() == head


def _rows(first: int, last: int) -> bytes:
    return (HEADER + "".join(f"FG-{n:04d};411G{n % 7};Client {n % 7};{n},50;01/10/2026;"
                             f"31/10/2026\n" for n in range(first, last))).encode()


def test_a_large_file_then_the_same_with_more_rows_opens_each_file_once_in_log_order(runtime):
    """Large batches go to the log in bulk (COPY on PostgreSQL): each invoice is one
    file, the log's positions follow each other in the order of the rows, a file sent
    again stays as it was, and the read models show every file."""
    files = runtime.files
    first = import_invoices(files, _rows(0, 300), "import")
    again = import_invoices(files, _rows(0, 380), "import")
    assert (first.created, again.created, again.unchanged) == (300, 80, 300)
    logged = files.recorder.select_notifications(start=1, limit=10_000)
    assert [n.id for n in logged] == sorted({n.id for n in logged})
    registered = [n for n in logged if n.topic.endswith(":InvoiceRegistered")]
    assert [files.mapper.to_domain_event(n).number for n in registered] == [
        f"FG-{n:04d}" for n in range(380)]
    runtime.follower.catch_up()
    assert runtime.reads.case("FG-0379", date(2026, 11, 20)).row["outstanding"] == \
        Decimal("379.50")
    assert len(runtime.reads.history("FG-0123")) == 1


def test_every_column_has_a_french_name_for_the_messages():
    assert set(INVOICE_COLUMNS) | set(PAYMENT_COLUMNS) <= set(LABELS)


# -- invoices sent again with other values -----------------------------------------------


def test_an_invoice_sent_again_with_other_values_is_a_discrepancy_and_records_nothing(files):
    import_invoices(files, INVOICES, "import")
    head = files.recorder.max_notification_id()
    changed = (HEADER + "FA-1001;411DUP;Dupuis & Fils;1 600,00;01/10/2026;31/10/2026\n"
               "FA-1002;411LEF;Lefèvre SARL;250,50;15/10/2026;30/11/2026\n").encode()
    report = import_invoices(files, changed, "import")
    assert (report.created, report.unchanged, report.rejected) == (0, 0, [])
    assert [(d.line, d.field, d.recorded, d.new) for d in report.discrepancies] == [
        (2, "amount", euros("1 500,00"), euros("1 600,00")),
        (3, "due_on", "14/11/2026", "30/11/2026"),
        (3, "debtor", "411DUP (Dupuis & Fils)", "411LEF (Lefèvre SARL)")]
    assert str(report.discrepancies[0]) == (
        f"ligne 2 : montant enregistré {euros('1 500,00')}, nouveau {euros('1 600,00')} "
        "(facture FA-1001)")
    assert str(report.discrepancies[1]).startswith(
        "ligne 3 : échéance enregistrée 14/11/2026, nouvelle 30/11/2026")
    assert report.outcomes == {2: "rejected", 3: "rejected"}
    assert not report.ok
    assert files.recorder.max_notification_id() == head
    assert files.case("FA-1001").amount == Decimal("1500.00")


def test_a_due_date_rescheduled_in_relance_is_no_discrepancy_when_the_invoice_comes_back(
        files):
    import_invoices(files, INVOICES, "import")
    files.reschedule_due_date("amelie", "FA-1001", new_due_on=date(2026, 12, 15),
                              reason="accord du client")
    again = import_invoices(files, INVOICES, "import")
    assert (again.unchanged, again.discrepancies) == (2, [])


# -- payments and credit notes -----------------------------------------------------------


def test_payments_are_recorded_once_even_when_the_file_comes_back(files):
    import_invoices(files, INVOICES, "import")
    report = import_payments(files, PAYMENTS, "import")
    assert report.created == 2
    assert files.case("FA-1001").paid == Decimal("500.00")
    assert files.case("FA-1002").outstanding == Decimal("0.00")
    assert [line for line, _ in report.rejected] == [5, 6, 7]
    assert "Aucun dossier" in dict(report.rejected)[5]
    assert dict(report.rejected)[6] == (
        "Le paiement dépasse le solde restant dû : cochez « trop-perçu » s'il est voulu. "
        f"(montant {euros('5 000,00')}, solde dû {euros('1 000,00')})")
    assert dict(report.rejected)[7] == "montant manquant"
    again = import_payments(files, PAYMENTS, "import")
    assert (again.created, again.unchanged) == (0, 2)
    assert files.case("FA-1001").paid == Decimal("500.00")


def test_two_identical_payment_lines_wait_for_a_confirmation(files):
    import_invoices(files, INVOICES, "import")
    report = import_payments(files, PAYMENTS, "import")
    assert [(d.line, d.first) for d in report.to_confirm] == [(3, 2)]
    assert str(report.to_confirm[0]) == (
        f"ligne 3 : identique à la ligne 2 (paiement FA-1001 de {euros('500,00')} du "
        "02/11/2026, virement, VIR 001)")
    assert report.outcomes[3] == "rejected"
    confirmed = import_payments(files, PAYMENTS, "import", confirm_duplicates=True)
    assert (confirmed.created, confirmed.unchanged, confirmed.to_confirm) == (1, 2, [])
    assert files.case("FA-1001").paid == Decimal("1000.00")
    again = import_payments(files, PAYMENTS, "import")
    assert (again.created, again.unchanged, again.to_confirm) == (0, 3, [])


def test_identical_payments_with_different_references_are_both_recorded(files):
    import_invoices(files, INVOICES, "import")
    data = (b"facture;montant;date;mode;reference\n"
            b"FA-1001;100,00;02/11/2026;virement;VIR 1\n"
            b"FA-1001;100,00;02/11/2026;virement;VIR 2\n")
    report = import_payments(files, data, "import")
    assert (report.created, report.to_confirm) == (2, [])


def test_a_type_column_holding_the_means_of_payment_still_says_payments(files):
    import_invoices(files, INVOICES, "import")
    data = b"facture;montant;date;type\nFA-1001;100,00;02/11/2026;Virement\n"
    report = import_payments(files, data, "import")
    assert (report.created, report.rejected) == (1, [])
    assert files.history("FA-1001")[-1].data["means"] == "transfer"


def test_a_credit_note_line_lowers_the_balance_as_a_credit_note_once(files):
    import_invoices(files, INVOICES, "import")
    data = ("Facture;Montant;Date;Mode;Référence;Nature\n"
            "FA-1001;200,00;20/10/2026;;AV-7;Avoir\n"
            "FA-1001;500,00;02/11/2026;virement;VIR 001;paiement\n"
            "FA-1002;1 000,00;20/10/2026;;AV-8;AVOIR\n"
            "FA-1002;50,00;20/10/2026;;ESC-1;escompte\n"
            "FA-1002;50,00;20/10/2026;;AV-9;Credit note\n").encode()
    report = import_payments(files, data, "import")
    assert report.created == 3
    case = files.case("FA-1001")
    assert (case.credited, case.paid, case.outstanding) == (
        Decimal("200.00"), Decimal("500.00"), Decimal("800.00"))
    assert [(n.reference, n.issued_on) for n in case.credit_notes] == [
        ("AV-7", date(2026, 10, 20))]
    assert files.case("FA-1002").credited == Decimal("50.00")
    assert dict(report.rejected) == {
        4: f"Le montant dépasse le solde restant dû de la facture. (montant "
           f"{euros('1 000,00')})",
        5: "nature inconnue : 'escompte' (paiement ou avoir attendu)"}
    head = files.recorder.max_notification_id()
    again = import_payments(files, data, "import")
    assert (again.created, again.unchanged) == (0, 3)
    assert files.recorder.max_notification_id() == head


# -- files that cannot be read, wholly or in part ---------------------------------------


def test_a_file_without_the_needed_columns_is_refused_whole(files):
    with pytest.raises(BadRow, match="colonnes introuvables : montant"):
        import_invoices(files, b"numero;client\nFA-1;X\n", "import")


@pytest.mark.parametrize("importer", [import_invoices, import_payments])
@pytest.mark.parametrize(("data", "reason"), [
    (b"", "fichier vide"),
    (b" \r\n\n", "fichier vide"),
    (HEADER.encode(), "aucune ligne à importer : le fichier n'a que son en-tête"),
    (b"numero;montant\r\n;\r\n\r\n", "aucune ligne à importer"),
])
def test_an_empty_file_or_a_header_alone_is_refused_in_french(files, importer, data, reason):
    with pytest.raises(BadRow, match=reason):
        importer(files, data, "import")


@pytest.mark.parametrize("importer", [import_invoices, import_payments])
@pytest.mark.parametrize(("data", "kind"), [
    (png(), "une image PNG"),
    (zipped(), "une archive ZIP ou un classeur Excel"),
    (bytes(range(256)) * 8, "un fichier binaire"),
])
def test_a_file_that_is_not_text_is_refused_whole_in_french(files, importer, data, kind):
    with pytest.raises(BadRow, match=f"ce fichier n'est pas du texte \\({kind}"):
        importer(files, data, "import")


def test_a_line_with_a_byte_that_does_not_read_is_rejected_alone(files):
    data = (HEADER + "U-1;411H;Hôtel du Parc;100,00;01/10/2026;31/10/2026\n").encode() + \
        b"U-2;411H;H\xf4tel du Parc;100,00;01/10/2026;31/10/2026\n" + \
        "U-3;411É;Société Générale;100,00;01/10/2026;31/10/2026\n".encode()
    report = import_invoices(files, data, "import")
    assert report.created == 2
    assert report.rejected == [(3, "ligne illisible (caractères invalides en UTF-8)")]
    assert files.case("U-1").debtor.name == "Hôtel du Parc"
    assert files.case("U-3").debtor.name == "Société Générale"


def test_a_windows_1252_line_with_an_undefined_byte_is_rejected_alone(files):
    data = INVOICES.replace(b"FA-1002;411DUP;Dupuis & Fils", b"FA-1002;411DUP;Dupuis \x81 Fils")
    report = import_invoices(files, data, "import")
    assert report.created == 1
    assert dict(report.rejected)[3] == "ligne illisible (caractères invalides en Windows-1252)"
    assert files.case("FA-1001").debtor.name == "Dupuis & Fils"


def test_a_field_over_the_csv_limit_is_a_row_error_and_the_next_rows_still_come_in(files):
    data = ("numero;compte;client;montant;date;echeance;destinataire\n"
            "BIG-1;411A;Alpha;100,00;01/10/2026;31/10/2026;Jean\n"
            f"BIG-2;411A;Alpha;100,00;01/10/2026;31/10/2026;{'x' * 200_000}\n"
            "BIG-3;411A;Alpha;100,00;01/10/2026;31/10/2026;Marie\n").encode()
    report = import_invoices(files, data, "import")
    assert report.created == 2
    assert report.rejected == [(3, "ligne illisible (un champ dépasse 128 Kio)")]
    assert files.case("BIG-3").billing_recipient.name == "Marie"


def test_a_header_over_the_csv_limit_refuses_the_file_in_french(files):
    with pytest.raises(BadRow, match="en-tête illisible \\(un champ dépasse 128 Kio\\)"):
        import_payments(files, ("x" * 200_000 + "\nFA-1;10,00\n").encode(), "import")


# -- the command -------------------------------------------------------------------------


def test_the_command_refuses_an_empty_a_header_only_or_a_binary_file_with_exit_code_2(
        store_url, tmp_path):
    for name, data, reason in [
            ("vide.csv", b"", "fichier vide"),
            ("entete.csv", HEADER.encode(), "n'a que son en-tête"),
            ("image.csv", png(), "n'est pas du texte (une image PNG)")]:
        path = tmp_path / name
        path.write_bytes(data)
        result = relance(store_url, "import", "invoices", str(path))
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert "Import impossible : " in result.stderr
        assert reason in result.stderr
        assert "Traceback" not in result.stderr


def test_the_command_lists_discrepancies_and_duplicates_in_french_and_exits_1(
        store_url, tmp_path):
    relance(store_url, "import", "invoices", str(FIXTURES / "factures_cp1252.csv"))
    changed = tmp_path / "factures.csv"
    changed.write_text(HEADER + "FA-1001;411DUP;Dupuis & Fils;1 600,00;01/10/2026;31/10/2026\n"
                       "FA-1002;411DUP;Dupuis & Fils;250,50;15/10/2026;14/11/2026\n")
    result = relance(store_url, "import", "invoices", str(changed))
    assert result.returncode == 1, result.stderr
    assert "0 facture enregistrée, 1 déjà présente, 0 rejetée." in result.stdout
    assert "1 écart avec les factures déjà enregistrées" in result.stdout
    assert (f"ligne 2 : montant enregistré {euros('1 500,00')}, nouveau {euros('1 600,00')}"
            in result.stdout)
    assert "rien de nouveau" not in result.stdout
    payments = tmp_path / "paiements.csv"
    payments.write_text("facture;montant;date;mode;reference\n"
                        "FA-1001;500,00;02/11/2026;virement;VIR 001\n"
                        "FA-1001;500,00;02/11/2026;virement;VIR 001\n")
    held = relance(store_url, "import", "payments", str(payments))
    assert held.returncode == 1, held.stderr
    assert "ligne 3 : identique à la ligne 2 (paiement FA-1001" in held.stdout
    assert "--confirmer-doublons" in held.stdout
    confirmed = relance(store_url, "import", "payments", str(payments), "--confirmer-doublons")
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert "1 paiement enregistré, 1 déjà présent, 0 rejeté." in confirmed.stdout
