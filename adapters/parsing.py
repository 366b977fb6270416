"""Reading what people type: dates and instants in French (31/03/2026) or ISO
(2026-03-31), amounts and whole numbers, every one bounded before it is read."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from domain.errors import DomainError
from domain.values import PARIS, Money, end_of_day

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


@lru_cache(maxsize=4096)
def parse_date(text: str) -> date:
    """A calendar date from 'JJ/MM/AAAA' or 'AAAA-MM-JJ' (remembered: a file of invoices
    repeats a few hundred dates, and `strptime` costs some 10 µs each time)."""
    cleaned = text.strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(cleaned, pattern).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (expected DD/MM/YYYY or YYYY-MM-DD)")


INSTANT_PATTERNS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M")
_SECONDS = re.compile(r"\d:\d\d:\d")


def parse_instant(text: str) -> datetime:
    """An instant as people type it: French ('01/12/2026 12:21') or ISO 8601
    ('2026-12-01T12:21', with or without a zone); without a zone it is Paris time. It asks
    how things stood then, so a minute typed without seconds means its end (12:21 includes
    what was recorded at 12:21:40), and a day alone ('01/12/2026') the end of that day."""
    value = _instant(text, end_of_day)
    if not _SECONDS.search(text) and value.second == 0 and value.microsecond == 0:
        return value + timedelta(minutes=1, microseconds=-1)
    return value


def parse_business_time(text: str) -> datetime:
    """When something happened, as people type it (see `parse_instant`); a day alone means
    noon of that day, Paris time."""
    return _instant(text, lambda day: datetime.combine(day, time(12), tzinfo=PARIS))


def _instant(text: str, day_alone: Callable[[date], datetime]) -> datetime:
    cleaned = " ".join(text.strip().replace("à", " ").split())
    try:
        return day_alone(parse_date(cleaned))
    except ValueError:
        pass
    value = None
    for pattern in INSTANT_PATTERNS:
        try:
            value = datetime.strptime(cleaned, pattern)  # noqa: DTZ007 - zone added below
            break
        except ValueError:
            continue
    if value is None:
        try:
            value = datetime.fromisoformat(cleaned)
        except ValueError:
            raise ValueError(f"{text[:40]!r} is not a date and time (expected "
                             "DD/MM/YYYY HH:MM or ISO 8601)") from None
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


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
