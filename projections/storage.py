"""Where read models live: tables in the events' own database, written with tracking.

One small interface, two backends. Each view store is an eventsourcing tracking
recorder: the rows of a batch and the position of every projection it moved are
written in one transaction, so each fact is applied exactly once, and a crash
rolls the batch back whole.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property, lru_cache, partial
from itertools import chain, groupby
from operator import itemgetter
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg import RawCursor

from projections.outage import within_budget
from projections.schema import (
    Change,
    Delete,
    Index,
    Insert,
    Projection,
    Table,
    Type,
    Update,
    Upsert,
)

CENT = Decimal("0.01")
STAGE_FROM = 100
"""Rows of one shape from which PostgreSQL writes them through a staging table."""
VALUES_UP_TO = 8
"""Rows of one shape up to which PostgreSQL writes them as one listing statement."""
VERSIONS = Table("projection_versions", {"name": Type.TEXT, "version": Type.INT}, key=("name",))


@contextmanager
def one_statement(datastore: Any) -> Iterator[Any]:
    """A cursor for one read statement on PostgreSQL, outside any transaction.

    A statement alone reads one snapshot of the database; in a transaction it costs a
    round trip before it (BEGIN) and one after (ROLLBACK): 290 µs of wall time and 170 µs
    of CPU for a one-row read here, against 113 µs and 74 µs alone. The pool's
    connections are in autocommit mode, so that a statement is a transaction of its own."""
    with datastore.get_connection() as conn, conn.cursor() as cursor:
        yield cursor


@dataclass(frozen=True)
class Write:
    """What one projection does with a batch: its row changes and its new position."""

    projection: str
    changes: Sequence[Change]
    position: int


class ViewStore:
    """The part both backends share: SQL from changes, values to and from columns."""

    sql_types: ClassVar[dict[Type, str]]
    placeholder = "?"

    def table_name(self, name: str) -> str:
        """The table's name as written in SQL."""
        return name

    def to_db(self, value: Any, kind: Type) -> Any:
        """A Python value as the database stores it in a column of this type."""
        if value is None:
            return None
        if kind is Type.CENTS:
            return _cents(value)
        if kind is Type.JSON:
            return _json(value)
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL text cannot hold NUL; a fact that slipped one in must not wedge views.
            return value.replace("\x00", "\ufffd")
        return value

    def from_db(self, value: Any, kind: Type) -> Any:
        """A stored value back as Python."""
        if value is None:
            return None
        if kind is Type.CENTS:
            return (Decimal(value) / 100).quantize(CENT)
        if kind is Type.JSON:
            return json.loads(value)
        return value

    # -- writing ------------------------------------------------------------------------

    def apply(self, writes: Sequence[Write]) -> None:
        """Applies every projection's changes and moves its position, in one transaction."""
        self._begin(writes)()

    def begin_apply(self, writes: Sequence[Write]) -> Callable[[], None]:
        """`apply` in two steps, for a catch-up: this one does the part that needs this
        process (each change turned into values and sent), and returns the rest, which
        needs only the database and may be called from another thread. Until the rest
        has been called, nothing of the batch is written."""
        return self._begin(writes)

    def _begin(self, writes: Sequence[Write]) -> Callable[[], None]:
        """Sends a batch's rows and positions in a transaction left open, and returns
        what ends it: the statements that merge rows staged in the session (`Staged`),
        then the commit. Those statements are PostgreSQL's work alone (a catch-up's
        batch merges thousands of rows into indexed tables); sent last, in one round
        trip, they let a catch-up work out its next batch while PostgreSQL runs them.
        A table's statements keep their order: a statement on a table whose merge is
        still to come sends the merges first."""
        filled: set[str] = set()  # staging tables this transaction has filled (or made)
        with ExitStack() as stack:
            cursor = stack.enter_context(self.datastore.transaction(commit=True))  # type: ignore[attr-defined]
            session = self._stages_of(cursor)
            merges: dict[str, str] = {}  # by table, in order

            def merge() -> None:
                """Sends the merges still to come, together, in one round trip."""
                if merges:
                    cursor.execute("; ".join(merges.values()))
                    merges.clear()

            for write in writes:
                changes = arranged(write.changes)
                for table, statement, rows in self._statements(changes):
                    if table in merges:
                        merge()
                    if isinstance(statement, Staged):
                        merges[table] = statement.fill(cursor, rows, session, filled)
                    elif isinstance(statement, (Copy, Listed)):
                        statement.run(cursor, rows)
                    elif len(rows) == 1:  # a live fact's row: no pipeline to set up
                        cursor.execute(statement, rows[0])
                    else:
                        cursor.executemany(statement, rows)
            self._insert_trackings(cursor, [Tracking(w.projection, w.position) for w in writes])
            ending = stack.pop_all()

        def end() -> None:
            with ending:
                merge()
            session.update(filled)  # committed: there for the session's next transactions

        return end

    def _stages_of(self, cursor: Any) -> set[str]:  # noqa: ARG002
        """The staging tables the cursor's database session has made (none here)."""
        return set()

    def _insert_trackings(self, cursor: Any, trackings: Sequence[Tracking]) -> None:
        """Moves each projection's position (eventsourcing's tracking records)."""
        for tracking in trackings:
            self._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]

    def _statements(self, changes: Sequence[Change]) -> Iterable[tuple[str, Any, list[Any]]]:
        """Each group of changes of one shape: its table's name, its statement, its rows."""
        for (_, table, columns), group in groupby(changes, key=_shape):
            same = list(group)
            kind = type(same[0])
            if kind is Insert or (kind is Upsert and _distinct_keys(same)):
                yield table.name, *self._bulk(same, table, columns)
            else:
                yield table.name, self._sql(same[0], table), [self._params(c, columns)
                                                              for c in same]

    def _before_creating(self, cursor: Any) -> None:
        """First in a transaction creating tables (SQLite's write lock keeps others out)."""

    def _bulk(self, rows: list[Upsert | Insert], table: Table,
              columns: tuple[str, ...]) -> tuple[Any, list[Any]]:
        """Many new rows of one table (`columns`: theirs, in their order): here one
        execution per row, in one round trip."""
        return self._sql(rows[0], table), self._rows(rows, columns)

    def _sql(self, change: Change, table: Table, source: str = "") -> str:
        """The statement writing a change: the same for every change of its shape, so
        made once per shape (a live batch writes a few rows, of forty columns some)."""
        kind, _, columns = _shape(change)
        shape = (kind, table.name, columns, source)
        statement = self._statements_made.get(shape)
        if statement is None:
            statement = self._statements_made[shape] = self._written_as(change, table, source)
        return statement

    @cached_property
    def _statements_made(self) -> dict[tuple[str, str, tuple[str, ...], str], str]:
        return {}

    def _written_as(self, change: Change, table: Table, source: str) -> str:
        """An upsert rewrites a row only where a value differs: catching up, a row is
        written again at each batch naming it (a person's search words at each of their
        facts), and an unchanged row kept as it is costs no new version of it."""
        name, p = self.table_name(table.name), self.placeholder
        if isinstance(change, (Upsert, Insert)):
            columns = list(change.row)
            source = source or f"VALUES ({', '.join(p for _ in columns)})"
            head = f"INSERT INTO {name} AS t ({', '.join(columns)}) {source}"
            if isinstance(change, Insert):
                return head + (" ON CONFLICT DO NOTHING" if change.ignore_existing else "")
            given = [c for c in columns if c not in table.key]
            updates = ", ".join(f"{c} = excluded.{c}" for c in given)
            differs = self.rows_differ(given, whole=set(columns) == set(table.columns))
            return (f"{head} ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates} "
                    f"WHERE {differs}")
        where = " AND ".join(f"{c} = {p}" for c in change.where) or "1 = 1"
        if isinstance(change, Update):
            sets = ", ".join(f"{c} = {p}" for c in change.values)
            return f"UPDATE {name} SET {sets} WHERE {where}"
        return f"DELETE FROM {name} WHERE {where}"

    def _params(self, change: Change, columns: tuple[str, ...]) -> list[Any]:
        if isinstance(change, (Upsert, Insert)):
            return self._row(change, columns)
        cols = change.table.columns
        values = change.values if isinstance(change, Update) else {}
        return [self.to_db(v, cols[c]) for c, v in [*values.items(), *change.where.items()]]

    def _row(self, change: Upsert | Insert, columns: tuple[str, ...]) -> list[Any]:
        """A new row's values as its columns store them, in the row's order (`columns`:
        its columns in that order)."""
        return self._rows([change], columns)[0]

    def _rows(self, changes: Sequence[Upsert | Insert], columns: tuple[str, ...]
              ) -> list[list[Any]]:
        """New rows of one table and the same `columns`, in that order, as `_row` each (the
        table's plan for those columns looked up once: a catch-up's batch writes
        thousands of rows of a few shapes)."""
        plan = self._plan_of(changes[0].table, columns)
        converted, texts, positions = plan.converted, plan.texts, plan.text_positions
        rows = []
        for change in changes:
            values = list(change.row.values())
            for at, convert in converted:
                values[at] = convert(values[at])
            rows.append(values)
        if texts and not _clean_texts(chain.from_iterable(map(texts, rows))):
            for values in rows:  # a NUL somewhere (or text of another type): row by row
                if not _clean_texts(texts(values)):
                    for at in positions:
                        values[at] = _without_nul(values[at])
        return rows

    def _plan_of(self, table: Table, columns: tuple[str, ...]) -> _RowPlan:
        """How a row of these columns goes into the table (`to_db` worked out once per
        column: a catch-up writes a few dozen values a fact)."""
        try:
            return self._plans[table.name, columns]
        except KeyError:
            plan = self._plans[table.name, columns] = _RowPlan.of(
                [self._conversion(table.columns[c]) for c in columns])
            return plan

    @cached_property
    def _plans(self) -> dict[tuple[str, tuple[str, ...]], _RowPlan]:
        return {}

    def _conversion(self, kind: Type) -> Any:
        """`to_db` for values of one column type (None: stored as they are)."""
        return lambda value: self.to_db(value, kind)

    # -- setting up ---------------------------------------------------------------------

    def prepare(self, projections: Sequence[Projection]) -> list[str]:
        """Creates missing tables and indexes (a new index needs no rebuild); empties
        those of a projection whose version changed.

        Returns the names of the projections that start again from the beginning.
        """
        self.create_tables([VERSIONS])
        stored = {r["name"]: r["version"] for r in self.rows(
            "SELECT name, version FROM {projection_versions}", {}, VERSIONS.columns)}
        restarted = []
        for projection in projections:
            if stored.get(projection.name) != projection.version:
                self.reset(projection)
                restarted.append(projection.name)
            else:
                self.create_tables(projection.tables)
        return restarted

    def reset(self, projection: Projection) -> None:
        """Drops a projection's rows and position, to rebuild it from the first fact."""
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            for table in projection.tables:
                cursor.execute(f"DROP TABLE IF EXISTS {self.table_name(table.name)}")
            cursor.execute(f"DELETE FROM {self.tracking_table()} WHERE application_name = "
                           f"{self.placeholder} OR application_name LIKE {self.placeholder}",
                           [projection.name, projection.name + "@%"])  # and its shares'
        self.create_tables(projection.tables)
        self.apply([Write(projection.name, [Upsert(VERSIONS, {
            "name": projection.name, "version": projection.version})], 0)])

    def create_tables(self, tables: Sequence[Table]) -> None:
        """Creates the tables and their indexes if they do not exist, and adds the columns
        a table gained since it was created (empty in its existing rows)."""
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            self._before_creating(cursor)
            for table in tables:
                name = self.table_name(table.name)
                columns = ", ".join(f"{c} {self.sql_types[t]}" for c, t in table.columns.items())
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns}, "
                               f"PRIMARY KEY ({', '.join(table.key)}))")
                present = self._columns(cursor, table.name)
                for column, kind in table.columns.items():
                    if column not in present:
                        cursor.execute(f"ALTER TABLE {name} ADD COLUMN {column} "
                                       f"{self.sql_types[kind]}")
                for index in table.indexes:
                    columns, where, suffix = ((index.columns, f" WHERE {index.where}",
                                               f"_{index.name}") if isinstance(index, Index)
                                              else (index, "", ""))
                    index_name = f"{table.name}_{'_'.join(columns)}{suffix}_idx"
                    cursor.execute(f"CREATE INDEX IF NOT EXISTS {index_name} ON {name} "
                                   f"({', '.join(columns)}){where}")

    def _columns(self, cursor: Any, table: str) -> set[str]:
        """The columns a table has in the database."""
        raise NotImplementedError

    def analyze(self, tables: Sequence[Table]) -> None:
        """Refreshes the planner's statistics of the tables (after they filled up)."""
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            for table in tables:
                cursor.execute(f"ANALYZE {self.table_name(table.name)}")

    def forget_positions(self, names: Sequence[str]) -> None:
        """Drops the positions kept under `names` (a split catch-up's shares, once joined)."""
        if not names:
            return
        marks = ", ".join([self.placeholder] * len(names))
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"DELETE FROM {self.tracking_table()} WHERE application_name IN "
                           f"({marks})", list(names))

    def share_positions(self, projections: Sequence[str]) -> dict[str, int]:
        """The positions of a split rebuild's shares of `projections` still kept (while it
        runs, or after it failed), by name, in one query."""
        if not projections:
            return {}
        like = " OR ".join([f"application_name LIKE {self.placeholder}"] * len(projections))
        with self._reading() as cursor:
            cursor.execute(f"SELECT application_name, notification_id FROM "
                           f"{self.tracking_table()} WHERE {like} ORDER BY application_name",
                           [name + "@%" for name in projections])
            return {row["application_name"]: row["notification_id"]
                    for row in cursor.fetchall()}

    def position(self, projection: str) -> int:
        """The last notification id applied to a projection (0 before the first)."""
        return self.max_tracking_id(projection) or 0  # type: ignore[attr-defined]

    # -- reading ------------------------------------------------------------------------

    def rows(self, query: str, params: dict[str, Any], types: dict[str, Type]) -> list[dict]:
        """Runs a read query; `{table}` names the tables, `:name` the parameters."""
        statement = self._dialect(query.format_map(_Names(self)))
        with self._reading() as cursor:
            cursor.execute(statement, {k: self._param(v) for k, v in params.items()})
            found = cursor.fetchall()
        return [{k: self.from_db(row[k], types.get(k, Type.TEXT)) for k in row.keys()}  # noqa: SIM118 - sqlite3.Row
                for row in found]

    def _reading(self) -> AbstractContextManager[Any]:
        """A cursor for one read statement."""
        return self.datastore.transaction(commit=False)  # type: ignore[attr-defined,no-any-return]

    def execute(self, statement: str, params: dict[str, Any]) -> int:
        """Runs one write statement outside any projection; returns the rows it touched."""
        sql_text = self._dialect(statement.format_map(_Names(self)))
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(sql_text, {k: self._param(v) for k, v in params.items()})
            raw = getattr(cursor, "sqlite_cursor", cursor)
            return max(raw.rowcount, 0)

    def _dialect(self, statement: str) -> str:
        return statement

    def _param(self, value: Any) -> Any:
        return value

    def tracking_table(self) -> str:
        """The name of eventsourcing's tracking table, as written in SQL."""
        raise NotImplementedError

    def plus_days(self, column: str, days: int) -> str:
        """SQL for a date column moved by a number of days."""
        raise NotImplementedError

    def days_before(self, day: str, column: str) -> str:
        """SQL for the whole days from a date column to the date `day` (a parameter)."""
        raise NotImplementedError

    def greatest(self, first: str, second: str) -> str:
        """SQL for the larger of two values."""
        return f"GREATEST({first}, {second})"

    def differs(self, first: str, second: str) -> str:
        """SQL for « these two values differ », NULL being a value like any other."""
        return f"{first} IS DISTINCT FROM {second}"

    def rows_differ(self, columns: Sequence[str], *, whole: bool) -> str:
        """SQL for « the stored row (`t`) differs from the one proposed (`excluded`) in
        one of these columns », NULL being a value like any other; `whole` when they are
        all the table's columns but its key. As one comparison of two rows: written column
        by column, the case view's upsert took 5 KB, past the 4 KB psycopg keeps a
        statement's parsing for, and it parsed it again for every live fact."""
        if whole:  # the key is the same on both sides: it is what conflicted
            return "ROW(t.*) IS DISTINCT FROM ROW(excluded.*)"
        if len(columns) == 1:
            return self.differs(f"t.{columns[0]}", f"excluded.{columns[0]}")
        return (f"ROW({', '.join(f't.{c}' for c in columns)}) IS DISTINCT FROM "
                f"ROW({', '.join(f'excluded.{c}' for c in columns)})")


