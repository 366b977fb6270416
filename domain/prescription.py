"""When the claim can no longer be enforced in court (prescription), and what moved it.

Five years for a commercial claim (Code de commerce L110-4, Code civil 2224), two years
for a professional's claim against a consumer (Code de la consommation L218-2), from
the due date. The debtor's acknowledgment interrupts it and a new period of the same
length starts (Code civil 2240, 2231): a partial payment, a signed payment plan, a
written acknowledgment. A formal notice does not interrupt it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.case import Case

B2B_YEARS = 5
CONSUMER_YEARS = 2


@dataclass(frozen=True)
class Prescription:
    """The deadline, the period, and the event it runs from."""

    deadline: date
    years: int
    runs_from: date
    reason: str


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def prescription(case: Case) -> Prescription:
    """The file's prescription deadline, from the due date or the last interruption."""
    years = CONSUMER_YEARS if case.debtor.is_consumer else B2B_YEARS
    events = [(case.due_on, "échéance de la facture")]
    events += [(p.received_on, f"paiement partiel du {p.received_on:%d/%m/%Y}")
               for p in case.payments]
    if case.plan is not None and case.plan.signed:
        agreed = case.plan.agreed_at.date()
        events.append((agreed, f"échéancier signé le {agreed:%d/%m/%Y}"))
    events += [(d, f"reconnaissance de dette du {d:%d/%m/%Y}") for d in case.acknowledged_on]
    runs_from, reason = max(events, key=lambda e: e[0])
    return Prescription(add_years(runs_from, years), years, runs_from, reason)
