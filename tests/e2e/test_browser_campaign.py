"""A supervisor validates the day's queue in headless Chromium: two messages ticked, sent at
once, and shown as sent on « Envois »."""

from __future__ import annotations

from datetime import timedelta

from adapters.usecases import campaign
from domain.scenarios import Scenario, Step
from domain.values import Channel
from tests.builders import ACME, GLOBEX, register_kwargs
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_campaign_pages import MARIE, served, smtp  # noqa: F401 - its fixtures


def test_a_supervisor_sends_two_ticked_messages_and_sees_them_sent(served, smtp, browser,  # noqa: F811
                                                                   tmp_path):
    runtime = served.app.state.runtime
    files, today = runtime.files, runtime.today()
    files.set_scenario("chef.equipe", Scenario("reference", "Référence", (
        Step(0, "reminder", Channel.EMAIL, "reminder_1", "première relance", 1,
             mode="validate", any_day=True),
    ), min_gap_days=3), reason="Tout se relit avant de partir")
    for number, debtor, contact in (("NAV-ACME", ACME, None), ("NAV-GLOB", GLOBEX, MARIE)):
        files.register_invoice("import", **register_kwargs(
            number, debtor=debtor, issued_on=today - timedelta(days=30), due_on=today,
            **({"billing_recipient": contact} if contact else {})))
    assert campaign.run_campaign(runtime).count("to_validate") == 2
    runtime.accounts.add("chef.equipe", "Chef d'équipe", "supervisor", PASSWORD)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{served.url}/envois/a-valider")
    page.fill("#login", "chef.equipe")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/envois/a-valider")
    assert page.locator("#nav-a-valider").inner_text() == "À valider (2)"
    messages = page.locator("section.message")
    assert messages.count() == 2
    assert "NAV-ACME" in page.locator("section[data-account='411ACME'] textarea").input_value()
    page.screenshot(path=str(tmp_path / "a-valider.png"), full_page=True)
    for account in ("411ACME", "411GLOB"):
        page.check(f"section[data-account='{account}'] input[name=choix]")
    page.click("text=Envoyer la sélection")
    page.wait_for_url("**/envois/a-valider?envoyes=2")
    assert "2 messages envoyés" in page.locator("#fait").inner_text()
    assert page.locator("section.message").count() == 0
    assert page.locator("#nav-a-valider").inner_text() == "À valider"
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        "jean.dupont@acme.example", "marie.roux@globex.example"]

    page.click("text=Envois du jour")
    page.wait_for_url("**/envois")
    for account in ("411ACME", "411GLOB"):
        row = page.locator(f"tbody.debtor[data-account='{account}'] tr.message")
        assert row.locator("td.state").inner_text() == "envoyé"
        assert "Chef d'équipe" in row.inner_text()
    assert "Envoyés\n2" in page.locator("#resume").inner_text()
    page.screenshot(path=str(tmp_path / "envois.png"), full_page=True)
    assert (tmp_path / "envois.png").stat().st_size > 0
