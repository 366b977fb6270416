"""Late-payment penalties and prescription, checked against figures worked by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.infra.rates import load_law_rates
from domain.invoice import Invoice
from domain.penalties import RateMissing, penalties
from domain.prescription import prescription
from domain.values import Debtor, Instalment, PaymentMeans, Stamp
from tests.builders import JEAN, eur, register_kwargs

RATES = load_law_rates()
CONSUMER = Debtor("411PART", "M. Martin", is_consumer=True)


def at(day: date) -> Stamp:
    moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=10)
    return Stamp("alice", moment, datetime(2026, 11, 2, 9, tzinfo=UTC))


def invoice(amount="10000.00", due=date(2025, 5, 31), **overrides) -> Invoice:
    issued = min(due, date(2025, 4, 1))
    return Invoice.register(at(issued), **register_kwargs(
        amount=eur(amount), issued_on=issued, due_on=due, **overrides))


def pay(inv: Invoice, amount: str, day: date) -> None:
    inv.receive_payment(at(day), amount=eur(amount), received_on=day,
                        means=PaymentMeans.TRANSFER)


def test_penalties_across_a_half_year_boundary_with_a_partial_payment():
    """10,000 € due 31/05/2025, 4,000 € paid on 15/07/2025, counted to 09/08/2025.

    H1 2025: ECB 3.15 % + 10 = 13.15 %; H2 2025: ECB 2.15 % + 10 = 12.15 %.
      01/06–30/06: 30 days × 10,000 × 13.15 % / 365 = 108.08
      01/07–14/07: 14 days × 10,000 × 12.15 % / 365 =  46.60
      15/07–09/08: 26 days ×  6,000 × 12.15 % / 365 =  51.93
    Interest 206.61 + indemnity 40.00 = 246.61.
    """
    inv = invoice()
    pay(inv, "4000.00", date(2025, 7, 15))
    owed = penalties(inv.case, date(2025, 8, 9), RATES)
    assert [(line.start, line.end, line.days, line.balance, line.percent, line.amount)
            for line in owed.lines] == [
        (date(2025, 6, 1), date(2025, 6, 30), 30, Decimal("10000.00"), Decimal("13.15"),
         Decimal("108.08")),
        (date(2025, 7, 1), date(2025, 7, 14), 14, Decimal("10000.00"), Decimal("12.15"),
         Decimal("46.60")),
        (date(2025, 7, 15), date(2025, 8, 9), 26, Decimal("6000.00"), Decimal("12.15"),
         Decimal("51.93")),
    ]
    assert owed.basis == "L441-10"
    assert owed.interest == Decimal("206.61")
    assert owed.indemnity == Decimal("40.00")
    assert owed.total == Decimal("246.61")
    assert "taux BCE au 01/07/2025 (2,15\xa0%) + 10 points" in owed.lines[1].explanation
    assert not owed.provisional


def test_nothing_is_owed_on_or_before_the_due_date():
    owed = penalties(invoice().case, date(2025, 5, 31), RATES)
    assert owed.lines == ()
    assert owed.total == Decimal("0.00")


def test_interest_stops_when_the_invoice_is_paid_but_the_indemnity_stays():
    """Paid in full on 10/06/2025: 9 days at 13.15 % on 10,000 = 32.42, plus 40."""
    inv = invoice()
    pay(inv, "10000.00", date(2025, 6, 10))
    owed = penalties(inv.case, date(2025, 12, 31), RATES)
    assert [line.amount for line in owed.lines] == [Decimal("32.42")]
    assert owed.total == Decimal("72.42")


def test_an_invoice_paid_on_time_owes_no_indemnity():
    inv = invoice()
    pay(inv, "10000.00", date(2025, 5, 30))
    assert penalties(inv.case, date(2025, 7, 1), RATES).total == Decimal("0.00")


def test_a_contractual_rate_below_three_times_the_legal_rate_is_raised_to_that_floor():
    """5 % agreed; H2 2025 legal rate 2.76 % → floor 8.28 %.
    1,000 € due 30/06/2025, counted to 30/07/2025: 30 days × 1,000 × 8.28 % / 365 = 6.81."""
    inv = invoice("1000.00", due=date(2025, 6, 30))
    owed = penalties(inv.case, date(2025, 7, 30), RATES, contractual_percent=Decimal("5"))
    (line,) = owed.lines
    assert line.percent == Decimal("8.28")
    assert line.amount == Decimal("6.81")
    assert "plancher de 3 fois l'intérêt légal (2,76\xa0%)" in line.explanation
    high = penalties(inv.case, date(2025, 7, 30), RATES, contractual_percent=Decimal("15"))
    assert high.lines[0].percent == Decimal("15")


def test_a_consumer_owes_legal_interest_only_from_the_formal_notice_and_no_indemnity():
    """1,200 € owed by a consumer, formal notice on 10/09/2025, counted to 10/10/2025:
    30 days × 1,200 × 2.76 % / 365 = 2.72."""
    inv = invoice("1200.00", due=date(2025, 6, 30), debtor=CONSUMER)
    assert penalties(inv.case, date(2025, 9, 1), RATES).total == Decimal("0.00")
    inv.send_formal_notice(at(date(2025, 9, 10)), registered_letter_number="1A 1",
                           deadline_on=date(2025, 9, 25))
    owed = penalties(inv.case, date(2025, 10, 10), RATES)
    assert owed.basis == "1231-6"
    assert [line.amount for line in owed.lines] == [Decimal("2.72")]
    assert owed.indemnity == Decimal("0.00")


def test_past_the_last_published_rate_the_last_one_is_carried_and_flagged_provisional():
    inv = invoice(due=date(2026, 6, 30))
    owed = penalties(inv.case, date(2026, 7, 10), RATES)
    assert owed.provisional
    assert owed.lines[0].percent == Decimal("12.15")


def test_a_day_before_any_known_rate_is_refused():
    inv = invoice(due=date(2020, 1, 31))
    with pytest.raises(RateMissing, match="no ecb_refinancing rate is known for 2020-01-01"):
        penalties(inv.case, date(2020, 3, 1), RATES)


def test_a_team_can_add_the_next_half_year_rate(tmp_path):
    (tmp_path / "ecb_refinancing_rate.csv").write_text(
        "start,end,percent,source\n2026-07-01,2026-12-31,2.40,Équipe : taux publié\n",
        encoding="utf-8")
    rates = load_law_rates(tmp_path)
    owed = penalties(invoice(due=date(2026, 6, 30)).case, date(2026, 7, 10), rates)
    assert not owed.provisional
    assert owed.lines[0].percent == Decimal("12.40")
    assert "Équipe : taux publié" in owed.lines[0].explanation


def test_prescription_is_five_years_from_the_due_date_between_professionals():
    deadline = prescription(invoice().case)
    assert (deadline.deadline, deadline.years, deadline.reason) == (
        date(2030, 5, 31), 5, "échéance de la facture")


def test_a_partial_payment_restarts_prescription():
    inv = invoice()
    pay(inv, "100.00", date(2025, 8, 1))
    assert prescription(inv.case).deadline == date(2030, 8, 1)
    assert prescription(inv.case).reason == "paiement partiel du 01/08/2025"


def test_a_signed_plan_and_a_written_acknowledgment_restart_it_but_a_formal_notice_does_not():
    inv = invoice()
    inv.send_formal_notice(at(date(2025, 9, 1)), registered_letter_number="1A 2",
                           deadline_on=date(2025, 9, 15))
    assert prescription(inv.case).deadline == date(2030, 5, 31)
    inv.agree_payment_plan(at(date(2025, 9, 20)), signed=True, contact=JEAN, instalments=[
        Instalment(date(2025, 10, 20), Decimal("10000.00"))])
    assert prescription(inv.case).deadline == date(2030, 9, 20)
    inv.record_acknowledgment(at(date(2025, 10, 2)), document="Courrier signé du 02/10/2025")
    assert prescription(inv.case).deadline == date(2030, 10, 2)


def test_a_consumer_claim_is_prescribed_after_two_years():
    deadline = prescription(invoice(debtor=CONSUMER, due=date(2024, 2, 29)).case)
    assert (deadline.deadline, deadline.years) == (date(2026, 2, 28), 2)
