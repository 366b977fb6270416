"""Réglages over real HTTP: a supervisor writes scenarios and document wordings."""

from datetime import timedelta

from tests.builders import register_kwargs
from tests.e2e.conftest import hidden, log_in

STEPS = {"s0_offset": "-2", "s0_kind": "pre_due", "s0_channel": "email",
         "s0_template": "pre_due", "s0_label": "prévenir",
         "s1_offset": "12", "s1_business_days": "on", "s1_kind": "reminder",
         "s1_channel": "letter", "s1_template": "reminder_1", "s1_label": "relancer",
         "s1_level": "1"}


def _supervisor(server):
    return log_in(server, "chef.equipe", "supervisor")


def test_a_supervisor_writes_a_new_scenario_and_a_debtors_worklist_follows_it(server):
    chef, runtime = _supervisor(server), server.app.state.runtime
    form = chef.get("/reglages/scenarios/nouveau").text
    saved = chef.post("/reglages/scenarios/nouveau", data={
        "csrf": hidden(form), "name": "doux", "title": "Relance douce", "gap": "4",
        "reason": "Clients fidèles", **STEPS})
    assert saved.status_code == 303, saved.text
    page = chef.get(saved.headers["location"]).text
    assert "v1 par Chef.Equipe" in page
    assert 'value="relancer"' in page
    scenario = runtime.files.playbook().scenario("doux")
    assert [(s.offset, s.kind, s.business_days, s.level) for s in scenario.steps] == [
        (-2, "pre_due", False, 0), (12, "reminder", True, 1)]
    again = chef.post("/reglages/scenarios/doux", data={
        "csrf": hidden(form), "title": "Relance douce", "gap": "5", "reason": "Plus d'écart",
        **STEPS})
    assert again.status_code == 303
    assert runtime.files.playbook().scenario("doux").version == 2

    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "DOUX-1", issued_on=today - timedelta(40), due_on=today - timedelta(3)))
    runtime.files.assign("chef.equipe", "DOUX-1", agent="bruno")
    chose = chef.post("/reglages/scenario", data={"csrf": hidden(form), "account": "411ACME",
                                                  "name": "doux"})
    assert chose.status_code == 303
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    day = chef.get("/journee", params={"agent": "bruno"}).text
    assert "Relance douce v2 : J-2 prévenir" in day


def test_a_bad_scenario_is_shown_again_with_french_messages_and_nothing_recorded(server):
    chef, runtime = _supervisor(server), server.app.state.runtime
    form = chef.get("/reglages/scenarios/nouveau").text
    before = runtime.files.recorder.max_notification_id()
    bad = chef.post("/reglages/scenarios/nouveau", data={
        "csrf": hidden(form), "name": "doux", "title": "Relance <b>douce</b>", "gap": "-1",
        "reason": "", **STEPS, "s1_offset": "J+douze", "s1_level": "7"})
    assert bad.status_code == 422
    assert "Un nombre de jours entre 0 et 365." in bad.text
    assert "Étape 2 : Le décalage est un nombre de jours" in bad.text
    assert 'value="Relance &lt;b&gt;douce&lt;/b&gt;"' in bad.text
    assert 'value="J+douze"' in bad.text
    no_reason = chef.post("/reglages/scenarios/nouveau", data={
        "csrf": hidden(form), "name": "doux", "title": "Douce", "gap": "3", "reason": " ",
        **STEPS})
    assert no_reason.status_code == 422
    assert "Dites pourquoi ce scénario change" in no_reason.text
    assert runtime.files.recorder.max_notification_id() == before


def test_a_supervisor_rewords_a_reminder_and_the_preview_uses_it(server):
    chef, runtime = _supervisor(server), server.app.state.runtime
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "MOT-1", issued_on=today - timedelta(40), due_on=today - timedelta(3)))
    page = chef.get("/reglages/modeles/reminder_1").text
    assert "Sauf erreur ou omission" in page                             # the shipped text
    text = ('{% set subject = "Rappel " ~ invoice.number %}\n'
            "Bonjour,\n\nLa facture {{ invoice.number }} reste due : "
            "{{ invoice.outstanding | money(invoice.currency) }}.\n")
    saved = chef.post("/reglages/modeles/reminder_1", data={
        "csrf": hidden(page), "text": text, "reason": "Plus court"})
    assert saved.status_code == 303
    assert "v1 par Chef.Equipe" in chef.get("/reglages/modeles/reminder_1").text
    preview = chef.get("/dossiers/MOT-1/documents/reminder_1")
    assert preview.status_code == 200
    assert "La facture MOT-1 reste due : 1\u202f500,00\xa0€." in preview.text


def test_a_wording_that_cannot_render_is_refused_and_a_sandbox_escape_cannot_run(server):
    chef, runtime = _supervisor(server), server.app.state.runtime
    page = chef.get("/reglages/modeles/reminder_2").text
    broken = chef.post("/reglages/modeles/reminder_2", data={
        "csrf": hidden(page), "text": "{% set subject = 'x' %}{% if %}", "reason": "essai"})
    assert broken.status_code == 422
    assert "Ce modèle ne peut pas être utilisé" in broken.text
    assert runtime.files.playbook() is None or \
        runtime.files.playbook().template("reminder_2") is None
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "MOT-2", issued_on=today - timedelta(40), due_on=today - timedelta(3)))
    escape = ("{% set subject = 'x' %}"
              "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    refused = chef.post("/reglages/modeles/reminder_2", data={
        "csrf": hidden(page), "text": escape, "reason": "essai"})
    assert refused.status_code == 422                                   # tried before saving
    assert "SecurityError" in refused.text
    runtime.files.set_template("ancien", "reminder_2", escape, reason="enregistré avant")
    preview = chef.get("/dossiers/MOT-2/documents/reminder_2")
    assert preview.status_code == 409
    assert "Corrigez-le dans Réglages" in preview.text
    assert "&lt;class" not in preview.text
    assert "<class" not in preview.text


def test_only_supervisors_reach_the_editors(server, agent):
    assert agent.get("/reglages/scenarios/reference").status_code == 403
    assert agent.get("/reglages/modeles/reminder_1").status_code == 403
    chef = _supervisor(server)
    assert chef.get("/reglages/scenarios/inconnu").status_code == 404
    assert chef.get("/reglages/modeles/inconnu").status_code == 404
    page = chef.get("/reglages").text
    assert "/reglages/modeles/formal_notice" in page
    assert "/reglages/scenarios/nouveau" in page


def test_disabling_an_account_ends_its_sessions_and_api_tokens_at_once(server, agent):
    chef = _supervisor(server)
    assert agent.get("/journee").status_code == 200
    token = server.app.state.runtime.accounts.issue_api_token("agent.test")
    bearer = {"Authorization": f"Bearer {token}"}
    assert agent.get("/api/worklist", headers=bearer).status_code == 200
    page = chef.get("/reglages/comptes").text
    assert "agent.test" in page
    assert chef.post("/reglages/comptes/desactiver", data={
        "csrf": hidden(page), "login": "chef.equipe"}).status_code == 422  # not oneself
    done = chef.post("/reglages/comptes/desactiver",
                     data={"csrf": hidden(page), "login": "agent.test"})
    assert done.status_code == 303
    assert agent.get("/journee").status_code in (303, 401)
    assert agent.get("/api/worklist", headers=bearer).status_code == 401
    accounts, tokens = chef.get("/reglages/comptes").text.split("Jetons d'API</h2>")
    assert "agent.test" not in accounts
    assert "compte désactivé" in tokens
