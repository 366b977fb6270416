"""Logging a call from the file page: promise, callback, and the same-day rule."""

import html
from datetime import timedelta

from domain.values import CallOutcome, PaymentMeans
from projections import french
from tests.builders import GLOBEX, JEAN, eur, register_kwargs


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


def test_a_second_contact_the_same_day_is_refused_until_its_reason_is_given(server, agent):
    runtime = _file(server)
    recorded = runtime.files.log_call("bruno", "FA-CALL", contact=JEAN,
                                      outcome=CallOutcome.VOICEMAIL)
    assert runtime.wait_for_views(recorded.notification_id)
    called_at = french.instant(runtime.files.history("FA-CALL")[-1].occurred_at)[-5:]
    page = agent.get("/dossiers/FA-CALL").text
    assert "Motif du second contact" not in page
    asked = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(page), "outcome": "reached", "summary": "Nouvel appel"})
    assert asked.status_code == 422
    said = html.unescape(asked.text)
    assert (f"Déjà contacté aujourd'hui par bruno à {called_at} — indiquez le motif du "
            "second contact.") in said
    assert "Motif du second contact" in said
    assert "Nouvel appel" in said                                   # what was typed is kept
    assert len(runtime.files.history("FA-CALL")) == 2
    again = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(asked.text), "outcome": "reached", "summary": "Nouvel appel",
        "same_day_reason": "   "})
    assert again.status_code == 422                                 # a blank reason is none
    assert len(runtime.files.history("FA-CALL")) == 2
    confirmed = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(asked.text), "outcome": "reached", "summary": "Nouvel appel",
        "same_day_reason": "Le client a rappelé pour parler à son chargé"})
    assert confirmed.status_code == 303
    kinds = [e.kind for e in runtime.files.history("FA-CALL")]
    assert kinds[-2:] == ["CallLogged", "SecondContactConfirmed"]
    shown = html.unescape(agent.get(confirmed.headers["location"]).text)
    assert "Le client a rappelé pour parler à son chargé" in shown
    assert "déjà contacté par bruno" in shown


def test_the_same_agent_calling_again_the_same_day_is_not_asked_anything(server, agent):
    runtime = _file(server)
    page = agent.get("/dossiers/FA-CALL").text
    first = agent.post("/dossiers/FA-CALL/appels", data={**_form(page), "outcome": "voicemail"})
    assert first.status_code == 303, first.text
    page = agent.get(first.headers["location"]).text
    second = agent.post("/dossiers/FA-CALL/appels", data={
        **_form(page), "outcome": "reached", "summary": "Rappelé dans l'heure"})
    assert second.status_code == 303, second.text
    assert [e.kind for e in runtime.files.history("FA-CALL")][-2:] == ["CallLogged"] * 2


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


def _ticked(page: str) -> list[str]:
    """The invoices the call form offers, ticked."""
    return [part.split('"', 1)[0] for part in page.split('name="numeros" value="')[1:]
            if part.split(">", 1)[0].rstrip().endswith("checked")]


def test_one_call_from_the_file_page_covers_the_debtors_five_open_files(server, agent):
    runtime = server.app.state.runtime
    numbers = [f"FA-CINQ-{i}" for i in range(1, 6)]
    for number in numbers:
        runtime.files.register_invoice("alice", **register_kwargs(number))
    runtime.files.register_invoice("alice", **register_kwargs("FA-PAYEE"))
    runtime.files.receive_payment("alice", "FA-PAYEE", amount=eur("1500.00"),
                                  received_on=runtime.today(), means=PaymentMeans.TRANSFER)
    runtime.files.register_invoice("alice", **register_kwargs("GX-1", debtor=GLOBEX))
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    page = agent.get("/dossiers/FA-CINQ-3").text
    assert sorted(_ticked(page)) == numbers                # open files of ACME only, all ticked
    assert _ticked(page)[0] == "FA-CINQ-3"                 # the file's own first
    done = agent.post("/dossiers/FA-CINQ-3/appels", data={
        **_form(page), "numeros_choisis": "1", "numeros": numbers,
        "contact_name": "Jean Dupont", "outcome": "reached",
        "summary": "Les cinq factures partent au prochain virement"})
    assert done.status_code == 303, done.text
    calls = [runtime.files.history(n)[-1] for n in numbers]
    assert {c.kind for c in calls} == {"CallLogged"}
    assert len({c.data["action_id"] for c in calls}) == 1      # one call, on each file
    assert set(calls[0].data["invoice_numbers"]) == set(numbers)
    shown = agent.get(done.headers["location"]).text
    assert "Les cinq factures partent au prochain virement" in shown

    page = agent.get("/dossiers/FA-CINQ-3").text
    some = agent.post("/dossiers/FA-CINQ-3/appels", data={
        **_form(page), "numeros_choisis": "1", "numeros": ["FA-CINQ-1", "FA-CINQ-2"],
        "outcome": "voicemail"})
    assert some.status_code == 303, some.text
    assert [runtime.files.history(n)[-1].data["outcome"] for n in numbers] == [
        "voicemail", "voicemail", "reached", "reached", "reached"]
    none = agent.post("/dossiers/FA-CINQ-3/appels", data={
        **_form(page), "numeros_choisis": "1", "outcome": "voicemail"})
    assert none.status_code == 422
    assert "Cochez au moins une facture dont il a été question." in html.unescape(none.text)


def test_a_call_from_the_debtors_page_covers_its_open_files_and_comes_back_there(server,
                                                                                 agent):
    runtime = server.app.state.runtime
    numbers = [f"FA-DEB-{i}" for i in range(1, 4)]
    for number in numbers:
        runtime.files.register_invoice("alice", **register_kwargs(number))
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    page = agent.get("/debiteurs/411ACME").text
    assert "Noter un appel sur les dossiers ouverts de ce débiteur" in page
    assert sorted(_ticked(page)) == numbers
    call_number = page.split('class="call-form"', 1)[0].rsplit('action="', 1)[1]
    done = agent.post(call_number.split('"', 1)[0], data={
        **_form(page.split('class="call-form"', 1)[1]), "numeros_choisis": "1",
        "numeros": numbers, "retour": "debiteur", "contact_name": "Jean Dupont",
        "outcome": "reached", "summary": "Les trois factures au prochain virement"})
    assert done.status_code == 303, done.text
    assert "/debiteurs/411ACME" in done.headers["location"]
    calls = [runtime.files.history(n)[-1] for n in numbers]
    assert {c.kind for c in calls} == {"CallLogged"}
    assert len({c.data["action_id"] for c in calls}) == 1
    assert "Les trois factures au prochain virement" in agent.get(done.headers["location"]).text
