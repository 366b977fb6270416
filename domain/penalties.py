"""What a late payer owes on top of the invoice, computed day by day and shown line by line.

Between professionals (Code de commerce L441-10 II), penalties run without any
reminder from the day after the due date, on the outstanding amount including tax.
Default rate: the ECB's main refinancing rate in force on 1 January (first half-year)
or 1 July (second half-year), plus 10 points. A contractual rate replaces it, but never
below three times the legal interest rate. A fixed indemnity of 40 EUR for recovery
costs is owed per invoice paid late (D441-5), in euros whatever the invoice's currency.

For a consumer, none of this: interest at the legal rate runs from the formal notice
(Code civil 1344-1, 1231-6), and collection costs stay with the creditor.

Days late are the payment day minus the due date: interest runs from the day after the
due date up to the payment day included, for paid and unpaid files alike (an invoice due
on the 31st and paid on the 1st owes one day). A payment lowers the balance from the day
after it was received. A credit note corrects the invoice itself (interest never ran on
what it credits); an escompte earned settles the invoice on time (nothing is owed).

Each line covers days with the same balance and the same rate. Interest = balance x
rate x days / 365; each line is rounded to the cent, and the interest is the sum of the
lines as shown. A half-year whose rate is not in the tables is left out and named in
`missing`, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from domain.case import Case
from domain.errors import DomainError

CENT = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)
ECB_MARGIN = Decimal("10")
FLOOR_MULTIPLE = Decimal("3")
INDEMNITY = Decimal("40.00")
INDEMNITY_CURRENCY = "EUR"
"""D441-5 sets the indemnity in euros, whatever the invoice's currency."""

RateFor = Callable[[date], tuple[Decimal, str, bool]]
"""For a day: the annual rate in percent, why that rate, and whether it is provisional."""


class RateMissing(DomainError):
    """No published rate covers a day that needs one."""

    code = "rate_missing"


@dataclass(frozen=True)
class Rate:
    """A rate in percent per year, in force from `start` to `end` (both included)."""

    start: date
    end: date
    percent: Decimal
    source: str


class RateTable:
    """Published rates by period. Past the last period, the last rate is carried forward
    and flagged provisional until the next one is added to the table."""

    def __init__(self, name: str, rates: Iterable[Rate]) -> None:
        self.name = name
        self.rates = sorted(rates, key=lambda r: r.start)
        for before, after in pairwise(self.rates):
            if after.start <= before.end:
                raise ValueError(f"{name}: periods overlap at {after.start}")

    def on(self, day: date) -> tuple[Rate, bool]:
        """The rate in force on `day`, and whether it is provisional (carried forward)."""
        for rate in self.rates:
            if rate.start <= day <= rate.end:
                return rate, False
        if self.rates and day > self.rates[-1].end:
            return self.rates[-1], True
        raise RateMissing(f"no {self.name} rate is known for {day}", day=day.isoformat())


@dataclass(frozen=True)
class LawRates:
    """The rate tables the law refers to."""

    ecb_refinancing: RateTable
    legal_interest: RateTable
    """The legal interest rate for creditors acting as professionals ("autres cas")."""


@dataclass(frozen=True)
class InterestLine:
    """Days with one balance and one rate: what they cost, and why that rate."""

    start: date
    end: date
    balance: Decimal
    percent: Decimal
    amount: Decimal
    explanation: str
    provisional: bool

    @property
    def days(self) -> int:
        """Days covered, both ends included."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Penalties:
    """What is owed for lateness on a day: the interest lines, their sum, the indemnity."""

    basis: str
    """'L441-10' between professionals, '1231-6' for a consumer after formal notice, '' if none."""
    lines: tuple[InterestLine, ...]
    indemnity: Decimal
    currency: str = "EUR"
    """The interest's currency: the invoice's."""
    missing: tuple[str, ...] = ()
    """Periods left out because no rate of the tables covers them (French sentences)."""

    indemnity_currency = INDEMNITY_CURRENCY

    @property
    def interest(self) -> Decimal:
        """The interest, as the sum of the lines shown."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal | None:
        """Interest and indemnity together; None when the invoice is not in euros (amounts
        in two currencies are never added)."""
        if self.currency != self.indemnity_currency and self.indemnity:
            return None
        return self.interest + self.indemnity

    @property
    def provisional(self) -> bool:
        """True when a rate past the last published one was carried forward."""
        return any(line.provisional for line in self.lines)


