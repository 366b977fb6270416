"""The pages agents work from, over real HTTP with a logged-in agent."""

from datetime import timedelta

from domain.values import CallOutcome, Contact, Debtor
from tests.builders import GLOBEX, JEAN, register_kwargs
from tests.e2e.conftest import hidden, log_in

INITECH = Debtor(account="411INIT", name="Initech SAS")


def _seed(server):
    runtime = server.app.state.runtime
    files = runtime.files
    today = runtime.today()
    files.register_invoice("alice", **register_kwargs("P-1", issued_on=today - timedelta(40),
                                                      due_on=today - timedelta(10)))
    files.register_invoice("alice", **register_kwargs("P-2", issued_on=today - timedelta(5),
                                                      due_on=today + timedelta(25)))
    files.register_invoice("alice", **register_kwargs(
        "P-3", debtor=GLOBEX, issued_on=today - timedelta(200), due_on=today - timedelta(120)))
    recorded = files.assign("sophie", "P-1", agent="agent.test")
    assert runtime.wait_for_views(recorded.notification_id)
    return runtime


def test_my_day_lists_the_agents_files_with_why(server, agent):
    _seed(server)
    page = agent.get("/journee")
    assert page.status_code == 200
    assert page.text.count('<tbody class="debtor') == 1             # one row: its debtor
    assert "ACME SARL" in page.text
    assert "P-1" in page.text
    assert "Référence v1" in page.text
    assert "P-3" not in page.text


def test_the_portfolio_filters_searches_sorts_and_pages(server, agent):
    _seed(server)
    everything = agent.get("/portefeuille").text
    assert all(n in everything for n in ("P-1", "P-2", "P-3"))
    assert "Balance âgée" in everything
    assert "<svg" in everything
    overdue = agent.get("/portefeuille", params={"statut": "overdue"}).text
    assert "P-1" in overdue
    assert "P-2" not in overdue
    over_90 = agent.get("/portefeuille", params={"tranche": "over_90"}).text
    assert "P-3" in over_90
    assert "P-1" not in over_90
    by_name = agent.get("/portefeuille", params={"q": "globex"}).text
    assert "P-3" in by_name
    assert "P-1" not in by_name
    hostile = agent.get("/portefeuille", params={"q": "'; DROP TABLE case_view; --",
                                                 "tri": "1; --", "page": "1"})
    assert hostile.status_code == 200
    for bad in ({"min": "abc"}, {"max": "1e999997"}, {"min": "NaN"}, {"page": "0"},
                {"page": "9" * 5000}):
        refused = agent.get("/portefeuille", params=bad)
        assert refused.status_code == 400, bad
        assert "La demande est mal formée" in refused.text


def test_the_debtor_page_warns_that_a_colleague_called_today_and_shows_claims(server, agent):
    runtime = _seed(server)
    recorded = runtime.files.log_call("bruno", "P-1", contact=JEAN, outcome=CallOutcome.REACHED,
                                      summary="Paiement vendredi")
    assert runtime.wait_for_views(recorded.notification_id)
    page = agent.get("/debiteurs/411ACME").text
    assert "Déjà contacté aujourd'hui" in page
    assert "bruno" in page
    assert "Jean Dupont" in page
    claimed = agent.post("/debiteurs/411ACME/j-appelle", data={"csrf": hidden(page)})
    assert claimed.status_code == 303
    colleague = log_in(server, "collegue", "agent")
    assert "Agent.Test appelle" in colleague.get("/debiteurs/411ACME").text
    assert "Agent.Test appelle" in colleague.get("/equipe").text
    colleague.close()


def test_the_team_board_and_settings_follow_roles(server, agent):
    _seed(server)
    assert agent.get("/equipe").status_code == 200
    assert agent.get("/reglages").status_code == 403
    supervisor = log_in(server, "chef", "supervisor")
    settings = supervisor.get("/reglages").text
    assert "Référence" in settings
    assert "v1" in settings
    supervisor.close()


def test_absent_agents_callbacks_show_on_the_team_board(server, agent):
    runtime = _seed(server)
    today = runtime.today()
    runtime.files.log_call("absent.agent", "P-1", contact=Contact("Marie"),
                           outcome=CallOutcome.REACHED, callback_on=today)
    runtime.files.record_absence("chef", "absent.agent", today, today + timedelta(2))
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    board = agent.get("/equipe").text
    assert "rappel de absent.agent" in board


def test_a_long_worklist_shows_its_head_and_the_rest_on_demand(server, agent, monkeypatch):
    from web import work

    runtime = _seed(server)
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "P-4", debtor=INITECH, issued_on=today - timedelta(40), due_on=today - timedelta(12)))
    recorded = runtime.files.assign("sophie", "P-4", agent="agent.test")
    assert runtime.wait_for_views(recorded.notification_id)
    monkeypatch.setattr(work, "SHOWN", 1)
    head = agent.get("/journee").text
    assert "1 autre débiteur" in head
    assert "P-1" not in head                         # P-4 comes first: 12 days late, not 10
    assert "P-4" in head
    everything = agent.get("/journee", params={"tout": "true"}).text
    assert "P-1" in everything
    assert "P-4" in everything
