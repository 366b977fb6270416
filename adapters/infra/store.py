"""The event store: one URL picks SQLite (embedded) or PostgreSQL (production).

The URL is mapped onto eventsourcing's persistence environment. Tables are created on
first use. A wrong URL or an unreachable database is reported in one clear line.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg import sql

POOL_SIZE = 5
POOL_OVERFLOW = 15
"""Connections each PostgreSQL pool (the facts', the views') keeps, and may add under load."""
REQUEST_THREADS = POOL_SIZE + POOL_OVERFLOW - 5
"""Requests a web process works on at once; the others queue until one ends. Fewer than
a pool's connections, so the projections, the scheduler and the probe always find one,
and a busy moment makes requests queue rather than give up after RELANCE_DATABASE_WAIT,
which is kept for a database that stopped answering."""

CACHE = {"AGGREGATE_CACHE_MAXSIZE": "2000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
"""Recently used files stay in memory and are brought up to date from the store on use."""


class StoreError(Exception):
    """The database URL is wrong, or the database cannot be reached. One line, no trace."""


@dataclass(frozen=True)
class Store:
    """Where the facts live: its kind, eventsourcing's settings, and a safe description."""

    kind: str
    description: str
    env: dict[str, str] = field(repr=False)
    sqlite_path: Path | None = None
    conninfo: str = field(default="", repr=False)
    schema: str = ""

    @property
    def is_postgres(self) -> bool:
        """True for the PostgreSQL store."""
        return self.kind == "postgresql"


def parse_database_url(url: str, wait: int = 2) -> Store:
    """Reads `sqlite:///path` or `postgresql://user:pw@host:port/db?schema=s`; `wait` is
    how many seconds a call waits for a database that does not answer."""
    parts = urlsplit(url.strip())
    if parts.scheme == "sqlite":
        return _sqlite(parts.path)
    if parts.scheme in ("postgresql", "postgres"):
        return _postgres(url, wait)
    raise StoreError(
        f"RELANCE_DATABASE_URL must start with sqlite:/// or postgresql://, got {_safe(url)!r}"
    )


def _sqlite(url_path: str) -> Store:
    raw = url_path[1:] if url_path.startswith("/") else url_path
    if not raw or ":memory:" in raw:
        raise StoreError("an SQLite URL needs a file path, e.g. sqlite:///var/relance.db")
    path = Path(unquote(raw))
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "adapters.infra.subscriptions:FollowableSQLiteRecorder",
        "RELANCE_KEYS_TOPIC": "adapters.infra.keys:SQLiteKeys",
        "CREATE_TABLE": "y",
        **CACHE,
    }
    return Store("sqlite", f"SQLite file {path}", env, sqlite_path=path)


def _postgres(url: str, wait: int) -> Store:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise StoreError(f"the PostgreSQL URL {_safe(url)!r} names no database")
    try:
        port = parts.port or 5432
    except ValueError:
        raise StoreError(f"the PostgreSQL URL {_safe(url)!r} has a bad port") from None
    host = parts.hostname or "127.0.0.1"
    user = unquote(parts.username or "postgres")
    password = unquote(parts.password or "")
    schema = (parse_qs(parts.query).get("schema") or [""])[0]
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": password,
        # The pool's wait for a connection, and so each call's budget while the database
        # does not answer (projections/outage.py).
        "POSTGRES_CONNECT_TIMEOUT": str(max(1, wait)),
        "POSTGRES_POOL_SIZE": str(POOL_SIZE),
        "POSTGRES_MAX_OVERFLOW": str(POOL_OVERFLOW),
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_LOCK_TIMEOUT": "10",
        # A transaction left idle (its process stopped between two statements) is ended
        # by the server after as long as a writer waits for the log's lock: long enough
        # for a pause of a busy machine, short enough to free the lock it may hold.
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "adapters.infra.subscriptions:FollowablePostgresRecorder",
        "RELANCE_KEYS_TOPIC": "adapters.infra.keys:PostgresKeys",
        "CREATE_TABLE": "y",
        **CACHE,
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    conninfo = psycopg.conninfo.make_conninfo(
        host=host, port=port, dbname=dbname, user=user, password=password or None
    )
    where = f"{host}:{port}/{dbname}" + (f" (schema {schema})" if schema else "")
    return Store("postgresql", f"PostgreSQL {where}", env, conninfo=conninfo, schema=schema)


def ensure_postgres_database(store: Store) -> None:
    """Creates the PostgreSQL database named by the store if it does not exist yet."""
    dbname = store.env["POSTGRES_DBNAME"]
    admin = psycopg.conninfo.make_conninfo(store.conninfo, dbname="postgres")
    try:
        with psycopg.connect(admin, connect_timeout=5, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
        # Made by another process meanwhile: when both looked before either made it, the
        # second's insert into the catalog is refused by its unique index.
        return
    except psycopg.Error as error:
        raise StoreError(f"cannot create {store.description}: {_first_line(error)}") from None


@contextmanager
def setting_up(store: Store) -> Iterator[None]:
    """Held while a process checks the store and creates what is missing, so that
    processes started at once (`relance serve --workers N` starts its web workers and its
    projection runner together) set it up one after the other: each would find a table
    missing, and the second to create it, or to record eventsourcing's first tracking
    position, failed and that process died. PostgreSQL: an advisory lock named after
    the schema. SQLite: a lock on a file beside the database (`relance.db.lock`).

    Under the lock, it makes sure the store can be used: the SQLite folder exists and
    the file opens; the PostgreSQL schema exists (created on the lock's connection)."""
    if store.sqlite_path is not None:
        path = store.sqlite_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(path.with_name(path.name + ".lock"), "a")  # noqa: SIM115 - held below
        except OSError as error:
            raise StoreError(f"cannot use SQLite file {path}: {_first_line(error)}") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            _check_sqlite(path)
            yield
        return
    try:
        conn = psycopg.connect(store.conninfo, connect_timeout=5, autocommit=True)
    except psycopg.Error as error:
        raise StoreError(f"cannot use {store.description}: {_first_line(error)}") from None
    with conn:  # the lock ends with the connection
        try:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))",
                         [f"relance set-up {store.schema}"])
            if store.schema:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(store.schema)))
        except psycopg.Error as error:
            raise StoreError(f"cannot use {store.description}: {_first_line(error)}") \
                from None
        yield


def _check_sqlite(path: Path) -> None:
    try:
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA user_version").fetchone()
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"cannot use SQLite file {path}: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _safe(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
