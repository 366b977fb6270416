"""Following the event log on both stores, in batches.

PostgreSQL: eventsourcing's LISTEN/NOTIFY subscription. SQLite: eventsourcing 9.5
has none, so a polling subscription, woken at once when this process records events
and every half second otherwise (for writes from other processes). Both hand out
everything already fetched in one go (`next_batch`), so catching up applies up to
500 events (eventsourcing's page size) per transaction.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ListenNotifySubscription, Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresSubscription
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier

from adapters.infra.grouping import GroupCommit
from projections.outage import within_budget

_wakeups: dict[str, set[threading.Event]] = defaultdict(set)
_wakeups_lock = threading.Lock()


def _wake(db_name: str) -> None:
    with _wakeups_lock:
        for event in _wakeups[db_name]:
            event.set()


class Batches:
    """Hands out, with the next notification, all those already fetched behind it."""

    _notifications: Sequence[Notification]
    _notifications_index: int

    def next_batch(self) -> list[Notification]:
        """Blocks for the next notification, then returns it with the ones fetched after it."""
        first = next(self)  # type: ignore[call-overload]
        rest = list(self._notifications[self._notifications_index:])
        self._notifications_index = len(self._notifications)
        return [first, *rest]


class BatchedPostgresSubscription(Batches, PostgresSubscription):
    """eventsourcing's LISTEN/NOTIFY subscription, read in batches (of up to 500), which
    reads the log once more as soon as it listens.

    eventsourcing's subscription reads what is already recorded on one thread while
    another starts to LISTEN. A fact committed between that first read and the LISTEN
    sent no notification this subscription could hear: it waited for the next fact to
    be recorded, for ever on a quiet day. Reading once more after the LISTEN catches it;
    anything committed later is notified."""

    def _listen(self) -> None:
        try:
            with self._recorder.datastore.get_connection() as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(self._recorder.channel_name)))
                self._has_been_notified.set()  # what was committed before the LISTEN
                while not self._has_been_stopped and not self._thread_error:
                    for _ in conn.notifies(timeout=0.1, stop_after=1):
                        self._has_been_notified.set()
        except BaseException as error:  # noqa: BLE001 - handed to the subscription's reader
            if self._thread_error is None:
                self._thread_error = error
            self.stop()


class PollingSQLiteSubscription(Batches, ListenNotifySubscription[Any]):
    """A subscription to an SQLite event log: woken in-process, polling otherwise."""

    poll_interval = 0.5

    def __init__(self, recorder: FollowableSQLiteRecorder, gt: int | None = None,
                 topics: Sequence[str] = ()) -> None:
        self._wakeup = threading.Event()
        self._db_name = recorder.datastore.pool.db_name
        with _wakeups_lock:
            _wakeups[self._db_name].add(self._wakeup)
        super().__init__(recorder, gt, topics)
        self._poll_thread = threading.Thread(target=self._poll, daemon=True)
        self._poll_thread.start()

    def _poll(self) -> None:
        while not self._has_been_stopped:
            self._wakeup.wait(self.poll_interval)
            self._wakeup.clear()
            self._has_been_notified.set()

    def stop(self) -> None:
        super().stop()
        with _wakeups_lock:
            _wakeups[self._db_name].discard(self._wakeup)
        self._wakeup.set()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()


class FollowableSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, with a subscription."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        _wake(self.datastore.pool.db_name)
        return ids

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()
                  ) -> PollingSQLiteSubscription:
        return PollingSQLiteSubscription(self, gt, topics)


COPY_FROM = 32
"""Facts saved at once from which they are written by COPY rather than by one INSERT."""


class FollowablePostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, whose subscription reads in batches, whose
    calls give up once the database has failed to answer for the budget of
    `projections.outage` (rather than after ten retries of a pool timeout each), and
    which writes a large batch of facts (an import, a day's run) by COPY, and the facts
    of commands saved at the same moment in one transaction (`adapters.infra.grouping`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        many, one = (f"relance_write_{self.events_table_name}",
                     f"relance_write_one_{self.events_table_name}")
        self.check_identifier_length(one)
        names: dict[str, Composable] = {
            "schema": Identifier(self.datastore.schema),
            "many": Identifier(many), "one": Identifier(one),
            "id_type": Identifier(self.datastore.originator_id_type),
            "table": Identifier(self.events_table_name),
            "channel": Identifier(self.channel_name)}
        names["lock_and_notify"] = SQL(
            "PERFORM set_config('lock_timeout', lock_timeout, true); "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; ").format(**names)
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{many}"
            "(fact_ids {id_type}[], fact_versions bigint[], fact_topics text[], "
            "fact_states bytea[], lock_timeout text) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN {lock_and_notify}"
            "RETURN QUERY INSERT INTO {schema}.{table} "
            "(originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(fact_ids, fact_versions, fact_topics, fact_states) "
            "RETURNING notification_id; "
            "END; $BODY$").format(**names))
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{one}"
            "(fact_id {id_type}, fact_version bigint, fact_topic text, fact_state bytea, "
            "lock_timeout text) "
            "RETURNS bigint LANGUAGE plpgsql AS $BODY$ DECLARE written bigint; "
            "BEGIN {lock_and_notify}"
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "VALUES (fact_id, fact_version, fact_topic, fact_state) "
            "RETURNING notification_id INTO written; "
            "RETURN written; "
            "END; $BODY$").format(**names))
        # Composed once: psycopg composes an `sql.Composed` anew at each execution.
        self._write_many = SQL(
            "SELECT notification_id FROM {schema}.{many}(%b::{id_type}[], %b::int8[], "
            "%b::text[], %b::bytea[], %s) AS notification_id "
            "ORDER BY notification_id").format(**names).as_bytes(None)
        self._write_one = SQL(
            "SELECT {schema}.{one}(%s, %s, %s, %s, %s) AS notification_id"
        ).format(**names).as_bytes(None)
        self.grouped = GroupCommit(self._write)

    def _insert(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                ) -> Sequence[int] | None:
        return PostgresApplicationRecorder.insert_events.__wrapped__(  # type: ignore[attr-defined]
            self, stored_events, **kwargs)

    def _write(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The facts written by one statement, which takes eventsourcing's lock of the log,
        notifies its followers and inserts them (`relance_write_…`, created with the
        table), in its own transaction.

        eventsourcing's write is the same, as six statements in a pipelined transaction
        (BEGIN, the lock's timeout, the lock, NOTIFY, INSERT, COMMIT): some 200 µs more of
        this process's CPU for each command, to send, sync and read each of them.
        eventsourcing's own database function (POSTGRES_ENABLE_DB_FUNCTIONS) is one
        statement too, but takes no lock: a follower could then pass over a fact that
        commits after a later-numbered one. This one takes it, as the pipelined write.

        One fact (most commands) goes as plain values; several (commands grouped under
        load), as one array per column, in binary: psycopg dumps each in C. As an array of
        eventsourcing's composite type, they were dumped in Python, as text, and parsed
        back by PostgreSQL: 320 µs of this process's CPU for eight facts, against 70-100."""
        lock_timeout = f"{self.datastore.lock_timeout}s"
        # Rows as tuples: eventsourcing's connections make dicts, whose column names
        # psycopg reads again for each statement's result.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row
                                                                  ) as cursor:
            if len(stored_events) == 1:
                event, = stored_events
                cursor.execute(self._write_one, (event.originator_id, event.originator_version,
                                                 event.topic, event.state, lock_timeout),
                               prepare=True)
            else:
                cursor.execute(self._write_many, (
                    [event.originator_id for event in stored_events],
                    [event.originator_version for event in stored_events],
                    [event.topic for event in stored_events],
                    [event.state for event in stored_events], lock_timeout), prepare=True)
            return [notification_id for notification_id, in cursor.fetchall()]

    def _insert_or_copy(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                        ) -> Sequence[int] | None:
        if kwargs.get("tracking") is not None:
            return self._insert(stored_events, **kwargs)
        if len(stored_events) < COPY_FROM:
            return self.grouped(stored_events)
        return self._copy_events(stored_events)

    insert_events = within_budget(_insert_or_copy)

    def _copy_events(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The facts written by one COPY, under eventsourcing's lock of the log, in one
        transaction; their positions are the highest ones once it is written: the lock
        lets nobody else write meanwhile, and COPY numbers rows in their order.

        eventsourcing builds one composite value per fact for its INSERT, some 20 µs of
        Python each; COPY's binary rows cost about 1 µs, for the same table and lock."""
        table = Identifier(self.datastore.schema, self.events_table_name)
        with self.datastore.transaction(commit=True) as cursor:
            self._lock_table(cursor)
            self._notify_channel(cursor)
            with cursor.copy(SQL("COPY {} (originator_id, originator_version, topic, state) "
                                 "FROM STDIN (FORMAT BINARY)").format(table)) as copy:
                copy.set_types([self.datastore.originator_id_type, "int8", "text", "bytea"])
                for event in stored_events:
                    copy.write_row((event.originator_id, event.originator_version,
                                    event.topic, event.state))
            cursor.execute(SQL("SELECT notification_id FROM {} ORDER BY notification_id DESC "
                               "LIMIT %s").format(table), (len(stored_events),))
            return sorted(row["notification_id"] for row in cursor.fetchall())

    select_events = within_budget(PostgresApplicationRecorder.select_events)
    select_notifications = within_budget(PostgresApplicationRecorder.select_notifications)
    max_notification_id = within_budget(PostgresApplicationRecorder.max_notification_id)

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()
                  ) -> BatchedPostgresSubscription:
        return BatchedPostgresSubscription(self, gt, topics)
