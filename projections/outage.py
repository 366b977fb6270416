"""How long a PostgreSQL call keeps trying while the database does not answer.

eventsourcing retries a failed statement ten times, each time waiting for a pooled
connection up to its pool timeout: 30 s and more while PostgreSQL is down, during
which a web request hangs and then, often, succeeds on a database that came back
behind the user's back. relance gives each call a budget instead: it tries again
while the budget lasts, then lets the failure through (the web answers 503 with
Retry-After, the projection runner waits and resumes). The budget is the pool's own
wait for a connection, set from RELANCE_DATABASE_WAIT (2 s by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from weakref import WeakKeyDictionary

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

PAUSE = 0.2
RECHECK_AFTER = 0.5
"""Seconds during which a connection that passed its check is handed out unchecked."""
SESSION_ENDED = frozenset({"25P03", "57P01", "57P02", "57P03"})
"""The server ended the session: a transaction left idle too long, an administrator's
or a shutdown's termination. The transaction was rolled back; the work can be redone."""


def connection_lost(error: BaseException) -> bool:
    """Whether a store call failed because its connection went away (so nothing of
    its transaction was kept), not because of what it asked."""
    if isinstance(error, InterfaceError | OperationalError):
        return True
    cause = error.__cause__
    return isinstance(error, PersistenceError) and getattr(cause, "sqlstate", None) in SESSION_ENDED


def within_budget(method: Callable[..., Any]) -> Callable[..., Any]:
    """eventsourcing's retried method, retried only within the pool's wait instead."""
    original = getattr(method, "__wrapped__", method)

    @wraps(original)
    def bounded(self: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + float(self.datastore.pool.timeout)
        while True:
            try:
                return original(self, *args, **kwargs)
            except (InterfaceError, OperationalError):
                if time.monotonic() + PAUSE >= deadline:
                    raise
                time.sleep(PAUSE)

    return bounded


def replace_dead_connections_at_once(pool: Any) -> None:
    """Makes a psycopg pool test all its idle connections as soon as one fails its check,
    and spares the check to a connection that passed one a moment ago.

    After a restart of PostgreSQL, or backends ended by an administrator, every pooled
    connection is dead. psycopg's pool finds that out one connection at a time, with a
    pause that doubles after each (1 s, 2 s, 4 s...), so a command waited seconds for a
    live connection. Here the first dead one has the pool test the others at once and
    replace those that failed; the command then gets a new connection in milliseconds.

    The check is a round trip to the server at every checkout: a command, a page or a
    message of the daily run takes a connection a dozen times in a few milliseconds. A
    connection checked less than `RECHECK_AFTER` ago is handed out unchecked; should its
    server have gone in that instant, the statement fails and is tried again
    (`within_budget`), on a connection the pool then checks.
    """
    check = pool._check
    if check is None:
        return
    checked: WeakKeyDictionary[Any, float] = WeakKeyDictionary()

    def check_and_sweep(conn: Any) -> None:
        now = time.monotonic()
        if now - checked.get(conn, -RECHECK_AFTER) < RECHECK_AFTER:
            return
        try:
            check(conn)
        except Exception:
            checked.pop(conn, None)
            pool.check()
            raise
        checked[conn] = now

    pool._check = check_and_sweep
