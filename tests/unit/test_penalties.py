"""Late-payment penalties and prescription, checked against figures worked by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

from adapters.infra.rates import load_law_rates
from domain.invoice import Invoice
from domain.penalties import penalties
from domain.prescription import prescription
from domain.values import Debtor, Instalment, Money, PaymentMeans, Stamp
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

    H1 2025: ECB 3.15 % + 10 = 13.15 %; H2 2025: ECB 2.15 % + 10 = 12.15 %. The payment
    day still bears interest on the 10,000 € owed that morning.
      01/06–30/06: 30 days × 10,000 × 13.15 % / 365 = 108.08
      01/07–15/07: 15 days × 10,000 × 12.15 % / 365 =  49.93
      16/07–09/08: 25 days ×  6,000 × 12.15 % / 365 =  49.93
    Interest 207.94 + indemnity 40.00 = 247.94.
    """
    inv = invoice()
    pay(inv, "4000.00", date(2025, 7, 15))
    owed = penalties(inv.case, date(2025, 8, 9), RATES)
    assert [(line.start, line.end, line.days, line.balance, line.percent, line.amount)
            for line in owed.lines] == [
        (date(2025, 6, 1), date(2025, 6, 30), 30, Decimal("10000.00"), Decimal("13.15"),
         Decimal("108.08")),
        (date(2025, 7, 1), date(2025, 7, 15), 15, Decimal("10000.00"), Decimal("12.15"),
         Decimal("49.93")),
        (date(2025, 7, 16), date(2025, 8, 9), 25, Decimal("6000.00"), Decimal("12.15"),
         Decimal("49.93")),
    ]
    assert owed.basis == "L441-10"
    assert owed.interest == Decimal("207.94")
    assert owed.indemnity == Decimal("40.00")
    assert owed.total == Decimal("247.94")
    assert "taux BCE au 01/07/2025 (2,15\xa0%) + 10 points" in owed.lines[1].explanation
    assert not owed.provisional


def test_nothing_is_owed_on_or_before_the_due_date():
    owed = penalties(invoice().case, date(2025, 5, 31), RATES)
    assert owed.lines == ()
    assert owed.total == Decimal("0.00")


def test_days_late_are_the_payment_day_minus_the_due_date():
    """Paid in full on 10/06/2025, due 31/05: 10 days at 13.15 % on 10,000 = 36.03, + 40."""
    inv = invoice()
    pay(inv, "10000.00", date(2025, 6, 10))
    owed = penalties(inv.case, date(2025, 12, 31), RATES)
    assert [(line.start, line.end, line.amount) for line in owed.lines] == [
        (date(2025, 6, 1), date(2025, 6, 10), Decimal("36.03"))]
    assert owed.total == Decimal("76.03")


def test_an_invoice_paid_one_day_late_owes_one_day_of_interest_and_the_indemnity():
    """Due 31/05, paid 01/06: 1 day × 10,000 × 13.15 % / 365 = 3.60, + 40."""
    inv = invoice()
    pay(inv, "10000.00", date(2025, 6, 1))
    owed = penalties(inv.case, date(2025, 6, 30), RATES)
    assert [(line.days, line.amount) for line in owed.lines] == [(1, Decimal("3.60"))]
    assert owed.total == Decimal("43.60")


def test_recording_a_payment_never_changes_what_was_owed_on_the_morning_of_its_day():
    """Unpaid, counted to 10/06: the same interest as paid on 10/06 (the day is not lost)."""
    unpaid = penalties(invoice().case, date(2025, 6, 10), RATES)
    inv = invoice()
    inv.receive_payment(at(date(2025, 6, 10)), amount=eur("4000.00"),
                        received_on=date(2025, 6, 10), means=PaymentMeans.TRANSFER)
    paid = penalties(inv.case, date(2025, 6, 10), RATES)
    assert paid.interest == unpaid.interest == Decimal("36.03")


