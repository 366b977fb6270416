"""The demo portfolio looks like a real day, on both stores: each debtor has one owner who
made every contact with it, today's list of each agent is a current backlog of a few dozen
items, and the facts were recorded over past days, so that a file as it stood a week ago
is not the file of today."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from adapters.usecases.demo import AGENTS, seed_portfolio
from adapters.usecases.demo_mail import seed_mail
from adapters.usecases.demo_portal import seed_portal
from domain.values import paris_day
from projections.debtors import DEBTOR_TOUCHES
from projections.worklist import worklist

FILES = 300


@pytest.fixture
def demo(runtime, clock):
    """The portfolio `make run` seeds, its read models up to date."""
    numbers = seed_portfolio(runtime.files, files_count=FILES, seed=1, today=clock.today())
    runtime.refresh_views()
    return numbers


def test_each_demo_debtor_has_one_owner_whose_files_are_all_theirs(runtime, demo):
    rows = runtime.reads.views.rows("SELECT debtor_account, agent FROM {case_view}", {}, {})
    agents_of = defaultdict(set)
    for row in rows:
        agents_of[row["debtor_account"]].add(row["agent"])
    assert len(rows) == FILES
    for account, agents in agents_of.items():
        owner = runtime.files.debtor_record(account).owner
        assert owner in AGENTS
        assert agents == {owner}  # two agents never share a debtor
    owned = {runtime.files.debtor_record(account).owner for account in agents_of}
    assert owned == set(AGENTS)
    assert runtime.reads.unassigned() == ([], 0)


def test_one_person_speaks_to_a_demo_debtor_in_a_day(runtime, demo):
    touches = runtime.reads.views.rows("SELECT * FROM {debtor_touches}", {},
                                       DEBTOR_TOUCHES.columns)
    speakers = defaultdict(set)
    for touch in touches:
        speakers[(touch["account"], paris_day(touch["occurred_at"]))].add(touch["actor"])
    assert len(speakers) > FILES  # a year of contacts
    assert all(len(actors) == 1 for actors in speakers.values())


def test_each_agents_day_is_a_current_backlog_of_a_few_dozen_items(runtime, clock, demo):
    today = clock.today()
    playbook = runtime.files.open_playbook("relance")
    for agent in AGENTS:
        items = worklist(runtime.reads, playbook, runtime.calendar, today, agent)
        assert 5 <= len(items) <= 48, (agent, len(items))
        for item in items:
            line = runtime.reads.case(item.number, today)
            # nothing promised months ago: callbacks and broken promises are of the last weeks
            for promised in (line.callback_on, line.promise_on):
                assert promised is None or promised >= today - timedelta(days=21), item.why


def test_a_demo_file_as_it_stood_a_week_ago_is_not_the_file_of_today(runtime, clock, demo):
    files = runtime.files
    week_ago = clock.now - timedelta(days=7)
    changed = 0
    recorded_days = set()
    for number in demo:
        entries = files.file(number).entries
        for entry in entries:
            assert entry.occurred_at <= entry.recorded_at <= clock.now
            recorded_days.add(paris_day(entry.recorded_at))
        then = files.file_as_recorded(number, week_ago)
        if then is None or len(then.entries) < len(entries):
            changed += 1
    assert len(recorded_days) > 200  # recorded as they happened, over past days
    assert FILES // 10 <= changed < FILES


def test_the_demo_mornings_mail_gives_each_list_of_courrier_something_to_do(runtime, demo):
    assert seed_mail(runtime) == 6
    waiting = runtime.reads.replies_waiting()
    assert {r["matched_by"] for r in waiting} == {"thread"}
    assert all(r["agent"] in AGENTS for r in waiting)  # on their owners' Ma journée
    assert len(runtime.reads.failing_addresses()) == 1
    unattached = runtime.reads.incoming("unattached")
    assert "contact@agence-reseaux.example" in {m["sender"] for m in unattached}
    kinds = sorted(m["kind"] for m in runtime.reads.incoming())
    assert kinds == ["auto_reply", "bounce", "reply", "reply", "reply", "reply"]
    assert seed_mail(runtime) == 0  # the same mail twice is recorded once


def test_the_demo_gives_a_working_link_to_a_debtors_page_and_an_answer_to_handle(runtime,
                                                                               demo):
    runtime.refresh_views()
    asking = runtime.reads.latest_sent(limit=6)[5]["account"]
    url = seed_portal(runtime)
    token = url.rsplit("/p/", 1)[1]
    link = runtime.files.open_portal_link(token)
    assert link.purpose == "demo"
    assert runtime.reads.open_numbers(link.account)
    asked = runtime.reads.open_numbers(asking)[0]
    kinds = [e.kind for e in runtime.files.history(asked)]
    assert kinds[-2:] == ["InvoiceDownloaded", "PlanRequested"]
    plan = runtime.files.history(asked)[-1].data["instalments"]
    assert sum(i.amount for i in plan) == runtime.files.case(asked).outstanding
    assert runtime.files.case(asked).replies_waiting == (len(kinds),)
