"""The tableau de bord draws what a supervisor asks of the portfolio: aging by bucket and by
agent, DSO over twelve months with its denominator, the recovery curve, the broken-promise
rate and each agent's week, in euros, saying which files in other currencies are left out.
Over real HTTP, on both stores, with figures worked out by hand."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta

from adapters.infra.accounts import Role
from domain.values import CallOutcome, Channel, Debtor, Money, PaymentMeans
from tests.builders import ACME, JEAN, eur, register_kwargs
from tests.e2e.conftest import PASSWORD, browser_log_in, log_in

GLOBEX_USD = Debtor(account="411GLOB", name="Globex Inc")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()) \
        .replace("\u202f", " ").replace("\xa0", " ")


def section(page: str, anchor: str) -> str:
    """The text of one of the dashboard's sections."""
    return re.split(f'<section class="[^"]*" id="{anchor}">', page, maxsplit=1)[1] \
        .split("</section>", 1)[0]


def row(block: str, attribute: str, value: str) -> str:
    """The text of the table row carrying `attribute="value"`."""
    return _text(block.split(f'{attribute}="{value}"', 1)[1].split(">", 1)[1]
                 .split("</tr>", 1)[0])


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def register(runtime, number: str, amount: str, issued: date, due: date,
             debtor: Debtor = ACME, currency: str = "EUR") -> None:
    runtime.files.register_invoice("import", **register_kwargs(
        number, debtor=debtor, amount=Money(eur(amount).amount, currency), issued_on=issued,
        due_on=due))


def pay(runtime, number: str, amount: str, on: date) -> None:
    runtime.files.receive_payment("compta", number, amount=eur(amount), received_on=on,
                                  means=PaymentMeans.TRANSFER, occurred_at=at(on))


