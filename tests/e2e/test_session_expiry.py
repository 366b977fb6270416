"""No lost work when a session expires while typing, and no JSON error on a page."""

from __future__ import annotations

import html
import re

from adapters.infra.accounts import Role
from tests.builders import register_kwargs
from tests.e2e.conftest import PASSWORD, hidden, log_in, submit_login

SUMMARY = "Mme Bertin confirme le virement de 1 500 € vendredi, après accord de la DAF."
KEPT = "Votre session a expiré : reconnectez-vous, votre saisie est conservée."
SHOWN_AGAIN = "Saisie conservée : vérifiez puis enregistrez."


def _end_session(server, http) -> None:
    """The session ends on the server while the page is still open in the browser."""
    server.app.state.runtime.accounts.log_out(http.cookies["relance_session"])


def _call_form(page: str) -> dict[str, str]:
    return {"csrf": hidden(page), "cle": hidden(page, "cle"), "contact_name": "Hélène Bertin",
            "outcome": "reached", "summary": SUMMARY}


def test_a_call_typed_when_the_session_expired_comes_back_after_logging_in(server):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("import", **register_kwargs("FA-51"))
    http = log_in(server, "lea", "agent")
    page = http.get("/dossiers/FA-51").text
    _end_session(server, http)

    sent = http.post("/dossiers/FA-51/appels", data=_call_form(page),
                     headers={"Referer": f"{server.url}/dossiers/FA-51"})
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/connexion?suite=/dossiers/FA-51")
    login_page = http.get(sent.headers["location"])
    assert KEPT in html.unescape(login_page.text)
    assert SUMMARY not in login_page.text                      # kept on the server, not here

    back = http.post("/connexion", data={"login": "lea", "password": PASSWORD,
                                         "suite": hidden(login_page.text, "suite"),
                                         "csrf": hidden(login_page.text)})
    assert back.status_code == 303
    assert back.headers["location"] == "/dossiers/FA-51"
    refilled = http.get("/dossiers/FA-51").text
    assert SHOWN_AGAIN in refilled
    assert html.escape(SUMMARY, quote=False) in refilled
    assert 'value="Hélène Bertin"' in refilled
    assert "csrf" not in runtime.views.rows("SELECT fields FROM {form_drafts}", {}, {}).__repr__()

    recorded = http.post("/dossiers/FA-51/appels", data=_call_form(refilled))
    assert recorded.status_code == 303
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    assert SUMMARY in html.unescape(http.get("/dossiers/FA-51").text)
    assert SHOWN_AGAIN not in http.get("/dossiers/FA-51").text      # shown once
    http.close()


def test_a_call_typed_on_the_debtor_page_comes_back_there_after_logging_in(server):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("import", **register_kwargs("FA-52"))
    account = runtime.files.case("FA-52").debtor.account
    http = log_in(server, "noe", "agent")
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    page = http.get(f"/debiteurs/{account}").text
    _end_session(server, http)

    sent = http.post("/dossiers/FA-52/appels", data={**_call_form(page), "retour": "debiteur"},
                     headers={"Referer": f"{server.url}/debiteurs/{account}"})
    assert sent.status_code == 303
    login_page = http.get(sent.headers["location"])
    back = http.post("/connexion", data={"login": "noe", "password": PASSWORD,
                                         "suite": hidden(login_page.text, "suite"),
                                         "csrf": hidden(login_page.text)})
    assert back.headers["location"] == f"/debiteurs/{account}"
    refilled = http.get(f"/debiteurs/{account}").text
    assert SHOWN_AGAIN in refilled
    assert html.escape(SUMMARY, quote=False) in refilled       # in the debtor page's call form
    assert 'value="Hélène Bertin"' in refilled
    http.close()


def test_a_fact_form_comes_back_open_and_filled_even_without_the_referer(server):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("import", **register_kwargs("FA-52"))
    http = log_in(server, "theo", "agent")
    page = http.get("/dossiers/FA-52").text
    _end_session(server, http)
    sent = http.post("/dossiers/FA-52/faits/litige",
                     data={"csrf": hidden(page), "reason": "Livraison incomplète"})
    assert sent.status_code == 303
    assert "suite=/dossiers/FA-52" in sent.headers["location"]
    assert submit_login(http, "theo", PASSWORD).status_code == 303
    refilled = http.get("/dossiers/FA-52").text
    assert SHOWN_AGAIN in refilled
    assert "Livraison incomplète" in refilled
    assert re.search(r'<details[^>]*id="form-litige"[^>]*\sopen', refilled)
    http.close()


