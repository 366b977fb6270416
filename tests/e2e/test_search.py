"""Search from every page, and where each role lands, over real HTTP on both stores."""

from __future__ import annotations

from adapters.infra.accounts import Role
from domain.values import CallOutcome, Contact, Debtor
from tests.builders import eur, register_kwargs
from tests.e2e.conftest import PASSWORD, log_in

CEVENOL = Debtor(account="411CEV", name="Laboratoires Cévenol", siren="552100554")
BERTIN = Contact(name="Hélène Bertin", function="Responsable comptable",
                 phone="04 66 00 00 00")


def _portfolio(server) -> None:
    runtime = server.app.state.runtime
    files = runtime.files
    files.register_invoice("import", **register_kwargs("FA-2025-00296", debtor=CEVENOL,
                                                       amount=eur("2400.00")))
    files.register_invoice("import", **register_kwargs("FA-2025-01234"))
    called = files.log_call("bruno", "FA-2025-00296", contact=BERTIN,
                            outcome=CallOutcome.REACHED, summary="Virement vendredi")
    assert runtime.wait_for_views(called.notification_id)


def _text(answer) -> str:
    return answer.text.replace("\u202f", " ").replace("\xa0", " ")


def test_a_part_of_an_invoice_number_finds_its_file_with_its_debtor_and_status(server, agent):
    _portfolio(server)
    found = agent.get("/recherche", params={"q": "00296"})
    assert found.status_code == 200
    page = _text(found)
    assert "FA-2025-00296" in page
    assert "FA-2025-01234" not in page
    assert "Laboratoires Cévenol" in page
    assert "2 400,00 €" in page


def test_the_digits_of_a_number_without_its_leading_zeros_find_the_file(server, agent):
    _portfolio(server)
    page = _text(agent.get("/recherche", params={"q": "296"}))
    assert "FA-2025-00296" in page
    assert "FA-2025-01234" not in page


def test_a_name_typed_without_accents_or_capitals_finds_the_debtor(server, agent):
    _portfolio(server)
    page = _text(agent.get("/recherche", params={"q": "cevenol"}))
    assert "Laboratoires Cévenol" in page
    assert "411CEV" in page
    assert "552 100 554" in page
    assert "2 400,00 €" in page
    assert "ACME" not in page


def test_a_siren_finds_its_debtor_with_or_without_spaces(server, agent):
    _portfolio(server)
    for typed in ("552100554", "552 100 554"):
        page = _text(agent.get("/recherche", params={"q": typed}))
        assert "Laboratoires Cévenol" in page, typed


def test_a_contact_name_finds_the_person_with_their_function_and_debtor(server, agent):
    _portfolio(server)
    page = _text(agent.get("/recherche", params={"q": "helene"}))
    assert "Hélène Bertin" in page
    assert "Responsable comptable" in page
    assert "Laboratoires Cévenol" in page


def test_the_list_under_the_box_is_a_small_fragment_of_links(server, agent):
    _portfolio(server)
    answer = agent.get("/recherche/suggestions", params={"q": "Cév"})
    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert 'role="listbox"' in answer.text
    assert 'href="/debiteurs/411CEV"' in answer.text


def test_an_exact_invoice_number_still_opens_the_file_at_once(server, agent):
    _portfolio(server)
    answer = agent.get("/recherche", params={"q": " fa-2025-00296 "})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dossiers/FA-2025-00296"


def test_nothing_found_and_odd_input_answer_in_french(server, agent):
    _portfolio(server)
    assert "Aucun débiteur, dossier ou contact ne correspond à « zzzz »" in \
        agent.get("/recherche", params={"q": "zzzz"}).text
    for typed in ("%", "_", "'; DROP TABLE search_keys; --", "x" * 5000):
        assert agent.get("/recherche", params={"q": typed}).status_code == 200


def test_the_search_box_is_in_the_header_of_a_logged_in_page_only(server, agent, client):
    page = agent.get("/recherche").text
    assert 'id="recherche-q"' in page
    assert 'class="visually-hidden">Rechercher' in page
    assert "/static/search.js" in page
    assert 'id="recherche-q"' not in client.get("/connexion").text


def test_each_role_lands_on_its_own_page(server):
    landings = {"agent": "Ma journée du", "supervisor": ">Équipe — ", "admin": ">Équipe — ",
                "auditor": ">Portefeuille</h1>"}
    for role, heading in landings.items():
        http = log_in(server, f"landing.{role}", role)
        home = http.get("/")
        assert home.status_code == 200, role
        assert heading in home.text, role
        http.close()


def _browser_login(page, server, login: str) -> None:
    page.goto(f"{server.url}/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def test_typing_in_the_header_box_lists_results_at_once_and_the_keyboard_opens_one(
        server, browser):
    from playwright.sync_api import expect

    _portfolio(server)
    server.app.state.runtime.accounts.add("amelie", "Amélie Martin", Role.AGENT, PASSWORD)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _browser_login(page, server, "amelie")
    page.keyboard.press("/")                                   # « / » puts the cursor there
    expect(page.locator("#recherche-q")).to_be_focused()
    page.keyboard.type("cevenol")                              # no Enter
    options = page.locator("#recherche-liste [role=option]")
    expect(options.first).to_contain_text("Laboratoires Cévenol")
    expect(page.locator("#recherche-q")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/debiteurs/411CEV")
    page.close()


def test_the_header_box_fits_a_phone_and_works_without_javascript(server, browser):
    from playwright.sync_api import expect

    _portfolio(server)
    server.app.state.runtime.accounts.add("chloe", "Chloé Durand", Role.AGENT, PASSWORD)
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  java_script_enabled=False)
    page = context.new_page()
    _browser_login(page, server, "chloe")
    page.click("summary.app-menu-toggle")
    box = page.locator("#recherche")
    expect(box).to_be_visible()
    bounds = box.bounding_box()
    assert bounds is not None
    assert bounds["x"] >= 0
    assert bounds["x"] + bounds["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#recherche-q", "00296")
    page.click("#recherche button[type=submit]")
    expect(page.locator("main")).to_contain_text("FA-2025-00296")
    context.close()
