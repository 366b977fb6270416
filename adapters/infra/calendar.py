"""Working days in France: not a weekend, not a public holiday (package `holidays`)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays


class FrenchCalendar:
    """Business days of metropolitan France."""

    def __init__(self) -> None:
        self._holidays = holidays.country_holidays("FR")

    @lru_cache(maxsize=4096)  # noqa: B019 - one calendar per process, days repeat
    def is_business_day(self, day: date) -> bool:
        """True on a weekday that is not a public holiday."""
        return day.weekday() < 5 and day not in self._holidays