@dataclass(frozen=True)
class Copy:
    """A COPY statement and how to feed it rows: in PostgreSQL's binary format when
    `types` gives the columns' types (`binary_types`), else as text."""

    statement: str
    types: tuple[str, ...] = ()

    def run(self, cursor: Any, rows: list[list[Any]]) -> None:
        """Streams the rows through COPY."""
        binary = " (FORMAT BINARY)" if self.types else ""
        with cursor.copy(self.statement + binary) as copy:
            if self.types:
                copy.set_types(self.types)
            for row in rows:
                copy.write_row(row)


_FITS = {"text": {str}, "bigint": {int}, "boolean": {bool}, "date": {date},
         "timestamptz": {datetime}}
"""The Python values each type is copied from, in binary, beside None (and text from
any kind of `str`: psycopg sends its characters, in either format)."""


def binary_types(types: tuple[str, ...], rows: list[list[Any]]) -> tuple[str, ...]:
    """`types`, the columns' (`PostgresViews._value_type`), to copy these rows in binary,
    or () if a value is not of its column's type (copied as text, PostgreSQL reads it as
    it can).

    psycopg formats a row as text in 2.3 µs here (an instant alone takes 0.85 µs, as
    `datetime.isoformat`), and in binary in 0.26 µs: an instant is a number. The rows'
    values are looked at column by column (0.3 µs a row of a dozen columns): in binary,
    a value of another type than its column's cannot be sent."""
    for kind, values in zip(types, zip(*rows, strict=True), strict=True):
        seen = set(map(type, values))
        seen.discard(type(None))
        if not seen <= _FITS[kind] and not (kind == "text" and all(
                issubclass(t, str) for t in seen)):  # text of its own kind (sealed)
            return ()
        if kind == "timestamptz" and any(v.tzinfo is None for v in values if v is not None):
            return ()  # a naive instant: as text, the database's time zone reads it
    return types


