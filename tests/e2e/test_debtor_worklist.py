"""Ma journée lists debtors, not invoices: one row per debtor with all its files due, on
one agent's list only; a colleague's call or « j'appelle » marks the row and sends it
after the others; the team view shows everybody's rows. Over real HTTP, on both stores."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, timedelta

from domain.values import PARIS, CallOutcome, Debtor
from tests.builders import ACME, GLOBEX, JEAN, eur, register_kwargs
from tests.e2e.conftest import log_in

INITECH = Debtor(account="411INIT", name="Initech SAS")
UMBRELLA = Debtor(account="411UMBR", name="Umbrella SARL")
DEBTOR = re.compile(r'<tbody class="debtor( marked)?" data-account="([^"]+)">(.*?)</tbody>',
                    re.S)


@dataclass
class Row:
    """A debtor's row as the page shows it: its head cells, then one list of cells a file."""

    account: str
    marked: bool
    head: list[str]
    files: list[list[str]]

    @property
    def numbers(self) -> list[str]:
        return [cells[1] for cells in self.files]

    @property
    def text(self) -> str:
        return " ".join([*self.head, *(" ".join(cells) for cells in self.files)])


def _cells(tr: str) -> list[str]:
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            .replace("\u202f", " ").replace("\xa0", " ")
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]


def rows(page: str) -> list[Row]:
    """The debtor rows of a day's list, in order."""
    found = []
    for marked, account, block in DEBTOR.findall(page):
        trs = re.findall(r"<tr[^>]*>.*?</tr>", block, re.S)
        found.append(Row(account, bool(marked), _cells(trs[0]), [_cells(tr) for tr in trs[1:]]))
    return found


def register(runtime, number: str, debtor: Debtor, late: int, amount: str = "1500.00") -> None:
    """A file of `debtor`, `late` days past its due date, never worked."""
    today = runtime.today()
    runtime.files.register_invoice("import", **register_kwargs(
        number, debtor=debtor, amount=eur(amount), issued_on=today - timedelta(days=late + 30),
        due_on=today - timedelta(days=late)))


def settle(runtime) -> None:
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())


def summary(page: str) -> str:
    block = page.split('id="resume"', 1)[1].split("</div>\n</div>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", block)).split())


def test_two_agents_never_share_a_debtor_in_their_days_lists(server):
    runtime = server.app.state.runtime
    files = runtime.files
    amelie, bruno = log_in(server, "amelie", "agent"), log_in(server, "bruno", "agent")
    for i, debtor in enumerate((ACME, GLOBEX, INITECH, UMBRELLA)):
        for j in range(2):
            register(runtime, f"{debtor.account}-{j}", debtor, late=10 + 7 * i - j)
    files.assign_debtors("chef", [ACME.account, GLOBEX.account], agent="amelie")
    files.assign_debtors("chef", [INITECH.account, UMBRELLA.account], agent="bruno")
    files.assign("chef", "411INIT-1", agent="amelie")           # an exception, for one file
    files.schedule_callback("bruno", "411ACME-1", callback_on=runtime.today(), owner="bruno",
                            reason="Il rappelle la comptable d'ACME")
    settle(runtime)

    hers, his = rows(amelie.get("/journee").text), rows(bruno.get("/journee").text)
    assert {r.account for r in hers} & {r.account for r in his} == set()
    assert {r.account for r in hers} == {GLOBEX.account}
    # ACME is Amélie's, but Bruno promised its callback today: the debtor is his today,
    # with Amélie's file in the same row; Initech stays Bruno's with Amélie's exception.
    assert [r.account for r in his] == [ACME.account, UMBRELLA.account, INITECH.account]
    acme, _, initech = his
    assert acme.numbers == ["411ACME-1", "411ACME-0"]
    assert "rappel promis pour le" in acme.files[0][-1]
    assert "(dossier suivi par Amelie)" in acme.files[1][-1]
    assert initech.numbers == ["411INIT-0", "411INIT-1"]
    assert "(dossier suivi par Amelie)" in initech.files[1][-1]
    chef = log_in(server, "chef", "supervisor")
    team = rows(chef.get("/journee", params={"equipe": "1"}).text)
    assert sorted(r.account for r in team) == sorted(r.account for r in hers + his)

    # Bruno away: the callback he promised goes back to the debtor's own agent
    files.record_absence("chef", "bruno", runtime.today(), runtime.today() + timedelta(days=2))
    settle(runtime)
    hers, his = rows(amelie.get("/journee").text), rows(bruno.get("/journee").text)
    assert [r.account for r in hers] == [ACME.account, GLOBEX.account]
    assert [r.account for r in his] == [UMBRELLA.account, INITECH.account]
    for http in (amelie, bruno, chef):
        http.close()


