"""Every page each role can open, in headless Chromium at a desktop (1366 px) and a phone
(390 px) width: nothing wider than the screen, nothing in the console, no serious
accessibility fault found by axe-core; a screenshot of each kept under
test-output/screenshots/<role>-<page>-<width>.png."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.infra.accounts import (
    CAN_EXPORT,
    CAN_MANAGE_TEAM,
    CAN_RECORD,
    CAN_SEE_DASHBOARD,
    Role,
)
from domain.mail import BOUNCE, REPLY, Arrival, Destination
from domain.values import CallOutcome
from tests.builders import ACME, GLOBEX, JEAN, eur, register_kwargs
from tests.e2e.conftest import PASSWORD

SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"
WIDTHS = (1366, 390)
EVERYONE = frozenset(Role)
PAGES = (
    ("accueil", "/", EVERYONE, 200),
    ("journee", "/journee", EVERYONE, 200),
    ("portefeuille", "/portefeuille", EVERYONE, 200),
    ("equipe", "/equipe", EVERYONE, 200),
    ("envois", "/envois", EVERYONE, 200),
    ("courrier", "/courrier", CAN_RECORD | {Role.AUDITOR}, 200),
    ("tableau-de-bord", "/tableau-de-bord", CAN_SEE_DASHBOARD, 200),
    ("recherche", "/recherche?q=acme", EVERYONE, 200),
    ("imports", "/imports", CAN_MANAGE_TEAM, 200),
    ("a-valider", "/envois/a-valider", CAN_RECORD, 200),
    ("reglages", "/reglages", CAN_MANAGE_TEAM, 200),
    ("comptes", "/reglages/comptes", CAN_MANAGE_TEAM, 200),
    ("scenario", "/reglages/scenarios/reference", CAN_MANAGE_TEAM, 200),
    ("modele", "/reglages/modeles/reminder_1", CAN_MANAGE_TEAM, 200),
    ("acces-personne", "/reglages/acces-personne", CAN_EXPORT, 200),
    ("effacements", "/reglages/effacements", CAN_MANAGE_TEAM, 200),
    ("titulaire", f"/titulaires/{ACME.account}", CAN_MANAGE_TEAM, 200),
    ("compte", "/compte", EVERYONE, 200),
    ("dossier", "/dossiers/PAGE-ACME-1", EVERYONE, 200),
    ("debiteur", f"/debiteurs/{ACME.account}", EVERYONE, 200),
    ("introuvable", "/pas-une-page", EVERYONE, 404),
)
SERIOUS = ("serious", "critical")


def _seed(runtime) -> None:
    """Two debtors, three late files, a call with a promise, a reply waiting, a message
    found for nobody and a failing address: enough for every page to show rows rather
    than its empty state."""
    today = runtime.today()
    files = runtime.files
    for number, debtor, late, amount in (("PAGE-ACME-1", ACME, 30, "2400.00"),
                                         ("PAGE-ACME-2", ACME, 12, "800.00"),
                                         ("PAGE-GLOB-1", GLOBEX, 45, "15000.00")):
        files.register_invoice("import", **register_kwargs(
            number, debtor=debtor, amount=eur(amount),
            issued_on=today - timedelta(days=late + 30), due_on=today - timedelta(days=late)))
    files.assign_debtors("sophie", [ACME.account, GLOBEX.account], agent="agent.page")
    called = files.log_call("agent.page", "PAGE-ACME-1", contact=JEAN,
                            outcome=CallOutcome.REACHED, summary="Virement promis",
                            promised_on=today + timedelta(days=5))
    assert runtime.wait_for_views(called.notification_id)
    for kind, message_id, destination, extra in (
            (REPLY, "<reponse@acme.example>", Destination(ACME.account, (
                "PAGE-ACME-1", "PAGE-ACME-2"), "sender"), {}),
            (REPLY, "<perdu@ailleurs.example>", Destination(), {}),
            (BOUNCE, "<dsn@mx.acme.example>", Destination(ACME.account, ("PAGE-ACME-1",),
                                                         "thread"),
             {"failed_recipient": JEAN.email, "diagnostic": "550 5.1.1 user unknown"})):
        raw = f"Message-ID: {message_id}\r\nSubject: Re: facture\r\n\r\nBonjour,\r\n".encode()
        received = runtime.files.receive_mail("courrier", Arrival(
            message_id=message_id, sha256=runtime.blobs.put(raw, "message/rfc822"),
            size=len(raw), kind=kind, sender=JEAN.email, sender_name=JEAN.name,
            subject="Re: facture", sent_at=None, text="Bonjour,\nle virement part vendredi.",
            **extra), destination)
        assert runtime.wait_for_views(received.notification_id)


def _listened(context) -> tuple[object, list[str]]:
    """A new page of the context, and the errors its console and scripts report."""
    page = context.new_page()
    heard: list[str] = []
    page.on("console", lambda m: heard.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: heard.append(str(error)))
    page.on("response", lambda r: heard.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    return page, heard


def _visit(page, heard: list[str], role: str, name: str, url: str, status: int) -> list[str]:
    """Opens one page at each width; what is wrong with it, in words."""
    from axe_playwright_python.sync_playwright import Axe

    problems: list[str] = []
    for width in WIDTHS:
        heard.clear()
        page.set_viewport_size({"width": width, "height": 900})
        answer = page.goto(url)
        where = f"{role} {name} {width} px"
        if answer is None or answer.status != status:
            problems.append(f"{where}: HTTP {answer.status if answer else None}")
            continue
        page.screenshot(path=str(SHOTS / f"{role}-{name}-{width}.png"), full_page=True)
        wide, inner = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        if wide > inner:
            problems.append(f"{where}: {wide} px wide for a {inner} px screen")
        # a 404 logs « Failed to load resource » for the page itself: that is its answer
        errors = [text for text in heard if not (status == 404 and text.startswith("Failed"))]
        if errors:
            problems.append(f"{where}: console {errors}")
        found = Axe().run(page).response["violations"]
        for violation in found:
            if violation["impact"] in SERIOUS:
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(f"{where}: axe {violation['id']} ({violation['impact']}) "
                                f"{targets}")
    return problems


def test_every_page_fits_a_phone_logs_no_error_and_passes_axe(server, browser):
    runtime = server.app.state.runtime
    _seed(runtime)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="fr-FR")
    page, heard = _listened(context)
    problems = _visit(page, heard, "anonyme", "connexion", f"{server.url}/connexion", 200)
    context.close()
    for role in Role:
        login = f"{role.value}.page" if role is not Role.AGENT else "agent.page"
        runtime.accounts.add(login, f"Camille {role.value.title()}", role, PASSWORD)
        context = browser.new_context(locale="fr-FR")
        page, heard = _listened(context)
        page.goto(f"{server.url}/connexion")
        page.fill("#login", login)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for name, path, roles, status in PAGES:
            if role in roles:
                problems += _visit(page, heard, role.value, name, f"{server.url}{path}", status)
        context.close()
    assert problems == [], "\n".join(problems)
