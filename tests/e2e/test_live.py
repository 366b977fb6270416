"""Live coordination in real Chromium: while Bruno has a debtor's page and his Ma journée
open, Amélie's « J'appelle » and her call show on both within two seconds, without
Bruno reloading anything."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from domain.values import CallOutcome
from tests.builders import ACME, JEAN, register_kwargs
from tests.e2e.conftest import PASSWORD

LIVE = 2000
"""Milliseconds a colleague's claim or call may take to show."""


def logged_in(browser, server, login: str, path: str):
    """A new browser (its own cookies) logged in as `login`, on `path`."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{server.url}{path}")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return context, page


def test_a_colleagues_claim_and_call_appear_without_a_reload(server, browser):
    runtime = server.app.state.runtime
    today = runtime.today()
    runtime.accounts.add("amelie.martin", "Amélie Martin", "agent", PASSWORD)
    runtime.accounts.add("bruno.petit", "Bruno Petit", "agent", PASSWORD)
    runtime.files.register_invoice("import", **register_kwargs(
        "FA-LIVE", issued_on=today - timedelta(days=40), due_on=today - timedelta(days=9)))
    assert runtime.wait_for_views(runtime.files.assign_debtors(
        "chef", [ACME.account], agent="bruno.petit").notification_id)

    bruno, debtor_page = logged_in(browser, server, "bruno.petit", f"/debiteurs/{ACME.account}")
    day_page = bruno.new_page()
    day_page.goto(f"{server.url}/journee")
    row_marks = day_page.locator(f'tbody.debtor[data-account="{ACME.account}"] td.marks')
    expect(row_marks).not_to_contain_text("Amélie Martin")
    live = debtor_page.locator("#en-direct")
    expect(live).not_to_contain_text("Amélie Martin")

    amelie, colleague = logged_in(browser, server, "amelie.martin", f"/debiteurs/{ACME.account}")
    colleague.click("text=J'appelle (15 min)")
    colleague.wait_for_url(f"**/debiteurs/{ACME.account}")
    expect(colleague.locator("#en-direct")).to_contain_text("vous appelez")

    expect(live).to_contain_text("Amélie Martin appelle", timeout=LIVE)
    expect(row_marks).to_contain_text("Amélie Martin appelle", timeout=LIVE)

    runtime.files.log_call("amelie.martin", "FA-LIVE", contact=JEAN,
                           outcome=CallOutcome.REACHED, summary="Virement vendredi")
    expect(live).to_contain_text("déjà contacté aujourd'hui par Amélie Martin", timeout=LIVE)
    expect(row_marks).to_contain_text("déjà contacté aujourd'hui par Amélie Martin",
                                      timeout=LIVE)
    assert debtor_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert day_page.evaluate("document.documentElement.scrollWidth") <= 390
    amelie.close()
    bruno.close()
