"""Colleagues recording on the same file at once never lose a fact."""

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from adapters.usecases.evidence import walk
from domain.errors import FileClosed
from domain.invoice import invoice_id
from projections import outage
from tests.builders import register_kwargs

# Eight runtimes at once open up to 100 PostgreSQL sessions, and one test ends every idle
# session of the test database, other tests' too.
pytestmark = pytest.mark.alone

THREADS = 8
COMMANDS = 50


def test_eight_workers_times_fifty_commands_on_one_file_record_exactly_400_facts(
    store_url, clock, caplog
):
    """Each worker has its own service and connections, like separate web workers."""
    caplog.set_level(logging.INFO, logger="relance.commands")
    runtimes = [bootstrap(Settings(database_url=store_url), clock=clock) for _ in range(THREADS)]
    try:
        runtimes[0].files.register_invoice("alice", **register_kwargs())

        def work(worker: int) -> int:
            files = runtimes[worker].files
            for n in range(COMMANDS):
                files.add_note(f"agent{worker}", "FA-2026-0001", text=f"note {worker}/{n}")
            return COMMANDS

        with ThreadPoolExecutor(THREADS) as pool:
            done = sum(pool.map(work, range(THREADS)))
        stored = runtimes[0].files.recorder.select_events(invoice_id("FA-2026-0001"))
        assert done == THREADS * COMMANDS
        assert [s.originator_version for s in stored] == list(range(1, 2 + THREADS * COMMANDS))
        notes = {e.data["text"] for e in runtimes[0].files.history("FA-2026-0001")[1:]}
        assert len(notes) == THREADS * COMMANDS
        assert walk(runtimes[0].files)[1] is None                        # every chain holds
        retries = [r for r in caplog.records if r.getMessage() == "version conflict, retrying"]
        assert retries, "the workers never collided: the test did not test concurrency"
    finally:
        for runtime in runtimes:
            runtime.close()


def test_a_command_decides_on_what_a_colleagues_process_recorded_meanwhile(store_url, clock):
    """Each process keeps the files it last saved; a colleague's fact recorded through
    another process must still count: a file written off there takes no new agent here."""
    here, there = (bootstrap(Settings(database_url=store_url), clock=clock) for _ in range(2))
    try:
        here.files.register_invoice("alice", **register_kwargs())
        here.files.add_note("alice", "FA-2026-0001", text="vu ici")
        there.files.add_note("bob", "FA-2026-0001", text="vu là-bas")
        there.files.write_off("bob", "FA-2026-0001", reason="Client liquidé")
        with pytest.raises(FileClosed):
            here.files.assign("alice", "FA-2026-0001", agent="carole")
        assert [e.kind for e in here.files.history("FA-2026-0001")][-2:] == [
            "NoteAdded", "WrittenOff"]
    finally:
        here.close()
        there.close()


