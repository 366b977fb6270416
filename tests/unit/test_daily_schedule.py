"""The daily run's schedule: once a Paris day from its hour, never twice, and a failure is
logged and tried again, never raised into the server."""

from __future__ import annotations

import json
import time as timer
from datetime import UTC, date, datetime, time

from adapters.infra.logs import configure_logging
from adapters.infra.scheduler import DailySchedule
from tests.builders import ManualClock


def test_the_run_waits_for_its_hour_then_runs_once_a_paris_day():
    clock = ManualClock(datetime(2026, 11, 2, 6, 0, tzinfo=UTC))  # 07:00 in Paris
    ran: list[date] = []
    schedule = DailySchedule(time(7, 30), lambda day: ran.append(day) or {"sent": 3},
                             lambda day: day in ran, actor="relance", clock=clock)
    assert not schedule.tick()
    clock.advance(minutes=31)
    assert schedule.tick()
    assert not schedule.tick()
    clock.advance(hours=16)                                   # 23:31 in Paris, same day
    assert not schedule.tick()
    clock.advance(minutes=30)                                 # 00:01 the next day
    assert not schedule.tick()
    clock.advance(hours=7, minutes=29)                        # 07:30
    assert schedule.tick()
    assert ran == [date(2026, 11, 2), date(2026, 11, 3)]


def test_a_run_already_recorded_that_day_is_not_run_again():
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    asked: list[date] = []

    def job(day: date) -> None:
        raise AssertionError("the day was already run by cron")

    schedule = DailySchedule(time(7, 30), job, lambda day: asked.append(day) or True,
                             actor="relance", clock=clock)
    assert not schedule.tick()
    assert not schedule.tick()
    assert asked == [date(2026, 11, 2)]                       # the record is read once a day


def test_a_failing_run_is_logged_and_tried_again_at_the_next_look(capsys):
    configure_logging("json", "INFO")
    attempts: list[date] = []

    def job(day: date) -> dict[str, int]:
        attempts.append(day)
        if len(attempts) == 1:
            raise ConnectionError("database unreachable")
        return {"sent": 2}

    schedule = DailySchedule(time(0, 0), job, lambda day: False, actor="relance",
                             every=0.01)
    schedule.start()
    deadline = timer.monotonic() + 10
    while len(attempts) < 2 and timer.monotonic() < deadline:
        timer.sleep(0.01)
    assert schedule.stop()
    assert len(attempts) == 2
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    events = [line["event"] for line in lines if line["logger"] == "relance.scheduler"]
    assert events[:4] == ["daily run scheduled", "daily run started",
                          "daily run failed: tried again in a minute", "daily run started"]
    failed = next(line for line in lines if line["event"].startswith("daily run failed"))
    assert failed["request_id"] == "run"
    assert failed["actor"] == "relance"
    assert "database unreachable" in failed["exception"]
    finished = next(line for line in lines if line["event"] == "daily run finished")
    assert finished["sent"] == 2
