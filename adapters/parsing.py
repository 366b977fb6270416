"""Reading what people type: dates and instants in French (31/03/2026) or ISO
(2026-03-31), amounts and whole numbers, every one bounded before it is read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from domain.errors import DomainError
from domain.values import Money

MAX_NUMBER_TEXT = 30
"""Characters a typed number may have: `1e999997` is 8 of them but would take minutes to
turn into cents, so exponents are refused too."""


def parse_amount(text: str) -> Decimal:
    """An amount ('1 500,50', '1500.5'): at most 30 characters, no exponent, finite,
    within the largest amount relance takes, two decimals at most."""
    cleaned = text.strip()
    if len(cleaned) > MAX_NUMBER_TEXT or any(c in cleaned for c in "eEnN"):
        raise ValueError(f"{text[:40]!r} is not an amount")
    try:
        return Money.parse(cleaned).amount
    except DomainError:
        raise ValueError(f"{text[:40]!r} is not an amount") from None


def parse_whole(text: str, *, low: int = 0, high: int) -> int:
    """A whole number from `low` to `high`, written in digits only."""
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > len(str(high)):
        raise ValueError(f"{text[:40]!r} is not a whole number")
    value = int(cleaned)
    if not low <= value <= high:
        raise ValueError(f"{value} is not between {low} and {high}")
    return value


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
    """A rate typed as '9,5' or '9.5' (percent per year), finite, at most 30 characters."""
    cleaned = text.strip().rstrip("%").strip().replace(",", ".")
    if len(cleaned) > MAX_NUMBER_TEXT or any(c in cleaned for c in "eEnN"):
        raise ValueError(f"{text[:40]!r} is not a percentage")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text[:40]!r} is not a percentage") from None
    if not value.is_finite():
        raise ValueError(f"{text[:40]!r} is not a percentage")
    return value
