"""The first pages, over real HTTP: find a file, read its history, in French."""

import html
import time
from datetime import UTC, date, timedelta

from domain.values import PARIS, Debtor, PaymentMeans
from tests.builders import eur, register_kwargs
from tests.e2e.conftest import hidden, log_in


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


def _plain_page(http, path: str, **params) -> str:
    text = html.unescape(http.get(path, params=params).text)
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_the_file_as_it_stood_takes_french_paris_time_and_echoes_it(server, agent):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("alice", **register_kwargs("FA-PARIS"))
    typed = runtime.clock().astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    later = runtime.clock().astimezone(PARIS) + timedelta(minutes=2)
    runtime.files.add_note("bruno", "FA-PARIS", text="Note plus tardive",
                           occurred_at=later.astimezone(UTC))
    then = _plain_page(agent, "/dossiers/FA-PARIS", tel_quel=typed)
    assert f"Le dossier tel qu'on le connaissait le {typed}" in then
    assert f'value="{typed}"' in then
    bad = agent.get("/dossiers/FA-PARIS", params={"tel_quel": "31/02/2026 10:00"})
    assert bad.status_code == 422
    assert "par exemple 01/12/2026 12:21 (heure de Paris)" in html.unescape(bad.text)


def test_the_file_page_shows_credit_notes_a_partial_dispute_and_a_prescribed_claim(server,
                                                                                     agent):
    files = server.app.state.runtime.files
    files.register_invoice("alice", **register_kwargs("FA-AV"))
    files.apply_credit_note("compta", "FA-AV", amount=eur("200.00"), issued_on=date(2026, 10, 5),
                            reference="AV-9")
    recorded = files.raise_dispute("bruno", "FA-AV", reason="Porte abîmée",
                                   disputed_amount=eur("300.00"))
    page = _plain_page(agent, "/dossiers/FA-AV", apres=recorded.notification_id)
    assert "avoirs 200,00 €" in page
    assert "reste dû <strong>1 300,00 €</strong>" in page
    assert "Litige partiel : 300,00 € contestés, en pause ; le reste (1 000,00 €) est relancé." \
        in page
    files.register_invoice("alice", **register_kwargs(
        "FA-OLD", issued_on=date(2019, 1, 2), due_on=date(2019, 2, 1)))
    recorded = files.receive_payment("compta", "FA-OLD", amount=eur("100.00"),
                                     received_on=date(2025, 6, 2), means=PaymentMeans.TRANSFER)
    page = _plain_page(agent, "/dossiers/FA-OLD", apres=recorded.notification_id)
    assert ("Créance prescrite : paiement partiel du 02/06/2025, après la prescription du "
            "01/02/2024 (ne la fait pas renaître).") in page


def test_a_consumer_gets_a_formal_notice_citing_the_consumer_rules(server, agent):
    files = server.app.state.runtime.files
    files.register_invoice("alice", **register_kwargs(
        "FA-PART", debtor=Debtor("411PART", "M. Martin", is_consumer=True)))
    letter = _plain_page(agent, "/dossiers/FA-PART/documents/formal_notice")
    assert "1231-6 et 1344-1 du Code civil" in letter
    assert "L441-10" not in letter
    assert "40,00 €" not in letter


def test_a_document_goes_only_to_a_known_contact_of_the_debtor(server, agent, tmp_path):
    from adapters.infra.outbox import FileOutbox

    runtime = server.app.state.runtime
    runtime.outbox = FileOutbox(tmp_path)
    recorded = runtime.files.register_invoice("alice", **register_kwargs("FA-TO"))
    page = agent.get("/dossiers/FA-TO", params={"apres": recorded.notification_id}).text
    assert '<option value="jean.dupont@acme.example">Jean Dupont' in page
    stranger = agent.post("/dossiers/FA-TO/documents/reminder_1",
                          data={"csrf": hidden(page), "destinataire": "x@ailleurs.example"})
    assert stranger.status_code == 422
    assert "n&#39;est pas un contact connu de ce débiteur" in stranger.text
    chosen = agent.post("/dossiers/FA-TO/documents/reminder_1",
                        data={"csrf": hidden(page), "destinataire": "jean.dupont@acme.example"})
    assert chosen.status_code == 303
    assert runtime.files.history("FA-TO")[-1].data["recipient"] == "jean.dupont@acme.example"


def test_the_team_board_lists_formal_notices_expired_without_a_decision(server):
    runtime = server.app.state.runtime
    files = runtime.files
    now = files.now()
    files.register_invoice("alice", **register_kwargs(
        "FA-MED", issued_on=(now - timedelta(days=90)).date(),
        due_on=(now - timedelta(days=60)).date()))
    files.send_reminder("bruno", "FA-MED", channel="letter", level=1,
                        occurred_at=now - timedelta(days=50))
    recorded = files.send_formal_notice(
        "bruno", "FA-MED", registered_letter_number="1A 1", occurred_at=now - timedelta(days=30),
        deadline_on=(now - timedelta(days=20)).date())
    assert runtime.wait_for_views(recorded.notification_id)
    supervisor = log_in(server, "sophie.chef", "supervisor")
    board = _plain_page(supervisor, "/equipe")
    assert "Mises en demeure expirées sans décision" in board
    assert "FA-MED" in board
    assert "sans agent : transmettre ou relancer" in board