NOTHING = Penalties("", (), Decimal("0.00"))


def half_year_start(day: date) -> date:
    """1 January or 1 July of the half-year containing `day`."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def penalties(case: Case, on: date, rates: LawRates,
              contractual_percent: Decimal | None = None) -> Penalties:
    """What the file's debtor owes for lateness, counted up to `on` included."""
    if case.discount_granted:
        return replace(NOTHING, currency=case.currency)
    if case.debtor.is_consumer:
        if case.formal_notice_on is None or on <= case.formal_notice_on:
            return replace(NOTHING, currency=case.currency)
        lines, missing = _lines(case, case.formal_notice_on + timedelta(days=1), on,
                                lambda day: _legal_rate(day, rates))
        return Penalties("1231-6", tuple(lines), Decimal("0.00"), case.currency, missing)
    if on <= case.due_on:
        return replace(NOTHING, currency=case.currency)
    lines, missing = _lines(case, case.due_on + timedelta(days=1), on,
                            lambda day: _commercial_rate(day, rates, contractual_percent))
    paid_late = case.outstanding > 0 or any(p.received_on > case.due_on for p in case.payments)
    return Penalties("L441-10", tuple(lines), INDEMNITY if paid_late else Decimal("0.00"),
                     case.currency, missing)


def _lines(case: Case, first: date, last: date,
           rate_for: RateFor) -> tuple[list[InterestLine], tuple[str, ...]]:
    one_day = timedelta(days=1)
    cuts = {first, last + one_day}
    # The payment day still bears interest on what was owed that morning.
    cuts |= {p.received_on + one_day for p in case.payments
             if first < p.received_on + one_day <= last}
    year = first.year
    while date(year, 1, 1) <= last:
        cuts |= {d for d in (date(year, 1, 1), date(year, 7, 1)) if first < d <= last}
        year += 1
    bounds = sorted(cuts)
    lines, missing = [], []
    for start, after in pairwise(bounds):
        balance = case.claimed - sum((p.amount for p in case.payments if p.received_on < start),
                                     Decimal("0.00"))
        if balance <= 0:
            continue
        try:
            percent, explanation, provisional = rate_for(start)
        except RateMissing:
            missing.append(f"du {start:%d/%m/%Y} au {after - one_day:%d/%m/%Y} : aucun taux "
                           "connu pour ce semestre, intérêts non calculés")
            continue
        days = Decimal((after - start).days)
        amount = (balance * percent / 100 * days / DAYS_PER_YEAR).quantize(
            CENT, rounding=ROUND_HALF_UP)
        lines.append(InterestLine(start, after - one_day, balance, percent, amount,
                                  explanation, provisional))
    return lines, tuple(missing)


def _commercial_rate(day: date, rates: LawRates,
                     contractual: Decimal | None) -> tuple[Decimal, str, bool]:
    reference = half_year_start(day)
    if contractual is None:
        ecb, provisional = rates.ecb_refinancing.on(reference)
        carried = " (dernier taux publié, reporté : à confirmer)" if provisional else ""
        return (ecb.percent + ECB_MARGIN,
                f"taux BCE au {reference:%d/%m/%Y} ({_percent(ecb.percent)}){carried} "
                f"+ 10 points — "
                f"{ecb.source}", provisional)
    legal, provisional = rates.legal_interest.on(reference)
    floor = legal.percent * FLOOR_MULTIPLE
    if contractual >= floor:
        return contractual, "taux contractuel", False
    return (floor, f"taux contractuel {_percent(contractual)} porté au plancher de 3 fois "
                   f"l'intérêt légal ({_percent(legal.percent)}) — {legal.source}", provisional)


def _legal_rate(day: date, rates: LawRates) -> tuple[Decimal, str, bool]:
    legal, provisional = rates.legal_interest.on(half_year_start(day))
    return (legal.percent, f"intérêt légal ({_percent(legal.percent)}) — {legal.source}",
            provisional)


def _percent(value: Decimal) -> str:
    """A rate as French readers write it: '2,15 %'."""
    return f"{value:.2f}".replace(".", ",") + "\u00a0%"
