"""No gap: a fact committed after a later-numbered one would be skipped by any follower.

eventsourcing's PostgreSQL recorder takes the events table's lock before numbering
facts, so a second writer waits for the first to commit: positions are committed in
order, and the projections see every fact.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from psycopg import sql

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from domain.invoice import Invoice
from tests.builders import register_kwargs, stamp

pytestmark = pytest.mark.postgres


def test_a_writer_waits_for_an_earlier_uncommitted_one_and_views_see_both(postgres_url, clock):
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    runtime.start_following()
    try:
        files = runtime.files
        first = Invoice.register(stamp(clock), **register_kwargs("GAP-A"))
        stored = [files.mapper.to_stored_event(e) for e in first.collect_events()]
        table = sql.Identifier(runtime.store.schema, files.recorder.events_table_name)
        writer_a = psycopg.connect(runtime.store.conninfo)
        with writer_a.cursor() as cursor:
            cursor.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
            cursor.execute(sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s) RETURNING notification_id").format(table),
                (stored[0].originator_id, stored[0].originator_version, stored[0].topic,
                 stored[0].state))
            a_id = cursor.fetchone()[0]

        recorded = {}
        writer_b = threading.Thread(target=lambda: recorded.update(
            b=files.register_invoice("bruno", **register_kwargs("GAP-B"))))
        writer_b.start()
        time.sleep(0.5)
        assert writer_b.is_alive(), "the second writer did not wait for the first"
        writer_a.commit()
        writer_a.close()
        writer_b.join(timeout=10)

        assert recorded["b"].notification_id > a_id
        assert runtime.wait_for_views(recorded["b"].notification_id)
        assert runtime.reads.case("GAP-A", clock.today()) is not None
        assert runtime.reads.case("GAP-B", clock.today()) is not None
    finally:
        runtime.close()


def test_a_fact_committed_while_the_follower_starts_to_listen_is_followed(postgres_url, clock):
    """The follower reads what is already recorded, then listens for what comes. A fact
    committed after that first read and before the LISTEN is notified to nobody: it
    must still be followed, without waiting for another fact to be recorded."""
    from adapters.infra.subscriptions import BatchedPostgresSubscription

    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        files = runtime.files
        first = files.register_invoice("alice", **register_kwargs("LISTEN-A"))
        written: list[int | None] = []

        class ListeningLate(BatchedPostgresSubscription):
            def _listen(self) -> None:
                deadline = time.monotonic() + 10  # the first read is done: then the fact
                while self._last_notification_id != first.notification_id:
                    assert time.monotonic() < deadline, "the first read never came"
                    time.sleep(0.005)
                written.append(files.register_invoice(
                    "alice", **register_kwargs("LISTEN-B")).notification_id)
                super()._listen()

        followed: list[int] = []
        with ListeningLate(files.recorder, gt=0) as subscription:
            def follow() -> None:
                while len(followed) < 2:
                    followed.extend(n.id for n in subscription.next_batch())

            reader = threading.Thread(target=follow, daemon=True)
            reader.start()
            reader.join(timeout=10)
            subscription.stop()
        assert followed == [first.notification_id, *written]
    finally:
        runtime.close()