@pytest.mark.postgres
def test_connections_the_server_dropped_are_replaced_before_a_command_uses_them(
    postgres_url, clock
):
    """A pooled connection the server has closed (restart, administrator) is replaced
    before a command uses it."""
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        runtime.files.register_invoice("alice", **register_kwargs())
        store = runtime.store
        with psycopg.connect(store.conninfo, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle' AND application_name = ''").fetchone()[0]
        assert killed >= 1
        time.sleep(0.2)
        for n in range(5):
            runtime.files.add_note("alice", "FA-2026-0001", text=f"note {n}")
        assert len(runtime.files.history("FA-2026-0001")) == 6
    finally:
        runtime.close()


def test_a_persons_key_is_made_on_a_connection_the_server_dropped_a_moment_ago(
    postgres_url, clock, monkeypatch
):
    """Right after a restart, a pooled connection checked a moment ago is handed out
    unchecked (`RECHECK_AFTER`): the key's read or creation fails on it and is tried
    again on a live one, as every other statement is."""
    monkeypatch.setattr(outage, "RECHECK_AFTER", 3600.0)  # none is checked again
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        runtime.files.register_invoice("alice", **register_kwargs())
        keys = runtime.files.sealer.keys
        assert keys.held() >= 1  # the pool's connections used, and checked, just now
        with psycopg.connect(runtime.store.conninfo, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle' AND application_name = ''")
        keys.prefetch({"p-nouvelle-personne"}, create=True)
        assert keys.key("p-nouvelle-personne", create=False)
    finally:
        runtime.close()


def _first_writing_behind_the_lock(runtime, holder, pool):
    """Takes the log's lock on `holder`'s transaction, then submits a note on
    FA-2026-0001 and waits until it is the write waiting for that lock."""
    files, schema = runtime.files, runtime.store.schema
    table = (f'"{schema}".' if schema else "") + f'"{files.recorder.events_table_name}"'
    holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    first = pool.submit(files.add_note, "alice", "FA-2026-0001", text="d'abord")
    grouped = files.recorder.grouped
    _until(lambda: grouped.writing and grouped.queued == 0, "the first command writing")
    return first


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.005)


@pytest.mark.postgres
@pytest.mark.parametrize("second_on", ["FA-2026-0003", "FA-2026-0002"])
def test_commands_saved_while_the_log_is_busy_are_written_together_each_in_its_place(
    postgres_url, clock, second_on
):
    """While one command's transaction waits for the log's lock, the commands saved in
    the same process meanwhile are written in one transaction after it; each gets its
    own facts and positions. Two of them on the same file (FA-2026-0002 twice) make the
    grouped write a version conflict: the group is written again one by one, and the
    loser is decided again on the winner's state; nothing is lost either way."""
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        files = runtime.files
        for number in ("FA-2026-0001", "FA-2026-0002", "FA-2026-0003", "FA-2026-0004"):
            files.register_invoice("alice", **register_kwargs(number))
        grouped = files.recorder.grouped
        store = runtime.store
        with ThreadPoolExecutor(4) as pool, psycopg.connect(store.conninfo) as holder:
            first = _first_writing_behind_the_lock(runtime, holder, pool)
            later = [pool.submit(files.add_note, "bob", number, text=f"pendant {n}")
                     for n, number in enumerate(["FA-2026-0002", second_on, "FA-2026-0004"])]
            _until(lambda: grouped.queued == 3, "three commands queued behind it")
            holder.commit()  # the lock is released: the first is written, then the rest
            answers = [first.result(timeout=30)] + [f.result(timeout=30) for f in later]
        conflict = second_on == "FA-2026-0002"
        assert grouped.groups == (0 if conflict else 1)
        positions = [answer.notification_id for answer in answers]
        assert len(set(positions)) == 4
        assert positions[0] == min(positions)  # the first committed before the group
        runtime.wait_for_views(max(positions))
        notes = {number: [e.data["text"] for e in files.history(number) if e.kind == "NoteAdded"]
                 for number in ("FA-2026-0001", "FA-2026-0002", "FA-2026-0003", "FA-2026-0004")}
        assert notes["FA-2026-0001"] == ["d'abord"]
        assert notes["FA-2026-0004"] == ["pendant 2"]
        assert sorted(notes["FA-2026-0002"]) == (["pendant 0", "pendant 1"] if conflict
                                                 else ["pendant 0"])
        assert notes["FA-2026-0003"] == ([] if conflict else ["pendant 1"])
        versions = [s.originator_version
                    for s in files.recorder.select_events(invoice_id("FA-2026-0002"))]
        assert versions == list(range(1, len(versions) + 1))
        assert walk(files)[1] is None  # every chain holds
    finally:
        runtime.close()


@pytest.mark.postgres
def test_a_fact_the_database_refuses_fails_its_own_command_and_not_those_grouped_with_it(
    postgres_url, clock
):
    """Three commands queue behind a busy log; the database refuses the data of one of
    them (a NUL character, which PostgreSQL text cannot hold). The group is written again
    one by one: that command gets the refusal, the two others are recorded."""
    from uuid import uuid4

    from eventsourcing.persistence import DataError, StoredEvent

    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        files = runtime.files
        for number in ("FA-2026-0001", "FA-2026-0002", "FA-2026-0003"):
            files.register_invoice("alice", **register_kwargs(number))
        grouped = files.recorder.grouped
        refused = StoredEvent(originator_id=uuid4(), originator_version=1,
                              topic="domain.invoice:Invoice.NoteAdded\x00", state=b"{}")
        store = runtime.store
        with ThreadPoolExecutor(4) as pool, psycopg.connect(store.conninfo) as holder:
            first = _first_writing_behind_the_lock(runtime, holder, pool)
            good = pool.submit(files.add_note, "bob", "FA-2026-0002", text="pendant")
            _until(lambda: grouped.queued == 1, "a command queued behind it")
            bad = pool.submit(files.recorder.insert_events, [refused])
            _until(lambda: grouped.queued == 2, "the refused one queued too")
            last = pool.submit(files.add_note, "bob", "FA-2026-0003", text="ensuite")
            _until(lambda: grouped.queued == 3, "three commands queued")
            transactions = grouped.transactions
            holder.commit()
            answers = [first.result(timeout=30), good.result(timeout=30),
                       last.result(timeout=30)]
            with pytest.raises(DataError):
                bad.result(timeout=30)
        assert grouped.groups == 0
        assert grouped.transactions - transactions == 1 + 3  # the group, then each alone
        runtime.wait_for_views(max(a.notification_id for a in answers))
        for number, text in (("FA-2026-0001", "d'abord"), ("FA-2026-0002", "pendant"),
                             ("FA-2026-0003", "ensuite")):
            notes = [e.data["text"] for e in files.history(number) if e.kind == "NoteAdded"]
            assert notes == [text], number
        assert not list(files.recorder.select_events(refused.originator_id))
        assert walk(files)[1] is None
    finally:
        runtime.close()


@pytest.mark.postgres
def test_commands_queued_behind_a_write_that_lost_the_database_fail_at_once(
    postgres_base_url, clock
):
    """Three commands queue behind a write waiting for the log's lock; then the database
    refuses every connection of relance (its sessions ended, no new one allowed). The
    write fails, and the three get its error at once: they do not each wait out the
    pool's timeout in turn, one group after the other, which made a request in flight
    during an outage answer after several budgets instead of one. Their budgets (1 s)
    are spent before the database goes, so none tries again: one write was attempted."""
    from eventsourcing.persistence import PersistenceError
    from psycopg import sql

    from adapters.infra.store import parse_database_url
    from projections.outage import connection_lost

    base = parse_database_url(postgres_base_url)
    name = "relance_gc_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base.conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = postgres_base_url.rsplit("/", 1)[0] + "/" + name
    runtime = bootstrap(Settings(database_url=url, database_wait=1), clock=clock)
    try:
        files = runtime.files
        for number in ("FA-2026-0001", "FA-2026-0002", "FA-2026-0003", "FA-2026-0004"):
            files.register_invoice("alice", **register_kwargs(number))
        grouped = files.recorder.grouped
        store = runtime.store
        with ThreadPoolExecutor(4) as pool, \
                psycopg.connect(store.conninfo, autocommit=True) as holder:
            holder.execute("BEGIN")
            first = _first_writing_behind_the_lock(runtime, holder, pool)
            later = [pool.submit(files.add_note, "bob", number, text="pendant")
                     for number in ("FA-2026-0002", "FA-2026-0003", "FA-2026-0004")]
            _until(lambda: grouped.queued == 3, "three commands queued behind it")
            time.sleep(1.2)  # every command's budget (1 s) is spent: none will try again
            attempted = grouped.transactions
            with psycopg.connect(base.conninfo, autocommit=True) as admin:
                admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
                    sql.Identifier(name)))
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> %s",
                              (name, holder.info.backend_pid))
            errors = []
            for answer in [first, *later]:
                with pytest.raises(PersistenceError) as raised:
                    answer.result(timeout=30)
                errors.append(raised.value)
            holder.execute("ROLLBACK")
        assert all(connection_lost(error) for error in errors), errors
        assert grouped.transactions == attempted  # the first's write alone, counted before
        assert grouped.queued == 0
        assert not grouped.writing
    finally:
        with psycopg.connect(base.conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(
                sql.Identifier(name)))
        runtime.close()
        with psycopg.connect(base.conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
