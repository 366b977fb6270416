"""Slowing down password guessing without locking anyone out.

Each login attempt is written down before its password is checked, then counted with
the attempts of the same login, and separately of the same address, within a window.
Writing first makes the count atomic: of many attempts sent at once, each sees at
least those written before it, so no more than the free allowance is ever checked in
parallel. Beyond the allowance the attempts are not refused for good: each further one
must wait a delay that doubles with the failures, up to a minute, so an attacker
cannot lock a colleague out for longer than that, and an office sharing one address
gets a larger allowance than one login. A failed attempt stays counted; a successful
one is forgotten. Attempts live in the database, so every web process sees the same.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from projections.schema import Table, Type
from projections.storage import ViewStore

LOGIN_FAILURES = Table("login_failures", {"id": Type.TEXT, "key": Type.TEXT,
                                          "failed_at": Type.INSTANT},
                       key=("id",), indexes=(("key", "failed_at"),))
"""Attempts not known to have succeeded: failures, and attempts being checked."""
PRUNE_EVERY = 60.0


@dataclass(frozen=True)
class Limit:
    """Attempts allowed freely for one kind of key, then the growing delay."""

    prefix: str
    free: int


@dataclass(frozen=True)
class Attempt:
    """One login attempt: allowed now, or to try again in `retry_after` seconds."""

    id: str
    keys: tuple[str, ...]
    allowed: bool
    retry_after: int = 0


class LoginThrottle:
    """Counts login attempts per login and per address (see the module's doc)."""

    def __init__(self, views: ViewStore, clock, *, per_login: int = 5,  # type: ignore[no-untyped-def]
                 per_address: int = 20, window: timedelta = timedelta(minutes=15),
                 first_delay: float = 1.0, longest_delay: float = 60.0) -> None:
        self.views = views
        self.clock = clock
        self.limits = (Limit("login:", per_login), Limit("ip:", per_address))
        self.window = window
        self.first_delay = first_delay
        self.longest_delay = longest_delay
        self._pruned = 0.0
        self._prune_lock = threading.Lock()
        views.create_tables([LOGIN_FAILURES])

    def begin(self, login: str, address: str) -> Attempt:
        """Writes the attempt down, then says whether its password may be checked now."""
        keys = (f"login:{login.strip().lower()[:100]}", f"ip:{address[:100]}")
        now = self.clock()
        self._prune(now)
        attempt_id = secrets.token_hex(16)
        for n, key in enumerate(keys):
            self.views.execute("INSERT INTO {login_failures} (id, key, failed_at) "
                               "VALUES (:id, :key, :at)",
                               {"id": f"{attempt_id}:{n}", "key": key, "at": now})
        wait = max(self._wait(key, limit, attempt_id, now)
                   for key, limit in zip(keys, self.limits, strict=True))
        if wait > 0:
            self._forget(attempt_id)  # never checked: it does not count as a failure
            return Attempt(attempt_id, keys, False, math.ceil(wait))
        return Attempt(attempt_id, keys, True)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the attempt is forgotten."""
        self._forget(attempt.id)

    def failed(self, attempt: Attempt) -> None:
        """The password was wrong: the attempt stays counted (nothing to do)."""

    def _wait(self, key: str, limit: Limit, attempt_id: str, now: datetime) -> float:
        rows = self.views.rows(
            "SELECT id, failed_at FROM {login_failures} WHERE key = :key AND failed_at > :since",
            {"key": key, "since": now - self.window}, {"failed_at": Type.INSTANT})
        others = [r["failed_at"] for r in rows if not r["id"].startswith(attempt_id)]
        if len(others) < limit.free:
            return 0.0
        delay = min(self.first_delay * 2 ** (len(others) - limit.free), self.longest_delay)
        return delay - (now - max(others)).total_seconds()

    def _forget(self, attempt_id: str) -> None:
        for n in range(len(self.limits)):
            self.views.execute("DELETE FROM {login_failures} WHERE id = :id",
                               {"id": f"{attempt_id}:{n}"})

    def _prune(self, now: datetime) -> None:
        """Drops expired attempts of every key, at most once a minute per process."""
        with self._prune_lock:
            if time.monotonic() - self._pruned < PRUNE_EVERY:
                return
            self._pruned = time.monotonic()
        self.views.execute("DELETE FROM {login_failures} WHERE failed_at <= :since",
                           {"since": now - self.window})
