"""A projection runner killed with SIGKILL mid-catch-up resumes to exactly a clean rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.builders import dump_views, record_many

RELANCE = str(Path(sys.executable).parent / "relance")


def _start_runner(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RELANCE_DATABASE_URL": url, "RELANCE_LOG_LEVEL": "ERROR"}
    return subprocess.Popen([RELANCE, "projections", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def test_kill_9_during_a_catch_up_of_22000_events_then_restart_equals_a_rebuild(
    runtime, store_url, clock
):
    head = record_many(runtime.files, clock, n_files=2000, notes_per_file=10)
    assert head >= 20_000
    views = runtime.views
    progress = lambda: views.position("history")  # noqa: E731

    for fraction in (0.2, 0.5):
        runner = _start_runner(store_url)
        try:
            _wait_until(lambda f=fraction: progress() >= head * f, 120, f"{fraction:.0%}")
            os.kill(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
        finally:
            runner.kill()
        killed_at = progress()
        assert killed_at < head, "the runner finished before it could be killed"

    runner = _start_runner(store_url)
    try:
        names = [p.name for p in runtime.follower.projections]
        _wait_until(lambda: min(views.position(n) for n in names) >= head, 180, "catch-up")
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=20) == 0, runner.stderr.read().decode()

    resumed = dump_views(views, runtime.follower.projections)
    assert len(resumed["history"]) == head
    for projection in runtime.follower.projections:
        views.reset(projection)
    runtime.follower.catch_up()
    assert dump_views(views, runtime.follower.projections) == resumed
