"""Several processes started at once on a new store (`relance serve --workers N` starts
its web workers and its projection runner together) all start: none dies on the tables
another is creating at the same moment."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from adapters.bootstrap import bootstrap
from adapters.infra.store import StoreError, ensure_postgres_database, parse_database_url
from adapters.infra.throttle import LoginThrottle
from adapters.settings import Settings
from web.portal import PortalThrottle

pytestmark = pytest.mark.alone  # up to 40 PostgreSQL sessions at once

STARTING = 4


def _all_at_once(action: Callable[[], None]) -> None:
    """Runs `action` in `STARTING` threads released together, and waits for them all."""
    together = threading.Barrier(STARTING)

    def run() -> None:
        together.wait()
        action()

    threads = [threading.Thread(target=run) for _ in range(STARTING)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_processes_starting_together_on_a_new_store_all_start(store_url, clock):
    settings = Settings(database_url=store_url)
    started, failed = [], []

    def start() -> None:
        try:
            runtime = bootstrap(settings, clock=clock)
            LoginThrottle(runtime.views, runtime.clock)  # the web app's own tables
            PortalThrottle(runtime.views, runtime.clock)
            started.append(runtime)
        except Exception as error:  # noqa: BLE001 - what a web worker dying at start shows
            failed.append(repr(error))

    _all_at_once(start)
    try:
        assert failed == []
        assert len(started) == STARTING
        names = [p.name for p in started[0].follower.projections]
        assert all(started[0].views.position(n) == 0 for n in names)
    finally:
        for runtime in started:
            runtime.close()


def test_processes_creating_the_same_new_database_together_all_go_on(postgres_base_url):
    """The test suite's processes (and `relance serve`'s) each create the database named
    by the store's URL when it is missing: on a new machine, they do so at the same
    moment, and the second to insert it into PostgreSQL's catalog is refused. Each goes
    on with the database the first made."""
    name = "relance_created_" + uuid.uuid4().hex[:12]
    store = parse_database_url(postgres_base_url.rsplit("/", 1)[0] + "/" + name)
    failed: list[str] = []

    def create() -> None:
        try:
            ensure_postgres_database(store)
        except StoreError as error:
            failed.append(str(error))

    try:
        _all_at_once(create)
        assert failed == []
        with psycopg.connect(store.conninfo, autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (name,)
    finally:
        admin = psycopg.conninfo.make_conninfo(store.conninfo, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
