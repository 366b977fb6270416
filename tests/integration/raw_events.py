"""The events table, reached around relance, as an intruder with database access would."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.invoice import invoice_id


class RawEvents:
    """The events table, reached around relance, as an intruder would."""

    def __init__(self, runtime) -> None:
        self.store = runtime.store
        self.table = runtime.files.recorder.events_table_name
        if self.store.is_postgres:
            import psycopg

            self.conn = psycopg.connect(self.store.conninfo, autocommit=True)
            self.conn.execute(f'SET search_path TO "{self.store.schema}"')
            self.p = "%s"
        else:
            import sqlite3

            self.conn = sqlite3.connect(self.store.sqlite_path, isolation_level=None)
            self.p = "?"

    def _id(self, number: str | UUID) -> Any:
        """A file's invoice number, or any aggregate's id, as the table stores it."""
        file_id = number if isinstance(number, UUID) else invoice_id(number)
        return file_id if self.store.is_postgres else file_id.hex

    def rows(self, number: str | UUID) -> list[tuple[int, str, bytes]]:
        cursor = self.conn.execute(
            f"SELECT originator_version, topic, state FROM {self.table} "
            f"WHERE originator_id = {self.p} ORDER BY originator_version", (self._id(number),))
        return [(v, t, bytes(s)) for v, t, s in cursor.fetchall()]

    def set_state(self, number: str | UUID, version: int, state: bytes) -> None:
        self.conn.execute(f"UPDATE {self.table} SET state = {self.p} WHERE originator_id = "
                          f"{self.p} AND originator_version = {self.p}",
                          (state, self._id(number), version))

    def set_version(self, number: str | UUID, version: int, new: int) -> None:
        self.conn.execute(f"UPDATE {self.table} SET originator_version = {self.p} WHERE "
                          f"originator_id = {self.p} AND originator_version = {self.p}",
                          (new, self._id(number), version))

    def delete(self, number: str | UUID, version: int) -> None:
        self.conn.execute(f"DELETE FROM {self.table} WHERE originator_id = {self.p} AND "
                          f"originator_version = {self.p}", (self._id(number), version))

    def insert(self, number: str | UUID, version: int, topic: str, state: bytes) -> None:
        self.conn.execute(f"INSERT INTO {self.table} (originator_id, originator_version, "
                          f"topic, state) VALUES ({self.p}, {self.p}, {self.p}, {self.p})",
                          (self._id(number), version, topic, state))
