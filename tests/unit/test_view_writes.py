"""How a batch's row changes reach a read model's table: written in fewer statements
(a row's last upsert only, a table's deletions first), they leave the table exactly as
written one by one."""

from typing import Any

from hypothesis import assume, example, given
from hypothesis import strategies as st

from projections.schema import Change, Delete, Insert, Table, Type, Update, Upsert
from projections.storage import arranged, deletes_first

PAYMENTS = Table("payments", {"file": Type.TEXT, "version": Type.INT, "amount": Type.INT},
                 key=("file", "version"))
NOTES = Table("notes", {"file": Type.TEXT, "text": Type.TEXT}, key=("file",))
LATEST = Table("latest", {"file": Type.TEXT, "n": Type.INT}, key=("file",))
"""Only ever upserted: a row's last upsert is the only one written (a projection's
upserts write whole rows)."""

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


class Conflict(Exception):
    """A plain insert of a key already there: the database refuses the batch."""


def written(rows: Rows, changes: list[Change]) -> Rows:
    """The tables after `changes`, one at a time, as the database applies them."""
    tables = {name: {key: dict(row) for key, row in table.items()}
              for name, table in rows.items()}
    for change in changes:
        table = tables.setdefault(change.table.name, {})
        if isinstance(change, Delete | Update):
            reached = [k for k, row in table.items()
                       if all(row[c] == v for c, v in change.where.items())]
            for key in reached:
                if isinstance(change, Delete):
                    del table[key]
                else:
                    table[key].update(change.values)
            continue
        key = tuple(change.row[c] for c in change.table.key)
        if isinstance(change, Upsert):
            table[key] = {**table.get(key, {}), **change.row}
        elif key not in table:
            table[key] = dict(change.row)
        elif not change.ignore_existing:
            raise Conflict(key)
    return tables


FILE = st.sampled_from(["a", "b"])  # few values, so that changes meet the same rows
VERSION = st.integers(1, 2)
AMOUNT = st.integers(0, 2)
PAYMENT = st.fixed_dictionaries({"file": FILE, "version": VERSION, "amount": AMOUNT})
CHANGE = st.one_of(
    st.builds(Insert, st.just(PAYMENTS), PAYMENT, st.booleans()),
    st.builds(Upsert, st.just(PAYMENTS), PAYMENT),
    st.builds(Upsert, st.just(LATEST), st.fixed_dictionaries({"file": FILE, "n": AMOUNT})),
    st.builds(Delete, st.just(PAYMENTS), st.fixed_dictionaries({"file": FILE})),
    st.builds(Delete, st.just(PAYMENTS),
              st.fixed_dictionaries({"file": FILE, "version": VERSION})),
    st.builds(Delete, st.just(PAYMENTS), st.fixed_dictionaries({"amount": AMOUNT})),
    st.builds(Insert, st.just(NOTES), st.fixed_dictionaries({"file": FILE, "text": FILE}),
              st.booleans()),
    st.builds(Delete, st.just(NOTES), st.fixed_dictionaries({"file": FILE})),
)
RARE = st.builds(Delete, st.just(PAYMENTS), st.just({})) | st.builds(
    Update, st.just(PAYMENTS), st.fixed_dictionaries({"file": FILE}),
    st.fixed_dictionaries({"amount": AMOUNT}))
"""Every row deleted, or an update: either leaves little to tell two orders apart."""
CHANGES = st.lists(CHANGE, max_size=30) | st.lists(CHANGE | RARE, max_size=30)
BEFORE = st.dictionaries(st.tuples(FILE, VERSION), AMOUNT, max_size=6).map(
    lambda found: {"payments": {k: {"file": k[0], "version": k[1], "amount": v}
                                for k, v in found.items()}})


@given(before=BEFORE, changes=CHANGES)
@example(  # a deletion by a column outside the key reaches the row a later insert keeps
    before={"payments": {("a", 1): {"file": "a", "version": 1, "amount": 2}}},
    changes=[Insert(PAYMENTS, {"file": "a", "version": 1, "amount": 0}, ignore_existing=True),
             Delete(PAYMENTS, {"amount": 2})])
def test_a_batch_as_the_views_write_it_leaves_the_rows_written_one_by_one(before, changes):
    try:
        expected = written(before, changes)
    except Conflict:
        assume(False)  # the database refuses that batch, whichever the order
    # as ViewStore.apply: by table, a row's last upsert only, deletions first
    assert written(before, arranged(changes)) == expected


def test_a_file_paid_twice_in_a_batch_is_written_in_two_statements():
    rewritten = []
    for version in (1, 2):  # each payment: the file's rows deleted, then written again
        rewritten.append(Delete(PAYMENTS, {"file": "a"}))
        rewritten.extend(Insert(PAYMENTS, {"file": "a", "version": v, "amount": 5})
                         for v in range(1, version + 1))
    rewritten.append(Delete(PAYMENTS, {"file": "b"}))
    rewritten.append(Insert(PAYMENTS, {"file": "b", "version": 1, "amount": 7}))

    assert deletes_first(rewritten) == [
        Delete(PAYMENTS, {"file": "a"}), Delete(PAYMENTS, {"file": "a"}),
        Delete(PAYMENTS, {"file": "b"}),
        Insert(PAYMENTS, {"file": "a", "version": 1, "amount": 5}),
        Insert(PAYMENTS, {"file": "a", "version": 2, "amount": 5}),
        Insert(PAYMENTS, {"file": "b", "version": 1, "amount": 7}),
    ]
