"""Exports for auditors, over real HTTP and from the command line, checked as a lawyer would."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.infra.export_formats import ATTACHMENT, verify_export
from domain.values import CallOutcome
from tests.builders import JEAN, register_kwargs
from tests.e2e.conftest import hidden, log_in
from tests.e2e.test_cli import relance

PAGES = Path(__file__).parents[2] / "test-output" / "export-pages"


def _seed(server):
    runtime = server.app.state.runtime
    today = runtime.today()
    files = runtime.files
    files.register_invoice("alice", **register_kwargs("X-1", issued_on=today - timedelta(60),
                                                      due_on=today - timedelta(30)))
    files.register_invoice("alice", **register_kwargs("X-2", issued_on=today - timedelta(20),
                                                      due_on=today + timedelta(10)))
    files.log_call("bruno", "X-1", contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Paiement promis")
    files.send_formal_notice("bruno", "X-1", registered_letter_number="1A 123 456 7890 1",
                             deadline_on=today + timedelta(8))
    recorded = files.add_note("bruno", "X-1", text='=HYPERLINK("http://evil.example","clic")')
    assert runtime.wait_for_views(recorded.notification_id)
    return runtime


def _ask(http, page_url: str, **fields: str):
    page = http.get(page_url).text
    return http.post("/exports", data={"csrf": hidden(page), **fields})


def test_an_auditor_exports_a_file_which_verifies_and_is_recorded(server, tmp_path):
    runtime = _seed(server)
    auditor = log_in(server, "aude.itrice", "auditor")
    answer = _ask(auditor, "/dossiers/X-1", perimetre="file", cle="X-1", format="json")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith('attachment; filename="relance-X-1-')
    path = tmp_path / "x1.json"
    path.write_bytes(answer.content)
    problem, held = verify_export(path)
    assert problem is None
    assert held.digest == answer.headers["x-relance-export-digest"]
    record = runtime.files.export_record(held.digest)
    assert (record.actor, record.scope, record.key) == ("aude.itrice", "file", "X-1")
    assert "1A 123 456 7890 1" in answer.text


def test_exports_need_the_role_a_form_and_its_token(server, agent):
    _seed(server)
    page = agent.get("/dossiers/X-1").text
    assert 'action="/exports"' not in page                               # agents see no form
    assert agent.post("/exports", data={"csrf": hidden(page), "perimetre": "file",
                                        "cle": "X-1"}).status_code == 403
    auditor = log_in(server, "aude.itrice", "auditor")
    assert auditor.post("/exports", data={"perimetre": "file", "cle": "X-1"}).status_code == 403
    assert auditor.get("/exports").status_code == 405
    missing = _ask(auditor, "/portefeuille", perimetre="file", cle="NOPE", format="json")
    assert missing.status_code == 404
    assert "Aucun dossier pour ce numéro de facture." in missing.text
    bad = _ask(auditor, "/portefeuille", perimetre="file", cle="X-1", format="json",
               tel_quel="hier soir")
    assert bad.status_code == 422
    assert "invalide" in bad.text


def test_a_portfolio_csv_streams_one_row_per_fact_with_formulas_neutralised(server):
    _seed(server)
    auditor = log_in(server, "aude.itrice", "auditor")
    answer = _ask(auditor, "/portefeuille", perimetre="portfolio", format="csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Facture", "Débiteur", "Version", "Fait", "Date de l'événement"]
    assert len(rows) == 1 + 5
    (note,) = [row for row in rows if row[3] == "Note"]
    assert note[7] == '\'=HYPERLINK("http://evil.example","clic")'
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_pdf_dossier_is_pdf_a3_with_its_record_inside_and_renders(server, tmp_path):
    from pypdf import PdfReader

    _seed(server)
    auditor = log_in(server, "aude.itrice", "auditor")
    answer = _ask(auditor, "/debiteurs/411ACME", perimetre="debtor", cle="411ACME",
                  format="pdf")
    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(answer.content))
    xmp = reader.xmp_metadata
    assert xmp is not None
    assert xmp.get_element("", "http://www.aiim.org/pdfa/ns/id/", "part") or \
        b"pdfaid:part>3<" in answer.content or b'pdfaid:part="3"' in answer.content
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert ATTACHMENT in reader.attachments
    path = tmp_path / "dossier.pdf"
    path.write_bytes(answer.content)
    problem, held = verify_export(path)
    assert problem is None
    assert held.files == 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Dossier de recouvrement" in text
    assert "Historique chronologique" in text
    assert "LRAR n° 1A 123 456 7890 1" in text
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        message = "pdftoppm (poppler-utils) is not installed: make test installs it as root"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    PAGES.mkdir(parents=True, exist_ok=True)
    for old in PAGES.glob("dossier-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-r", "50", "-png", str(path), str(PAGES / "dossier")],
                   check=True, timeout=60)
    pngs = sorted(PAGES.glob("dossier-*.png"))
    assert len(pngs) == len(reader.pages) >= 2
    assert all(png.stat().st_size > 5000 for png in pngs)                # not blank pages


def test_export_digest_and_verify_from_the_command_line(store_url, tmp_path):
    registered = relance(store_url, "invoice", "register", "--number", "CLI-1",
                         "--debtor-account", "411CLI", "--debtor-name", "Cli SA",
                         "--amount", "100,00", "--issued", "01/10/2026", "--due", "31/10/2026")
    assert registered.returncode == 0, registered.stderr
    export = tmp_path / "cli.json"
    made = relance(store_url, "export", "CLI-1", "--out", str(export))
    assert made.returncode == 0, made.stderr
    assert "Empreinte de l'export (enregistrée)" in made.stderr
    assert relance(store_url, "verify", str(export)).returncode == 0
    export.write_text(export.read_text(encoding="utf-8").replace("100.00", "10.00"),
                      encoding="utf-8")
    tampered = relance(store_url, "verify", str(export))
    assert tampered.returncode == 1
    assert ("Export altéré : CLI-1, entrée n° 1 (Facture enregistrée) : son contenu a "
            "changé") in tampered.stderr
    digest = tmp_path / "digest.json"
    taken = relance(store_url, "digest", "--out", str(digest))
    assert taken.returncode == 0, taken.stderr
    assert "Empreinte du registre" in taken.stdout
    checked = relance(store_url, "verify", "--digest", str(digest))
    assert checked.returncode == 0, checked.stderr
    assert "Rien n'a changé" in checked.stdout
    portfolio = relance(store_url, "export", "--tout", "--format", "csv", "--out",
                        str(tmp_path / "all.csv"))
    assert portfolio.returncode == 0, portfolio.stderr
    nothing = relance(store_url, "export", "CLI-1", "--as-of", "2000-01-01T00:00")
    assert nothing.returncode == 1
    assert "rien n'était enregistré" in nothing.stderr
