"""Payment terms (délais de paiement, Code de commerce L441-10 I).

Without agreement, payment is due 30 days after delivery; agreed terms may not exceed
60 days from the invoice date, or 45 days end of month. Sectors have their own rules,
so terms stay a configurable rule: `30`, `60`, `45fdm` ("45 jours fin de mois": the
invoice date plus 45 days, then the end of that month).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from domain.errors import DomainError

_TERMS = re.compile(r"^\s*(\d{1,3})\s*(?:j|jours?|d|days?)?\s*(fdm|fin de mois|eom)?\s*$", re.I)


class InvalidTerms(DomainError):
    """Payment terms that cannot be read."""

    code = "invalid_terms"


@dataclass(frozen=True)
class PaymentTerms:
    """A number of days after the invoice date, possibly to the end of that month."""

    days: int
    end_of_month: bool = False

    @classmethod
    def parse(cls, text: str) -> PaymentTerms:
        """Reads '30', '30j', '45fdm' or '45 jours fin de mois'."""
        match = _TERMS.match(text or "")
        if not match:
            raise InvalidTerms(f"payment terms {text!r} are not like '30' or '45fdm'",
                               terms=text)
        return cls(int(match.group(1)), bool(match.group(2)))

    def due_on(self, issued_on: date) -> date:
        """The due date of an invoice issued on `issued_on`."""
        due = issued_on + timedelta(days=self.days)
        if self.end_of_month:
            due = due.replace(day=calendar.monthrange(due.year, due.month)[1])
        return due
