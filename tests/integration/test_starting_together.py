"""Several processes started at once on a new store (`relance serve --workers N` starts
its web workers and its projection runner together) all start: none dies on the tables
another is creating at the same moment."""

from __future__ import annotations

import threading

import pytest

from adapters.bootstrap import bootstrap
from adapters.infra.throttle import LoginThrottle
from adapters.settings import Settings
from web.portal import PortalThrottle

pytestmark = pytest.mark.alone  # up to 40 PostgreSQL sessions at once

STARTING = 4


def test_processes_starting_together_on_a_new_store_all_start(store_url, clock):
    settings = Settings(database_url=store_url)
    together = threading.Barrier(STARTING)
    started, failed = [], []

    def start() -> None:
        together.wait()
        try:
            runtime = bootstrap(settings, clock=clock)
            LoginThrottle(runtime.views, runtime.clock)  # the web app's own tables
            PortalThrottle(runtime.views, runtime.clock)
            started.append(runtime)
        except Exception as error:  # noqa: BLE001 - what a web worker dying at start shows
            failed.append(repr(error))

    threads = [threading.Thread(target=start) for _ in range(STARTING)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failed == []
        assert len(started) == STARTING
        names = [p.name for p in started[0].follower.projections]
        assert all(started[0].views.position(n) == 0 for n in names)
    finally:
        for runtime in started:
            runtime.close()
