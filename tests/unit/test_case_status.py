"""The status of a file on a day, derived from its facts, told as short stories."""

from datetime import date
from decimal import Decimal

import pytest

from domain.invoice import Invoice
from domain.values import CallOutcome, Instalment, PaymentMeans, Status
from tests.builders import JEAN, ManualClock, eur, register_kwargs, stamp


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def invoice(clock: ManualClock) -> Invoice:
    return Invoice.register(stamp(clock, days=60), **register_kwargs())


def pay(invoice, clock, amount, on=None):
    invoice.receive_payment(stamp(clock), amount=eur(amount), received_on=on or clock.today(),
                            means=PaymentMeans.TRANSFER)


def test_a_file_is_not_yet_due_then_overdue_the_day_after_its_due_date(invoice):
    assert invoice.case.status(date(2026, 10, 1)) is Status.NOT_YET_DUE
    assert invoice.case.status(date(2026, 10, 2)) is Status.OVERDUE
    assert invoice.case.days_past_due(date(2026, 10, 11)) == 10


def test_a_promise_is_broken_the_day_after_its_date_when_not_paid_in_full(invoice, clock):
    invoice.promise_payment(stamp(clock), promised_on=date(2026, 11, 5), promised_by=JEAN)
    assert invoice.case.status(date(2026, 11, 5)) is Status.PROMISED
    assert invoice.case.status(date(2026, 11, 6)) is Status.PROMISE_BROKEN


def test_a_partial_promise_paid_by_its_date_is_kept(invoice, clock):
    invoice.promise_payment(stamp(clock), promised_on=date(2026, 11, 5), promised_by=JEAN,
                            amount=eur("500"))
    clock.advance(days=2)
    pay(invoice, clock, "500.00")
    assert invoice.case.promise_kept()
    assert invoice.case.status(date(2026, 11, 20)) is Status.OVERDUE


def test_a_new_promise_replaces_the_broken_one(invoice, clock):
    invoice.promise_payment(stamp(clock), promised_on=date(2026, 11, 3), promised_by=JEAN)
    clock.advance(days=5)
    invoice.log_call(stamp(clock), contact=JEAN, outcome=CallOutcome.REACHED)
    invoice.promise_payment(stamp(clock), promised_on=date(2026, 11, 15), promised_by=JEAN,
                            contact_version=invoice.version)
    assert invoice.case.status(clock.today()) is Status.PROMISED


def test_a_missed_instalment_shows_on_a_payment_plan(invoice, clock):
    plan = [Instalment(date(2026, 11, 10), Decimal("500.00")),
            Instalment(date(2026, 12, 10), Decimal("1000.00"))]
    invoice.agree_payment_plan(stamp(clock), instalments=plan, signed=True, contact=JEAN)
    assert invoice.case.status(date(2026, 11, 10)) is Status.IN_PAYMENT_PLAN
    assert invoice.case.missed_instalments(date(2026, 11, 10)) == ()
    assert invoice.case.missed_instalments(date(2026, 11, 11)) == (plan[0],)
    assert invoice.case.status(date(2026, 11, 11)) is Status.INSTALMENT_MISSED
    clock.advance(days=9)
    pay(invoice, clock, "500.00")
    assert invoice.case.missed_instalments(date(2026, 11, 20)) == ()
    assert invoice.case.status(date(2026, 11, 20)) is Status.IN_PAYMENT_PLAN


def test_formal_notice_hand_over_and_write_off_each_show(invoice, clock):
    invoice.send_formal_notice(stamp(clock), registered_letter_number="1A 123 456 7890 1",
                               deadline_on=date(2026, 11, 10))
    assert invoice.case.status(clock.today()) is Status.FORMAL_NOTICE_SENT
    invoice.hand_over(stamp(clock), to="commissaire_de_justice", recipient="SCP Martin")
    assert invoice.case.status(clock.today()) is Status.HANDED_OVER
    invoice.write_off(stamp(clock), reason="Débiteur insolvable")
    assert invoice.case.status(clock.today()) is Status.WRITTEN_OFF


def test_the_balance_counts_every_payment_and_a_paid_file_says_so(invoice, clock):
    pay(invoice, clock, "1000.00")
    assert invoice.case.outstanding == Decimal("500.00")
    pay(invoice, clock, "500.00")
    assert invoice.case.status(clock.today()) is Status.PAID


def test_the_last_contact_is_the_latest_in_business_time(invoice, clock):
    invoice.log_call(stamp(clock, days=1), contact=JEAN, outcome=CallOutcome.REACHED)
    invoice.log_call(stamp(clock, days=3), contact=JEAN, outcome=CallOutcome.VOICEMAIL)
    assert invoice.case.last_contact_at == clock.now.replace(day=1)
