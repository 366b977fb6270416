"""What a correction may change: fields the target fact has, with values of their type."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.case import Case, Entry
from domain.errors import FutureBusinessTime, InvalidTime, Overpayment, UncorrectableField
from domain.values import Money, Stamp

FIXED_FIELDS = frozenset({"number", "currency", "invoice_numbers", "sha256", "size",
                          "media_type", "attachments"})
"""Fields that identify a fact rather than describe it: a correction cannot touch them (a
document is its bytes: another digest is another document, attached on its own)."""


def check_changes(target: Entry, changes: dict[str, Any], stamp: Stamp, currency: str) -> None:
    """Refuses an empty correction, or one that changes what the target fact cannot."""
    if not changes:
        raise UncorrectableField("a correction must change at least one field")
    for name, value in changes.items():
        if name == "occurred_at":
            _check_business_time(value, stamp)
            continue
        if name not in target.data or name in FIXED_FIELDS:
            raise UncorrectableField(
                f"{target.kind} has no correctable field {name!r}", field=name
            )
        current = target.data[name]
        kind = str if isinstance(current, str) else type(current)  # sealed text is text
        if current is not None and not isinstance(value, kind):
            raise UncorrectableField(
                f"{name} must be a {kind.__name__}, got {type(value).__name__}",
                field=name,
            )
        if isinstance(value, Decimal):
            Money(value, currency).require_positive()


def check_outcome(entries: Iterable[Entry]) -> None:
    """Refuses a correction after which more would be paid than owed, unflagged."""
    listed = list(entries)
    if Case.of(listed).outstanding < 0 and not any(
        e.data.get("overpayment") for e in listed if e.is_effective
    ):
        raise Overpayment("after this correction more would be paid than owed")


def _check_business_time(value: Any, stamp: Stamp) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidTime("occurred_at must be a timezone-aware instant")
    if value > stamp.recorded_at:
        raise FutureBusinessTime(f"business time {value.isoformat()} is in the future")
