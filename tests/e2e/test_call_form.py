"""Logging a call from the file page: promise, callback, and the same-day guard."""

import html
from datetime import timedelta

from domain.values import CallOutcome
from tests.builders import JEAN, register_kwargs


def _form(page: str) -> dict[str, str]:
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    key = page.split('name="cle" value="', 1)[1].split('"', 1)[0]
    return {"csrf": csrf, "cle": key}


def _file(server, number="FA-CALL"):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("alice", **register_kwargs(number))
    return runtime


def test_a_call_with_a_promise_and_a_callback_shows_at_once(server, agent):
    runtime = _file(server)
    promised = (runtime.today() + timedelta(days=5)).isoformat()
    page = agent.get("/dossiers/FA-CALL").text
    answer = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(page), "contact_name": "Jean Dupont", "contact_function": "Comptable",
        "outcome": "reached", "summary": "Virement vendredi", "promised_on": promised,
        "promised_amount": "1 500,00", "callback_on": promised})
    assert answer.status_code == 303, answer.text
    shown = agent.get(answer.headers["location"]).text
    assert "Virement vendredi" in shown
    assert "Promesse de paiement" in shown
    assert "Promesse</span>" in shown
    kinds = [e.kind for e in runtime.files.history("FA-CALL")]
    assert kinds[-2:] == ["CallLogged", "PaymentPromised"]


def test_bad_dates_and_amounts_come_back_in_french_with_the_values_kept(server, agent):
    runtime = _file(server)
    page = agent.get("/dossiers/FA-CALL").text
    bad = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(page), "contact_name": "Jean", "outcome": "reached", "summary": "À garder",
        "promised_on": "32/13/2026", "promised_amount": "NaN"})
    assert bad.status_code == 422
    assert "Date invalide" in bad.text
    assert "Montant invalide" in bad.text
    assert "À garder" in bad.text
    assert len(runtime.files.history("FA-CALL")) == 1


def test_a_second_contact_the_same_day_asks_for_confirmation(server, agent):
    runtime = _file(server)
    recorded = runtime.files.log_call("bruno", "FA-CALL", contact=JEAN,
                                      outcome=CallOutcome.VOICEMAIL)
    assert runtime.wait_for_views(recorded.notification_id)
    page = agent.get("/dossiers/FA-CALL").text
    asked = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(page), "outcome": "reached", "summary": "Nouvel appel"})
    assert asked.status_code == 422
    assert "déjà été contacté aujourd'hui par bruno" in html.unescape(asked.text)
    assert len(runtime.files.history("FA-CALL")) == 2
    confirmed = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(asked.text), "outcome": "reached", "summary": "Nouvel appel",
        "confirm": "true"})
    assert confirmed.status_code == 303
    assert len(runtime.files.history("FA-CALL")) == 3


def test_a_call_must_say_how_it_went_and_an_empty_one_is_refused_in_french(server, agent):
    runtime = _file(server)
    page = agent.get("/dossiers/FA-CALL").text
    assert '<option value="">— choisir —</option>' in page
    unchosen = agent.post("/dossiers/FA-CALL/appels", data={**_form(page),
                                                           "summary": "Rappeler"})
    assert unchosen.status_code == 422
    assert "Choisissez l&#39;issue de l&#39;appel." in unchosen.text
    empty = agent.post("/dossiers/FA-CALL/appels", data={**_form(page), "outcome": "reached"})
    assert empty.status_code == 422
    assert "Appel vide : indiquez la personne jointe ou ce qui a été dit." in empty.text
    assert len(runtime.files.history("FA-CALL")) == 1


def test_a_call_made_for_the_step_due_records_the_step(server, agent):
    runtime = _file(server)
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "FA-STEP", issued_on=today - timedelta(days=40), due_on=today - timedelta(days=8)))
    runtime.files.send_reminder("bruno", "FA-STEP", channel="email", level=1,
                                occurred_at=runtime.files.now() - timedelta(days=8))
    page = agent.get("/dossiers/FA-STEP").text
    done = agent.post("/dossiers/FA-STEP/appels", data={
        **_form(page), "contact_name": "Jean Dupont", "outcome": "reached",
        "summary": "Facture validée"})
    assert done.status_code == 303, done.text
    call = runtime.files.history("FA-STEP")[-1]
    assert call.data["scenario_step"] == "Référence v1 — J+8 : appel"
