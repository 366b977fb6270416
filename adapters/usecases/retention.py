"""Which debtors' people fall due for erasure: the retention rule (RELANCE_RETENTION_DAYS_*,
README « Données personnelles »), listed each day for a supervisor to confirm.

A debtor's people are due once every file of the debtor has ended (paid, written off or
closed, on the day it ended; or still unpaid but prescribed, on its prescription
deadline) and the rule's days have passed since the last of those days: a business
debtor's after `retention_days_business`, a consumer's after `retention_days_consumer`.
A file handed over (to a bailiff, a lawyer) has not ended: its people are still needed.
People already erased are not listed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from adapters.bootstrap import Runtime
from domain.debtors import person_key
from domain.prescription import B2B_YEARS, CONSUMER_YEARS, add_years, prescription
from domain.sealing import ERASED
from domain.values import paris_day
from projections.case_view import CASE_VIEW

FINISHED = ("paid", "written_off", "closed")
"""Phases in which a file has ended for good (a handed-over one goes on elsewhere)."""


@dataclass(frozen=True)
class DueForErasure:
    """A debtor whose people fall due for erasure, and since when."""

    account: str
    name: str
    consumer: bool
    ended_on: date
    """The day the last of its files ended."""
    due_on: date
    people: tuple[str, ...]
    """The names of its people not erased yet."""


def due_for_erasure(runtime: Runtime, today: date) -> list[DueForErasure]:
    """The debtors whose people are due for erasure on `today`, longest due first."""
    settings = runtime.settings
    ended: dict[str, date | None] = {}
    names: dict[str, tuple[str, bool]] = {}
    for row in runtime.views.rows(
            "SELECT number, debtor_account, debtor_name, is_consumer, phase, due_on, "
            "settled_on, updated_at FROM {case_view}", {}, CASE_VIEW.columns):
        account = row["debtor_account"]
        names[account] = (row["debtor_name"], bool(row["is_consumer"]))
        end = _ended_on(runtime, row, today)
        if account in ended and ended[account] is None:
            continue
        ended[account] = None if end is None else max(end, ended.get(account) or end)
    due = []
    for account, end in ended.items():
        if end is None:
            continue
        name, consumer = names[account]
        days = settings.retention_days_consumer if consumer else \
            settings.retention_days_business
        due_on = end + timedelta(days=days)
        people = _people(runtime, account, name if consumer else "")
        if due_on <= today and people:
            due.append(DueForErasure(account, name, consumer, end, due_on, people))
    return sorted(due, key=lambda d: (d.due_on, d.account))


def _ended_on(runtime: Runtime, row: dict, today: date) -> date | None:
    """The day a file ended, or None while it goes on."""
    if row["phase"] in FINISHED:
        if row["phase"] == "paid" and row["settled_on"]:
            return row["settled_on"]
        return paris_day(row["updated_at"]) if row["updated_at"] else today
    years = CONSUMER_YEARS if row["is_consumer"] else B2B_YEARS
    if row["phase"] == "handed_over" or add_years(row["due_on"], years) > today:
        return None  # not prescribed before its due date's own deadline, at the earliest
    deadline = prescription(runtime.files.file(row["number"]).case).deadline
    return deadline if deadline <= today else None


def _people(runtime: Runtime, account: str, consumer: str) -> tuple[str, ...]:
    """The names of a debtor's people not erased yet (a consumer first: themself)."""
    rows = runtime.views.rows(
        "SELECT value FROM {debtor_contacts} WHERE account = :account AND field = 'name' "
        "AND person <> :erased ORDER BY value", {"account": account,
                                                 "erased": person_key(ERASED)}, {})
    names = {person_key(n): n for n in [consumer, *(r["value"] for r in rows)]
             if n and n != ERASED}
    return tuple(names.values())
