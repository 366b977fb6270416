"""A projection runner killed with SIGKILL mid-catch-up resumes to exactly a clean rebuild."""

from __future__ import annotations

import os
import random
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


def test_kill_9_twenty_times_at_random_points_of_a_200000_event_catch_up_equals_a_rebuild(
    runtime, store_url, clock
):
    head = record_many(runtime.files, clock, n_files=20_000, notes_per_file=9)
    assert head >= 200_000
    views = runtime.views
    progress = lambda: views.position("history")  # noqa: E731
    rng = random.Random(20)
    kills = 0
    for _ in range(20):                                                  # bounded by count
        before = progress()
        runner = _start_runner(store_url)
        try:
            _wait_until(lambda b=before: progress() > b, 60, "the runner to move")
            time.sleep(rng.uniform(0.0, 0.6))                           # a random point
            os.kill(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
        finally:
            runner.kill()
        assert progress() < head, "the runner finished before it could be killed"
        kills += 1
    assert kills == 20

    runner = _start_runner(store_url)
    try:
        names = [p.name for p in runtime.follower.projections]
        _wait_until(lambda: min(views.position(n) for n in names) >= head, 300, "catch-up")
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=20) == 0, runner.stderr.read().decode()

    resumed = dump_views(views, runtime.follower.projections)
    assert len(resumed["history"]) == head
    for projection in runtime.follower.projections:
        views.reset(projection)
    runtime.follower.catch_up()
    assert dump_views(views, runtime.follower.projections) == resumed
