"""Group commit: the facts of commands saved at the same moment in one process are
written to the PostgreSQL log in one transaction.

Every write to the log takes its table lock, so writes commit one at a time whatever
the number of threads (README, « Plusieurs machines »). While one transaction holds
the lock and waits for its commit, the commands that arrive meanwhile queue up; the
first of them then writes all the queued facts in one transaction (one lock, one
NOTIFY, one INSERT, one commit) and hands each command its own positions, in the
order they queued. A command alone goes straight through, as before.

A group is all or nothing in PostgreSQL: if one of its commands lost a race (another
command wrote the same file's next version: a version conflict), or the database
refuses one command's data, the whole INSERT is refused. The group is then written
again one command at a time, each in its own transaction, so that the loser alone gets
its conflict (which the service decides again) or its refusal, and the others are
recorded as if they had never been grouped. If the database cannot be reached, every
command of the group gets the error, and so does every command that queued meanwhile
(else each group would wait out the pool's timeout after the one before); each tries
again on its own while its budget lasts (`projections.outage.within_budget`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

Write = Callable[[Sequence[StoredEvent]], "Sequence[int] | None"]


class _Waiting:
    """A command's facts in the queue, and what became of them."""

    __slots__ = ("error", "events", "ids", "leads", "woken", "written")

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events
        self.woken = threading.Event()
        self.leads = False
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.written = False


class GroupCommit:
    """Writes concurrent commands' facts together through `write` (one transaction for
    a list of facts, returning their positions in its order)."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False
        self.groups = 0
        """Transactions written for more than one command (for the bench and tests)."""
        self.transactions = 0
        """Transactions written in all."""

    @property
    def queued(self) -> int:
        """Commands waiting for the transaction in progress to end."""
        with self._lock:
            return len(self._queue)

    @property
    def writing(self) -> bool:
        """Whether a transaction of the log is being written through here."""
        with self._lock:
            return self._writing

    def __call__(self, events: Sequence[StoredEvent]) -> Sequence[int] | None:
        me = _Waiting(events)
        with self._lock:
            self._queue.append(me)
            me.leads = not self._writing
            self._writing = True
        if not me.leads:
            me.woken.wait()
        if not me.written:  # made the writer for the queue, this command's facts in it
            self._lead()
        if me.error is not None:
            raise me.error
        return me.ids

    def _lead(self) -> None:
        """Writes everything queued, then hands the writing to the first command that
        queued meanwhile, or leaves it free. If the database proved out of reach, those
        that queued meanwhile get the same error at once instead of waiting for it in turn
        (each group would wait the pool's whole timeout after the last): each command's
        own budget then decides whether it tries again (`projections.outage.within_budget`)."""
        with self._lock:
            group, self._queue = self._queue, []
        unreachable: BaseException | None = None
        try:
            unreachable = self._write_group(group)
        finally:
            with self._lock:
                failed: list[_Waiting] = []
                if unreachable is not None:
                    failed, self._queue = self._queue, []
                following = self._queue[0] if self._queue else None
                self._writing = following is not None
            for waiting in failed:
                waiting.error = unreachable
            for waiting in group + failed:
                waiting.written = True
                waiting.woken.set()
            if following is not None:
                following.leads = True
                following.woken.set()

    def _written(self, events: Sequence[StoredEvent]) -> Sequence[int] | None:
        self.transactions += 1
        return self._write(events)

    def _write_group(self, group: list[_Waiting]) -> BaseException | None:
        """Writes a group (together, or one by one if refused); returns the error if the
        database could not be reached."""
        if len(group) > 1:
            try:
                ids = self._written([event for waiting in group for event in waiting.events])
            except (InterfaceError, OperationalError) as error:
                return _out_of_reach(group, error)  # each command then tries again
            except PersistenceError:
                pass  # refused: a version conflict, or one command's data; each alone below
            except BaseException as error:  # noqa: BLE001 - raised in each command's thread
                for waiting in group:
                    waiting.error = error
                return None
            else:
                self.groups += 1
                start = 0
                for waiting in group:
                    end = start + len(waiting.events)
                    waiting.ids = None if ids is None else ids[start:end]
                    start = end
                return None
        for n, waiting in enumerate(group):
            try:
                waiting.ids = self._written(waiting.events)
            except (InterfaceError, OperationalError) as error:
                return _out_of_reach(group[n:], error)  # else each would wait for it in turn
            except BaseException as error:  # noqa: BLE001 - raised in that command's thread
                waiting.error = error
        return None


def _out_of_reach(waiting: Sequence[_Waiting], error: BaseException) -> BaseException:
    """Gives each of these commands the error of a database out of reach; returns it."""
    for one in waiting:
        one.error = error
    return error
