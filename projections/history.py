"""History: one row per fact of a file, with its French label and one-line summary (both
from the fact's declaration in `domain.kinds`).

Listens to every fact. A row is written once, as the fact was recorded; a later
correction or retraction only marks the row it targets (`corrected_by`,
`retracted_by`), so the record shows both the original and what changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.case import Entry
from domain.facts import Fact
from domain.invoice import Invoice
from domain.kinds import kind_of
from projections.french import FRENCH
from projections.schema import Change, Insert, Table, Type, Update

HISTORY = Table(
    "history",
    {"invoice_id": Type.TEXT, "version": Type.INT, "number": Type.TEXT,
     "debtor_account": Type.TEXT, "occurred_at": Type.INSTANT, "recorded_at": Type.INSTANT,
     "actor": Type.TEXT, "kind": Type.TEXT, "label": Type.TEXT, "summary": Type.TEXT,
     "corrects": Type.INT, "corrected_by": Type.JSON, "retracted_by": Type.INT},
    key=("invoice_id", "version"),
    indexes=(("number", "version"), ("debtor_account", "occurred_at")),
)


class History:
    """The history read model, per file and per debtor."""

    name = "history"
    version = 1
    state_based = False
    tables = (HISTORY,)

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """A new row for the fact; a mark on the row a correction or retraction targets."""
        row = history_fields(invoice.entry(fact.originator_version))
        case = invoice.case
        target = row["corrects"]
        changes: list[Change] = [Insert(HISTORY, {
            "invoice_id": invoice.id.hex, "version": row["version"], "number": case.number,
            "debtor_account": case.debtor.account, "occurred_at": row["occurred_at"],
            "recorded_at": row["recorded_at"], "actor": row["actor"], "kind": row["kind"],
            "label": row["label"], "summary": row["summary"], "corrects": target,
            "corrected_by": [], "retracted_by": None,
        })]
        if target is not None:
            marked = invoice.entry(target)
            changes.append(Update(HISTORY, {"invoice_id": invoice.id.hex, "version": target},
                                  {"corrected_by": list(marked.corrected_by),
                                   "retracted_by": marked.retracted_by}))
        return changes

@dataclass(frozen=True)
class HistoryRow:
    """One fact of a file as people read it."""

    version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    kind: str
    label: str
    summary: str
    corrects: int | None
    retracted_by: int | None
    corrected_by: tuple[int, ...]


def history_row(entry: Entry) -> HistoryRow:
    """The row of one fact."""
    return HistoryRow(**history_fields(entry))


def history_fields(entry: Entry) -> dict[str, Any]:
    """The row of one fact, as `HistoryRow`'s fields (a catch-up writes one per fact)."""
    return {
        "version": entry.version,
        "occurred_at": entry.occurred_at,
        "recorded_at": entry.recorded_at,
        "actor": entry.actor,
        "kind": entry.kind,
        "label": label(entry.kind),
        "summary": describe(entry.kind, entry.data),
        "corrects": entry.data.get("target_version"),
        "retracted_by": entry.retracted_by,
        "corrected_by": entry.corrected_by,
    }


def describe(kind: str, data: dict[str, Any]) -> str:
    """A one-line French summary of a fact, as its declaration writes it."""
    return kind_of(kind).describe(FRENCH, data)


def label(kind: str) -> str:
    """The French label of a fact kind."""
    return kind_of(kind).label