def test_a_debtor_with_three_files_due_is_one_row_with_count_total_oldest_and_strongest_action(
        server):
    runtime = server.app.state.runtime
    files = runtime.files
    today = runtime.today()
    amelie = log_in(server, "amelie", "agent")
    register(runtime, "A-1", ACME, late=10, amount="1000.00")
    register(runtime, "A-2", ACME, late=40, amount="2000.00")
    files.register_invoice("import", **register_kwargs(
        "A-3", debtor=ACME, amount=eur("300.00"), issued_on=today - timedelta(days=20),
        due_on=today + timedelta(days=10)))                      # not due, but a callback today
    register(runtime, "G-1", GLOBEX, late=60, amount="9000.00")
    files.assign_debtors("chef", [ACME.account, GLOBEX.account], agent="amelie")
    files.schedule_callback("amelie", "A-3", callback_on=today, owner="amelie",
                            reason="Rappeler Jean Dupont")
    settle(runtime)

    page = amelie.get("/journee").text
    listed = rows(page)
    # a promised callback comes before a scenario step, whatever the amounts
    assert [r.account for r in listed] == [ACME.account, GLOBEX.account]
    acme = listed[0]
    _, name, count, total, oldest, action, _marks = acme.head
    assert name == "ACME SARL 411ACME"
    assert (count, total, oldest, action) == ("3", "3 300,00 €", "40 j", "rappeler")
    assert acme.numbers == ["A-3", "A-2", "A-1"]
    why = {cells[1]: cells[-1] for cells in acme.files}
    assert why["A-3"].startswith(f"rappel promis pour le {today:%d/%m/%Y}")
    for number, due in (("A-2", today - timedelta(days=40)), ("A-1", today - timedelta(days=10))):
        assert f"Référence v1 : J première relance, prévu le {due:%d/%m/%Y}" in why[number]
        assert "dossier jamais relancé" in why[number]
    assert [cells[3] for cells in acme.files] == ["300,00 €", "2 000,00 €", "1 000,00 €"]
    assert "Débiteurs 2 Dossiers 4 Reste dû 12 300,00 €" in summary(page).replace("\u202f", " ")
    amelie.close()


