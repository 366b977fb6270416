"""A real agent's morning in headless Chromium: log in, work the first item, see it everywhere.

Screenshots of each main page are saved under test-output/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from domain.values import PARIS, CallOutcome
from tests.builders import ACME, GLOBEX, JEAN, eur, register_kwargs
from tests.e2e.conftest import PASSWORD, browser_log_in

SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"


def test_an_agent_logs_in_works_the_first_item_and_sees_it_everywhere(server, browser):
    runtime = server.app.state.runtime
    today = runtime.today()
    runtime.accounts.add("amelie.martin", "Amélie Martin", "agent", PASSWORD)
    runtime.files.register_invoice("alice", **register_kwargs(
        "FA-NAV", issued_on=today - timedelta(days=40), due_on=today - timedelta(days=9)))
    assert runtime.wait_for_views(
        runtime.files.assign("sophie", "FA-NAV", agent="amelie.martin").notification_id)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{server.url}/journee")
    page.fill("#login", "amelie.martin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/journee")
    first = page.locator("tbody.debtor").first                      # its debtor's row
    assert "ACME SARL" in first.locator("tr.debtor-head").inner_text()
    assert "FA-NAV" in first.inner_text()
    assert "première relance" in first.inner_text()                  # never worked: from D
    assert "dossier jamais relancé" in first.inner_text()
    page.screenshot(path=str(SHOTS / "ma-journee.png"), full_page=True)

    first.locator("tr.file a").first.click()
    page.wait_for_url("**/dossiers/FA-NAV")
    page.fill("input[name=contact_name]", "Jean Dupont")
    page.select_option("select[name=outcome]", "reached")
    page.fill("textarea[name=summary]", "Virement promis pour vendredi")
    page.fill("input[name=promised_on]", (today + timedelta(days=4)).isoformat())
    page.click("text=Enregistrer l'appel")
    page.wait_for_url("**/dossiers/FA-NAV?apres=*")
    timeline = page.locator("#historique").inner_text()
    assert "Virement promis pour vendredi" in timeline
    assert "Promesse de paiement" in timeline
    page.screenshot(path=str(SHOTS / "dossier.png"), full_page=True)

    page.goto(f"{server.url}/journee")
    assert "FA-NAV" not in page.locator("table").inner_text()
    done = page.locator("tbody.debtor.marked")                      # the debtor stays, done
    assert "fait : contacté par vous à" in done.inner_text()
    assert "Fait aujourd'hui\n1 sur 1" in page.locator("#resume").inner_text()
    page.goto(f"{server.url}/equipe")
    assert "Amélie Martin" in page.locator("table").last.inner_text()
    page.screenshot(path=str(SHOTS / "equipe.png"), full_page=True)
    for name, path in (("portefeuille", "/portefeuille"), ("debiteur", "/debiteurs/411ACME")):
        page.goto(f"{server.url}{path}")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert page.locator("h1").count() == 1


def test_the_api_docs_render_in_chromium_under_the_sites_policy(server, browser):
    server.app.state.runtime.accounts.add("dev.api", "Développeuse", "agent", PASSWORD)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script("window.__violations = []; document.addEventListener("
                         "'securitypolicyviolation', e => window.__violations.push("
                         "e.violatedDirective + ' ' + e.blockedURI));")
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(request.url))
    page.goto(f"{server.url}/docs")
    page.fill("#login", "dev.api")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 6                  # every operation listed
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("relance")
    page.screenshot(path=str(SHOTS / "api-docs.png"), full_page=False)
    page.locator(".opblock-summary").first.click()                     # an operation opens
    page.wait_for_selector(".opblock-body", timeout=5_000)
    assert page.evaluate("window.__violations") == []             # the CSP blocked nothing
    assert problems == []                                         # nothing blocked, no error


def test_an_agent_works_her_day_debtor_by_debtor_and_sees_a_colleagues_call(server, browser):
    runtime = server.app.state.runtime
    files = runtime.files
    today = runtime.today()
    runtime.accounts.add("amelie.martin", "Amélie Martin", "agent", PASSWORD)
    runtime.accounts.add("bruno.petit", "Bruno Petit", "agent", PASSWORD)
    for number, debtor, late, amount in (("FA-ACME-1", ACME, 30, "2400.00"),
                                         ("FA-ACME-2", ACME, 12, "800.00"),
                                         ("FA-GLOB-1", GLOBEX, 45, "5000.00"),
                                         ("FA-GLOB-2", GLOBEX, 20, "1200.00")):
        files.register_invoice("import", **register_kwargs(
            number, debtor=debtor, amount=eur(amount),
            issued_on=today - timedelta(days=late + 30), due_on=today - timedelta(days=late)))
    files.assign_debtors("sophie", [ACME.account, GLOBEX.account], agent="amelie.martin")
    called = files.log_call("bruno.petit", "FA-GLOB-1", contact=JEAN,
                            outcome=CallOutcome.REACHED, summary="Virement la semaine prochaine")
    assert runtime.wait_for_views(called.notification_id)
    at = runtime.reads.touches_on(today)[0]["occurred_at"].astimezone(PARIS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{server.url}/")
    page.fill("#login", "amelie.martin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    assert page.locator("h1").inner_text().startswith("Ma journée du")
    debtors = page.locator("tbody.debtor")
    assert debtors.count() == 2
    # Globex owes more, but Bruno reached it today: Acme first, Globex after, marked
    assert "ACME SARL" in debtors.nth(0).locator("tr.debtor-head").inner_text()
    globex = debtors.nth(1)
    assert "marked" in globex.get_attribute("class")
    assert f"déjà contacté aujourd'hui par Bruno Petit à {at:%H:%M} (appel)" in globex.inner_text()
    assert "FA-GLOB-2" in globex.inner_text()                      # its other file, still there
    assert "Fait aujourd'hui\n0 sur 2" in page.locator("#resume").inner_text()
    page.screenshot(path=str(SHOTS / "ma-journee-par-debiteur.png"), full_page=True)

    debtors.nth(0).locator("tr.debtor-head a").click()
    page.wait_for_url("**/debiteurs/411ACME")
    page.click("text=J'appelle (15 min)")
    page.wait_for_url("**/debiteurs/411ACME*")
    page.locator("a[href$='/dossiers/FA-ACME-1']").first.click()
    page.wait_for_url("**/dossiers/FA-ACME-1")
    page.fill("input[name=contact_name]", "Jean Dupont")
    page.select_option("select[name=outcome]", "reached")
    page.fill("textarea[name=summary]", "Les deux factures partent vendredi")
    page.click("text=Enregistrer l'appel")
    page.wait_for_url("**/dossiers/FA-ACME-1?apres=*")

    page.goto(f"{server.url}/journee")
    assert page.locator("tbody.debtor.marked").count() == 2        # both contacted today
    acme = page.locator("tbody.debtor[data-account='411ACME']")
    assert "marked" in acme.get_attribute("class")
    assert "fait : contacté par vous à" in acme.inner_text()
    assert "vous appelez (« J'appelle »)" in acme.inner_text()
    assert "FA-ACME" not in acme.inner_text()           # the call was about both its files
    assert "rien d'autre à faire aujourd'hui" in acme.inner_text()
    assert "Fait aujourd'hui\n1 sur 2" in page.locator("#resume").inner_text()
    page.screenshot(path=str(SHOTS / "ma-journee-apres-appel.png"), full_page=True)


def test_the_header_shows_every_section_and_the_logout_at_each_desktop_width(server, browser):
    """A supervisor's nine sections, the search box, a long name and « Se déconnecter »:
    on one line from 1366 px, on two narrower, never beyond the screen's edge; the search
    field has room for an invoice number at every width."""
    server.app.state.runtime.accounts.add(
        "mc.auvergne", "Marie-Christine de La Tour d'Auvergne", "supervisor", PASSWORD)
    page = browser.new_page(viewport={"width": 1366, "height": 700})
    browser_log_in(page, server.url, "mc.auvergne")
    for width in (992, 1100, 1280, 1366, 1600):
        page.set_viewport_size({"width": width, "height": 700})
        logout = page.get_by_role("button", name="Se déconnecter").bounding_box()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{width} px: the page is {wide} px wide"
        assert logout is not None
        assert logout["x"] + logout["width"] <= width, width
        assert page.get_by_role("link", name="Réglages").is_visible(), width
        field = page.locator("#recherche-q").bounding_box()
        assert field is not None
        assert field["width"] >= 128, f"{width} px: the search field is {field['width']} px"
        assert page.get_by_role("button", name="Rechercher").is_visible(), width
    page.close()