@dataclass(frozen=True)
class Listed:
    """Rows of one shape listed in one statement, with PostgreSQL's own placeholders
    ($1, $2…), which psycopg sends as they are: it parses its own (%s) anew at each
    execution of a statement of more than fifty parameters (two rows of a file's)."""

    statement: str

    def run(self, cursor: Any, rows: list[list[Any]]) -> None:
        """Executes the statement with the rows' values, all in one list."""
        with RawCursor(cursor.connection) as raw:
            raw.execute(self.statement, rows[0])


@lru_cache(maxsize=256)
def _listing(columns: int, rows: int) -> str:
    """`VALUES ($1, $2), ($3, $4)` for rows of so many columns."""
    return "VALUES " + ", ".join(
        "(" + ", ".join(f"${row * columns + column + 1}" for column in range(columns)) + ")"
        for row in range(rows))


@dataclass(frozen=True)
class Staged:
    """Many rows written through a staging table: COPY into it, then one INSERT … SELECT
    (COPY formats rows in psycopg's C code; arrays for unnest are built in Python).

    The stage empties itself when its transaction ends (`ON COMMIT DELETE ROWS`: the
    server cuts its file to nothing). Emptied by a `TRUNCATE` of its own, a stage cost
    PostgreSQL 3 to 6 ms a batch, a new file each time: on the bench's log, a catch-up
    spent 30 µs a fact on them, a third of the merges' time. Filled a second time in one
    transaction, it is emptied first, by a `DELETE`."""

    stage: str
    create: str
    copy: Copy
    insert: str
    empty: str

    def fill(self, cursor: Any, rows: list[list[Any]], session: set[str],
             filled: set[str]) -> str:
        """Stages the rows, noting the stage in `filled` (this transaction's stages): it
        is emptied first if this transaction has filled it already, else created unless
        the `session` has it from an earlier transaction. Returns the SQL that writes
        them into the table (no parameters: sent later, with others, in one round
        trip)."""
        if self.stage in filled:
            cursor.execute(self.empty)
        elif self.stage not in session:
            cursor.execute(self.create)
        filled.add(self.stage)
        self.copy.run(cursor, rows)
        return self.insert


class _Names(dict[str, str]):
    def __init__(self, store: ViewStore) -> None:
        super().__init__()
        self.store = store

    def __missing__(self, key: str) -> str:
        return self.store.table_name(key)


@dataclass(frozen=True)
class _RowPlan:
    """How a row of one shape goes into its columns: the values converted (by position),
    and the text columns', which go as they are, unless one holds a NUL (PostgreSQL text
    cannot): then each of them goes through `_without_nul`. One look for a NUL through
    a row's text at once costs a third of a call per value (0.8 µs against 2.5 µs for
    a row of forty columns, two thirds of them text, here)."""

    converted: tuple[tuple[int, Callable[[Any], Any]], ...]
    text_positions: tuple[int, ...]
    texts: Callable[[list[Any]], tuple[Any, ...]] | None

    @classmethod
    def of(cls, conversions: Sequence[Callable[[Any], Any] | None]) -> _RowPlan:
        """The plan of a row whose columns take these conversions (None: as it is)."""
        texts = tuple(at for at, convert in enumerate(conversions) if convert is _without_nul)
        converted = tuple((at, convert) for at, convert in enumerate(conversions)
                          if convert is not None and convert is not _without_nul)
        getter = (None if not texts else itemgetter(*texts) if len(texts) > 1
                  else lambda values, at=texts[0]: (values[at],))
        return cls(converted, texts, getter)


