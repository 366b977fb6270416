"""The file page, laid out for the call: header with the person to call, the call form
first, the history by month, the other actions in one menu, a message after each action
with the next file of the day, and a day worked from the keyboard alone."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.values import CallOutcome, Contact, Debtor
from tests.builders import ACME, JEAN, eur, register_kwargs
from tests.e2e.conftest import PASSWORD, log_in

SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"
DAY = (  # four debtors of Amélie's day, most urgent (largest amount, same lateness) first
    ("FP-ALPHA", ACME, "9000.00", JEAN),
    ("FP-BRAVO", Debtor("411BRAVO", "Bravo Industrie"), "7000.00",
     Contact("Lucie Roux", "Trésorière", "04 72 00 11 22", "lucie.roux@bravo.example")),
    ("FP-CHARLIE", Debtor("411CHARL", "Charlie Transports"), "5000.00",
     Contact("Marc Petit", "Comptable", "05 56 33 44 55", "marc.petit@charlie.example")),
    ("FP-DELTA", Debtor("411DELTA", "Delta Bois"), "3000.00",
     Contact("Anne Morel", "Gérante", "02 40 66 77 88", "anne.morel@delta.example")),
)


def _plain(text: str) -> str:
    return html.unescape(text).replace("\u202f", " ").replace("\xa0", " ")


def _seed_day(runtime) -> None:
    today = runtime.today()
    runtime.accounts.add("amelie.martin", "Amélie Martin", "agent", PASSWORD)
    for number, debtor, amount, contact in DAY:
        runtime.files.register_invoice("import", **register_kwargs(
            number, debtor=debtor, amount=eur(amount), billing_recipient=contact,
            issued_on=today - timedelta(days=70), due_on=today - timedelta(days=40)))
    assigned = runtime.files.assign_debtors("sophie", [d.account for _, d, _, _ in DAY],
                                            agent="amelie.martin")
    assert runtime.wait_for_views(assigned.notification_id)


def _tab_to(page, selector: str, limit: int = 120) -> None:
    """Presses Tab until the focus is on an element matching `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _focused(page) -> str:
    return page.evaluate("document.activeElement?.id || ''")


def test_an_agent_completes_the_first_three_calls_of_her_day_with_the_keyboard_only(
        server, browser):
    runtime = server.app.state.runtime
    _seed_day(runtime)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/journee")
    _tab_to(page, "#login")
    page.keyboard.type("amelie.martin")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/journee")

    _tab_to(page, "tbody.debtor tr.file a")                     # the day's first file
    page.keyboard.press("Enter")
    said = {}
    for turn, (number, _, _, contact) in enumerate(DAY[:3]):
        page.wait_for_url(f"**/dossiers/{number}")
        assert contact.phone in page.locator("#entete").inner_text()   # whom to call
        page.keyboard.press("a")                                 # the call form
        assert _focused(page) == "summary"
        said[number] = f"Appel {turn + 1} : virement annoncé"
        page.keyboard.type(said[number])
        page.keyboard.press("Tab")
        assert _focused(page) == "outcome"
        page.keyboard.press("ArrowDown")                         # « Joint »
        assert page.input_value("#outcome") == "reached"
        if turn == 0:
            _tab_to(page, "#appel button[type=submit]")
            page.keyboard.press("Enter")
        else:
            page.keyboard.press("Control+Enter")
        page.wait_for_url(f"**/dossiers/{number}?apres=*&fait=appel")
        assert "Appel enregistré." in page.locator("#fait").inner_text()
        assert said[number] in page.locator("#historique").inner_text()
        if turn == 0:
            page.keyboard.press("s")                             # the shortcut
        elif turn == 1:
            assert _focused(page) == "suivant-apres"             # Enter goes on
            page.keyboard.press("Enter")
    page.screenshot(path=str(_shots() / "dossier-clavier-troisieme-appel.png"), full_page=True)
    page.keyboard.press("j")
    page.wait_for_url(f"{server.url}/journee")
    left = page.locator("tbody.debtor:not(.marked)")
    assert left.count() == 1
    assert "Delta Bois" in left.inner_text()

    for number, _, _, contact in DAY[:3]:
        call = runtime.files.history(number)[-1]
        assert (call.kind, call.actor, call.data["summary"]) == (
            "CallLogged", "amelie.martin", said[number])
        assert call.data["outcome"] == "reached"
        assert call.data["contact"].name == contact.name          # pre-filled, not typed
        assert call.data["contact"].phone == contact.phone
    assert [e.kind for e in runtime.files.history("FP-DELTA")][-1] != "CallLogged"


def _shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def test_the_page_reads_header_call_form_history_then_the_other_actions(server):
    runtime = server.app.state.runtime
    files = runtime.files
    today = runtime.today()
    files.register_invoice("alice", **register_kwargs(
        "FP-LONG", issued_on=today - timedelta(days=200), due_on=today - timedelta(days=170)))
    month = today.replace(day=1) - timedelta(days=100)
    long_ago = datetime(month.year, month.month, 10, 8, tzinfo=UTC)     # four months ago
    for n in range(12):
        files.add_note("bruno", "FP-LONG", text=f"Ancienne note {n}",
                       occurred_at=long_ago + timedelta(hours=n))
    last = files.add_note("bruno", "FP-LONG", text="Note de ce mois")
    agent = log_in(server, "agent.lecture", "agent")
    page = agent.get("/dossiers/FP-LONG", params={"apres": last.notification_id})
    text = _plain(page.text)
    order = [text.index(mark) for mark in (
        'id="entete"', "Noter un appel", 'id="historique"', 'id="autre-action"',
        "Pénalités au")]
    assert order == sorted(order)
    assert '<a href="tel:0102030405">01 02 03 04 05</a>' in text        # the known contact
    assert 'name="contact_name" value="Jean Dupont"' in text          # call form pre-filled
    assert 'name="contact_phone" type="tel" value="01 02 03 04 05"' in text
    assert "À faire aujourd'hui :" in text                            # the scenario's step
    months = text.split('<details class="card mb-2 mois"')[1:]
    assert months[0].startswith(" open>")                          # this month, newest first
    assert months[0].index("Note de ce mois") > 0
    assert not months[-1].startswith(" open>")                     # four months ago: folded
    assert "Ancienne note 11" in months[-1]
    assert months[-1].index("Ancienne note 11") < months[-1].index("Ancienne note 0")
    assert text.count("<summary>") >= 20                           # one line per other action

    paid = agent.get("/dossiers/FP-LONG", params={"fait": "paiement"})
    assert "Paiement enregistré." in _plain(paid.text)
    forged = agent.get("/dossiers/FP-LONG", params={"fait": "<b>piraté</b>"})
    assert forged.status_code == 200
    assert 'id="fait"' not in forged.text
    assert "piraté" not in _plain(forged.text)
    agent.close()


def test_a_colleagues_call_and_claim_show_on_the_file_before_calling(server):
    runtime = server.app.state.runtime
    files = runtime.files
    runtime.accounts.add("bruno.petit", "Bruno Petit", "agent", PASSWORD)
    files.register_invoice("alice", **register_kwargs("FP-SAME"))
    called = files.log_call("bruno.petit", "FP-SAME", contact=JEAN, outcome=CallOutcome.REACHED,
                            summary="Promet pour vendredi",
                            promised_on=runtime.today() + timedelta(days=3))
    assert runtime.wait_for_views(called.notification_id)
    runtime.claims.claim(ACME.account, "bruno.petit")
    agent = log_in(server, "amelie.lecture", "agent")
    page = _plain(agent.get("/dossiers/FP-SAME").text)
    warning = page.split('id="deja-contacte">', 1)[1].split("</div>", 1)[0]
    assert "Déjà contacté aujourd'hui : Bruno Petit à" in warning
    assert warning.count("Bruno Petit") == 1                       # one call, said once
    assert "(appel, joint : promesse de paiement)" in warning
    assert "Bruno Petit appelle ce débiteur en ce moment" in page
    assert "J'appelle (15 min)" not in page                        # his claim, not hers
    assert "Promesse de 1 500,00 € pour le" in page                 # its date, in the header
    agent.close()


def test_j_appelle_from_the_file_tells_the_team_and_comes_back(server):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("alice", **register_kwargs("FP-CLAIM"))
    agent = log_in(server, "agent.claim", "agent")
    page = agent.get("/dossiers/FP-CLAIM").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    claimed = agent.post("/dossiers/FP-CLAIM/j-appelle", data={"csrf": csrf})
    assert claimed.status_code == 303
    assert claimed.headers["location"].endswith("/dossiers/FP-CLAIM")
    assert runtime.claims.of(ACME.account).login == "agent.claim"
    assert "Vous appelez ce débiteur" in _plain(agent.get("/dossiers/FP-CLAIM").text)
    assert agent.post("/dossiers/FP-CLAIM/j-appelle", data={"csrf": "x"}).status_code == 403
    agent.close()


def test_the_file_page_fits_a_phone_with_its_menu_open_and_passes_axe(server, browser):
    from axe_playwright_python.sync_playwright import Axe

    runtime = server.app.state.runtime
    _seed_day(runtime)
    runtime.files.add_note("amelie.martin", "FP-ALPHA",
                           text="Référence de virement très longue : " + "9" * 60)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server.url}/dossiers/FP-ALPHA?fait=appel")
    page.fill("#login", "amelie.martin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dossiers/FP-ALPHA*")
    page.keyboard.press("o")                                       # « Autre action »
    page.keyboard.press("?")                                       # the shortcuts
    assert page.evaluate("document.getElementById('autre-action').open")
    assert page.evaluate("document.getElementById('raccourcis').open")
    page.locator("#form-paiement > summary").click()
    page.screenshot(path=str(_shots() / "dossier-390-menu.png"), full_page=True)
    wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= inner, f"{wide} px wide for a {inner} px screen"
    serious = [(v["id"], [n["target"] for n in v["nodes"]][:3])
               for v in Axe().run(page).response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []
