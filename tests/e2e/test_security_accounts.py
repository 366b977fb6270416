"""Logins, passwords, sessions and API tokens (security review F7, F8, F9, F14), over
real HTTP; the security events read from a real server's log."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from tests.builders import free_port, register_kwargs, wait_until_up
from tests.e2e.cli_runner import RELANCE, relance
from tests.e2e.conftest import PASSWORD, hidden, log_in, submit_login

NEW_PASSWORD = "un tout autre mot de passe"


def _account(server, login: str, role: str = "agent") -> None:
    server.app.state.runtime.accounts.add(login, login.title(), role, PASSWORD)


def test_twenty_guesses_at_once_check_at_most_five_passwords(server):
    _account(server, "amelie")
    clients = [httpx.Client(base_url=server.url, timeout=60) for _ in range(20)]
    forms = [hidden(http.get("/connexion").text) for http in clients]
    start, statuses, lock = threading.Barrier(20), [], threading.Lock()

    def guess(n: int) -> None:
        start.wait()
        answer = clients[n].post("/connexion", data={
            "login": "amelie", "password": f"essai {n}", "csrf": forms[n]})
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    counted = Counter(statuses)
    assert counted[401] <= 5, counted                    # passwords actually checked
    assert counted[401] + counted[429] == 20, counted
    for http in clients:
        http.close()


def test_an_address_a_client_writes_in_x_forwarded_for_is_not_believed(store_url, server_on):
    def failures(base: str) -> Counter[int]:
        seen: Counter[int] = Counter()
        with httpx.Client(base_url=base) as http:
            for n in range(21):
                http.headers["X-Forwarded-For"] = f"198.51.100.{n}"
                seen[submit_login(http, f"inconnu.{n}", "essai").status_code] += 1
        return seen

    direct = failures(server_on(store_url))
    assert direct == Counter({401: 20, 429: 1})          # all counted for 127.0.0.1
    behind_proxy = failures(server_on(store_url, forwarded_allow_ips="127.0.0.1"))
    assert behind_proxy == Counter({401: 21})             # each client its own address


def test_failed_guesses_slow_an_account_down_but_never_lock_its_owner_out(server):
    _account(server, "chloe")
    with httpx.Client(base_url=server.url) as attacker:
        for n in range(5):
            assert submit_login(attacker, " CHLOE ", f"essai {n}").status_code == 401
        slowed = submit_login(attacker, "chloe", "essai 6")
        assert slowed.status_code == 429
        wait = int(slowed.headers["retry-after"])
    assert wait <= 60
    time.sleep(wait + 0.2)
    with httpx.Client(base_url=server.url) as owner:
        assert submit_login(owner, "chloe", PASSWORD).status_code == 303


def test_the_login_form_needs_its_csrf_token(server):
    _account(server, "paul")
    with httpx.Client(base_url=server.url) as http:
        forged = http.post("/connexion", data={"login": "paul", "password": PASSWORD})
        assert forged.status_code == 403
        assert "Le formulaire de connexion a expiré" in forged.text
        assert "relance_session" not in forged.headers.get("set-cookie", "")
        assert submit_login(http, "paul", PASSWORD).status_code == 303


def test_a_person_changes_their_password_and_ends_their_other_sessions(server):
    first = log_in(server, "lea", "agent")
    second = httpx.Client(base_url=server.url)
    assert submit_login(second, "lea", PASSWORD).status_code == 303
    page = first.get("/compte")
    assert page.status_code == 200
    assert page.text.count("<tr><td>") == 2                          # two live sessions
    csrf = hidden(page.text)
    for new, french in (("court", "au moins 10 caractères"),
                        ("azertyuiop123", "trop courant ou trop facile"),
                        ("x" * 300 + "Az9!", "au plus 256 caractères")):
        refused = first.post("/compte/mot-de-passe", data={
            "csrf": csrf, "current": PASSWORD, "new": new, "again": new})
        assert refused.status_code == 422
        assert french in refused.text
    wrong = first.post("/compte/mot-de-passe", data={
        "csrf": csrf, "current": "pas le bon", "new": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert "Le mot de passe actuel est incorrect." in wrong.text
    changed = first.post("/compte/mot-de-passe", data={
        "csrf": csrf, "current": PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert changed.status_code == 303
    assert first.get("/journee").status_code == 200                  # this session goes on
    assert second.get("/journee").status_code == 303                 # the other one ended
    with httpx.Client(base_url=server.url) as again:
        assert submit_login(again, "lea", PASSWORD).status_code == 401
        assert submit_login(again, "lea", NEW_PASSWORD).status_code == 303
    first.close()
    second.close()


def test_a_person_ends_one_of_their_other_sessions(server):
    mine = log_in(server, "noe", "agent")
    elsewhere = httpx.Client(base_url=server.url)
    assert submit_login(elsewhere, "noe", PASSWORD).status_code == 303
    page = mine.get("/compte").text
    other = page.split('name="session" value="', 1)[1].split('"', 1)[0]
    assert mine.post("/compte/sessions", data={"csrf": hidden(page), "session": other}
                     ).status_code == 303
    assert elsewhere.get("/journee").status_code == 303
    assert mine.get("/journee").status_code == 200
    elsewhere.close()
    mine.close()


def test_an_administrator_resets_a_password_and_it_must_be_changed_at_login(server):
    _account(server, "bruno")
    admin = log_in(server, "admin.reset", "admin")
    page = admin.get("/reglages/comptes").text
    reset = admin.post("/reglages/comptes/reinitialiser",
                       data={"csrf": hidden(page), "login": "bruno"})
    assert reset.status_code == 200
    temporary = reset.text.split("<code>", 1)[1].split("</code>", 1)[0]
    with httpx.Client(base_url=server.url) as bruno:
        assert submit_login(bruno, "bruno", PASSWORD).status_code == 401
        landed = submit_login(bruno, "bruno", temporary)
        assert landed.headers["location"] == "/compte"
        assert bruno.get("/journee").headers["location"] == "/compte"
        account = bruno.get("/compte").text
        assert "choisissez-en un nouveau" in account
        assert bruno.post("/compte/mot-de-passe", data={
            "csrf": hidden(account), "current": temporary, "new": NEW_PASSWORD,
            "again": NEW_PASSWORD}).status_code == 303
        assert bruno.get("/journee").status_code == 200
    chef = log_in(server, "chef.reset", "supervisor")
    page = chef.get("/reglages/comptes").text
    assert chef.post("/reglages/comptes/reinitialiser", data={
        "csrf": hidden(page), "login": "bruno"}).status_code == 403  # administrators only
    admin.close()
    chef.close()


def test_api_tokens_are_named_listed_with_their_last_use_and_revoked_at_once(server):
    runtime = server.app.state.runtime
    _account(server, "script.erp")
    admin = log_in(server, "admin.jetons", "admin")
    page = admin.get("/reglages/comptes").text
    issued = admin.post("/reglages/comptes/jeton", data={
        "csrf": hidden(page), "login": "script.erp", "name": "ERP", "days": "30"})
    assert issued.status_code == 200
    token = issued.text.split("<code>", 1)[1].split("</code>", 1)[0]
    assert token.startswith("rl_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(server.url + "/api/worklist", headers=bearer).status_code == 200
    listed = admin.get("/reglages/comptes").text
    row = listed.split(">ERP<", 1)[1].split("</tr>", 1)[0]
    assert "actif" in row
    assert "jamais" not in row.split("</td>", 3)[2]                    # its last use shows
    assert token not in listed                                         # shown once only
    token_id = runtime.accounts.api_tokens("script.erp")[0].id
    assert admin.post("/reglages/comptes/revoquer", data={
        "csrf": hidden(listed), "token": token_id}).status_code == 303
    assert httpx.get(server.url + "/api/worklist", headers=bearer).status_code == 401
    assert "révoqué" in admin.get("/reglages/comptes").text
    stored = runtime.views.rows("SELECT token_hash FROM {api_tokens}", {}, {})
    assert all(token not in row["token_hash"] for row in stored)      # kept hashed
    admin.close()


def test_an_expired_api_token_is_refused(server):
    runtime = server.app.state.runtime
    _account(server, "script.vieux")
    token = runtime.accounts.issue_api_token("script.vieux", name="ancien", days=1)
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(server.url + "/api/worklist", headers=bearer).status_code == 200
    runtime.views.execute("UPDATE {api_tokens} SET expires_at = :past",
                          {"past": runtime.clock() - timedelta(minutes=1)})
    assert httpx.get(server.url + "/api/worklist", headers=bearer).status_code == 401
    assert runtime.accounts.api_tokens("script.vieux")[0].state(runtime.clock()) == "expiré"


def test_the_deployment_token_rotates_without_a_restart(store_url, server_on, tmp_path):
    file = tmp_path / "api-token"
    old, new = "ancien-jeton-de-deploiement-123", "nouveau-jeton-de-deploiement-456"
    file.write_text(f"# jeton de l'ERP\n{old}\n")
    base = server_on(store_url, api_token="", api_token_file=str(file))

    def status(token: str) -> int:
        return httpx.get(base + "/api/worklist",
                         headers={"Authorization": f"Bearer {token}"}).status_code

    assert status(old) == 200
    assert status(new) == 401
    file.write_text(f"{new}\n")
    for _ in range(50):                                               # re-read within ~1 s
        if status(old) == 401:
            break
        time.sleep(0.1)
    assert status(old) == 401
    assert status(new) == 200


def test_api_tokens_from_the_command_line(store_url):
    assert relance(store_url, "user", "add", "script.cli", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0
    issued = relance(store_url, "user", "token", "script.cli", "--name", "Compta",
                     "--days", "10")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert "valable jusqu'au" in issued.stderr
    listed = relance(store_url, "user", "tokens")
    assert "Compta" in listed.stdout
    assert "actif" in listed.stdout
    runtime = bootstrap(Settings(database_url=store_url))
    try:
        token_id = runtime.accounts.api_tokens("script.cli")[0].id
        assert runtime.accounts.api_user(token) is not None
        assert relance(store_url, "user", "revoke-token", token_id).returncode == 0
        assert runtime.accounts.api_user(token) is None
    finally:
        runtime.close()
    assert relance(store_url, "user", "revoke-token", token_id).returncode == 1


@pytest.fixture
def served(store_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`relance serve` in its own process, its JSON log written to a file."""
    port, log = free_port(), tmp_path / "relance.log"
    env = {**os.environ, "RELANCE_DATABASE_URL": store_url, "RELANCE_LOG_FORMAT": "json",
           "RELANCE_LOG_LEVEL": "INFO", "RELANCE_SMTP_URL": f"file://{tmp_path / 'outbox'}"}
    with log.open("w") as sink:
        process = subprocess.Popen([RELANCE, "serve", "--port", str(port)], env=env,
                                   stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_until_up(f"http://127.0.0.1:{port}")
            yield f"http://127.0.0.1:{port}", log
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_security_events_are_logged_with_who_and_from_where_and_no_secret(served, store_url):
    base, log = served
    runtime = bootstrap(Settings(database_url=store_url))
    try:
        runtime.accounts.add("admin.log", "Admin", "admin", PASSWORD)
        runtime.files.register_invoice("alice", **register_kwargs("LOG-1"))
    finally:
        runtime.close()
    with httpx.Client(base_url=base) as stranger:
        for _ in range(6):
            submit_login(stranger, "admin.log", "mauvais mot de passe")
    time.sleep(1.2)                                                   # past the delay
    with httpx.Client(base_url=base) as admin:
        assert submit_login(admin, "admin.log", PASSWORD).status_code == 303
        page = admin.get("/reglages/comptes").text
        csrf = hidden(page)
        admin.post("/reglages/comptes/creer", data={
            "csrf": csrf, "login": "nouvelle", "role": "agent", "password": NEW_PASSWORD})
        admin.post("/reglages/comptes/role", data={"csrf": csrf, "login": "nouvelle",
                                                   "role": "supervisor"})
        issued = admin.post("/reglages/comptes/jeton", data={
            "csrf": csrf, "login": "nouvelle", "name": "ERP"}).text
        token = issued.split("<code>", 1)[1].split("</code>", 1)[0]
        admin.post("/reglages/comptes/revoquer", data={"csrf": csrf,
                                                       "token": _token_id(issued)})
        admin.post("/reglages/comptes/desactiver", data={"csrf": csrf, "login": "nouvelle"})
        assert admin.post("/exports", data={"csrf": csrf, "perimetre": "file",
                                            "cle": "LOG-1", "format": "json"}
                          ).status_code == 200
        session_cookie = admin.cookies["relance_session"]
    time.sleep(0.5)
    text = log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    events = [line for line in lines if line.get("logger") == "relance.security"]
    kinds = Counter(e["event"] for e in events)
    for kind in ("login failed", "login throttled", "login succeeded", "account created",
                 "role changed", "api token issued", "api token revoked", "account disabled",
                 "export made"):
        assert kinds[kind] >= 1, (kind, kinds)
    failed = next(e for e in events if e["event"] == "login failed")
    assert failed["login"] == "admin.log"
    assert failed["client"] == "127.0.0.1"
    created = next(e for e in events if e["event"] == "account created")
    assert (created["login"], created["role"], created["actor"]) == ("nouvelle", "agent",
                                                                     "admin.log")
    assert all(line["request_id"] != "-" for line in lines if line.get("logger") in
               ("relance.security", "relance.web"))
    for secret in (PASSWORD, NEW_PASSWORD, "mauvais mot de passe", token, session_cookie,
                   csrf):
        assert secret not in text


def _token_id(page: str) -> str:
    return page.split('name="token" value="', 1)[1].split('"', 1)[0]