def test_a_debtor_contacted_or_claimed_by_a_colleague_is_marked_and_comes_after_the_others(
        server):
    runtime = server.app.state.runtime
    files = runtime.files
    amelie = log_in(server, "amelie", "agent")
    register(runtime, "A-1", ACME, late=60, amount="5000.00")
    register(runtime, "A-2", ACME, late=50, amount="4000.00")
    register(runtime, "G-1", GLOBEX, late=30, amount="3000.00")
    register(runtime, "I-1", INITECH, late=10, amount="1000.00")
    files.assign_debtors("chef", [ACME.account, GLOBEX.account, INITECH.account], agent="amelie")
    settle(runtime)
    before = rows(amelie.get("/journee").text)
    assert [(r.account, r.marked) for r in before] == [
        (ACME.account, False), (GLOBEX.account, False), (INITECH.account, False)]

    files.log_call("bruno", "A-1", contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Virement en préparation")
    runtime.claims.claim(GLOBEX.account, "bruno")
    runtime.claims.claim(INITECH.account, "amelie")              # her own claim marks nothing
    settle(runtime)
    called_at = runtime.reads.touches_on(runtime.today())[0]["occurred_at"].astimezone(PARIS)
    page = amelie.get("/journee").text
    after = rows(page)
    assert [(r.account, r.marked) for r in after] == [
        (INITECH.account, False), (ACME.account, True), (GLOBEX.account, True)]
    initech, acme, globex = after
    assert f"déjà contacté aujourd'hui par bruno à {called_at:%H:%M} (appel)" in acme.head[-1]
    assert acme.numbers == ["A-2"]                # A-1 was the call; A-2 waits, marked
    assert globex.head[-1] == "bruno appelle"
    assert initech.head[-1] == "vous appelez (« J'appelle »)"
    assert "Fait aujourd'hui 0 sur 3" in summary(page)

    files.log_call("amelie", "I-1", contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Paiement en fin de semaine")
    settle(runtime)
    page = amelie.get("/journee").text
    done = rows(page)
    assert [r.account for r in done] == [ACME.account, GLOBEX.account, INITECH.account]
    assert done[2].marked
    assert done[2].numbers == []
    assert "rien d'autre à faire aujourd'hui" in done[2].head
    assert "fait : contacté par vous à" in done[2].head[-1]
    assert "Fait aujourd'hui 1 sur 3" in summary(page)
    amelie.close()


def test_the_team_view_shows_every_agents_rows_and_supervisors_land_on_it(server):
    runtime = server.app.state.runtime
    files = runtime.files
    register(runtime, "A-1", ACME, late=30)
    register(runtime, "G-1", GLOBEX, late=20)
    register(runtime, "I-1", INITECH, late=10)                   # nobody's yet
    files.assign_debtors("chef", ACME.account, agent="amelie")
    files.assign_debtors("chef", GLOBEX.account, agent="bruno")
    settle(runtime)
    everybody = [(ACME.account, "amelie"), (GLOBEX.account, "bruno"),
                 (INITECH.account, "à attribuer")]

    chef = log_in(server, "chef", "supervisor")
    assert ">Équipe — " in chef.get("/").text                   # supervisors land on the board
    landing = chef.get("/journee", params={"equipe": "1"})
    assert landing.status_code == 200
    assert "Journée de l'équipe du" in landing.text
    assert "<th>Agent</th>" in landing.text
    assert [(r.account, r.head[2]) for r in rows(landing.text)] == everybody
    # « toute l'équipe » chosen in the form: the team, not the supervisor's own empty list
    chosen = chef.get("/journee", params={"agent": "", "equipe": "1"}).text
    assert [(r.account, r.head[2]) for r in rows(chosen)] == everybody
    one = chef.get("/journee", params={"agent": "bruno", "equipe": "1"}).text
    assert "Journée de bruno du" in one
    assert "<th>Agent</th>" not in one
    assert [r.account for r in rows(one)] == [GLOBEX.account]
    own = chef.get("/journee").text
    assert "Ma journée du" in own
    assert "Rien à faire ce jour." in own

    amelie = log_in(server, "amelie", "agent")
    home = amelie.get("/")
    assert home.status_code == 200
    assert "Ma journée du" in home.text
    assert "<th>Agent</th>" not in home.text
    assert [r.account for r in rows(home.text)] == [ACME.account]
    auditor = log_in(server, "audit", "auditor")
    assert ">Portefeuille</h1>" in auditor.get("/").text
    for http in (chef, amelie, auditor):
        http.close()


def test_a_day_without_work_and_an_unreadable_day_still_answer(server):
    amelie = log_in(server, "amelie", "agent")
    for params in ({}, {"jour": "31/02/2026"}, {"jour": "n'importe"},
                   {"jour": date(2026, 1, 1).isoformat(), "equipe": "1"}):
        answer = amelie.get("/journee", params=params)
        assert answer.status_code == 200, params
        assert "Rien à faire ce jour." in answer.text
    amelie.close()


def test_a_long_day_shows_its_first_debtors_with_approximate_totals_and_the_rest_on_demand(
        server, monkeypatch):
    from projections import worklist
    from web import work

    runtime = server.app.state.runtime
    amelie = log_in(server, "amelie", "agent")
    register(runtime, "A-1", ACME, late=50, amount="5000.00")
    register(runtime, "A-2", ACME, late=40, amount="4000.00")
    register(runtime, "G-1", GLOBEX, late=30, amount="3000.00")
    register(runtime, "I-1", INITECH, late=20, amount="2000.00")
    runtime.files.assign_debtors("chef", [ACME.account, GLOBEX.account, INITECH.account],
                                 agent="amelie")
    settle(runtime)
    monkeypatch.setattr(work, "SHOWN", 1)
    monkeypatch.setattr(worklist, "CHUNK", 2)                    # reading stops after ACME

    head = amelie.get("/journee").text
    assert [(r.account, r.numbers) for r in rows(head)] == [(ACME.account, ["A-1", "A-2"])]
    assert "Débiteurs ≈ 3 Dossiers ≈ 4 Reste dû 14 000,00 €" in summary(head).replace(
        "\u202f", " ")                              # ACME as read, the rest from the selection
    assert "Chiffres approchés" in head
    assert "environ 2 autres débiteurs" in head
    everything = amelie.get("/journee", params={"tout": "true"}).text
    assert [r.account for r in rows(everything)] == [ACME.account, GLOBEX.account, INITECH.account]
    assert "Débiteurs 3 Dossiers 4 Reste dû 14 000,00 €" in summary(everything).replace(
        "\u202f", " ")
    assert "Chiffres approchés" not in everything
    amelie.close()
