"""Once a day from a given Paris time: a small thread of the serving process that runs a
job (the daily run) when it is due and not done yet that day.

It looks every minute. Whether the day is done is asked of the job's own record, not
kept here: a run started by hand or by cron earlier that day counts, and a server
restarted in the afternoon does not run the day twice. A job that fails is logged, with
its trace, and tried again at the next look; it never stops the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime, time

import structlog

from adapters.infra.clock import utc_now
from adapters.infra.logs import bind_context
from domain.values import PARIS

log = structlog.get_logger("relance.scheduler")

Job = Callable[[date], Mapping[str, int] | None]
"""Runs the day's work; what it did, as counts to log."""


class Repeating:
    """A daemon thread of the serving process that calls `tick()` now, then every `every`
    seconds, until stopped; its log lines carry `actor` and `request_id`."""

    every: float
    actor: str
    request_id: str
    name: str

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> bool:
        """One turn; True when it ran to its end."""
        raise NotImplementedError

    def announce(self) -> None:
        """Said once, when the thread starts (nothing by default)."""

    def start(self) -> None:
        """Starts the thread."""
        self._thread = threading.Thread(target=self._loop, name=f"relance-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stops; False if a turn was still going after `timeout` seconds (the thread then
        ends with the process)."""
        self._stopping.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        bind_context(actor=self.actor, request_id=self.request_id)
        self.announce()
        while not self._stopping.is_set():
            self.tick()
            self._stopping.wait(self.every)


class DailySchedule(Repeating):
    """Runs `job(day)` once a Paris day, from `at`, unless `done(day)` says it ran."""

    name = "daily-run"
    request_id = "run"

    def __init__(self, at: time, job: Job, done: Callable[[date], bool], *,
                 actor: str, clock: Callable[[], datetime] = utc_now,
                 every: float = 60.0) -> None:
        self.at = at
        self.job = job
        self.done = done
        self.actor = actor
        self.clock = clock
        self.every = every
        self._finished: date | None = None
        """The last day known done: no need to ask the record again that day."""
        super().__init__()

    def due(self) -> date | None:
        """The Paris day whose run is due now (its time reached, not known done), or None."""
        now = self.clock().astimezone(PARIS)
        if now.time() < self.at or now.date() == self._finished:
            return None
        return now.date()

    def tick(self) -> bool:
        """One look: runs the job if it is due and not done; True when it ran to its end.

        Nothing raised here reaches the caller: a failure is logged and tried again at
        the next look."""
        day = self.due()
        if day is None:
            return False
        try:
            if self.done(day):
                self._finished = day
                log.info("daily run already recorded", day=day.isoformat())
                return False
            log.info("daily run started", day=day.isoformat())
            counts = self.job(day) or {}
        except Exception:
            log.exception("daily run failed: tried again in a minute", day=day.isoformat())
            return False
        self._finished = day
        log.info("daily run finished", day=day.isoformat(), **dict(counts))
        return True

    def announce(self) -> None:
        log.info("daily run scheduled", at=self.at.strftime("%H:%M"), zone="Europe/Paris")


class Every(Repeating):
    """Runs `job()` every `seconds` from a daemon thread of the serving process (reading the
    mailbox). A failure is logged, with its trace, and tried again next time; it never
    stops the server."""

    def __init__(self, seconds: float, job: Callable[[], Mapping[str, int] | None], *,
                 name: str, actor: str) -> None:
        self.every = seconds
        self.job = job
        self.name = self.request_id = name
        self.actor = actor
        super().__init__()

    def tick(self) -> bool:
        """Runs the job once; True when it ended without an error."""
        try:
            counts = self.job() or {}
        except Exception:
            log.exception("repeated job failed: tried again later", job=self.name)
            return False
        if any(counts.values()):
            log.info("repeated job done", job=self.name, **dict(counts))
        return True
