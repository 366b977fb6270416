"""Is the database answering? A probe, so that pages say so at once during an outage.

eventsourcing retries a failed statement for several seconds, which is right for a
blip but leaves people staring at a spinning page when PostgreSQL is down. The probe
keeps one connection of its own and checks it every second: once two checks in a row
fail, the web answers 503 straight away ("réessayez dans quelques secondes") until one
succeeds; it notices the database's return within about a second, and the pool
reconnects on next use. One failed check is not enough: on a busy machine a new
connection can take longer than the check's 1 s, and the whole web then answered 503 for
a second while the database was fine.
"""

from __future__ import annotations

import threading

import psycopg
import structlog

log = structlog.get_logger("relance.health")
EVERY = 1.0
FAILURES_BEFORE_DOWN = 2
"""Checks in a row that must fail before the database is said to be unavailable."""


class DatabaseProbe:
    """Checks the database every second from a background thread."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.available = threading.Event()
        self.available.set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relance-db-probe", daemon=True)
        self._connection: psycopg.Connection | None = None
        self._failures = 0

    def start(self) -> None:
        """Starts probing."""
        self._thread.start()

    def stop(self) -> None:
        """Stops probing and closes the probe's connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._connection is not None:
            self._connection.close()

    def _run(self) -> None:
        while not self._stop.wait(EVERY):
            self.check_once()

    def check_once(self) -> None:
        """One check: the database is available again at the first success, unavailable
        after `FAILURES_BEFORE_DOWN` failures in a row."""
        self._failures = 0 if self._check() else self._failures + 1
        ok = self._failures < FAILURES_BEFORE_DOWN
        if ok != self.available.is_set():
            log.warning("database " + ("back" if ok else "unavailable"))
        (self.available.set if ok else self.available.clear)()

    def _check(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(self.conninfo, connect_timeout=1,
                                                   autocommit=True)
            self._connection.execute("SELECT 1")
            return True
        except psycopg.Error:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            return False
