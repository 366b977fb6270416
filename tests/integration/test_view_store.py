"""Rows written many at once (a catch-up's batch: COPY, a staging table, arrays; a live
batch's few rows: one statement listing them) are the rows written one at a time,
whatever their types, on both stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from projections.schema import Insert, Table, Type, Update, Upsert
from projections.storage import STAGE_FROM, VALUES_UP_TO, Write

COLUMNS = {"ref": Type.TEXT, "n": Type.INT, "ok": Type.BOOL, "day": Type.DATE,
           "at": Type.INSTANT, "amount": Type.CENTS, "data": Type.JSON, "word": Type.WORD,
           "note": Type.TEXT}
ROWS = 2 * STAGE_FROM + 7


def _row(i: int, changed: bool = False) -> dict:
    return {"ref": f"R-{i:04d}", "n": i * (3 if changed else 1), "ok": (i % 2 == 0) ^ changed,
            "day": date(2026, 1, 1) + timedelta(days=i),
            "at": datetime(2026, 11, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=i),
            "amount": Decimal(f"{i}.{i % 100:02d}") + (1 if changed else 0),
            "data": {"i": i, "mots": ["é", "\t", "\\N", "a;b"]},
            "word": ["zèbre", "Zebre", "éclair", "abc\\def", "x\ny"][i % 5],
            "note": None if i % 7 == 0 else f"ligne {i}\ttab \\ « guillemets »"}


def _with_nul(i: int) -> dict:
    """A row whose text holds a NUL character (for every seventh row), which PostgreSQL
    text cannot hold: both stores write U+FFFD in its place."""
    return {**_row(i), "note": f"nul\x00 {i}"} if i % 7 == 3 else _row(i)


def test_a_batch_of_rows_writes_what_one_row_at_a_time_writes(runtime):
    views = runtime.views
    many = Table("stage_many", COLUMNS, key=("ref",))
    one = Table("stage_one", COLUMNS, key=("ref",))
    views.create_tables([many, one])
    batches = [  # (row, written with Insert … ignore_existing rather than Upsert)
        [(_with_nul(i), False) for i in range(ROWS)],                   # new rows
        [(_row(i, changed=True), False) for i in range(0, ROWS, 2)],    # half rewritten
        [(_row(i + ROWS // 2), True) for i in range(ROWS)],             # half already there
        [(_with_nul(i), False) for i in range(1, 1 + VALUES_UP_TO)],   # a live few
        [(_row(i), True) for i in range(ROWS + ROWS // 2 - 2, ROWS + ROWS // 2 + 1)],
    ]
    position = 0
    for batch in batches:
        position += 1
        views.apply([Write("stage_many", [_change(many, *c) for c in batch], position)])
        for change in batch:
            position += 1
            views.apply([Write("stage_one", [_change(one, *change)], position)])

    def read(table: Table) -> list[dict]:
        return views.rows(f"SELECT * FROM {{{table.name}}} ORDER BY ref", {}, COLUMNS)

    written = read(many)
    assert len(written) == ROWS + ROWS // 2 + 1
    assert written == read(one)
    assert written[0]["amount"] == Decimal("1.00")
    assert written[0]["ok"] is False
    assert written[7]["note"] is None
    assert (written[3]["note"], written[17]["note"]) == ("nul\ufffd 3", "nul\ufffd 17")
    assert written[7]["data"]["mots"][2] == "\\N"


def test_a_row_written_again_keeps_every_change_of_one_value_to_and_from_null(runtime):
    """An upsert rewrites a row only where a value differs (both stores word that test
    their own way): each change of a single column shows, a value cleared too, whether
    the upsert names every column or some."""
    views = runtime.views
    table = Table("one_value", COLUMNS, key=("ref",))
    views.create_tables([table])
    row = _row(3)
    steps = [row, {**row, "note": None}, {**row, "note": "revenu"}, {**row, "n": None},
             {**row, "data": {"i": 4}}, {**row, "data": None}, {**row, "at": None}, row]
    for position, step in enumerate(steps, start=1):
        views.apply([Write(table.name, [Upsert(table, step)], position)])
        assert views.rows("SELECT * FROM {one_value}", {}, COLUMNS) == [step]
    some = {"ref": row["ref"], "note": None, "ok": not row["ok"]}
    views.apply([Write(table.name, [Upsert(table, some)], len(steps) + 1)])
    assert views.rows("SELECT * FROM {one_value}", {}, COLUMNS) == [{**row, **some}]


class Shade(StrEnum):
    """Text of a kind of its own, as sealed text is."""

    DARK = "sombre"
    LIGHT = "clair"


ODD = {  # a value of another Python type than its column's, in some rows
    "number in text": lambda row, i: {**row, "note": i * 1000},
    "instant without its time zone": lambda row, i: {**row, "at": row["at"].replace(
        tzinfo=None)},
    "text of its own kind": lambda row, i: {**row, "word": Shade.DARK, "ref": Shade.LIGHT
                                            + f"-{i:04d}"},
}


@pytest.mark.parametrize("odd", ODD)
def test_rows_holding_values_of_other_types_than_their_columns_are_written_all_the_same(
        runtime, odd):
    """A catch-up's rows go to PostgreSQL in its binary format, where a value must be of
    its column's type (text may be of a kind of its own): a batch holding one that is not
    is written as text. Either way, as one row at a time writes it."""
    views = runtime.views
    name = odd.replace(" ", "_")
    many = Table(f"{name}_many", COLUMNS, key=("ref",))
    one = Table(f"{name}_one", COLUMNS, key=("ref",))
    views.create_tables([many, one])
    rows = [ODD[odd](_row(i), i) if i % 5 == 0 else _row(i) for i in range(ROWS)]
    views.apply([Write(many.name, [Upsert(many, row) for row in rows], 1)])
    for position, row in enumerate(rows, start=1):
        views.apply([Write(one.name, [Upsert(one, row)], position)])
    written = views.rows(f"SELECT * FROM {{{many.name}}} ORDER BY ref", {}, COLUMNS)
    assert written == views.rows(f"SELECT * FROM {{{one.name}}} ORDER BY ref", {}, COLUMNS)
    assert len(written) == ROWS
    assert {r["ref"]: r for r in written}["R-0001"]["at"] == datetime(2026, 11, 2, 9, 1,
                                                                     tzinfo=UTC)


def _change(table: Table, row: dict, insert: bool) -> Upsert | Insert:
    return Insert(table, row, ignore_existing=True) if insert else Upsert(table, row)


def test_a_batch_refused_after_staging_its_rows_leaves_later_batches_written_whole(runtime):
    """On PostgreSQL, a session keeps the staging tables it has made: each is made once,
    not at every batch. One made by a batch that was then refused is gone with it."""
    views = runtime.views
    kept = Table("stage_kept", COLUMNS, key=("ref",))
    refused = Table("then_refused", COLUMNS, key=("ref",))  # written after, by name
    views.create_tables([kept, refused])
    pool = views.datastore.pool
    sessions = pool.get_stats()["pool_size"] if hasattr(pool, "get_stats") else 1
    twice = [Insert(refused, _row(0)), Insert(refused, _row(0))]  # a key written twice
    position = 0
    for _ in range(sessions):  # a refused batch in each pooled session, stage made first
        with pytest.raises(IntegrityError):
            views.apply([Write("stage_kept", [Upsert(kept, _row(i)) for i in range(ROWS)]
                               + twice, position + 1)])
    for n in range(sessions + 1):  # then batches that pass, in every session
        position += 1
        views.apply([Write("stage_kept", [Upsert(kept, _row(i, changed=n % 2 == 1))
                                          for i in range(ROWS)], position)])
    written = views.rows("SELECT * FROM {stage_kept} ORDER BY ref", {}, COLUMNS)
    assert written == [_row(i, changed=sessions % 2 == 1) for i in range(ROWS)]
    assert views.rows("SELECT * FROM {then_refused}", {}, COLUMNS) == []


@pytest.mark.parametrize("projections", [1, 3])
def test_a_batch_at_a_position_already_reached_is_refused_whole(runtime, projections):
    """A batch of one read model or of several, at a position one of them has already
    reached (another runner got there first): refused, none of its rows written, every
    position where it was; the next batch is written."""
    views = runtime.views
    tables = [Table(f"reached_{projections}_{n}", COLUMNS, key=("ref",))
              for n in range(projections)]
    views.create_tables(tables)
    views.apply([Write(t.name, [Upsert(t, _row(1))], 5) for t in tables])
    with pytest.raises(IntegrityError):
        views.apply([Write(t.name, [Upsert(t, _row(2))], 7 if n else 5)
                     for n, t in enumerate(tables)])
    assert [views.position(t.name) for t in tables] == [5] * projections
    for t in tables:
        assert views.rows(f"SELECT ref FROM {{{t.name}}}", {}, {"ref": Type.TEXT}) == [
            {"ref": "R-0001"}]
    views.apply([Write(t.name, [Upsert(t, _row(3))], 6) for t in tables])
    assert [views.position(t.name) for t in tables] == [6] * projections


def test_a_batch_begun_is_written_when_ended_with_each_tables_statements_in_order(runtime):
    """A catch-up sends a batch's rows, then ends its transaction while it works out the
    next batch (on PostgreSQL, the staged rows are merged at the end). Until then no row
    and no position of the batch is seen; after, all of them are. A statement on a table
    whose staged rows are still to be merged comes after them: a correction of one of
    the rows staged is not undone by the merge."""
    views = runtime.views
    table, log = Table("begun", COLUMNS, key=("ref",)), Table("begun_log", COLUMNS, key=("ref",))
    views.create_tables([table, log])
    changes = [*(Upsert(table, _row(i)) for i in range(ROWS)),
               Update(table, where={"ref": "R-0005"}, values={"n": -1, "note": "corrigé"}),
               *(Insert(log, _row(i)) for i in range(ROWS))]
    end = views.begin_apply([Write("begun", changes, 9)])

    def read(name: str) -> list[dict]:
        return views.rows(f"SELECT * FROM {{{name}}} ORDER BY ref", {}, COLUMNS)

    assert (read("begun"), read("begun_log"), views.position("begun")) == ([], [], 0)
    end()
    written = read("begun")
    assert views.position("begun") == 9
    assert len(written) == ROWS
    assert (written[5]["n"], written[5]["note"]) == (-1, "corrigé")
    assert written[6] == _row(6)
    assert read("begun_log") == [_row(i) for i in range(ROWS)]


def test_a_table_staged_twice_in_one_batch_takes_each_of_its_rows_once(runtime):
    """A batch whose rows of one table are cut in two by a correction of one of them (a
    catch-up: a file's row rewritten, then corrected, then more rows): on PostgreSQL both
    groups go through the same staging table, in one transaction. The second merge writes
    the second group alone: the corrected row stays corrected, and rows inserted by the
    first group are not inserted again (which their key would refuse)."""
    views = runtime.views
    table, log = Table("staged_twice", COLUMNS, key=("ref",)), Table("staged_twice_log",
                                                                      COLUMNS, key=("ref",))
    views.create_tables([table, log])
    corrected = {"n": -1, "note": "corrigé"}
    for position, first in ((1, 0), (2, 2 * ROWS)):  # twice: each in a transaction of its own
        views.apply([Write("staged_twice", [
            *(Upsert(table, _row(i)) for i in range(first, first + ROWS)),
            Update(table, where={"ref": f"R-{first + 5:04d}"}, values=corrected),
            *(Upsert(table, _row(i)) for i in range(first + ROWS, first + 2 * ROWS)),
            *(Insert(log, _row(i)) for i in range(first, first + ROWS)),
            Update(log, where={"ref": f"R-{first + 5:04d}"}, values=corrected),
            *(Insert(log, _row(i)) for i in range(first + ROWS, first + 2 * ROWS)),
        ], position)])
    for name in ("staged_twice", "staged_twice_log"):
        written = views.rows(f"SELECT * FROM {{{name}}} ORDER BY ref", {}, COLUMNS)
        assert [row["ref"] for row in written] == [f"R-{i:04d}" for i in range(4 * ROWS)]
        for first in (0, 2 * ROWS):
            assert (written[first + 5]["n"], written[first + 5]["note"]) == (-1, "corrigé")
            assert written[first + 6] == _row(first + 6)
            assert written[first + ROWS + 5] == _row(first + ROWS + 5)


@pytest.mark.postgres
def test_a_merge_refused_at_the_end_of_a_batch_writes_none_of_it(postgres_url, clock):
    """On PostgreSQL, staged rows are merged into their table only when the batch ends:
    a row the table refuses then (a key missing) refuses the whole batch there, rows and
    position; the next batch, in the same session, is written whole."""
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        views = runtime.views
        table = Table("merged_late", COLUMNS, key=("ref",))
        views.create_tables([table])
        keyless = [Upsert(table, {**_row(i), "ref": None if i == 50 else f"R-{i:04d}"})
                   for i in range(ROWS)]
        end = views.begin_apply([Write("merged_late", keyless, 4)])
        with pytest.raises(IntegrityError):
            end()
        assert views.position("merged_late") == 0
        assert views.rows("SELECT ref FROM {merged_late}", {}, {"ref": Type.TEXT}) == []
        views.apply([Write("merged_late", [Upsert(table, _row(i)) for i in range(ROWS)], 5)])
        assert views.position("merged_late") == 5
        assert len(views.rows("SELECT ref FROM {merged_late}", {}, {"ref": Type.TEXT})) == ROWS
    finally:
        runtime.close()
