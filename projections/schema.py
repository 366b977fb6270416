"""How read models describe their tables and the row changes a fact causes.

A projection declares `Table`s and answers each fact with a list of changes (`Upsert`,
`Insert`, `Update`, `Delete`). It never writes SQL for a given database: the view
store of each backend (projections/storage.py) turns changes into statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from domain.facts import Fact
    from domain.invoice import Invoice


class Type(StrEnum):
    """Column types, mapped to SQLite and PostgreSQL by the view stores."""

    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    DATE = "date"
    INSTANT = "instant"
    CENTS = "cents"
    """Money, stored as whole cents so that sums stay exact on every database."""
    JSON = "json"
    WORD = "word"
    """Text compared character code by character code, whatever the database's language
    (a word looked up by its first letters: `word >= 'cev' AND word < 'cev' || END`)."""


@dataclass(frozen=True)
class Index:
    """An index of only the rows matching `where` (SQL), named after its columns and
    `name`. A query uses it when its own condition repeats `where` word for word."""

    columns: tuple[str, ...]
    where: str
    name: str


@dataclass(frozen=True)
class Table:
    """A table of a read model: its columns, its key and the indexes its queries need
    (a tuple of columns, or a partial `Index`)."""

    name: str
    columns: dict[str, Type]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...] | Index, ...] = ()


@dataclass(frozen=True)
class Upsert:
    """Write a row by its key, replacing the columns given."""

    table: Table
    row: dict[str, Any]


@dataclass(frozen=True)
class Insert:
    """Add a row; with `ignore_existing`, a row whose key exists already is left as it is."""

    table: Table
    row: dict[str, Any]
    ignore_existing: bool = False


@dataclass(frozen=True)
class Update:
    """Change some columns of the rows matching `where`."""

    table: Table
    where: dict[str, Any]
    values: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    """Remove the rows matching `where`."""

    table: Table
    where: dict[str, Any] = field(default_factory=dict)


Change = Upsert | Insert | Update | Delete


class Projection(Protocol):
    """A read model: a name, a version that triggers a rebuild when it changes, its tables,
    and the pure function from one fact (with the file after it) to row changes.

    A `state_based` projection's changes depend only on the file after the fact: the
    runner may ask once per file for several facts, with the last one.
    """

    name: str
    version: int
    tables: tuple[Table, ...]
    state_based: bool

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """Row changes for one fact; `invoice` is the file just after that fact."""
        ...
