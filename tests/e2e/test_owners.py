"""Owners of debtors as a supervisor gives them: from the portfolio (many at once), from a
debtor's own form, by the rules of Réglages, and from the command line; the « à attribuer »
queue of the team board. Over real HTTP on each store."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from domain.batches import Registration
from domain.debtors import debtor_id
from domain.values import Debtor
from tests.builders import ACME, GLOBEX, eur, register_kwargs
from tests.e2e.cli_runner import relance
from tests.e2e.conftest import PASSWORD, hidden, log_in

ZETA = Debtor(account="411ZETA", name="Zeta Transports")


def _text(answer) -> str:
    return html.unescape(answer.text).replace("\u202f", " ").replace("\xa0", " ")


def _register(runtime, count: int, debtor=ACME, prefix: str = "FA") -> list[str]:
    today = runtime.today()
    numbers = [f"{prefix}-{i:03d}" for i in range(1, count + 1)]
    outcomes = runtime.files.register_invoices("import", [Registration(**register_kwargs(
        number, debtor=debtor, issued_on=today - timedelta(60), due_on=today - timedelta(30)))
        for number in numbers])
    assert set(outcomes) == {"created"}
    return numbers


def _team(runtime, *logins: str) -> None:
    from adapters.infra.accounts import Role

    for login in logins:
        runtime.accounts.add(login, login.title(), Role.AGENT, PASSWORD)


def _owner_events(runtime, account: str) -> list:
    return [e for e in runtime.files.events.get(debtor_id(account))
            if type(e).__name__ == "OwnerAssigned"]


def test_a_debtor_with_40_files_moves_to_its_new_owner_from_the_portfolio_in_one_act(server):
    runtime = server.app.state.runtime
    numbers = _register(runtime, 40)
    _register(runtime, 2, debtor=GLOBEX, prefix="GL")
    _team(runtime, "amelie.martin", "bruno.petit")
    runtime.files.assign_debtors("chef", [ACME.account, GLOBEX.account], agent="amelie.martin")
    supervisor = log_in(server, "sophie.chef", "supervisor")
    page = supervisor.get("/portefeuille", params={"debiteur": ACME.account})
    assert page.text.count('name="compte" value="411ACME"') == 40  # one box per row
    answer = supervisor.post("/portefeuille/attribuer", data={
        "csrf": hidden(page.text), "compte": ACME.account, "debiteur": ACME.account,
        "titulaire": "bruno.petit", "motif": "départ d'Amélie"})
    assert answer.status_code == 303
    shown = _text(supervisor.get(answer.headers["location"]))
    assert "1 débiteur et 40 dossiers ouverts confiés à Bruno.Petit." in shown
    assert shown.count("<td>Bruno.Petit</td>") == 40
    # one act on the debtor's record, not one per file; the other debtor stays where it was
    moved = _owner_events(runtime, ACME.account)
    assert [(e.agent, e.previous, e.reason) for e in moved][-1] == (
        "bruno.petit", "amelie.martin", "départ d'Amélie")
    assert len(moved) == 2
    rows = runtime.reads.views.rows(
        "SELECT number, agent FROM {case_view} WHERE debtor_account = :a", {"a": ACME.account},
        {})
    assert {row["number"] for row in rows} == set(numbers)
    assert {row["agent"] for row in rows} == {"bruno.petit"}
    assert runtime.files.debtor_record(GLOBEX.account).owner == "amelie.martin"
    supervisor.close()


def test_every_debtor_of_a_filter_goes_to_one_owner_at_once(server):
    runtime = server.app.state.runtime
    _register(runtime, 3)
    _register(runtime, 2, debtor=GLOBEX, prefix="GL")
    _team(runtime, "chloe.durand")
    supervisor = log_in(server, "sophie.chef", "supervisor")
    page = supervisor.get("/portefeuille", params={"agent": "-"})  # nobody holds them
    answer = supervisor.post("/portefeuille/attribuer", data={
        "csrf": hidden(page.text), "agent": "-", "tous": "1", "titulaire": "chloe.durand",
        "motif": "reprise"})
    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["location"]).query)["attribues"] == ["2"]
    assert "2 débiteurs et 5 dossiers" in _text(supervisor.get(answer.headers["location"]))
    assert runtime.files.debtor_record(ACME.account).owner == "chloe.durand"
    assert runtime.files.debtor_record(GLOBEX.account).owner == "chloe.durand"
    supervisor.close()


def test_debtors_go_only_to_an_active_account_and_only_when_some_are_chosen(server, agent):
    runtime = server.app.state.runtime
    _register(runtime, 2)
    _team(runtime, "parti.depuis")
    runtime.accounts.disable("parti.depuis")
    supervisor = log_in(server, "sophie.chef", "supervisor")
    page = supervisor.get("/portefeuille")
    refused = supervisor.post("/portefeuille/attribuer", data={
        "csrf": hidden(page.text), "compte": ACME.account, "titulaire": "parti.depuis"})
    assert refused.status_code == 422
    assert "Choisissez un compte actif de l'équipe (agent ou superviseur)." in _text(refused)
    nothing = supervisor.post("/portefeuille/attribuer", data={
        "csrf": hidden(page.text), "titulaire": "agent.test"})
    assert nothing.status_code == 422
    assert "Cochez au moins un débiteur" in _text(nothing)
    assert runtime.files.debtor_record(ACME.account) is None
    # agents see the portfolio without the boxes, and may not post the form
    assert 'name="compte"' not in agent.get("/portefeuille").text
    forbidden = agent.post("/portefeuille/attribuer", data={
        "csrf": hidden(agent.get("/portefeuille").text), "compte": ACME.account,
        "titulaire": "agent.test"})
    assert forbidden.status_code == 403
    supervisor.close()


def test_the_team_board_lists_the_debtors_to_assign_and_who_owns_what(server, agent):
    runtime = server.app.state.runtime
    _register(runtime, 3)
    _register(runtime, 1, debtor=ZETA, prefix="ZT")
    recorded = runtime.files.assign_debtors("chef", ZETA.account, agent="agent.test")
    assert runtime.wait_for_views(recorded.notification_id)
    board = _text(agent.get("/equipe"))
    queue = board.split("À attribuer", 1)[1].split("</table>", 1)[0]
    assert "ACME SARL" in queue
    assert "Zeta Transports" not in queue
    assert "4 500,00 €" in queue  # three files of 1 500 €
    assert "attribuer</a>" not in queue  # the link to assign is for supervisors
    holdings = board.split("Qui suit quoi", 1)[1].split("</table>", 1)[0]
    assert "Agent.Test</a></td><td class=\"amount\">1</td><td class=\"amount\">1</td>" in holdings
    supervisor = log_in(server, "sophie.chef", "supervisor")
    board = supervisor.get("/equipe").text
    assert f'href="/titulaires/{ACME.account}">attribuer</a>' in board
    form = supervisor.get(f"/titulaires/{ACME.account}")
    assert "À attribuer" in _text(form)
    unknown = supervisor.post(f"/titulaires/{ACME.account}", data={
        "csrf": hidden(form.text), "titulaire": "inconnu", "motif": "nouveau client"})
    assert unknown.status_code == 422
    assert "Choisissez un compte actif de l'équipe" in _text(unknown)
    answer = supervisor.post(f"/titulaires/{ACME.account}", data={
        "csrf": hidden(form.text), "titulaire": "agent.test", "motif": "nouveau client"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/debiteurs/{ACME.account}?apres=")
    supervisor.get(answer.headers["location"])  # waits for the views
    queue = _text(supervisor.get("/equipe")).split("À attribuer", 1)[1].split("</table>")[0]
    assert "ACME SARL" not in queue
    assert "Aucun : chaque débiteur a son titulaire." in queue
    supervisor.close()


def test_owner_rules_set_in_settings_give_a_new_debtor_its_owner(server):
    runtime = server.app.state.runtime
    _team(runtime, "amelie.martin", "bruno.petit")
    supervisor = log_in(server, "sophie.chef", "supervisor")
    page = supervisor.get("/reglages")
    bad = supervisor.post("/reglages/attribution/regles", data={
        "csrf": hidden(page.text), "r0_agent": "amelie.martin", "r0_min": "beaucoup",
        "reason": "grands comptes"})
    assert bad.status_code == 422
    assert "Règle 1 : Les montants s'écrivent en euros" in _text(bad)
    saved = supervisor.post("/reglages/attribution/regles", data={
        "csrf": hidden(page.text), "r0_agent": "amelie.martin", "r0_min": "10 000",
        "r1_agent": "bruno.petit", "r1_from": "411A", "r1_to": "411M",
        "reason": "grands comptes à Amélie, A-M à Bruno"})
    assert saved.status_code == 303
    settings = _text(supervisor.get("/reglages"))
    assert "Version 1 en vigueur, par Sophie.Chef" in settings
    assert "grands comptes à Amélie, A-M à Bruno" in settings
    assert re.search(r'name="r1_from"[^>]* value="411A"', settings)
    runtime.files.register_invoice("import", **register_kwargs("Z-1", debtor=ZETA,
                                                               amount=eur("25000.00")))
    runtime.files.register_invoice("import", **register_kwargs("A-1"))
    recorded = runtime.files.register_invoice("import", **register_kwargs(
        "N-1", debtor=Debtor(account="411ZZZ", name="Zorro SARL")))
    assert runtime.wait_for_views(recorded.notification_id)
    assert runtime.files.debtor_record(ZETA.account).owner == "amelie.martin"
    assert runtime.files.debtor_record(ACME.account).owner == "bruno.petit"
    queue = _text(supervisor.get("/equipe")).split("À attribuer", 1)[1].split("</table>")[0]
    assert "Zorro SARL" in queue
    assert "ACME SARL" not in queue
    supervisor.close()


def test_the_command_line_gives_debtors_an_owner_and_shows_it(store_url):
    assert relance(store_url, "user", "add", "bruno.petit", "--role", "agent",
                   "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    for number in ("FA-1", "FA-2"):
        assert relance(store_url, "invoice", "register", "--number", number,
                       "--debtor-account", "411DUP", "--debtor-name", "Dupuis & Fils",
                       "--amount", "1 500,00", "--issued", "01/10/2026",
                       "--due", "31/10/2026").returncode == 0
    before = relance(store_url, "debiteur", "titulaire", "411DUP")
    assert "411DUP : à attribuer (aucun titulaire)." in before.stdout
    refused = relance(store_url, "debiteur", "attribuer", "411DUP", "--a", "personne")
    assert refused.returncode == 1
    assert "Choisissez un compte actif de l'équipe" in refused.stderr
    given = relance(store_url, "debiteur", "attribuer", "411DUP", "--a", "bruno.petit",
                    "--motif", "nouveau client")
    assert given.returncode == 0, given.stderr
    assert "1 débiteur et 2 dossiers ouverts confiés à bruno.petit." in given.stdout
    shown = relance(store_url, "debiteur", "titulaire", "411DUP")
    assert "titulaire bruno.petit" in shown.stdout
    assert "par marie.curie : nouveau client" in shown.stdout
