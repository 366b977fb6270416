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
    """eventsourcing's LISTEN/NOTIFY subscription, read in batches (of up to 500)."""


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


class FollowablePostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, whose subscription reads in batches, and
    whose calls give up once the database has failed to answer for the budget of
    `projections.outage` (rather than after ten retries of a pool timeout each)."""

    insert_events = within_budget(PostgresApplicationRecorder.insert_events)
    select_events = within_budget(PostgresApplicationRecorder.select_events)
    select_notifications = within_budget(PostgresApplicationRecorder.select_notifications)
    max_notification_id = within_budget(PostgresApplicationRecorder.max_notification_id)

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()
                  ) -> BatchedPostgresSubscription:
        return BatchedPostgresSubscription(self, gt, topics)
