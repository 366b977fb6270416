"""One person speaks to a debtor in a day, whatever the door: the file page, the API, the
command line and the e-mails relance sends. A second contact by someone else is refused,
naming who and when, until its reason is given; the reason then stays in each file's
history. On both stores."""

from __future__ import annotations

import html

import httpx
import pytest

from adapters.infra.outbox import FileOutbox
from domain.values import CallOutcome
from projections import french
from tests.builders import JEAN, register_kwargs
from tests.e2e.cli_runner import relance
from tests.e2e.conftest import API_TOKEN, hidden

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
REASON = "Le client a demandé qu'on le rappelle avant midi"


@pytest.fixture
def contacted(server):
    """Two files of ACME; bruno left a voicemail about the first one this morning. Gives
    the Paris time of that call, as HH:MM."""
    runtime = server.app.state.runtime
    for number in ("SD-1", "SD-2"):
        runtime.files.register_invoice("import", **register_kwargs(number))
    recorded = runtime.files.log_call("bruno", "SD-1", contact=JEAN,
                                      outcome=CallOutcome.VOICEMAIL)
    assert runtime.wait_for_views(recorded.notification_id)
    return french.instant(runtime.files.history("SD-1")[-1].occurred_at)[-5:]


def _refusal(at: str) -> str:
    return f"Déjà contacté aujourd'hui par bruno à {at} — indiquez le motif du second contact."


def _confirmed(server, number: str) -> list[str]:
    """The reasons given for second contacts on a file, in order."""
    return [e.data["reason"] for e in server.app.state.runtime.files.history(number)
            if e.kind == "SecondContactConfirmed"]


def test_from_the_file_page_a_reminder_is_refused_then_recorded_with_its_reason(
        server, agent, contacted):
    page = agent.get("/dossiers/SD-2").text
    form = {"csrf": hidden(page), "channel": "email", "level": "1",
            "summary": "Relance envoyée depuis Outlook"}
    refused = agent.post("/dossiers/SD-2/faits/relance", data=form)
    assert refused.status_code == 422
    said = html.unescape(refused.text)
    assert _refusal(contacted) in said
    assert 'name="same_day_reason"' in said
    assert "Relance envoyée depuis Outlook" in said                 # what was typed is kept
    assert server.app.state.runtime.files.history("SD-2")[-1].kind == "InvoiceRegistered"
    accepted = agent.post("/dossiers/SD-2/faits/relance",
                          data={**form, "same_day_reason": REASON})
    assert accepted.status_code == 303, accepted.text
    assert _confirmed(server, "SD-2") == [REASON]
    shown = html.unescape(agent.get(accepted.headers["location"]).text)
    assert "déjà contacté par bruno" in shown
    assert REASON in shown


def test_an_email_reminder_is_refused_before_it_goes_out_then_sent_with_its_reason(
        server, agent, contacted, tmp_path):
    runtime = server.app.state.runtime
    runtime.outbox = FileOutbox(tmp_path)
    page = agent.get("/dossiers/SD-2").text
    refused = agent.post("/dossiers/SD-2/documents/reminder_1", data={"csrf": hidden(page)})
    assert refused.status_code == 422
    said = html.unescape(refused.text)
    assert _refusal(contacted) in said
    assert 'name="motif"' in said
    assert list(tmp_path.glob("*.eml")) == []                       # nothing went out
    sent = agent.post("/dossiers/SD-2/documents/reminder_1",
                      data={"csrf": hidden(page), "motif": REASON})
    assert sent.status_code == 303, sent.text
    assert len(list(tmp_path.glob("*.eml"))) == 1
    # one letter for the debtor's due invoices, recorded on each with the reason
    for number in ("SD-1", "SD-2"):
        kinds = [e.kind for e in runtime.files.history(number)]
        assert kinds[-2:] == ["ReminderSent", "SecondContactConfirmed"], number
        assert _confirmed(server, number) == [REASON]


def test_through_the_api_a_call_and_a_reminder_are_409_then_recorded_with_their_reason(
        server, contacted):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as api:
        call = {"contact_name": "Jean Dupont", "outcome": "reached", "summary": "Paiera lundi"}
        refused = api.post("/api/files/SD-2/calls", json=call)
        assert refused.status_code == 409
        assert refused.json()["code"] == "same_day_contact"
        detail = refused.json()["detail"]
        assert "bruno already contacted debtor 411ACME" in detail
        assert "give a reason" in detail
        accepted = api.post("/api/files/SD-2/calls", json={**call, "same_day_reason": REASON})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["facts"] == 2                        # the call and its reason

        reminder = {"values": {"channel": "letter", "level": "2"}}
        # the API's account called already: its own second contact is not asked anything
        again = api.post("/api/files/SD-1/facts/relance", json=reminder)
        assert again.status_code == 200, again.text
        history = api.get("/api/files/SD-2", params={
            "after": accepted.json()["notification_id"]}).json()["history"]
    assert [fact["kind"] for fact in history][-2:] == ["CallLogged", "SecondContactConfirmed"]
    assert REASON in history[-1]["summary"]


def test_through_the_api_a_fact_form_needs_the_reason_too(server, contacted):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as api:
        notice = {"values": {"letter": "1A 234", "deadline_on": "31/12/2099"},
                  "also_about": ["SD-1"]}
        refused = api.post("/api/files/SD-2/facts/mise-en-demeure", json=notice)
        assert refused.status_code == 409
        assert refused.json()["code"] == "same_day_contact"
        accepted = api.post("/api/files/SD-2/facts/mise-en-demeure",
                            json={**notice, "same_day_reason": REASON})
        assert accepted.status_code == 200, accepted.text
        not_a_contact = api.post("/api/files/SD-2/facts/paiement", json={
            "values": {"amount": "10,00", "received_on": "01/10/2026", "means": "virement"},
            "also_about": ["SD-1"]})
        assert not_a_contact.status_code == 422
        assert "also_about" in not_a_contact.json()["fields"]
    for number in ("SD-1", "SD-2"):
        assert _confirmed(server, number) == [REASON]


def test_on_the_command_line_it_is_refused_in_french_exit_1_then_recorded_with_its_reason(
        server, store_url, contacted):
    call = ["case", "call", "SD-2", "--outcome", "joint", "--contact-name", "Jean Dupont",
            "--summary", "Paiera lundi"]
    refused = relance(store_url, *call)
    assert refused.returncode == 1
    assert _refusal(contacted) in " ".join(refused.stderr.split())
    assert "--motif-second-contact" in refused.stderr
    assert server.app.state.runtime.files.history("SD-2")[-1].kind == "InvoiceRegistered"
    accepted = relance(store_url, *call, "--motif-second-contact", REASON)
    assert accepted.returncode == 0, accepted.stderr
    assert "Second contact du jour" in accepted.stdout
    assert _confirmed(server, "SD-2") == [REASON]

    reminder = ["case", "record", "SD-1", "relance", "--champ", "channel=courrier",
                "--champ", "level=1", "--actor", "chloe"]
    assert relance(store_url, *reminder).returncode == 1
    recorded = relance(store_url, *reminder, "--motif-second-contact", "Courrier du lundi")
    assert recorded.returncode == 0, recorded.stderr
    assert _confirmed(server, "SD-1") == ["Courrier du lundi"]
