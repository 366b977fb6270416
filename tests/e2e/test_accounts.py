"""Accounts, sessions, CSRF and roles, over real HTTP."""

from datetime import timedelta

import httpx

from adapters.infra.throttle import LoginThrottle
from tests.builders import register_kwargs
from tests.e2e.conftest import PASSWORD, hidden, log_in, submit_login


def test_pages_need_a_login_and_send_back_to_the_page_asked(client):
    answer = client.get("/dossiers/FA-1")
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/connexion?suite=/dossiers/FA-1")


def test_a_wrong_password_is_refused_in_french_and_brute_force_is_slowed(server, client):
    server.app.state.runtime.accounts.add("marie", "Marie", "agent", PASSWORD)
    for _ in range(5):
        wrong = submit_login(client, "marie", "nope")
        assert wrong.status_code == 401
        assert "Identifiant ou mot de passe incorrect." in wrong.text
    slowed = submit_login(client, "marie", PASSWORD)
    assert slowed.status_code == 429
    assert "Trop de tentatives : réessayez dans 1 seconde." in slowed.text
    assert slowed.headers["retry-after"] == "1"


def test_failed_logins_count_on_every_web_process_of_the_store(store_url, server_on):
    """Two web processes on one store (`relance serve --workers 2`): an attacker
    alternating between them gets no more attempts than against one."""
    first, second = server_on(store_url), server_on(store_url)
    with httpx.Client(base_url=first) as one, httpx.Client(base_url=second) as other:
        for attempt in range(5):
            answer = submit_login(one if attempt % 2 else other, "marie", f"essai {attempt}")
            assert answer.status_code == 401
        for http in (one, other):
            slowed = submit_login(http, "marie", "essai")
            assert slowed.status_code == 429
            assert "Trop de tentatives" in slowed.text


def test_the_delay_between_attempts_doubles_with_failures_and_never_locks_for_good(
        runtime, clock):
    throttle = LoginThrottle(runtime.views, clock, per_login=3, per_address=100,
                             window=timedelta(minutes=15), longest_delay=60)
    for _ in range(3):
        assert throttle.begin("marie", "10.0.0.7").allowed
    waits = []
    for _ in range(8):
        refused = throttle.begin("Marie", "10.0.0.8")
        assert not refused.allowed
        waits.append(refused.retry_after)
        clock.advance(seconds=refused.retry_after)
        assert throttle.begin("marie", "10.0.0.9").allowed                 # checked, failed
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert throttle.begin("paul", "10.0.0.7").allowed                      # others untouched
    clock.advance(minutes=16)
    assert throttle.begin("marie", "10.0.0.7").allowed                     # the window passed


def test_an_office_behind_one_address_gets_more_attempts_than_one_login(runtime, clock):
    throttle = LoginThrottle(runtime.views, clock, per_login=5, per_address=20)
    for n in range(20):
        assert throttle.begin(f"collegue.{n % 10}", "192.0.2.50").allowed
    assert not throttle.begin("collegue.new", "192.0.2.50").allowed
    assert throttle.begin("collegue.new", "192.0.2.51").allowed


def test_a_right_password_is_forgotten_by_the_count(runtime, clock):
    throttle = LoginThrottle(runtime.views, clock, per_login=2, per_address=100)
    for _ in range(5):
        attempt = throttle.begin("marie", "10.0.0.7")
        assert attempt.allowed
        throttle.succeeded(attempt)


def test_the_session_cookie_is_httponly_samesite_and_new_at_each_login(server):
    server.app.state.runtime.accounts.add("paul", "Paul", "agent", PASSWORD)
    cookies = []
    for _ in range(2):
        with httpx.Client(base_url=server.url) as http:
            answer = submit_login(http, "paul", PASSWORD)
            header = answer.headers["set-cookie"]
            assert "HttpOnly" in header
            assert "SameSite=lax" in header
            cookies.append(answer.cookies["relance_session"])
    assert cookies[0] != cookies[1]


def test_logging_out_revokes_the_session_at_once(server):
    http = log_in(server, "lea", "agent")
    home = http.get("/")
    assert home.status_code == 200
    stolen = http.cookies["relance_session"]
    assert http.post("/deconnexion", data={"csrf": hidden(home.text)}).status_code == 303
    with httpx.Client(base_url=server.url, cookies={"relance_session": stolen}) as again:
        assert again.get("/").status_code == 303
    http.close()


def test_an_idle_session_expires(server):
    http = log_in(server, "idle", "agent")
    server.app.state.runtime.accounts.idle = timedelta(seconds=0)
    assert http.get("/").status_code == 303
    http.close()


def test_a_note_needs_the_csrf_token_and_appears_at_once_once(server, agent):
    server.app.state.runtime.files.register_invoice("alice", **register_kwargs("FA-NOTE"))
    page = agent.get("/dossiers/FA-NOTE").text
    without = agent.post("/dossiers/FA-NOTE/notes", data={"text": "Appeler lundi"})
    assert without.status_code == 403
    form = {"text": "Appeler <script>alert(1)</script> lundi", "csrf": hidden(page),
            "cle": hidden(page, "cle")}
    posted = agent.post("/dossiers/FA-NOTE/notes", data=form)
    assert posted.status_code == 303
    again = agent.post("/dossiers/FA-NOTE/notes", data=form)
    assert again.status_code == 303
    shown = agent.get(posted.headers["location"]).text
    assert "Appeler &lt;script&gt;alert(1)&lt;/script&gt; lundi" in shown
    assert "<script>alert(1)</script>" not in shown
    assert shown.count("Appeler &lt;script&gt;") == 1
    facts = server.app.state.runtime.files.history("FA-NOTE")
    assert facts[-1].actor == "agent.test"


def test_bad_input_redisplays_the_form_with_a_french_message_and_records_nothing(server, agent):
    server.app.state.runtime.files.register_invoice("alice", **register_kwargs("FA-BAD"))
    page = agent.get("/dossiers/FA-BAD").text
    bad = agent.post("/dossiers/FA-BAD/notes",
                     data={"text": "   ", "csrf": hidden(page), "cle": hidden(page, "cle")})
    assert bad.status_code == 422
    assert "Une information obligatoire est manquante." in bad.text
    assert len(server.app.state.runtime.files.history("FA-BAD")) == 1


def test_an_auditor_reads_but_cannot_record(server):
    server.app.state.runtime.files.register_invoice("alice", **register_kwargs("FA-AUD"))
    auditor = log_in(server, "auditeur", "auditor")
    page = auditor.get("/dossiers/FA-AUD")
    assert page.status_code == 200
    assert "Ajouter une note" not in page.text
    refused = auditor.post("/dossiers/FA-AUD/notes",
                           data={"text": "x", "csrf": hidden(page.text), "cle": "k"})
    assert refused.status_code == 403
    assert "pas permise avec votre rôle" in refused.text
    assert len(server.app.state.runtime.files.history("FA-AUD")) == 1
    auditor.close()
