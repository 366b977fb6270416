"""Builders that keep tests short: a clock the test moves, and ready-made values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.values import Contact, Debtor, Money, Stamp

ACME = Debtor(account="411ACME", name="ACME SARL", siren="732829320")
GLOBEX = Debtor(account="411GLOB", name="Globex SA")
JEAN = Contact(name="Jean Dupont", function="Comptable", phone="01 02 03 04 05",
               email="jean.dupont@acme.example")


@dataclass
class ManualClock:
    """A clock that stands still until the test moves it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Moves the clock forward and returns the new now."""
        self.now += timedelta(**delta)
        return self.now

    def today(self) -> date:
        """The clock's day."""
        return self.now.date()


def eur(text: str) -> Money:
    """An amount in euros from its text, e.g. eur('1500.00')."""
    return Money(Decimal(text))


def stamp(clock: ManualClock, actor: str = "alice", **ago: float) -> Stamp:
    """A stamp recorded now, for something that happened `ago` earlier."""
    return Stamp(actor, clock.now - timedelta(**ago), clock.now)


def register_kwargs(number: str = "FA-2026-0001", **overrides: object) -> dict[str, object]:
    """Everything needed to register a typical invoice of ACME."""
    values: dict[str, object] = dict(
        number=number,
        debtor=ACME,
        amount=eur("1500.00"),
        issued_on=date(2026, 9, 1),
        due_on=date(2026, 10, 1),
        po_reference="BC-778",
        billing_recipient=JEAN,
    )
    values.update(overrides)
    return values
