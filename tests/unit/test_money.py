from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import CurrencyMismatch, InvalidAmount
from domain.values import Money
from projections.french import money


def test_an_amount_keeps_exactly_two_decimals():
    assert Money(Decimal("1500")).amount == Decimal("1500.00")
    assert str(Money(Decimal("12.5"))) == "12.50 EUR"


def test_an_amount_with_three_significant_decimals_is_refused():
    with pytest.raises(InvalidAmount, match="more than two decimals"):
        Money(Decimal("10.005"))


def test_a_float_is_never_accepted_as_money():
    with pytest.raises(InvalidAmount, match="must be a Decimal"):
        Money(10.5)  # type: ignore[arg-type]


def test_nan_and_infinity_are_not_amounts():
    for text in ("NaN", "Infinity"):
        with pytest.raises(InvalidAmount, match="finite"):
            Money(Decimal(text))


def test_french_and_iso_writings_of_an_amount_are_read_alike():
    assert Money.parse("1 500,50") == Money.parse("1500.50") == Money(Decimal("1500.50"))
    assert Money.parse("1\u202f500,5").amount == Decimal("1500.50")


def test_an_ambiguous_or_unreadable_amount_is_refused():
    with pytest.raises(InvalidAmount, match="ambiguous"):
        Money.parse("1.000,5")
    with pytest.raises(InvalidAmount, match="is not an amount"):
        Money.parse("douze euros")


def test_zero_and_negative_amounts_are_not_positive():
    for text in ("0", "-5"):
        with pytest.raises(InvalidAmount, match="strictly positive"):
            Money(Decimal(text)).require_positive()


def test_a_currency_must_be_an_iso_code_and_match():
    with pytest.raises(InvalidAmount, match="ISO 4217"):
        Money(Decimal("1"), "euro")
    with pytest.raises(CurrencyMismatch, match="amount in USD on an invoice in EUR"):
        Money(Decimal("1"), "USD").require_currency("EUR")


def test_an_amount_beyond_a_hundred_billion_is_refused_before_it_reaches_the_views():
    assert Money(Decimal("100000000000.00")).amount == Decimal("100000000000.00")
    for huge in ("100000000000.01", "1e30", "-1e12"):
        with pytest.raises(InvalidAmount, match="must not exceed"):
            Money(Decimal(huge))
    with pytest.raises(InvalidAmount):
        Money.parse("99999999999999999999999999999999")


@settings(max_examples=300, deadline=None)
@given(cents=st.integers(min_value=-10**13, max_value=10**13),
       currency=st.sampled_from(["EUR", "USD", "GBP", "CHF", "JPY", "XOF", "BHD", "XXX"]))
def test_an_amount_reads_in_french_as_babel_writes_it(cents, currency):
    """relance writes the currency's symbol into babel's pattern itself (faster): the
    text must stay what babel's own `format_currency` gives, negative amounts, currencies
    without cents or with three decimals included."""
    amount = Decimal(cents) / 100
    assert money(amount, currency) == format_currency(amount, currency, locale="fr_FR")


def test_an_amount_in_french_has_its_spaces_and_its_symbol():
    assert money(Decimal("1234567.8")) == "1\u202f234\u202f567,80\u00a0€"
    assert money(Decimal("-3"), "USD") == "-3,00\u00a0$US"
