"""The first pages, over real HTTP: find a file, read its history, in French."""

import html
import time

from tests.builders import register_kwargs


def test_a_file_page_shows_the_debtor_the_balance_and_the_history(server, agent):
    files = server.app.state.runtime.files
    files.register_invoice("alice", **register_kwargs("FA-7"))
    noted = files.add_note("bruno", "FA-7", text="Rappeler <b>lundi</b>")
    page = agent.get("/dossiers/FA-7", params={"apres": noted.notification_id})
    assert page.status_code == 200
    html = page.text.replace("\u202f", " ").replace("\xa0", " ")
    assert "ACME SARL" in html
    assert "1 500,00 €" in html
    assert "Facture enregistrée" in html
    assert "Note" in html
    assert "Rappeler &lt;b&gt;lundi&lt;/b&gt;" in html
    assert "en cours de mise à jour" not in html


def test_the_search_box_leads_to_the_file(server, agent):
    server.app.state.runtime.files.register_invoice("alice", **register_kwargs("FA-8"))
    found = agent.get("/dossiers", params={"numero": " FA-8 "})
    assert found.status_code == 303
    assert found.headers["location"].endswith("/dossiers/FA-8")


def test_an_unknown_file_is_a_french_404_not_a_500(agent):
    missing = agent.get("/dossiers/INCONNU")
    assert missing.status_code == 404
    assert "Aucun dossier pour ce numéro de facture." in missing.text


def test_every_page_carries_security_headers_and_a_request_id(agent):
    home = agent.get("/")
    assert home.status_code == 200
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    assert home.headers["x-content-type-options"] == "nosniff"
    assert len(home.headers["x-request-id"]) == 32


def test_a_late_file_shows_its_penalties_line_by_line_and_its_prescription(server, agent):
    files = server.app.state.runtime.files
    files.register_invoice("alice", **register_kwargs("FA-9"))
    page = agent.get("/dossiers/FA-9").text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Pénalités de retard (Code de commerce, L441-10)" in page
    assert "indemnité forfaitaire 40,00 €" in page
    assert "Prescription le <strong>01/10/2031</strong>" in page


def test_documents_preview_as_html_and_pdf_and_send_by_email(server, agent, tmp_path):
    from adapters.infra.outbox import FileOutbox

    runtime = server.app.state.runtime
    runtime.outbox = FileOutbox(tmp_path)
    runtime.files.register_invoice("alice", **register_kwargs("FA-DOC"))
    preview = agent.get("/dossiers/FA-DOC/documents/reminder_1")
    assert preview.status_code == 200
    assert "FA-DOC" in preview.text
    assert "style-src 'unsafe-inline'" in preview.headers["content-security-policy"]
    pdf = agent.get("/dossiers/FA-DOC/documents/formal_notice", params={"format": "pdf"})
    assert pdf.content.startswith(b"%PDF-")
    assert agent.get("/dossiers/FA-DOC/documents/nope").status_code == 404
    page = agent.get("/dossiers/FA-DOC").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    sent = agent.post("/dossiers/FA-DOC/documents/reminder_1", data={"csrf": csrf})
    assert sent.status_code == 303
    assert runtime.files.history("FA-DOC")[-1].kind == "ReminderSent"
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_the_file_as_it_stood_at_an_instant(server, agent):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("alice", **register_kwargs("FA-ASOF"))
    before = runtime.clock().isoformat()
    time.sleep(0.01)
    runtime.files.add_note("bruno", "FA-ASOF", text="Note d'après")
    then = html.unescape(agent.get("/dossiers/FA-ASOF", params={"tel_quel": before}).text)
    assert "Le dossier tel qu'on le connaissait le" in then
    assert "Note d'après" not in then
    head = runtime.files.recorder.max_notification_id()
    now = html.unescape(agent.get("/dossiers/FA-ASOF", params={"apres": head}).text)
    assert "Note d'après" in now
    assert agent.get("/dossiers/FA-ASOF", params={"tel_quel": "hier"}).status_code == 422
