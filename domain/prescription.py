"""When the claim can no longer be enforced in court (prescription), and what moved it.

Five years for a commercial claim (Code de commerce L110-4, Code civil 2224), two years
for a professional's claim against a consumer (Code de la consommation L218-2), from
the due date. The debtor's acknowledgment interrupts it and a new period of the same
length starts (Code civil 2240, 2231): a partial payment, a signed payment plan, a
written acknowledgment. A formal notice does not interrupt it. Once the deadline has
passed, nothing revives the claim: a payment received later shows as paid on a
prescribed debt, and moves no date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.case import Case
from domain.values import paris_day

B2B_YEARS = 5
CONSUMER_YEARS = 2


@dataclass(frozen=True)
class Prescription:
    """The deadline, the period, the event it runs from, and what came too late to move it."""

    deadline: date
    years: int
    runs_from: date
    reason: str
    after_deadline: tuple[str, ...] = ()
    """Payments or acknowledgments dated after the claim was prescribed (French words):
    paid, a prescribed debt stays paid (Code civil 2249), but the claim does not revive."""


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def prescription(case: Case) -> Prescription:
    """The file's prescription deadline, from the due date or the last interruption made
    before the claim was prescribed."""
    years = CONSUMER_YEARS if case.debtor.is_consumer else B2B_YEARS
    runs_from, reason = case.due_on, "échéance de la facture"
    deadline = add_years(runs_from, years)
    late = []
    for day, what in sorted(_interruptions(case), key=lambda e: e[0]):
        if day > deadline:
            late.append(f"{what}, après la prescription du {deadline:%d/%m/%Y}")
            continue
        if day >= runs_from:
            runs_from, reason, deadline = day, what, add_years(day, years)
    return Prescription(deadline, years, runs_from, reason, tuple(late))


def _interruptions(case: Case) -> list[tuple[date, str]]:
    """What the debtor did that acknowledges the debt: payments (full or partial), a signed
    plan, a written acknowledgment."""
    events = []
    paid = Decimal("0.00")
    for payment in sorted(case.payments, key=lambda p: p.received_on):
        paid += payment.amount
        word = "paiement" if paid >= case.claimed else "paiement partiel"
        events.append((payment.received_on, f"{word} du {payment.received_on:%d/%m/%Y}"))
    if case.plan is not None and case.plan.signed:
        agreed = paris_day(case.plan.agreed_at)
        events.append((agreed, f"échéancier signé le {agreed:%d/%m/%Y}"))
    events += [(d, f"reconnaissance de dette du {d:%d/%m/%Y}") for d in case.acknowledged_on]
    return events
