"""Reading dates and instants typed by people: French (31/03/2026) or ISO (2026-03-31)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation


def parse_date(text: str) -> date:
    """A calendar date from 'JJ/MM/AAAA' or 'AAAA-MM-JJ'."""
    cleaned = text.strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(cleaned, pattern).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (expected DD/MM/YYYY or YYYY-MM-DD)")


def parse_instant(text: str) -> datetime:
    """An instant from ISO 8601; without a zone it is read as UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time (expected ISO 8601)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_percent(text: str) -> Decimal:
    """A rate typed as '9,5' or '9.5' (percent per year)."""
    try:
        return Decimal(text.strip().rstrip("%").strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a percentage") from None
