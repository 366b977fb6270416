"""From a file's page, a reminder or a formal notice is one letter for all the debtor's due
invoices (or this one alone, when asked), and the formal notice recorded from its form
covers the same invoices."""

from __future__ import annotations

import html
from datetime import timedelta

from tests.builders import register_kwargs
from tests.e2e.conftest import hidden


def _debtor_with_three_due_invoices(server) -> list[str]:
    runtime = server.app.state.runtime
    today = runtime.today()
    numbers = ["ML-1", "ML-2", "ML-3"]
    for days, number in zip((90, 60, 30), numbers, strict=True):
        runtime.files.register_invoice("import", **register_kwargs(
            number, issued_on=today - timedelta(days=days + 30),
            due_on=today - timedelta(days=days)))
    runtime.files.register_invoice("import", **register_kwargs(
        "ML-LATER", due_on=today + timedelta(days=20)))
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    return numbers


def test_the_formal_notice_of_a_file_lists_the_debtors_due_invoices_unless_asked_alone(
        server, agent):
    _debtor_with_three_due_invoices(server)
    page = html.unescape(agent.get("/dossiers/ML-2").text)
    assert "une seule lettre pour toutes les factures échues du débiteur (ML-2, ML-1, ML-3)" \
        in page
    letter = html.unescape(agent.get("/dossiers/ML-2/documents/formal_notice").text)
    for number in ("ML-1", "ML-2", "ML-3"):
        assert f"facture n° {number} : principal" in letter
    assert letter.count("(article D441-5 du Code de commerce) : 40,00") == 3
    assert "ML-LATER" not in letter
    alone = html.unescape(agent.get("/dossiers/ML-2/documents/formal_notice?seule=1").text)
    assert "ML-1" not in alone
    assert "ML-3" not in alone
    pdf = agent.get("/dossiers/ML-2/documents/formal_notice?format=pdf")
    assert pdf.headers["content-type"] == "application/pdf"


def test_the_formal_notice_form_records_it_on_every_due_invoice_of_the_debtor(server, agent):
    numbers = _debtor_with_three_due_invoices(server)
    runtime = server.app.state.runtime
    page = agent.get("/dossiers/ML-2").text
    assert 'name="toutes" value="1" checked' in page
    done = agent.post("/dossiers/ML-2/faits/mise-en-demeure", data={
        "csrf": hidden(page), "letter": "1A 111 222 333", "deadline_on": "31/12/2099",
        "toutes": "1"})
    assert done.status_code == 303, done.text
    for number in numbers:
        assert runtime.files.history(number)[-1].kind == "FormalNoticeSent", number
    assert runtime.files.history("ML-LATER")[-1].kind == "InvoiceRegistered"
    alone = agent.post("/dossiers/ML-1/faits/relance", data={
        "csrf": hidden(page), "channel": "letter", "level": "2"})
    assert alone.status_code == 303, alone.text
    assert runtime.files.history("ML-1")[-1].kind == "ReminderSent"
    assert runtime.files.history("ML-2")[-1].kind == "FormalNoticeSent"