def test_a_credit_note_corrects_the_invoice_from_its_due_date():
    """10,000 € less a 2,000 € credit note: interest on 8,000 from the day after the due date.
    10 days × 8,000 × 13.15 % / 365 = 28.82."""
    inv = invoice()
    inv.apply_credit_note(at(date(2025, 6, 20)), amount=eur("2000.00"),
                          issued_on=date(2025, 6, 20), reference="AV-7", reason="Remise")
    owed = penalties(inv.case, date(2025, 6, 10), RATES)
    assert [(line.balance, line.amount) for line in owed.lines] == [
        (Decimal("8000.00"), Decimal("28.82"))]
    assert inv.case.outstanding == Decimal("8000.00")


def test_an_escompte_paid_within_its_offer_settles_the_invoice_with_nothing_owed():
    inv = invoice(due=date(2025, 6, 30))
    inv.offer_discount(at(date(2025, 6, 1)), discount=eur("200.00"), pay_by=date(2025, 6, 15))
    pay(inv, "9800.00", date(2025, 6, 14))
    assert inv.case.is_settled
    assert inv.case.discount_granted == Decimal("200.00")
    assert penalties(inv.case, date(2025, 12, 31), RATES).total == Decimal("0.00")


def test_an_escompte_paid_late_or_short_lapses_and_the_full_amount_is_due():
    late = invoice(due=date(2025, 6, 30))
    late.offer_discount(at(date(2025, 6, 1)), discount=eur("200.00"), pay_by=date(2025, 6, 15))
    pay(late, "9800.00", date(2025, 6, 16))
    assert (late.case.discount_granted, late.case.outstanding) == (
        Decimal("0.00"), Decimal("200.00"))
    short = invoice(due=date(2025, 6, 30))
    short.offer_discount(at(date(2025, 6, 1)), discount=eur("200.00"), pay_by=date(2025, 6, 15))
    pay(short, "9700.00", date(2025, 6, 10))
    assert short.case.outstanding == Decimal("300.00")
    assert not short.case.discount_granted


def test_the_indemnity_is_forty_euros_whatever_the_currency_and_never_added_to_it():
    issued = date(2025, 4, 1)
    inv = Invoice.register(at(issued), **register_kwargs(
        amount=Money(Decimal("10000.00"), "USD"), issued_on=issued, due_on=date(2025, 5, 31)))
    owed = penalties(inv.case, date(2025, 6, 10), RATES)
    assert (owed.currency, owed.indemnity, owed.indemnity_currency) == (
        "USD", Decimal("40.00"), "EUR")
    assert owed.interest == Decimal("36.03")
    assert owed.total is None


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


def test_a_half_year_without_a_known_rate_is_named_and_left_out_never_guessed():
    inv = invoice(due=date(2010, 6, 30))
    owed = penalties(inv.case, date(2011, 1, 31), RATES)
    assert owed.missing == ("du 01/07/2010 au 31/12/2010 : aucun taux connu pour ce "
                            "semestre, intérêts non calculés",)
    assert [(line.start, line.end) for line in owed.lines] == [
        (date(2011, 1, 1), date(2011, 1, 31))]


def test_the_shipped_tables_cover_every_half_year_of_the_last_ten_years():
    for year in range(2016, 2027):
        for month in (1, 7):
            day = date(year, month, 1)
            assert not RATES.ecb_refinancing.on(day)[1] or year == 2026, day
            RATES.legal_interest.on(day)


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


def test_a_full_payment_is_called_a_payment_and_only_a_part_a_partial_one():
    inv = invoice()
    pay(inv, "4000.00", date(2025, 8, 1))
    assert prescription(inv.case).reason == "paiement partiel du 01/08/2025"
    pay(inv, "6000.00", date(2025, 9, 1))
    assert prescription(inv.case).reason == "paiement du 01/09/2025"


def test_nothing_after_the_deadline_revives_a_prescribed_claim():
    inv = invoice(due=date(2019, 3, 31))
    pay(inv, "100.00", date(2024, 5, 2))
    inv.record_acknowledgment(at(date(2025, 1, 10)), document="Courrier signé")
    owed = prescription(inv.case)
    assert (owed.deadline, owed.reason) == (date(2024, 3, 31), "échéance de la facture")
    assert owed.after_deadline == (
        "paiement partiel du 02/05/2024, après la prescription du 31/03/2024",
        "reconnaissance de dette du 10/01/2025, après la prescription du 31/03/2024")
