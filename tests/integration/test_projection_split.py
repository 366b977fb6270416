"""A rebuild split across processes, each with a share of the debtors, gives exactly the
rows a rebuild in one process gives; on SQLite (one writer at a time) it is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.infra.store import parse_database_url
from adapters.usecases.demo import seed_portfolio
from adapters.usecases.demo_mail import seed_mail
from adapters.usecases.demo_portal import seed_portal
from adapters.usecases.rebuild import ShareFailed, SplitRefused, rebuild
from projections.runner import partition_names
from projections.storage import Write
from tests.builders import dump_views

pytestmark = pytest.mark.alone  # up to 50 PostgreSQL sessions at once

RELANCE = str(Path(sys.executable).parent / "relance")


@pytest.fixture
def portfolio(runtime):
    """The demo's stories on 150 files (owners, calls, promises, payments, plans), a
    morning's mail, a debtor's page used, and a playbook changed half-way through the
    log: every kind of event a read model takes."""
    files = runtime.files
    numbers = seed_portfolio(files, files_count=150, seed=5, today=runtime.today())
    playbook = files.open_playbook("system")
    reference = playbook.scenario("reference")
    files.set_scenario("sophie", reference.__class__(
        "patient", "Débiteur patient", reference.steps[3:], 3), reason="Client historique")
    files.choose_debtor_scenario("sophie", files.case(numbers[0]).debtor.account, "patient")
    runtime.refresh_views()
    seed_mail(runtime)
    seed_portal(runtime)
    runtime.refresh_views()
    return runtime


def test_a_rebuild_split_three_ways_gives_the_rows_of_a_rebuild_in_one_process(portfolio):
    runtime = portfolio
    projections = runtime.follower.projections
    head = rebuild(runtime)
    alone = dump_views(runtime.views, projections)
    assert len(alone["history"]) > 900
    assert len({r["debtor_account"] for r in alone["case_view"]}) > 20

    if not parse_database_url(runtime.settings.database_url).is_postgres:
        with pytest.raises(SplitRefused):
            rebuild(runtime, processes=3)
        assert dump_views(runtime.views, projections) == alone  # refused before emptying
        return

    assert rebuild(runtime, processes=3) == head
    assert dump_views(runtime.views, projections) == alone
    for projection in projections:
        assert runtime.views.position(projection.name) == head
        assert [runtime.views.position(n) for n in partition_names(projection.name, 3)] \
            == [0, 0, 0], "the shares' positions are joined, then dropped"


def test_the_command_rebuilds_in_several_processes_or_says_why_not(portfolio, store_url):
    runtime = portfolio
    env = {**os.environ, "RELANCE_DATABASE_URL": store_url}
    done = subprocess.run([RELANCE, "projections", "rebuild", "--processus", "2"],
                          env=env, capture_output=True, text=True, timeout=300)
    head = runtime.files.recorder.max_notification_id()
    if parse_database_url(store_url).is_postgres:
        assert done.returncode == 0, done.stderr
        assert f"Vues reconstruites jusqu'au fait n° {head}, en 2 processus." in done.stdout
        assert all(runtime.views.position(p.name) == head
                   for p in runtime.follower.projections)
    else:
        assert done.returncode == 2
        assert "sur SQLite, un seul processus écrit à la fois" in done.stderr


def test_a_share_that_fails_stops_the_rebuild_and_nothing_is_joined(portfolio, monkeypatch):
    runtime = portfolio
    if not parse_database_url(runtime.settings.database_url).is_postgres:
        pytest.skip("a split rebuild is refused on SQLite (see above)")
    head = runtime.files.recorder.max_notification_id()
    monkeypatch.setenv("RELANCE_PORTAL_DAYS", "trois")  # the shares cannot start
    with pytest.raises(ShareFailed, match="RELANCE_PORTAL_DAYS"):
        rebuild(runtime, processes=2)
    assert all(runtime.views.position(p.name) == 0 for p in runtime.follower.projections)
    monkeypatch.delenv("RELANCE_PORTAL_DAYS")
    assert rebuild(runtime, processes=2) == head
    assert all(runtime.views.position(p.name) == head for p in runtime.follower.projections)


def test_status_shows_the_shares_of_a_rebuild_that_did_not_finish(portfolio, store_url):
    runtime = portfolio
    if not parse_database_url(store_url).is_postgres:
        pytest.skip("a split rebuild is refused on SQLite (see above)")
    runtime.views.reset(runtime.follower.projections[1])  # history, then two shares of it
    runtime.views.apply([Write("history@0/2", [], 40), Write("history@1/2", [], 35)])
    env = {**os.environ, "RELANCE_DATABASE_URL": store_url}
    shown = subprocess.run([RELANCE, "projections", "status"], env=env, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    head = runtime.files.recorder.max_notification_id()
    lines = [line.split() for line in shown.splitlines() if "part" in line]
    assert [[w for w in line if w.isdigit()] for line in lines] == [
        ["1", "2", "40", str(head), str(head - 40)], ["2", "2", "35", str(head), str(head - 35)]]
