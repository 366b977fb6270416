"""What is due on a file, day by day, under its scenario."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.infra.calendar import FrenchCalendar
from domain.due import Progress, next_action, wakes_on
from domain.invoice import Invoice
from domain.scenarios import SHIPPED, InvalidScenario, Scenario, Step
from domain.values import CallOutcome, Channel, Instalment, PaymentMeans, Stamp
from tests.builders import JEAN, eur, register_kwargs

CALENDAR = FrenchCalendar()
REFERENCE, LARGE, SMALL = SHIPPED
DUE = date(2026, 10, 1)


def at(day: date, hour: int = 10) -> Stamp:
    return Stamp("bruno", datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
                 datetime(2026, 12, 31, tzinfo=UTC))


@pytest.fixture
def invoice() -> Invoice:
    return Invoice.register(at(date(2026, 9, 1)), **register_kwargs(
        issued_on=date(2026, 9, 1), due_on=DUE))


def due(invoice: Invoice, day: date, scenario: Scenario = REFERENCE, debtor_contact=None):
    return next_action(Progress.of(invoice.case, day), scenario, day, CALENDAR, debtor_contact)


def test_the_reference_scenario_brings_each_step_on_its_day(invoice):
    assert due(invoice, date(2026, 9, 25)).step is None
    assert due(invoice, date(2026, 9, 25)).on == date(2026, 9, 26)
    assert due(invoice, date(2026, 9, 26)).step.label == "relance préventive"
    invoice.remind_before_due(at(date(2026, 9, 26)), channel=Channel.EMAIL, summary="ok")
    assert due(invoice, date(2026, 9, 30)).step is None
    assert due(invoice, DUE).step.label == "première relance"
    invoice.send_reminder(at(DUE), channel=Channel.LETTER, level=1)
    assert due(invoice, date(2026, 10, 9)).step.label == "appel"
    assert "Référence v1 : J+8 appel, prévu le 09/10/2026" in due(invoice, date(2026, 10, 9)).why


def test_a_step_done_by_another_channel_is_not_due_again(invoice):
    invoice.remind_before_due(at(date(2026, 9, 26)), channel=Channel.CALL, summary="appel")
    invoice.send_reminder(at(DUE), channel=Channel.SMS, level=1)
    assert due(invoice, date(2026, 10, 5)).step is None


def test_after_a_pause_only_the_latest_fallen_step_is_due(invoice):
    invoice.send_reminder(at(DUE), channel=Channel.EMAIL, level=1)
    invoice.raise_dispute(at(date(2026, 10, 3)), reason="Livraison incomplète")
    assert due(invoice, date(2026, 10, 20)).why == "en pause : litige ouvert"
    invoice.resolve_dispute(at(date(2026, 10, 22)), outcome="Complément livré")
    action = due(invoice, date(2026, 10, 22))
    assert action.step.label == "deuxième relance"
    assert "1 étape antérieure non faite regroupée" in action.why


def test_a_file_never_worked_starts_at_the_first_reminder_whatever_its_days_late(invoice):
    action = due(invoice, date(2026, 11, 20))
    assert action.step.label == "première relance"
    assert "dossier jamais relancé : le scénario reprend à son début" in action.why
    assert wakes_on(Progress.of(invoice.case, date(2026, 11, 20)), REFERENCE,
                    CALENDAR) <= date(2026, 11, 20)


def test_a_file_never_worked_then_catches_up_at_the_scenarios_own_pace(invoice):
    invoice.send_reminder(at(date(2026, 11, 10)), channel=Channel.EMAIL, level=1)
    # The call comes 8 days after the reminder, as the scenario spaces them, not at once.
    assert due(invoice, date(2026, 11, 17)).step is None
    assert due(invoice, date(2026, 11, 17)).on == date(2026, 11, 18)
    assert due(invoice, date(2026, 11, 18)).step.label == "appel"
    invoice.log_call(at(date(2026, 11, 18)), contact=JEAN, outcome=CallOutcome.VOICEMAIL)
    assert due(invoice, date(2026, 11, 30)).step.label == "deuxième relance"
    assert due(invoice, date(2026, 11, 29)).step is None


def test_a_tpe_file_never_worked_starts_with_a_call():
    invoice = Invoice.register(at(date(2026, 9, 1)), **register_kwargs(
        issued_on=date(2026, 9, 1), due_on=DUE))
    assert due(invoice, date(2026, 12, 1), SMALL).step.label == "appel"


def test_a_broken_promise_comes_back_the_next_day_before_the_minimum_gap(invoice):
    invoice.send_reminder(at(DUE), channel=Channel.EMAIL, level=1)
    invoice.log_call(at(date(2026, 10, 9)), contact=JEAN, outcome=CallOutcome.REACHED)
    invoice.promise_payment(at(date(2026, 10, 9)), promised_on=date(2026, 10, 15),
                            promised_by=JEAN)
    colleague_letter = datetime(2026, 10, 15, 16, tzinfo=UTC)
    back = due(invoice, date(2026, 10, 16), debtor_contact=colleague_letter)
    assert back.is_due
    assert back.kind == "commitment_broken"
    assert back.why.startswith("promesse du 15/10/2026 non tenue")


def test_an_unanswered_formal_notice_comes_back_until_someone_decides(invoice):
    for level, day in ((1, DUE), (2, date(2026, 10, 21))):
        invoice.send_reminder(at(day), channel=Channel.LETTER, level=level)
    for day in (date(2026, 10, 9), date(2026, 10, 26)):
        invoice.log_call(at(day), contact=JEAN, outcome=CallOutcome.VOICEMAIL)
    invoice.send_formal_notice(at(date(2026, 10, 31)), registered_letter_number="1A 9",
                               deadline_on=date(2026, 11, 15))
    assert not due(invoice, date(2026, 11, 15)).is_due
    assert wakes_on(Progress.of(invoice.case, date(2026, 11, 15)), REFERENCE,
                    CALENDAR) == date(2026, 11, 16)
    for day in (date(2026, 11, 16), date(2026, 12, 20)):
        back = due(invoice, day)
        assert (back.is_due, back.kind) == (True, "notice_expired")
        assert back.why == ("délai de mise en demeure expiré le 15/11/2026 : transmettre "
                            "ou relancer")
    invoice.schedule_callback(at(date(2026, 11, 17)), callback_on=date(2026, 11, 24),
                              owner="bruno")
    assert not due(invoice, date(2026, 11, 18)).is_due
    invoice.hand_over(at(date(2026, 11, 18)), to="lawyer")
    assert due(invoice, date(2026, 11, 19)).why == "dossier terminé"


def test_a_contact_after_the_notice_deadline_puts_the_file_off_by_the_minimum_gap(invoice):
    invoice.send_reminder(at(DUE), channel=Channel.LETTER, level=1)
    invoice.send_formal_notice(at(date(2026, 10, 31)), registered_letter_number="1A 9",
                               deadline_on=date(2026, 11, 15))
    invoice.log_call(at(date(2026, 11, 16)), contact=JEAN, outcome=CallOutcome.VOICEMAIL)
    assert not due(invoice, date(2026, 11, 18)).is_due
    assert due(invoice, date(2026, 11, 19)).kind == "notice_expired"


def test_a_pending_promise_pauses_and_a_broken_one_brings_the_file_back(invoice):
    invoice.log_call(at(date(2026, 10, 9)), contact=JEAN, outcome=CallOutcome.REACHED)
    invoice.promise_payment(at(date(2026, 10, 9)), promised_on=date(2026, 10, 15),
                            promised_by=JEAN)
    assert due(invoice, date(2026, 10, 15)).why == "en pause : promesse de paiement au 15/10/2026"
    back = due(invoice, date(2026, 10, 16))
    assert back.why.startswith("promesse du 15/10/2026 non tenue")
    assert back.is_due


def test_a_payment_plan_on_track_pauses_and_a_missed_instalment_resumes(invoice):
    invoice.agree_payment_plan(at(date(2026, 10, 9)), signed=True, contact=JEAN, instalments=[
        Instalment(date(2026, 10, 20), Decimal("750.00")),
        Instalment(date(2026, 11, 20), Decimal("750.00"))])
    assert due(invoice, date(2026, 10, 20)).why == "en pause : échéancier respecté"
    resumed = due(invoice, date(2026, 10, 21))
    assert resumed.is_due
    assert resumed.why.startswith("échéance du plan manquée")
    invoice.receive_payment(at(date(2026, 10, 21)), amount=eur("750"),
                            received_on=date(2026, 10, 21), means=PaymentMeans.TRANSFER)
    assert due(invoice, date(2026, 10, 22)).why == "en pause : échéancier respecté"


def test_a_paid_or_handed_over_file_has_nothing_due(invoice):
    invoice.hand_over(at(DUE), to="lawyer")
    assert due(invoice, date(2026, 12, 1)).why == "dossier terminé"


def test_the_minimum_gap_between_contacts_postpones_a_step(invoice):
    colleague_call = datetime(2026, 10, 8, 16, tzinfo=UTC)
    action = due(invoice, date(2026, 10, 9), debtor_contact=colleague_call)
    assert action.step is None
    assert action.on == date(2026, 10, 11)
    assert "dernier contact le 08/10/2026, écart minimal 3 jours" in action.why


def test_business_day_offsets_skip_weekends_and_french_holidays():
    step = Step(2, "reminder", Channel.EMAIL, "reminder_1", "relance", 1, business_days=True)
    # Tuesday 10/11/2026 + 2 working days: Wednesday 11/11 is Armistice Day.
    assert step.date_for(date(2026, 11, 10), CALENDAR) == date(2026, 11, 13)
    before = Step(-10, "pre_due", Channel.EMAIL, "pre_due", "pré", business_days=True)
    assert before.date_for(date(2026, 12, 31), CALENDAR) == date(2026, 12, 16)


def test_the_three_shipped_scenarios_differ_by_profile():
    assert [s.name for s in SHIPPED] == ["reference", "grand_compte", "tpe"]
    def by_channel(scenario, channel):
        return sum(step.channel is channel for step in scenario.steps)

    assert by_channel(SMALL, Channel.CALL) > by_channel(REFERENCE, Channel.CALL)
    assert by_channel(SMALL, Channel.LETTER) < by_channel(REFERENCE, Channel.LETTER)
    offer = next(s for s in SMALL.steps if s.kind == "plan_offer")
    assert offer.offset < 30
    assert LARGE.min_gap_days > REFERENCE.min_gap_days
    with pytest.raises(InvalidScenario, match="steps must be in date order"):
        Scenario("x", "X", tuple(reversed(REFERENCE.steps)), 3)


def test_a_step_reference_names_scenario_version_and_step():
    assert REFERENCE.step_reference(REFERENCE.steps[3]) == (
        "Référence v1 — J+20 : deuxième relance")
    assert REFERENCE.steps[0].date_for(DUE, CALENDAR) == DUE - timedelta(days=5)


@given(scenario=st.sampled_from(SHIPPED), due_offset=st.integers(-40, 60),
       phase=st.sampled_from(["open", "promised", "in_dispute", "paid"]),
       promised_in=st.integers(-10, 10), pre_due=st.integers(0, 1), level=st.integers(0, 3),
       calls=st.integers(0, 3), notice=st.booleans(),
       contact_ago=st.one_of(st.none(), st.integers(0, 20)),
       deadline_in=st.one_of(st.none(), st.integers(-20, 20)),
       callback_in=st.one_of(st.none(), st.integers(-5, 5)), step_before=st.integers(0, 10))
@settings(max_examples=400, deadline=None)
def test_a_file_is_never_due_before_the_day_the_case_view_wakes_it(
        scenario, due_offset, phase, promised_in, pre_due, level, calls, notice, contact_ago,
        deadline_in, callback_in, step_before):
    day = date(2026, 11, 23)
    if notice and phase == "open":
        phase = "formal_notice_sent"
    progress = Progress(
        due_on=day + timedelta(days=due_offset), phase=phase,
        promised_on=day + timedelta(days=promised_in) if phase == "promised" else None,
        missed_instalment=False, pre_due_reminders=pre_due, reminder_level=level,
        calls=calls, formal_notice=notice,
        last_contact_at=None if contact_ago is None else datetime.combine(
            day - timedelta(days=contact_ago), datetime.min.time(), tzinfo=UTC),
        last_step_at=None if contact_ago is None else datetime.combine(
            day - timedelta(days=contact_ago + step_before), datetime.min.time(), tzinfo=UTC),
        notice_deadline_on=None if deadline_in is None or not notice
        else day + timedelta(days=deadline_in),
        callback_on=None if callback_in is None else day + timedelta(days=callback_in))
    wakes = wakes_on(progress, scenario, CALENDAR)
    if next_action(progress, scenario, day, CALENDAR).is_due:
        assert wakes is not None
        assert wakes <= day