def test_a_kept_form_is_not_shown_to_somebody_else_logging_in_on_that_browser(server):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("import", **register_kwargs("FA-53"))
    runtime.accounts.add("zoe", "Zoé", Role.AGENT, PASSWORD)
    http = log_in(server, "yann", "agent")
    page = http.get("/dossiers/FA-53").text
    _end_session(server, http)
    http.post("/dossiers/FA-53/appels", data=_call_form(page))
    assert submit_login(http, "zoe", PASSWORD).status_code == 303
    assert SHOWN_AGAIN not in http.get("/dossiers/FA-53").text
    http.close()


def test_errors_of_pages_are_french_html_and_the_api_keeps_json(server, agent):
    not_allowed = agent.get("/deconnexion", headers={"Accept": "text/html"})
    assert not_allowed.status_code == 405
    assert not_allowed.headers["content-type"].startswith("text/html")
    assert "Cette page ne s'ouvre pas ainsi" in html.unescape(not_allowed.text)
    unreadable = agent.get("/dossiers", params={"numero": "x" * 500})
    assert unreadable.status_code == 422
    assert unreadable.headers["content-type"].startswith("text/html")
    assert "Certains champs ne se lisent pas" in unreadable.text
    api = agent.get("/api/invoices", headers={"Authorization": "Bearer jeton-de-test-0123456789"})
    assert api.headers["content-type"].startswith("application/json")


def test_in_a_browser_a_call_typed_across_an_expired_session_is_recorded(server, browser):
    from playwright.sync_api import expect

    runtime = server.app.state.runtime
    runtime.files.register_invoice("import", **register_kwargs("FA-61"))
    runtime.accounts.add("amelie", "Amélie Martin", Role.AGENT, PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/connexion")
    page.fill("#login", "amelie")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}/dossiers/FA-61")
    page.fill("#summary", SUMMARY)
    page.select_option("#outcome", "reached")
    cookie = next(c for c in context.cookies() if c["name"] == "relance_session")
    runtime.accounts.log_out(cookie["value"])                  # the session ends meanwhile

    page.click("text=Enregistrer l'appel")
    page.wait_for_url("**/connexion?**")
    expect(page.locator("main")).to_contain_text(KEPT)
    page.fill("#login", "amelie")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/dossiers/FA-61")
    expect(page.locator("#saisie-conservee")).to_have_text(SHOWN_AGAIN)
    expect(page.locator("#summary")).to_have_value(SUMMARY)
    expect(page.locator("#outcome")).to_have_value("reached")

    page.click("text=Enregistrer l'appel")
    page.wait_for_url("**/dossiers/FA-61?**")
    expect(page.locator("main")).to_contain_text(SUMMARY)
    expect(page.locator("#saisie-conservee")).to_have_count(0)
    context.close()


def test_in_a_browser_a_wrong_method_or_an_unreadable_address_is_a_french_page(
        server, browser):
    from playwright.sync_api import expect

    runtime = server.app.state.runtime
    runtime.accounts.add("bruno", "Bruno Petit", Role.AGENT, PASSWORD)
    page = browser.new_page()
    page.goto(f"{server.url}/connexion")
    page.fill("#login", "bruno")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    for path, status, words in (("/deconnexion", 405, "Cette page ne s'ouvre pas ainsi"),
                                (f"/dossiers?numero={'x' * 500}", 422,
                                 "Certains champs ne se lisent pas")):
        answer = page.goto(f"{server.url}{path}")
        assert answer is not None
        assert answer.status == status
        expect(page.locator("[role=alert]")).to_contain_text(words)
        assert "{" not in page.locator("body").inner_text()
        expect(page.get_by_role("link", name="Retour à l'accueil")).to_be_visible()
    page.close()
