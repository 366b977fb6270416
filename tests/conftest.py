"""One fixture per store: every storage test runs on an SQLite file and on PostgreSQL.

PostgreSQL tests use a fresh schema each in the database named by
RELANCE_TEST_DATABASE_URL (created if missing). Outside CI they are skipped, with one
line saying why, when the server cannot be reached; in CI (CI=true) they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from adapters.bootstrap import Runtime, bootstrap
from adapters.infra.store import StoreError, ensure_postgres_database, parse_database_url
from adapters.settings import Settings
from domain.service import CaseFiles
from tests.builders import ManualClock

TEST_DATABASE_URL = os.environ.get(
    "RELANCE_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/relance_test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL not reachable at {TEST_DATABASE_URL}: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    """The test database's URL, after making sure the database exists."""
    try:
        ensure_postgres_database(parse_database_url(TEST_DATABASE_URL))
    except StoreError as error:
        _postgres_unavailable(str(error))
    return TEST_DATABASE_URL


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL pointing at a fresh, empty schema, dropped after the test."""
    base = request.getfixturevalue("postgres_base_url")
    schema = "t_" + uuid.uuid4().hex[:16]
    yield f"{base}?schema={schema}"
    conninfo = parse_database_url(base).conninfo
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL pointing at a new SQLite file."""
    return f"sqlite:///{tmp_path / 'relance.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store in turn: an SQLite file, then a PostgreSQL schema."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def clock() -> ManualClock:
    """A clock standing at 2 November 2026, 09:00 UTC."""
    return ManualClock()


@pytest.fixture
def runtime(store_url: str, clock: ManualClock) -> Iterator[Runtime]:
    """relance bootstrapped on the store under test, with the test clock."""
    built = bootstrap(Settings(database_url=store_url), clock=clock)
    yield built
    built.close()


@pytest.fixture
def views(runtime: Runtime) -> Runtime:
    """relance with its read models followed live, as in the web process."""
    runtime.start_following()
    return runtime


@pytest.fixture
def files(runtime: Runtime) -> CaseFiles:
    """The case files service on the store under test."""
    return runtime.files
