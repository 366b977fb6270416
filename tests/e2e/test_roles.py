"""Who may do what: the role × route matrix, and the settings a supervisor changes."""

from datetime import timedelta

import pytest

from tests.builders import register_kwargs
from tests.e2e.conftest import hidden, log_in

READS = ["/", "/journee", "/portefeuille", "/equipe", "/dossiers/FA-R", "/debiteurs/411ACME"]
WRITES = ["/dossiers/FA-R/notes", "/dossiers/FA-R/appels", "/dossiers/FA-R/faits/rappel",
          "/debiteurs/411ACME/j-appelle", "/dossiers/FA-R/documents/reminder_1"]
ENDS = ["/dossiers/FA-R/faits/cloture", "/dossiers/FA-R/faits/perte",
        "/dossiers/FA-R/faits/transmission"]
MATRIX = {
    "agent": {"read": 200, "write": "allowed", "end": 403, "settings": 403},
    "supervisor": {"read": 200, "write": "allowed", "end": "allowed", "settings": 200},
    "auditor": {"read": 200, "write": 403, "end": 403, "settings": 403},
    "admin": {"read": 200, "write": "allowed", "end": "allowed", "settings": 200},
}




@pytest.mark.parametrize("role", sorted(MATRIX))
def test_each_role_reads_writes_and_manages_as_allowed(server, role):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("alice", **register_kwargs("FA-R"))
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    http = log_in(server, f"r.{role}", role)
    expected = MATRIX[role]
    for path in READS:
        assert http.get(path).status_code == expected["read"], path
    csrf = hidden(http.get("/journee").text)
    for paths, allowed in ((WRITES, expected["write"]), (ENDS, expected["end"])):
        for path in paths:
            status = http.post(path, data={"csrf": csrf, "text": "x", "reason": "x"}).status_code
            if allowed == 403:
                assert status == 403, path
            else:
                assert status != 403, path
    assert http.get("/reglages").status_code == expected["settings"]
    http.close()


def test_a_post_without_csrf_is_refused_for_every_role(server):
    server.app.state.runtime.files.register_invoice("alice", **register_kwargs("FA-R"))
    http = log_in(server, "r.sans.csrf", "admin")
    for path in WRITES:
        assert http.post(path, data={"text": "x"}).status_code == 403, path
    http.close()


def test_a_supervisor_records_absences_and_choices_but_creates_no_administrator(server):
    runtime = server.app.state.runtime
    boss = log_in(server, "chef", "supervisor")
    page = boss.get("/reglages").text
    today = runtime.today()
    absence = boss.post("/reglages/absence", data={
        "csrf": hidden(page), "agent": "bruno", "first": today.strftime("%d/%m/%Y"),
        "last": (today + timedelta(days=3)).strftime("%d/%m/%Y")})
    assert absence.status_code == 303
    assert "bruno" in runtime.files.open_playbook("x").absent_on(today)
    chosen = boss.post("/reglages/scenario", data={"csrf": hidden(page), "account": "411ACME",
                                                   "name": "tpe"})
    assert chosen.status_code == 303
    assert runtime.files.open_playbook("x").scenario_for("411ACME").name == "tpe"
    bad = boss.post("/reglages/absence", data={"csrf": hidden(page), "agent": "bruno",
                                               "first": "demain", "last": "après"})
    assert bad.status_code == 422
    assert "vérifiez les champs" in bad.text
    escalate = boss.post("/reglages/comptes/creer", data={
        "csrf": hidden(page), "login": "pirate", "role": "admin",
        "password": "une phrase assez longue"})
    assert escalate.status_code == 403
    agent = boss.post("/reglages/comptes/creer", data={
        "csrf": hidden(page), "login": "nouvel.agent", "role": "agent",
        "password": "une phrase assez longue"})
    assert agent.status_code == 303
    assert "nouvel.agent" in [u.login for u in runtime.accounts.users()]
    boss.close()