def _clean_texts(texts: Iterable[Any]) -> bool:
    """True when these values are text (or empty) and none holds a NUL (`_rows` looks
    through a whole group of rows at once: 0.26 µs a row of ten texts here, against
    0.37 row by row)."""
    try:
        return "\x00" not in "".join(filter(None, texts))
    except TypeError:  # a value that is not text: each is looked at on its own
        return False


def _cents(value: Any) -> int | None:
    """`ViewStore.to_db` for money: whole cents."""
    return None if value is None else int((Decimal(value) * 100).to_integral_exact())


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False).encode


def _json(value: Any) -> str | None:
    """`ViewStore.to_db` for JSON: as `json.dumps(value, ensure_ascii=False)` writes it."""
    return None if value is None else _JSON_TEXT(value)


def _without_nul(value: Any) -> Any:
    """`ViewStore.to_db` for text: PostgreSQL text cannot hold NUL."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _shape(change: Change) -> tuple[str, Table, tuple[str, ...]]:
    """What changes written by one statement share: their kind, their table, and the
    columns they give (a new row's, in its order)."""
    kind = type(change)
    if kind is Upsert:
        return "Upsert", change.table, tuple(change.row)  # type: ignore[union-attr]
    if kind is Insert:
        return ("Insert, ignoring existing rows" if change.ignore_existing  # type: ignore[union-attr]
                else "Insert"), change.table, tuple(change.row)  # type: ignore[union-attr]
    if kind is Update:
        return "Update", change.table, (*change.values, "|", *change.where)  # type: ignore[union-attr]
    return "Delete", change.table, tuple(change.where)


def _distinct_keys(changes: Sequence[Upsert]) -> bool:
    """True when no two rows share a key: one statement cannot upsert a row twice. (New
    rows of one key fail, or are skipped, alike in one statement or in several.)"""
    key = _key(changes[0].table.key)
    return len({key(c.row) for c in changes}) == len(changes)


@lru_cache(maxsize=256)
def _key(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """Reads a row's key (a value, or a tuple of values) from its columns."""
    return itemgetter(*columns)


def arranged(changes: Sequence[Change]) -> list[Change]:
    """A batch's changes in the order they are written: grouped by table (tables of a read
    model do not depend on each other), each table's in their order, except that
    - in a table that only takes upserts, a row's last upsert alone is written (a
      projection's upserts write whole rows: the last one is the row; catching up, a
      file's row is rewritten after each of its facts);
    - in a table that takes deletions, they go first (`deletes_first`).
    Grouped, each table takes its rows in a few statements."""
    tables: dict[str, list[Change]] = {}
    for change in changes:
        name = change.table.name
        same = tables.get(name)
        if same is None:
            tables[name] = [change]
        else:
            same.append(change)
    if len(tables) == 1:
        return _table_arranged(next(iter(tables.values())))
    return [change for name in sorted(tables) for change in _table_arranged(tables[name])]


def _table_arranged(same: list[Change]) -> list[Change]:
    """One table's changes, as `arranged` writes them."""
    if len(same) == 1:
        return same
    kinds = set(map(type, same))
    if Update in kinds or Delete in kinds:
        return deletes_first(same)
    if Upsert not in kinds:
        return same
    key = _key(same[0].table.key)
    if len(kinds) == 1:  # upserts alone: rows of other keys may go in any order
        return list({key(c.row): c for c in same}.values())  # type: ignore[union-attr]
    last = {key(c.row): i for i, c in enumerate(same) if type(c) is Upsert}  # type: ignore[union-attr]
    return [c for i, c in enumerate(same)
            if type(c) is not Upsert or last[key(c.row)] == i]  # type: ignore[union-attr]


def deletes_first(changes: Sequence[Change]) -> list[Change]:
    """Within each table (`changes` grouped by table), its deletions before its new rows,
    so that each kind goes to the database in one statement.

    Catching up, the rows a file keeps in a table (its payments, its search keys) come as
    « delete the file's rows, write them again » at each of its facts: dozens of
    alternating statements per batch, each a round trip. A row that a later deletion of
    the batch removes is not written at all; the deletions may then go first, as long as
    each names its rows by columns of the table's key. Which rows such a deletion reaches
    then depends on their keys alone, so it cannot reach a row the batch still writes.
    A table with an update in the batch, or a deletion by other columns, keeps its order.
    """
    reordered: list[Change] = []
    for _, group in groupby(changes, key=lambda c: c.table.name):
        same = list(group)
        deletes = [c for c in same if isinstance(c, Delete)]
        if (not deletes or len(deletes) == len(same)
                or any(isinstance(c, Update) for c in same)
                or any(not set(d.where) <= set(d.table.key) for d in deletes)):
            reordered.extend(same)
            continue
        later: dict[tuple[str, ...], set[tuple[Any, ...]]] = {}  # the deletions after, by columns
        kept: list[Change] = []
        for change in reversed(same):
            if isinstance(change, Delete):
                columns = tuple(sorted(change.where))
                later.setdefault(columns, set()).add(tuple(change.where[c] for c in columns))
            elif not any(tuple(change.row[c] for c in by) in reached  # type: ignore[union-attr]
                         for by, reached in later.items()):
                kept.append(change)
        reordered.extend(deletes)
        reordered.extend(reversed(kept))
    return reordered


class SQLiteViews(ViewStore, SQLiteTrackingRecorder):
    """Read models in the SQLite file of the events."""

    sql_types: ClassVar[dict[Type, str]] = {
                 Type.TEXT: "TEXT", Type.INT: "INTEGER", Type.BOOL: "INTEGER",
                 Type.DATE: "TEXT", Type.INSTANT: "TEXT", Type.CENTS: "INTEGER",
                 Type.JSON: "TEXT", Type.WORD: "TEXT"}  # SQLite compares text by code

    def begin_apply(self, writes: Sequence[Write]) -> Callable[[], None]:
        """The whole of `apply`, left to the caller: SQLite stages nothing, and its writes
        run in this process, in whichever thread calls it."""
        return partial(self.apply, writes)

    def to_db(self, value: Any, kind: Type) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return super().to_db(value, kind)

    def from_db(self, value: Any, kind: Type) -> Any:
        if value is not None and kind is Type.DATE:
            return date.fromisoformat(value)
        if value is not None and kind is Type.INSTANT:
            return datetime.fromisoformat(value)
        if value is not None and kind is Type.BOOL:
            return bool(value)
        return super().from_db(value, kind)

    def _param(self, value: Any) -> Any:
        return self.to_db(value, Type.TEXT)

    def tracking_table(self) -> str:
        return "tracking"

    def _columns(self, cursor: Any, table: str) -> set[str]:
        cursor.execute(f"PRAGMA table_info({table})")
        return {row[1] for row in cursor.fetchall()}

    def plus_days(self, column: str, days: int) -> str:
        return f"date({column}, '+{int(days)} days')"

    def days_before(self, day: str, column: str) -> str:
        return f"CAST(julianday({day}) - julianday({column}) AS INTEGER)"

    def greatest(self, first: str, second: str) -> str:
        return f"MAX({first}, {second})"

    def differs(self, first: str, second: str) -> str:
        return f"{first} IS NOT {second}"

    def rows_differ(self, columns: Sequence[str], *, whole: bool) -> str:  # noqa: ARG002
        return " OR ".join(self.differs(f"t.{c}", f"excluded.{c}") for c in columns)


class PostgresViews(ViewStore, PostgresTrackingRecorder):
    """Read models in the PostgreSQL schema of the events (calls bounded in time while the
    database does not answer: see `projections.outage`)."""

    insert_tracking = within_budget(PostgresTrackingRecorder.insert_tracking)
    max_tracking_id = within_budget(PostgresTrackingRecorder.max_tracking_id)
    has_tracking_id = within_budget(PostgresTrackingRecorder.has_tracking_id)

    placeholder = "%s"
    sql_types: ClassVar[dict[Type, str]] = {
                 Type.TEXT: "TEXT", Type.INT: "BIGINT", Type.BOOL: "BOOLEAN",
                 Type.DATE: "DATE", Type.INSTANT: "TIMESTAMPTZ", Type.CENTS: "BIGINT",
                 Type.JSON: "TEXT", Type.WORD: 'TEXT COLLATE "C"'}

    def table_name(self, name: str) -> str:
        return f'"{self.datastore.schema}"."{name}"'

    def _reading(self) -> AbstractContextManager[Any]:
        return one_statement(self.datastore)

    def _before_creating(self, cursor: Any) -> None:
        # Processes starting at once (`relance serve --workers N` and its runner) may each
        # create a missing table: PostgreSQL refuses the second CREATE TABLE IF NOT EXISTS
        # of a table another transaction is creating (see also `store.setting_up`).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       [f"relance tables {self.datastore.schema}"])

    @cached_property
    def _stages(self) -> WeakKeyDictionary[Any, set[str]]:
        """The staging tables each database session has made, by connection: a session
        keeps its temporary tables until it ends, so each is created once per session.
        A table made in a transaction that did not commit is not there: `apply` notes it
        only once its transaction has committed."""
        return WeakKeyDictionary()

    def _stages_of(self, cursor: Any) -> set[str]:
        return self._stages.setdefault(cursor.connection, set())

    def _insert_trackings(self, cursor: Any, trackings: Sequence[Tracking]) -> None:
        """Every projection's position in one statement: a command moves the eight read
        models' positions, and eventsourcing's one statement each (its SQL composed anew
        each time) cost a third of applying the command's fact. As eventsourcing's, a
        position that does not move forward is refused (another runner got there): the
        statement then writes fewer rows than it was given.

        The same statement lets the transaction commit without waiting for the disk
        (`synchronous_commit` off, for this transaction only): views are rebuilt from the
        events, and their positions commit with their rows, so a batch lost in a server
        crash is simply applied again. Said here rather than by a `SET LOCAL` of its own,
        it costs no round trip: a live batch of one fact makes about eight."""
        if not self.datastore.single_row_tracking:
            self._check_has_multi_row_tracking_table(cursor)
        cursor.execute(self._insert_trackings_statement,
                       ([t.application_name for t in trackings],
                        [t.notification_id for t in trackings]), prepare=True)
        if self.datastore.single_row_tracking and cursor.rowcount != len(trackings):
            raise IntegrityError("a projection's position did not move forward: "
                                 f"{[(t.application_name, t.notification_id) for t in trackings]}")

    @cached_property
    def _insert_trackings_statement(self) -> bytes:
        insert = (f"INSERT INTO {self.tracking_table()} AS t (application_name, "
                  "notification_id) SELECT u.name, u.position FROM "
                  "unnest(%b::text[], %b::bigint[]) AS u(name, position), "
                  "(SELECT set_config('synchronous_commit', 'off', true)) AS no_wait")
        if self.datastore.single_row_tracking:
            insert += (" ON CONFLICT (application_name) DO UPDATE SET notification_id = "
                       "EXCLUDED.notification_id WHERE t.notification_id < "
                       "EXCLUDED.notification_id")
        return insert.encode()

    def _bulk(self, rows: list[Upsert | Insert], table: Table,
              columns: tuple[str, ...]) -> tuple[Any, list[Any]]:
        """Many new rows: one (a command's fact, applied live) as one plain statement; up
        to `VALUES_UP_TO` (a live batch's), one statement listing them; from `STAGE_FROM`
        rows (a catch-up's batch), through a staging table, merged when the batch ends
        (`ViewStore._begin`): the table's indexes are then PostgreSQL's work alone, while
        this process goes on; else COPY for plain inserts, one array per column for the
        others, sent in binary (psycopg dumps them in Python: in text, each value quoted
        and escaped, which cost a live batch's rows 0.02 ms of the runner's CPU a command,
        and PostgreSQL 0.013 ms more to parse them). A few rows cost least listed: their
        values are dumped in C, in one round trip, where psycopg dumps an array per column
        in Python (each time finding its elements' type: a file's row has over forty
        columns) and COPY costs two round trips."""
        if len(rows) == 1:
            return super()._bulk(rows, table, columns)
        if len(rows) <= VALUES_UP_TO:
            source = _listing(len(columns), len(rows))
            return (Listed(self._sql(rows[0], table, source=source)),
                    [[value for row in self._rows(rows, columns) for value in row]])
        plain = isinstance(rows[0], Insert) and not rows[0].ignore_existing
        if plain or len(rows) >= STAGE_FROM:
            copied = self._rows(rows, columns)
            types = binary_types(tuple(self._value_type(table.columns[c]) for c in columns),
                                 copied)
            if plain and len(rows) < STAGE_FROM:
                return Copy(f"COPY {self.table_name(table.name)} ({', '.join(columns)}) "
                            "FROM STDIN", types), copied
            return self._staged(rows[0], table, columns, types), copied
        params = [list(values)
                  for values in zip(*self._rows(rows, columns), strict=True)]
        return self._sql(rows[0], table, source=self._unnested(table, columns)), [params]

    def _unnested(self, table: Table, columns: tuple[str, ...]) -> str:
        """The rows of one array per column, typed for those columns: made once per
        shape (a file's row has over forty columns, each looked up and typed)."""
        shape = (table.name, columns)
        source = self._sources_made.get(shape)
        if source is None:
            arrays = ", ".join(f"%b::{self._value_type(table.columns[c])}[]" for c in columns)
            source = self._sources_made[shape] = f"SELECT * FROM unnest({arrays})"
        return source

    @cached_property
    def _sources_made(self) -> dict[tuple[str, tuple[str, ...]], str]:
        return {}

    def analyze(self, tables: Sequence[Table]) -> None:
        """`VACUUM (ANALYZE)`: the planner's statistics, and the rows just written marked
        as seen by every transaction (hint bits, the visibility map). Without that, after a
        rebuild, the first reads of each page of a view did it themselves, and wrote the
        page back: on the bench's 100,000 files after rebuilds, a file's page took 42 and
        117 ms at p95 in two runs, and 15 ms once the views were vacuumed. Run outside a
        transaction, as VACUUM must be (the pool's connections commit each statement by
        themselves).

        The views' batches commit without waiting for the disk, and a row whose commit is
        not yet on disk cannot be marked: VACUUM leaves its page as it is. A write that
        does wait comes first (the projections' versions rewritten as they are, committed
        with `synchronous_commit` on whatever the server's default, as `_insert_trackings`
        says it off), which puts every commit before it on disk. The indexes are cleaned
        up whatever their share of dead entries: a page keeping one is not marked either."""
        versions = self.table_name(VERSIONS.name)
        with self.datastore.get_connection() as connection:
            connection.execute(f"UPDATE {versions} SET version = version "
                               "FROM (SELECT set_config('synchronous_commit', 'on', true)) "
                               f"AS waiting WHERE name = (SELECT min(name) FROM {versions})")
            for table in tables:
                connection.execute(
                    f"VACUUM (ANALYZE, INDEX_CLEANUP ON) {self.table_name(table.name)}")

    def _value_type(self, kind: Type) -> str:
        """The type of a value of a column of this kind, without the column's collation
        (`Type.WORD`'s): what an array of such values, or a binary copy, is typed as."""
        return self.sql_types[kind].split(" COLLATE")[0].lower()

    def _staged(self, first: Upsert | Insert, table: Table, columns: Sequence[str],
                types: tuple[str, ...]) -> Staged:
        """The statements that write rows shaped as `first` through a staging table of
        this session, named after those columns and types (a table changed since gets
        another stage); `types`: those of a binary copy (`Copy`), if any."""
        typed = ", ".join(f"{c} {self.sql_types[table.columns[c]]}" for c in columns)
        shape = hashlib.sha256(typed.encode()).hexdigest()[:12]
        stage = f"relance_stage_{table.name}_{shape}"
        listed = ", ".join(columns)
        return Staged(stage=stage, create=f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({typed}) "
                      "ON COMMIT DELETE ROWS",
                      copy=Copy(f"COPY {stage} ({listed}) FROM STDIN", types),
                      insert=self._sql(first, table, source=f"SELECT {listed} FROM {stage}"),
                      empty=f"DELETE FROM {stage}")

    def _conversion(self, kind: Type) -> Any:
        if kind in (Type.INT, Type.BOOL, Type.DATE, Type.INSTANT):
            return None  # psycopg adapts them as they are
        if kind in (Type.TEXT, Type.WORD):
            return _without_nul
        if kind is Type.CENTS:
            return _cents
        if kind is Type.JSON:
            return _json
        return super()._conversion(kind)

    def _dialect(self, statement: str) -> str:
        return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", statement)

    def _param(self, value: Any) -> Any:
        return self.to_db(value, Type.TEXT)

    def tracking_table(self) -> str:
        return self.table_name(self.tracking_table_name)

    def _columns(self, cursor: Any, table: str) -> set[str]:
        cursor.execute("SELECT column_name FROM information_schema.columns "
                       "WHERE table_schema = %s AND table_name = %s",
                       [self.datastore.schema, table])
        return {row["column_name"] for row in cursor.fetchall()}

    def plus_days(self, column: str, days: int) -> str:
        return f"({column} + {int(days)})"

    def days_before(self, day: str, column: str) -> str:
        return f"(CAST({day} AS DATE) - {column})"