def month_start(day: date, back: int) -> date:
    """The first day of the month `back` months before `day`'s."""
    month = day.month - 1 - back
    return date(day.year + month // 12, month % 12 + 1, 1)


def seed(server) -> dict[str, object]:
    """A small portfolio whose figures are worked out by hand below."""
    runtime = server.app.state.runtime
    runtime.accounts.add("amelie.martin", "Amélie Martin", Role.AGENT, PASSWORD)
    today = runtime.today()
    # Open files: D1 unpaid, D2 partly paid; D3 issued over a year ago and paid.
    register(runtime, "D1", "1000.00", today - timedelta(days=100), today - timedelta(days=70))
    register(runtime, "D2", "3000.00", today - timedelta(days=40), today - timedelta(days=10))
    register(runtime, "D3", "2000.00", today - timedelta(days=400), today - timedelta(days=370))
    pay(runtime, "D2", "1000.00", today - timedelta(days=5))
    pay(runtime, "D3", "2000.00", today - timedelta(days=360))
    # Two files due the 15th of a month five months ago: R2 paid before its due date, R1
    # paid 400 ten days after it and 300 fifty days after it.
    due = month_start(today, 5) + timedelta(days=14)
    register(runtime, "R1", "1000.00", due - timedelta(days=30), due)
    register(runtime, "R2", "1000.00", due - timedelta(days=30), due)
    pay(runtime, "R2", "1000.00", due - timedelta(days=5))
    pay(runtime, "R1", "400.00", due + timedelta(days=10))
    pay(runtime, "R1", "300.00", due + timedelta(days=50))
    # A file in dollars: never added to euros.
    register(runtime, "U1", "5000.00", today - timedelta(days=20), today + timedelta(days=10),
             debtor=GLOBEX_USD, currency="USD")
    # Two promises past their date: D1's (nothing paid: broken), D2's (1 000 paid: kept).
    runtime.files.log_call("bruno", "D1", contact=JEAN, outcome=CallOutcome.REACHED,
                           promised_on=today - timedelta(days=10),
                           promised_amount=eur("1000.00"),
                           occurred_at=at(today - timedelta(days=20)))
    runtime.files.log_call("bruno", "D2", contact=JEAN, outcome=CallOutcome.REACHED,
                           promised_on=today - timedelta(days=3), promised_amount=eur("1000.00"),
                           occurred_at=at(today - timedelta(days=8)))
    # Amélie's week: one call with a promise of 300 € on R1, one e-mail to Globex.
    runtime.files.log_call("amelie.martin", "R1", contact=JEAN, outcome=CallOutcome.REACHED,
                           promised_on=today + timedelta(days=5), promised_amount=eur("300.00"))
    runtime.files.send_reminder("amelie.martin", "U1", channel=Channel.EMAIL, level=1,
                                recipient="compta@globex.example")
    recorded = runtime.files.assign_debtors("chef", [ACME.account], agent="amelie.martin")
    assert runtime.wait_for_views(recorded.notification_id)
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    return {"today": today, "due": due}


def test_the_dashboard_shows_dso_recovery_promises_aging_and_activity_worked_out_by_hand(server):
    facts = seed(server)
    today, due = facts["today"], facts["due"]
    supervisor = log_in(server, "sophie.chef", "supervisor")
    answer = supervisor.get("/tableau-de-bord")
    assert answer.status_code == 200
    page = answer.text

    # DSO today: receivables D1 1 000 + D2 2 000 + R1 300 = 3 300 €; sales of the last 365
    # days D1 + D2 + R1 + R2 = 6 000 € (D3, issued 400 days ago, is not in them):
    # 3 300 / 6 000 × 365 = 200,75 → 201 days.
    dso = section(page, "dso")
    assert row(dso, "data-mois", today.isoformat()) == \
        f"{today:%d/%m/%Y} 3 300,00 € 6 000,00 € 201 j"
    assert "toutes les factures importées" in _text(dso)
    assert "<svg" in dso
    assert "<title" in dso

    # Recovery of the month of R1 and R2: 1 000 € still owed at the due dates (R2 paid
    # before); 400 € within 30 days, 700 € within 60 and 90 days.
    recovery = section(page, "recouvrement")
    month = row(recovery, "data-mois", due.replace(day=1).isoformat())
    assert month.endswith("1 000,00 € 40,00 % 70,00 % 70,00 %"), month

    # Broken promises: D1's broken, D2's kept (1 000 € paid between promise and date).
    promises = section(page, "promesses")
    d1_month = (today - timedelta(days=10)).replace(day=1)
    d2_month = (today - timedelta(days=3)).replace(day=1)
    if d1_month == d2_month:
        assert row(promises, "data-mois", d1_month.isoformat()).endswith("2 1 50,00 %")
    else:
        assert row(promises, "data-mois", d1_month.isoformat()).endswith("1 1 100,00 %")
        assert row(promises, "data-mois", d2_month.isoformat()).endswith("1 0 0,00 %")

    # Aging in euros only: D2 in 1-30 days, D1 in 61-90, R1 over 90; the dollars are apart.
    aging = _text(section(page, "anciennete"))
    assert "0,00 € 2 000,00 € 0,00 € 1 000,00 € 300,00 € 3 300,00 €" in aging
    assert "5 000" not in aging
    by_agent = _text(section(page, "anciennete-agents"))
    assert "Amélie Martin 0,00 € 2 000,00 € 0,00 € 1 000,00 € 300,00 € 3 300,00 €" in by_agent
    assert "amelie.martin" not in by_agent
    assert "1 dossier en USD n'est pas compté dans ces graphiques" in _text(page)

    # Amélie's week: 1 call, 1 promise of 300 €, 1 e-mail; Bruno's calls are older.
    activity = section(page, "activite")
    assert row(activity, "data-qui", "amelie.martin") == "Amélie Martin 1 1 300,00 € 1"
    assert 'data-qui="bruno"' not in activity
    supervisor.close()


def test_only_supervisors_admins_and_auditors_see_the_dashboard(server, agent):
    assert agent.get("/tableau-de-bord").status_code == 403
    auditor = log_in(server, "audit.test", "auditor")
    page = auditor.get("/tableau-de-bord")
    assert page.status_code == 200
    assert "Pas encore de données" in page.text or "<svg" in page.text
    assert 'href="/tableau-de-bord"' in auditor.get("/equipe").text
    assert 'href="/tableau-de-bord"' not in agent.get("/equipe").text
    auditor.close()


def test_the_charts_obey_the_content_policy(server):
    seed(server)
    supervisor = log_in(server, "sophie.chef", "supervisor")
    answer = supervisor.get("/tableau-de-bord")
    assert "style=" not in answer.text
    assert "<script>" not in answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    supervisor.close()


def test_every_table_of_the_dashboard_shows_whole_at_desktop_widths_with_millions(server,
                                                                                  browser):
    """Three agents each owing millions in every bucket: at 1366 px and wider, no table of
    the dashboard hides a column (the agents' « Total » was cut at the right edge)."""
    runtime = server.app.state.runtime
    runtime.accounts.add("sophie.chef", "Sophie Laurent", Role.SUPERVISOR, PASSWORD)
    today = runtime.today()
    for n, agent in enumerate(("amelie.martin", "bruno.petit", "chloe.durand")):
        runtime.accounts.add(agent, agent.replace(".", " ").title(), Role.AGENT, PASSWORD)
        debtor = Debtor(account=f"411BIG{n}", name=f"Grand Compte {n}")
        for late in (-10, 10, 40, 70, 120):  # one invoice in each bucket, « Non échu » first
            register(runtime, f"BIG-{n}-{late}", "4876543.21", today - timedelta(days=late + 30),
                     today - timedelta(days=late), debtor=debtor)
        recorded = runtime.files.assign_debtors("chef", [debtor.account], agent=agent)
        assert runtime.wait_for_views(recorded.notification_id)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    browser_log_in(page, server.url, "sophie.chef")
    page.goto(f"{server.url}/tableau-de-bord")
    by_agent = _text(page.locator("#anciennete-agents").inner_html())
    assert "4 876 543,21 € 24 382 716,05 €" in by_agent  # an agent's last bucket, and total
    for width in (1366, 1600):
        page.set_viewport_size({"width": width, "height": 900})
        hidden = page.evaluate("""() => [...document.querySelectorAll('.table-responsive')]
            .filter(box => box.scrollWidth > box.clientWidth)
            .map(box => `${box.getAttribute('aria-label')}: ${box.scrollWidth} px in `
                        + box.clientWidth)""")
        assert hidden == [], f"{width} px: {hidden}"
    page.close()
