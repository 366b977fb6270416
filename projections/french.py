"""French formats for amounts and dates (Babel): '1 500,00 €', '23/11/2026'."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

LOCALE = Locale.parse("fr_FR")
PARIS = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=65536)
def money(amount: Decimal, currency: str = "EUR") -> str:
    """An amount as a French reader expects it."""
    return format_currency(amount, currency, locale=LOCALE)


def percent(value: Decimal) -> str:
    """A rate as '12,15 %'."""
    return f"{format_decimal(value, format='#,##0.00', locale=LOCALE)}\u00a0%"


@lru_cache(maxsize=8192)
def day(value: date) -> str:
    """A date as dd/mm/yyyy."""
    return format_date(value, "dd/MM/yyyy", locale=LOCALE)


def instant(value: datetime) -> str:
    """An instant in Paris time, as dd/mm/yyyy HH:MM."""
    return format_datetime(value, "dd/MM/yyyy HH:mm", tzinfo=PARIS, locale=LOCALE)


STATUS_LABELS = {
    "not_yet_due": "Non échu", "overdue": "Échu", "promised": "Promesse",
    "promise_broken": "Promesse non tenue", "in_dispute": "Litige",
    "in_payment_plan": "Échéancier", "formal_notice_sent": "Mise en demeure",
    "handed_over": "Transmis", "paid": "Payé", "written_off": "Passé en perte",
    "closed": "Clos",
}


def status(value: str) -> str:
    """A file's status in French."""
    return STATUS_LABELS.get(str(getattr(value, "value", value)), str(value))
