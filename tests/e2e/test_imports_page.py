"""Imports from the browser: a supervisor sends the accounting software's files, reads the
report line by line and downloads the rejected rows, as Excel opens them."""

from __future__ import annotations

import csv
import html
import io
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import InvoiceNotFound
from tests.e2e.cli_runner import relance
from tests.e2e.conftest import PASSWORD, hidden, log_in
from tests.integration.test_import_facturx import facturx_pdf

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
INVOICES = (FIXTURES / "factures_cp1252.csv").read_bytes()
SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"


def _send(http, nature: str, *files: tuple[str, bytes, str], **fields: str):
    page = http.get("/imports")
    assert page.status_code == 200, page.text
    return http.post("/imports", data={"csrf": hidden(page.text), "nature": nature, **fields},
                     files=[("fichiers", f) for f in files])


def _report(http, answer):
    assert answer.status_code == 303, answer.text
    return http.get(answer.headers["location"])


def _rows(csv_bytes: bytes) -> list[list[str]]:
    """The rows as French Excel reads them: UTF-8 with its mark, `;` between cells."""
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig")), delimiter=";"))


def test_a_csv_with_good_and_bad_rows_gives_counts_lines_reasons_and_the_rejected_rows(
        server, store_url):
    supervisor = log_in(server, "sophie.chef", "supervisor")
    report = _report(supervisor, _send(supervisor, "factures",
                                       ("factures.csv", INVOICES, "text/csv")))
    assert report.status_code == 200
    page = report.text
    assert 'id="creees">2<' in page
    assert 'id="connues">0<' in page
    assert 'id="rejetees">4<' in page
    assert "par Sophie.Chef" in page                                  # the person, by name
    for line in (4, 5, 6, 7):
        assert f'<td class="text-end">{line}</td>' in page
    assert "montant « abc »" in page
    assert "numéro déjà présent ligne 2" in page
    files = server.app.state.runtime.files
    assert files.case("FA-1001").amount == Decimal("1500.00")
    assert files.history("FA-1001")[0].actor == "sophie.chef"          # the person acted

    download = supervisor.get(page.split('id="telecharger-rejets" href="', 1)[1].split('"')[0])
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith("attachment;")
    rows = _rows(download.content)
    assert rows[0][0] == "Ligne"
    assert rows[0][1:4] == ["Numéro", "Compte client", "Raison sociale"]
    assert rows[0][-1] == "Motif"
    assert [row[0] for row in rows[1:]] == ["4", "5", "6", "7"]
    assert rows[1][1:6] == ["FA-1003", "411LEF", "Lefèvre SARL", "", "abc"]  # as written
    assert "montant « abc »" in rows[1][-1]
    assert rows[3][-1] == "numéro déjà présent ligne 2"

    again = _report(supervisor, _send(supervisor, "factures",
                                      ("factures.csv", INVOICES, "text/csv")))
    assert 'id="creees">0<' in again.text
    assert 'id="connues">2<' in again.text
    # the command line finds the same facts: nothing new to record
    cli = relance(store_url, "import", "invoices", str(FIXTURES / "factures_cp1252.csv"))
    assert "0 facture enregistrée, 2 déjà présentes" in cli.stdout


def test_a_report_and_its_rejected_rows_are_only_for_the_person_who_imported(server):
    supervisor = log_in(server, "sophie.chef", "supervisor")
    answer = _send(supervisor, "factures", ("factures.csv", INVOICES, "text/csv"))
    location = answer.headers["location"]
    report = supervisor.get(location)
    download = report.text.split('id="telecharger-rejets" href="', 1)[1].split('"')[0]
    other = log_in(server, "paul.chef", "supervisor")
    assert other.get(location).status_code == 404
    assert other.get(download).status_code == 404
    assert other.get("/imports/" + "0" * 64).status_code == 404
    assert other.get("/imports/pas-un-rapport").status_code == 404


def test_a_fec_is_imported_from_the_page(server):
    admin = log_in(server, "ada.admin", "admin")
    report = _report(admin, _send(admin, "fec", ("fec.txt", (FIXTURES / "fec_pipe.txt")
                                                 .read_bytes(), "text/plain"), delai="45fdm"))
    assert 'id="creees">3<' in report.text                     # two files and one payment
    assert '<td class="text-end">8</td>' in report.text
    assert "montant illisible" in report.text
    files = server.app.state.runtime.files
    assert files.case("F-101").paid == Decimal("1000.00")
    download = admin.get(report.text.split('id="telecharger-rejets" href="', 1)[1]
                         .split('"')[0])
    rows = _rows(download.content)
    assert rows[0][:3] == ["Ligne", "JournalCode", "JournalLib"]
    assert rows[1][0] == "8"
    assert "douze" in rows[1]


