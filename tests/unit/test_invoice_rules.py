"""Each rule of the case file, checked on the aggregate alone (no database)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.errors import (
    CurrencyMismatch,
    DisputeAlreadyOpen,
    FactAlreadyRetracted,
    FileClosed,
    FileNotClosed,
    FutureBusinessTime,
    InvalidAmount,
    InvalidChannel,
    InvalidInvoice,
    InvalidPaymentPlan,
    InvalidText,
    InvalidTime,
    NoOpenDispute,
    Overpayment,
    PromiseBeforeContact,
    UncorrectableField,
    UnknownFact,
)
from domain.invoice import Invoice, invoice_id
from domain.values import (
    CallOutcome,
    Channel,
    Contact,
    Instalment,
    Money,
    PaymentMeans,
    Stamp,
    Status,
)
from tests.builders import JEAN, ManualClock, eur, register_kwargs, stamp


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def invoice(clock: ManualClock) -> Invoice:
    return Invoice.register(stamp(clock, days=60), **register_kwargs())


def pay(invoice: Invoice, clock: ManualClock, amount: str, **options: object) -> None:
    invoice.receive_payment(stamp(clock), amount=eur(amount), received_on=clock.today(),
                            means=PaymentMeans.TRANSFER, **options)


def test_the_file_id_comes_from_the_invoice_number(invoice: Invoice):
    assert invoice.id == invoice_id("FA-2026-0001") == invoice_id("  FA-2026-0001 ")
    assert invoice_id("FA-2026-0002") != invoice.id


def test_an_invoice_due_before_it_was_issued_is_refused(clock):
    with pytest.raises(InvalidInvoice, match="due date 2026-08-01 is before issue date"):
        Invoice.register(stamp(clock), **register_kwargs(due_on=date(2026, 8, 1)))


def test_an_invoice_of_zero_euros_is_refused(clock):
    with pytest.raises(InvalidAmount, match="strictly positive"):
        Invoice.register(stamp(clock), **register_kwargs(amount=eur("0")))


def test_a_closed_file_refuses_a_call(invoice, clock):
    invoice.close(stamp(clock), reason="Client liquidé")
    with pytest.raises(FileClosed, match="file FA-2026-0001 is closed: reopen it first"):
        invoice.log_call(stamp(clock), contact=JEAN, outcome=CallOutcome.REACHED)


def test_a_closed_file_still_takes_a_note_a_correction_and_a_reopening(invoice, clock):
    invoice.close(stamp(clock), reason="Erreur de saisie")
    invoice.add_note(stamp(clock), text="Fermé par erreur")
    invoice.correct(stamp(clock), target_version=2, reason="motif exact",
                    changes={"reason": "Doublon"})
    invoice.reopen(stamp(clock), reason="Fermé par erreur")
    invoice.log_call(stamp(clock), contact=JEAN, outcome=CallOutcome.VOICEMAIL)
    assert [e.kind for e in invoice.entries][-4:] == [
        "NoteAdded", "FactCorrected", "CaseReopened", "CallLogged"]


def test_a_fully_paid_file_is_closed_to_new_actions(invoice, clock):
    pay(invoice, clock, "1500.00")
    assert invoice.case.status(clock.today()) is Status.PAID
    with pytest.raises(FileClosed):
        invoice.send_reminder(stamp(clock), channel=Channel.EMAIL, level=1)


def test_reopening_a_file_that_is_not_closed_is_refused(invoice, clock):
    with pytest.raises(FileNotClosed, match="the file is not closed"):
        invoice.reopen(stamp(clock), reason="?")


def test_a_payment_in_another_currency_is_refused(invoice, clock):
    with pytest.raises(CurrencyMismatch, match="amount in USD on an invoice in EUR"):
        invoice.receive_payment(stamp(clock), amount=Money(Decimal("10"), "USD"),
                                received_on=clock.today(), means=PaymentMeans.TRANSFER)


def test_a_negative_payment_is_refused(invoice, clock):
    with pytest.raises(InvalidAmount, match=r"strictly positive, got -10.00"):
        pay(invoice, clock, "-10")


def test_a_payment_above_the_balance_is_refused_unless_flagged(invoice, clock):
    pay(invoice, clock, "1000.00")
    with pytest.raises(Overpayment, match=r"payment of 600.00 exceeds the outstanding 500.00"):
        pay(invoice, clock, "600.00")
    pay(invoice, clock, "600.00", overpayment=True)
    assert invoice.case.outstanding == Decimal("-100.00")


def test_a_payment_dated_tomorrow_is_refused(invoice, clock):
    with pytest.raises(FutureBusinessTime, match=r"payment date .* is in the future"):
        invoice.receive_payment(stamp(clock), amount=eur("10"),
                                received_on=clock.today() + timedelta(days=1),
                                means=PaymentMeans.CHEQUE)


def test_a_promise_dated_before_the_call_it_came_from_is_refused(invoice, clock):
    invoice.log_call(stamp(clock, days=2), contact=JEAN, outcome=CallOutcome.REACHED)
    call_version = invoice.version
    with pytest.raises(PromiseBeforeContact,
                       match="promised date 2026-10-30 is before the contact of 2026-10-31"):
        invoice.promise_payment(stamp(clock, days=8), promised_on=date(2026, 10, 30),
                                promised_by=JEAN, contact_version=call_version)


def test_a_promise_must_come_from_a_contact_fact(invoice, clock):
    with pytest.raises(UnknownFact, match="fact 1 is not a contact with the debtor"):
        invoice.promise_payment(stamp(clock), promised_on=date(2026, 11, 10),
                                promised_by=JEAN, contact_version=1)


def test_a_promise_larger_than_the_balance_is_refused(invoice, clock):
    with pytest.raises(InvalidAmount, match=r"promised 2000.00 exceeds the outstanding 1500.00"):
        invoice.promise_payment(stamp(clock), promised_on=date(2026, 11, 10),
                                promised_by=JEAN, amount=eur("2000"))


def test_business_time_in_the_future_is_refused_beyond_a_small_tolerance(clock):
    Stamp("alice", clock.now + timedelta(minutes=4), clock.now)
    with pytest.raises(FutureBusinessTime, match="is in the future"):
        Stamp("alice", clock.now + timedelta(hours=1), clock.now)


def test_business_time_without_a_time_zone_is_refused(clock):
    with pytest.raises(InvalidTime, match="timezone-aware"):
        Stamp("alice", clock.now.replace(tzinfo=None), clock.now)


def test_a_correction_must_target_a_fact_of_this_file(invoice, clock):
    with pytest.raises(UnknownFact, match="fact 42 is not a fact of this file"):
        invoice.correct(stamp(clock), target_version=42, reason="?", changes={"text": "x"})


def test_a_correction_may_only_change_fields_the_fact_has(invoice, clock):
    invoice.add_note(stamp(clock), text="Apeler lundi")
    with pytest.raises(UncorrectableField, match="NoteAdded has no correctable field 'amount'"):
        invoice.correct(stamp(clock), target_version=2, reason="?", changes={"amount": 1})
    with pytest.raises(UncorrectableField, match="text must be a str, got int"):
        invoice.correct(stamp(clock), target_version=2, reason="?", changes={"text": 1})


def test_a_correction_keeps_the_original_and_changes_the_balance(invoice, clock):
    pay(invoice, clock, "500.00")
    invoice.correct(stamp(clock), target_version=2, reason="Virement de 400 et non 500",
                    changes={"amount": Decimal("400.00")})
    assert invoice.case.outstanding == Decimal("1100.00")
    original = invoice.entries[1]
    assert original.corrected_by == (3,)
    assert invoice.entries[2].data["changes"] == {"amount": Decimal("400.00")}


def test_a_retracted_payment_no_longer_counts_and_cannot_be_retracted_twice(invoice, clock):
    pay(invoice, clock, "500.00")
    invoice.retract(stamp(clock), target_version=2, reason="Chèque rejeté")
    assert invoice.case.outstanding == Decimal("1500.00")
    with pytest.raises(FactAlreadyRetracted, match="fact 2 was retracted"):
        invoice.retract(stamp(clock), target_version=2, reason="encore")


def test_the_registration_cannot_be_retracted(invoice, clock):
    with pytest.raises(UncorrectableField, match="registration cannot be retracted"):
        invoice.retract(stamp(clock), target_version=1, reason="?")


def test_a_reminder_cannot_go_out_by_phone(invoice, clock):
    with pytest.raises(InvalidChannel, match="log a call"):
        invoice.send_reminder(stamp(clock), channel=Channel.CALL, level=1)


def test_only_one_dispute_is_open_at_a_time(invoice, clock):
    with pytest.raises(NoOpenDispute, match="no dispute is open"):
        invoice.resolve_dispute(stamp(clock), outcome="?")
    invoice.raise_dispute(stamp(clock), reason="Marchandise abîmée")
    with pytest.raises(DisputeAlreadyOpen, match="already open"):
        invoice.raise_dispute(stamp(clock), reason="Autre")
    assert invoice.case.status(clock.today()) is Status.IN_DISPUTE


def test_a_payment_plan_must_add_up_to_the_balance(invoice, clock):
    short = [Instalment(date(2026, 12, 1), Decimal("500.00"))]
    with pytest.raises(InvalidPaymentPlan,
                       match=r"instalments total 500.00, the outstanding balance is 1500.00"):
        invoice.agree_payment_plan(stamp(clock), instalments=short)
    unordered = [Instalment(date(2027, 1, 1), Decimal("750.00")),
                 Instalment(date(2026, 12, 1), Decimal("750.00"))]
    with pytest.raises(InvalidPaymentPlan, match="distinct and in order"):
        invoice.agree_payment_plan(stamp(clock), instalments=unordered)


def test_text_with_control_characters_is_refused(invoice, clock):
    with pytest.raises(InvalidText, match="text contains control characters"):
        invoice.add_note(stamp(clock), text="Rappeler\x00 lundi")
    with pytest.raises(InvalidText, match="name contains control characters"):
        Contact(name="Jean\x1b[31m")
    invoice.add_note(stamp(clock), text="Ligne 1\nLigne 2\tfin")
