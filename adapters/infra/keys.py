"""The subjects' keys (domain/sealing.py), kept apart from the events: a table of their
own, `subject_keys`, in the events' database, never in the notification log, an export
or a digest.

Destroying a key deletes its row and leaves no copy of it in the database's files:
SQLite overwrites the deleted row (`secure_delete`) and folds its log back into the
file; PostgreSQL rewrites the table (`VACUUM FULL`), so the old row's page goes with the
old file. Each destroyed subject is also listed in `subject_erasures` (the subject only,
which the erasure fact names too).

A process keeps the keys it used in memory for `CACHE_S` seconds at most, and every
`CACHE_S` seconds it counts `subject_erasures`: once another process destroyed a key,
this one drops the keys and the files it keeps (decoded, the person in them) within that
time (at once in the process that destroyed it, or one that reads the erasure fact).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from domain.sealing import KEPT_KEYS, KEY_BYTES
from projections.outage import within_budget
from projections.storage import one_statement

CACHE_S = 30.0
"""How long a process trusts a key it read, before asking the table again."""
PREFETCH_CHUNK = 1000
"""Subjects read per query when many are read at once."""


class _Keys:
    """What both stores share: the cache and the create-or-read logic."""

    def __init__(self, recorder: Any) -> None:
        self.datastore = recorder.datastore
        self._cache: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._forgotten = 0
        """Bumped whenever keys are destroyed or dropped: a key read before that is not
        kept (it may be the one destroyed meanwhile)."""
        self.cache_s = CACHE_S
        self._create_table()
        self._erasures = self._count_erasures()
        self._erasures_counted_at = time.monotonic()

    def key(self, subject: str, *, create: bool) -> bytes | None:
        with self._lock:  # a key at hand: every sealed value asks, encoded or decoded
            at_hand = self._at_hand(subject, time.monotonic())
        if at_hand is not None:
            return at_hand
        return self._fetch({subject}, create=create).get(subject)

    def prefetch(self, subjects: set[str], *, create: bool = False) -> None:
        self._fetch(subjects, create=create)

    def _fetch(self, subjects: set[str], *, create: bool) -> dict[str, bytes]:
        """The keys of `subjects`: those at hand, the others read (and, with `create`,
        the missing ones made) a chunk of subjects per query, then kept."""
        now = time.monotonic()
        found: dict[str, bytes] = {}
        missing = []
        with self._lock:
            for subject in subjects:
                at_hand = self._at_hand(subject, now)
                if at_hand is not None:
                    found[subject] = at_hand
                else:
                    missing.append(subject)
            forgotten = self._forgotten
        missing.sort()  # concurrent creations insert in one order
        read: dict[str, bytes] = {}
        for start in range(0, len(missing), PREFETCH_CHUNK):
            chunk = missing[start:start + PREFETCH_CHUNK]
            got = self._read_many(chunk)
            if create and len(got) < len(chunk):
                new = {s: os.urandom(KEY_BYTES) for s in chunk if s not in got}
                self._insert_missing(new)
                got.update(self._read_many(list(new)))  # as stored: maybe another's
            read.update(got)
        self._keep(read, now, forgotten)
        return found | read

    def _at_hand(self, subject: str, now: float) -> bytes | None:
        """A key read less than `cache_s` ago, marked as used last (under the lock)."""
        cached = self._cache.get(subject)
        if cached is None or now - cached[1] >= self.cache_s:
            return None
        self._cache.move_to_end(subject)
        return cached[0]

    def _keep(self, keys: dict[str, bytes], read_at: float, forgotten: int) -> None:
        with self._lock:
            if self._forgotten == forgotten:
                for subject, key in keys.items():
                    self._cache[subject] = (key, read_at)
                    self._cache.move_to_end(subject)
                while len(self._cache) > KEPT_KEYS:
                    self._cache.popitem(last=False)

    def destroy(self, subject: str) -> bool:
        deleted = self._delete(subject)
        with self._lock:
            self._cache.pop(subject, None)
            self._forgotten += 1
        return deleted

    def forget_cached(self) -> None:
        with self._lock:
            self._cache.clear()
            self._forgotten += 1

    def erased_elsewhere(self) -> bool:
        """Whether a key was destroyed since this process last looked (at most every
        `cache_s` seconds; never between two looks)."""
        now = time.monotonic()
        with self._lock:
            if now - self._erasures_counted_at < self.cache_s:
                return False
            self._erasures_counted_at = now
        erasures = self._count_erasures()
        with self._lock:
            changed, self._erasures = erasures != self._erasures, erasures
        return changed

    def held(self) -> int:
        """How many keys the table holds."""
        raise NotImplementedError

    def _create_table(self) -> None:
        raise NotImplementedError

    def _count_erasures(self) -> int:
        raise NotImplementedError

    def _read_many(self, subjects: list[str]) -> dict[str, bytes]:
        raise NotImplementedError

    def _insert_missing(self, keys: dict[str, bytes]) -> None:
        """Stores the keys of subjects that have none; a subject another process gave a
        key first keeps that one."""
        raise NotImplementedError

    def _delete(self, subject: str) -> bool:
        raise NotImplementedError


class SQLiteKeys(_Keys):
    """The keys in the SQLite file, overwritten when deleted."""

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, "
                           "key BLOB NOT NULL, created_at TEXT NOT NULL)")
            cursor.execute("CREATE TABLE IF NOT EXISTS subject_erasures (subject TEXT PRIMARY "
                           "KEY, erased_at TEXT NOT NULL)")

    def _count_erasures(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT count(*) FROM subject_erasures")
            return int(cursor.fetchone()[0])

    def _read_many(self, subjects: list[str]) -> dict[str, bytes]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT subject, key FROM subject_keys WHERE subject IN "
                           "(SELECT value FROM json_each(?))", (json.dumps(subjects),))
            return {row[0]: bytes(row[1]) for row in cursor.fetchall()}

    def _insert_missing(self, keys: dict[str, bytes]) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.executemany("INSERT OR IGNORE INTO subject_keys VALUES (?, ?, "
                               "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", list(keys.items()))

    def _delete(self, subject: str) -> bool:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute("DELETE FROM subject_keys WHERE subject = ?", (subject,))
            deleted = getattr(cursor, "sqlite_cursor", cursor).rowcount > 0
            cursor.execute("INSERT OR IGNORE INTO subject_erasures VALUES (?, "
                           "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", (subject,))
        with self.datastore.transaction(commit=False) as cursor:
            # The deleted row's old page may still sit in the write-ahead log: fold the
            # log into the file (where the page was overwritten) and empty it.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def held(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT count(*) FROM subject_keys")
            return int(cursor.fetchone()[0])


SELECT_KEYS = ("SELECT subject, key FROM {table} WHERE subject IN "
               "(SELECT json_array_elements_text(%s::json))")
"""The keys of subjects given as a JSON array: psycopg writes a list as an array in
Python, orjson in C (1.9 against 0.8 µs of CPU a key, 250 at a time). A semi-join, which
looks each subject up in the primary key's index: `= ANY` of an array made in the query
is checked row by row against the whole array."""


class PostgresKeys(_Keys):
    """The keys in a PostgreSQL table, rewritten when one is deleted."""

    def _sql(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(
            table=sql.Identifier(self.datastore.schema, "subject_keys"),
            erasures=sql.Identifier(self.datastore.schema, "subject_erasures"))

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._sql("CREATE TABLE IF NOT EXISTS {table} (subject TEXT PRIMARY "
                                     "KEY, key BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL "
                                     "DEFAULT now())"))
            cursor.execute(self._sql("CREATE TABLE IF NOT EXISTS {erasures} (subject TEXT "
                                     "PRIMARY KEY, erased_at TIMESTAMPTZ NOT NULL DEFAULT now())"))

    def _count_erasures(self) -> int:
        with one_statement(self.datastore) as cursor:
            cursor.execute(self._sql("SELECT count(*) AS n FROM {erasures}"))
            return int(cursor.fetchone()["n"])

    @within_budget  # a connection the server dropped a moment ago: tried again
    def _read_many(self, subjects: list[str]) -> dict[str, bytes]:
        with one_statement(self.datastore) as cursor:
            cursor.row_factory = tuple_row  # a batch reads hundreds: no dict made per row
            cursor.execute(self._sql(SELECT_KEYS), (orjson.dumps(subjects).decode(),))
            return {subject: bytes(key) for subject, key in cursor.fetchall()}

    @within_budget  # rolled back whole when its connection goes: done again
    def _insert_missing(self, keys: dict[str, bytes]) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._sql("INSERT INTO {table} (subject, key) SELECT * FROM "
                                     "unnest(%s::text[], %s::bytea[]) ON CONFLICT (subject) "
                                     "DO NOTHING"), (list(keys), list(keys.values())))

    def _delete(self, subject: str) -> bool:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._sql("DELETE FROM {table} WHERE subject = %s"), (subject,))
            deleted = cursor.rowcount > 0
            cursor.execute(self._sql("INSERT INTO {erasures} (subject) VALUES (%s) "
                                     "ON CONFLICT (subject) DO NOTHING"), (subject,))
        params = {k: v for k, v in self.datastore.pool.kwargs.items() if k != "row_factory"}
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(self._sql("VACUUM FULL {table}"))  # the deleted row's page goes
        return deleted

    def held(self) -> int:
        with one_statement(self.datastore) as cursor:
            cursor.execute(self._sql("SELECT count(*) AS n FROM {table}"))
            return int(cursor.fetchone()["n"])