def test_factur_x_pdfs_are_imported_and_kept_on_their_files(server):
    supervisor = log_in(server, "sophie.chef", "supervisor")
    report = _report(supervisor, _send(
        supervisor, "facturx", ("FX-1.pdf", facturx_pdf("FX-1"), "application/pdf"),
        ("FX-2.pdf", facturx_pdf("FX-2"), "application/pdf"),
        ("pas-un-pdf.pdf", b"bonjour", "application/pdf")))
    page = report.text
    assert 'id="creees">2<' in page
    assert "Fichier refusé : PDF illisible" in page
    files = server.app.state.runtime.files
    assert [d.filename for d in files.case("FX-1").documents] == ["FX-1.pdf"]
    assert files.case("FX-2").amount == Decimal("1500.00")
    download = supervisor.get(page.split('id="telecharger-rejets" href="', 1)[1].split('"')[0])
    rows = _rows(download.content)
    assert rows[0] == ["Fichier", "Ligne", "Motif"]
    assert rows[1][0] == "pas-un-pdf.pdf"
    assert "PDF illisible" in rows[1][-1]


def test_an_agent_may_not_import(server, agent):
    assert agent.get("/imports").status_code == 403
    supervisor = log_in(server, "sophie.chef", "supervisor")
    token = hidden(supervisor.get("/imports").text)
    refused = agent.post("/imports", data={"csrf": token, "nature": "factures"},
                         files=[("fichiers", ("f.csv", INVOICES, "text/csv"))])
    assert refused.status_code == 403
    assert "permise avec votre rôle" in refused.text
    with pytest.raises(InvoiceNotFound):
        server.app.state.runtime.files.case("FA-1001")


def test_a_too_large_upload_or_no_file_gets_a_french_error_and_no_500(server):
    supervisor = log_in(server, "sophie.chef", "supervisor")
    huge = b"numero;montant\n" + b"FA-1;10,00\n" * (2 * 1024 * 1024)   # 22 MiB
    answer = _send(supervisor, "factures", ("huge.csv", huge, "text/csv"))
    assert answer.status_code == 413
    assert "trop volumineuse" in answer.text
    empty = _send(supervisor, "factures", ("", b"", "application/octet-stream"))
    assert empty.status_code == 422
    assert "Choisissez au moins un fichier" in empty.text
    bad_terms = _send(supervisor, "fec", ("fec.txt", b"x", "text/plain"), delai="bientot")
    assert bad_terms.status_code == 422
    assert "Délai de paiement illisible" in bad_terms.text
    not_text = _report(supervisor, _send(supervisor, "paiements",
                                         ("p.csv", b"%PDF-1.4 ...", "text/csv")))
    assert "Fichier refusé, rien n'a été importé : ce fichier n'est pas du texte (un PDF)" \
        in html.unescape(not_text.text)


def test_a_supervisor_imports_a_file_with_the_form_in_chromium(server, browser, tmp_path):
    server.app.state.runtime.accounts.add("sophie.chef", "Sophie Chef", "supervisor", PASSWORD)
    csv_file = tmp_path / "factures.csv"
    csv_file.write_bytes(INVOICES)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    page.goto(f"{server.url}/imports")
    page.fill("#login", "sophie.chef")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/imports")
    page.select_option("#nature", "factures")
    page.set_input_files("#fichiers", str(csv_file))
    page.click("#formulaire-import button[type=submit]")
    page.wait_for_url("**/imports/*")
    assert page.locator("#creees").inner_text() == "2"
    assert page.locator("#rejetees").inner_text() == "4"
    assert "montant « abc »" in page.locator("#rejets").inner_text()
    with page.expect_download() as waiting:
        page.click("#telecharger-rejets")
    rows = _rows(Path(waiting.value.path()).read_bytes())
    assert [row[0] for row in rows[1:]] == ["4", "5", "6", "7"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "imports.png"), full_page=True)
    assert [text for text in problems if "Content Security Policy" in text] == []
