"""Each status, each worklist fact and the aging, told as stories, read from the views."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.values import (
    CallOutcome,
    Channel,
    Contact,
    HandoverTarget,
    Instalment,
    Money,
    PaymentMeans,
    Status,
)
from tests.builders import GLOBEX, JEAN, eur, register_kwargs


def settle(runtime, recorded):
    assert runtime.wait_for_views(recorded.notification_id)


def status_of(runtime, number, day):
    return runtime.reads.case(number, day).status


def test_a_new_file_is_not_yet_due_then_overdue(views, clock):
    settle(views, views.files.register_invoice("alice", **register_kwargs(
        due_on=clock.today() + timedelta(days=3), issued_on=clock.today())))
    assert status_of(views, "FA-2026-0001", clock.today()) is Status.NOT_YET_DUE
    assert status_of(views, "FA-2026-0001", clock.today() + timedelta(days=4)) is Status.OVERDUE
    assert views.reads.case("FA-2026-0001", clock.today() + timedelta(days=13)).days_late == 10


def test_a_promise_shows_as_promised_then_broken_the_day_after(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    settle(views, files.promise_payment("bruno", "FA-2026-0001", promised_on=date(2026, 11, 6),
                                        promised_by=JEAN))
    assert status_of(views, "FA-2026-0001", date(2026, 11, 6)) is Status.PROMISED
    assert status_of(views, "FA-2026-0001", date(2026, 11, 7)) is Status.PROMISE_BROKEN
    assert [c.number for c in views.reads.promises_falling_due(date(2026, 11, 6))] == [
        "FA-2026-0001"]
    assert [c.number for c in views.reads.promises_broken(date(2026, 11, 7))] == ["FA-2026-0001"]
    assert views.reads.promises_broken(date(2026, 11, 6)) == []


def test_a_kept_promise_leaves_the_broken_list(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    files.promise_payment("bruno", "FA-2026-0001", promised_on=date(2026, 11, 6),
                          promised_by=JEAN, amount=eur("500"))
    settle(views, files.receive_payment("compta", "FA-2026-0001", amount=eur("500"),
                                        received_on=date(2026, 11, 2),
                                        means=PaymentMeans.TRANSFER))
    line = views.reads.case("FA-2026-0001", date(2026, 11, 10))
    assert line.promise_kept is True
    assert line.status is Status.OVERDUE
    assert line.outstanding == Decimal("1000.00")
    assert views.reads.promises_broken(date(2026, 11, 10)) == []


@pytest.mark.parametrize(("act", "status"), [
    (lambda f, n, c: f.raise_dispute("a", n, reason="Avarie"), Status.IN_DISPUTE),
    (lambda f, n, c: f.send_formal_notice("a", n, registered_letter_number="1A 42",
                                          deadline_on=c.today()), Status.FORMAL_NOTICE_SENT),
    (lambda f, n, c: f.hand_over("a", n, to=HandoverTarget.LAWYER), Status.HANDED_OVER),
    (lambda f, n, c: f.write_off("a", n, reason="Liquidation"), Status.WRITTEN_OFF),
    (lambda f, n, c: f.close_file("a", n, reason="Avoir"), Status.CLOSED),
    (lambda f, n, c: f.receive_payment("a", n, amount=eur("1500"), received_on=c.today(),
                                       means=PaymentMeans.CHEQUE), Status.PAID),
])
def test_each_ending_or_pausing_fact_shows_its_status(views, clock, act, status):
    views.files.register_invoice("alice", **register_kwargs())
    settle(views, act(views.files, "FA-2026-0001", clock))
    assert status_of(views, "FA-2026-0001", clock.today()) is status


def test_a_payment_plan_shows_and_its_missed_instalment_is_listed(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    plan = [Instalment(date(2026, 11, 10), Decimal("500.00")),
            Instalment(date(2026, 12, 10), Decimal("1000.00"))]
    settle(views, files.agree_payment_plan("bruno", "FA-2026-0001", instalments=plan,
                                           signed=True, contact=JEAN))
    assert status_of(views, "FA-2026-0001", date(2026, 11, 5)) is Status.IN_PAYMENT_PLAN
    assert views.reads.missed_instalments(date(2026, 11, 10)) == []
    (line, instalment), = views.reads.missed_instalments(date(2026, 11, 11))
    assert line.number == "FA-2026-0001"
    assert instalment["due_on"] == date(2026, 11, 10)
    assert instalment["amount"] == Decimal("500.00")
    settle(views, files.receive_payment("compta", "FA-2026-0001", amount=eur("500"),
                                        received_on=date(2026, 11, 2),
                                        means=PaymentMeans.TRANSFER))
    assert views.reads.missed_instalments(date(2026, 11, 11)) == []


def test_a_retracted_payment_plan_lists_no_instalment_any_more(views, clock):
    """Its instalments go with it, though the plan is no longer in the file's shape."""
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    plan = [Instalment(date(2026, 11, 10), Decimal("500.00")),
            Instalment(date(2026, 12, 10), Decimal("1000.00"))]
    agreed = files.agree_payment_plan("bruno", "FA-2026-0001", instalments=plan, signed=True,
                                      contact=JEAN)
    settle(views, agreed)
    assert len(views.reads.missed_instalments(date(2026, 11, 11))) == 1
    (_, version), = agreed.facts
    settle(views, files.retract("bruno", "FA-2026-0001", target_version=version,
                                reason="saisi sur le mauvais dossier"))
    assert views.reads.missed_instalments(date(2026, 11, 11)) == []
    assert status_of(views, "FA-2026-0001", date(2026, 11, 11)) is not Status.IN_PAYMENT_PLAN


def test_callbacks_are_listed_for_their_owner_until_the_call_is_made(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    files.log_call("bruno", "FA-2026-0001", contact=JEAN, outcome=CallOutcome.REACHED,
                   callback_on=date(2026, 11, 5))
    settle(views, files.schedule_callback("sophie", "FA-2026-0002", callback_on=date(2026, 11, 5),
                                          owner="carol"))
    assert [c.number for c in views.reads.callbacks_due(date(2026, 11, 5), "bruno")] == [
        "FA-2026-0001"]
    assert [c.number for c in views.reads.callbacks_due(date(2026, 11, 5))] == [
        "FA-2026-0001", "FA-2026-0002"]
    assert views.reads.callbacks_due(date(2026, 11, 4), "bruno") == []
    clock.advance(days=3)
    settle(views, files.log_call("bruno", "FA-2026-0001", contact=JEAN,
                                 outcome=CallOutcome.VOICEMAIL))
    assert views.reads.callbacks_due(date(2026, 11, 6), "bruno") == []


def test_files_without_contact_for_n_days_are_listed(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    settle(views, files.log_call("bruno", "FA-2026-0002", contact=JEAN,
                                 outcome=CallOutcome.REACHED, occurred_at=clock.now))
    quiet = views.reads.without_contact(15, clock.today())
    assert [c.number for c in quiet] == ["FA-2026-0001"]
    later = views.reads.without_contact(15, clock.today() + timedelta(days=16))
    assert [c.number for c in later] == ["FA-2026-0001", "FA-2026-0002"]


def test_aging_buckets_outstanding_by_lateness_per_debtor_agent_and_total(views, clock):
    files = views.files
    day = date(2026, 11, 2)
    for number, due, debtor in [("N", date(2026, 11, 20), None), ("A", date(2026, 10, 20), None),
                                ("B", date(2026, 9, 20), GLOBEX), ("C", date(2026, 8, 20), None),
                                ("D", date(2026, 7, 1), GLOBEX)]:
        extra = {"debtor": debtor} if debtor else {}
        files.register_invoice("alice", **register_kwargs(number, issued_on=date(2026, 6, 1),
                                                          due_on=due, **extra))
    files.assign("sophie", "A", agent="bruno")
    settle(views, files.receive_payment("compta", "A", amount=eur("500"),
                                        received_on=date(2026, 11, 1),
                                        means=PaymentMeans.TRANSFER))
    total, = views.reads.aging(day)
    assert total.buckets == {"not_yet_due": Decimal("1500.00"), "1-30": Decimal("1000.00"),
                             "31-60": Decimal("1500.00"), "61-90": Decimal("1500.00"),
                             "over_90": Decimal("1500.00")}
    by_debtor = {row.key: row.total for row in views.reads.aging(day, by="debtor")}
    assert by_debtor == {"411ACME": Decimal("4000.00"), "411GLOB": Decimal("3000.00")}
    by_agent = {row.key: row.total for row in views.reads.aging(day, by="agent")}
    assert by_agent == {"bruno": Decimal("1000.00"), "": Decimal("6000.00")}


def test_amounts_in_two_currencies_are_never_added(views, clock):
    files = views.files
    day = date(2026, 11, 2)
    files.register_invoice("alice", **register_kwargs("E-1", issued_on=date(2026, 6, 1),
                                                      due_on=date(2026, 10, 1)))
    settle(views, files.register_invoice("alice", **register_kwargs(
        "U-1", amount=Money(Decimal("700.00"), "USD"), issued_on=date(2026, 6, 1),
        due_on=date(2026, 10, 1))))
    debtor = views.reads.debtor("411ACME", day)
    assert debtor.outstanding == {"EUR": Decimal("1500.00"), "USD": Decimal("700.00")}
    assert {(row.currency, row.total) for row in views.reads.aging(day)} == {
        ("EUR", Decimal("1500.00")), ("USD", Decimal("700.00"))}
    assert views.reads.kpis(day)["overdue"] == {"EUR": Decimal("1500.00"),
                                                "USD": Decimal("700.00")}
    (held,) = views.reads.holdings()
    assert held["outstanding"] == {"EUR": Decimal("1500.00"), "USD": Decimal("700.00")}


def test_the_debtor_view_shows_files_contacts_and_who_called_today(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs("A-1"))
    files.register_invoice("alice", **register_kwargs("A-2"))
    marie = Contact("Marie Roux", "DAF", "06 00 00 00 00")
    files.log_call("bruno", ["A-1", "A-2"], contact=marie, outcome=CallOutcome.REACHED,
                   summary="Les deux en paiement", occurred_at=clock.now)
    settle(views, files.log_call("carol", "A-1", contact=JEAN, outcome=CallOutcome.VOICEMAIL,
                                 occurred_at=clock.now - timedelta(days=1)))
    debtor = views.reads.debtor("411ACME", clock.today())
    assert [f.number for f in debtor.files] == ["A-1", "A-2"]
    assert debtor.outstanding == {"EUR": Decimal("3000.00")}
    assert {c["name"] for c in debtor.contacts} == {"Jean Dupont", "Marie Roux"}
    assert [(t["actor"], t["contact_name"]) for t in debtor.touched_today] == [
        ("bruno", "Marie Roux")]
    kinds = [h["kind"] for h in views.reads.debtor_history("411ACME")]
    assert kinds.count("CallLogged") == 3


def test_history_rows_link_a_correction_to_what_it_corrects(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    files.receive_payment("compta", "FA-2026-0001", amount=eur("500"),
                          received_on=clock.today(), means=PaymentMeans.TRANSFER)
    settle(views, files.correct("compta", "FA-2026-0001", target_version=2, reason="400 €",
                                changes={"amount": Decimal("400.00")}))
    rows = views.reads.history("FA-2026-0001")
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert rows[1]["corrected_by"] == [3]
    assert rows[2]["corrects"] == 2
    assert rows[1]["recorded_at"] == clock.now
    assert views.reads.case("FA-2026-0001", clock.today()).paid == Decimal("400.00")


def test_the_file_as_recorded_then_equals_what_the_view_showed_then(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    settle(views, files.promise_payment("bruno", "FA-2026-0001", promised_on=date(2026, 11, 9),
                                        promised_by=JEAN, occurred_at=clock.now))
    then = clock.now
    shown_then = views.reads.case("FA-2026-0001", clock.today()).row
    clock.advance(days=2)
    settle(views, files.receive_payment("compta", "FA-2026-0001", amount=eur("700"),
                                        received_on=clock.today(), means=PaymentMeans.CHEQUE))
    from projections.case_view import case_row

    as_recorded = files.file_as_recorded("FA-2026-0001", then)
    shown_then.pop("wakes_on")  # the scenario's, not the file's
    assert case_row(as_recorded.id.hex, as_recorded.case, as_recorded.version,
                    as_recorded.modified_on) == shown_then
    assert files.file_as_recorded("FA-2026-0001", datetime(2020, 1, 1, tzinfo=UTC)) is None


def test_the_file_by_business_date_counts_only_what_had_happened(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs(), occurred_at=datetime(
        2026, 9, 1, 9, tzinfo=UTC))
    files.receive_payment("compta", "FA-2026-0001", amount=eur("500"),
                          received_on=date(2026, 10, 15), means=PaymentMeans.TRANSFER,
                          occurred_at=datetime(2026, 10, 15, 9, tzinfo=UTC))
    assert files.case_by_business_date("FA-2026-0001", date(2026, 10, 14)).paid == 0
    assert files.case_by_business_date("FA-2026-0001", date(2026, 10, 15)).paid == 500
    assert files.case_by_business_date("FA-2026-0001", date(2026, 8, 31)) is None


def test_a_reader_waits_for_its_own_write_and_is_told_when_views_lag(runtime, clock):
    recorded = runtime.files.register_invoice("alice", **register_kwargs())
    assert runtime.wait_for_views(recorded.notification_id, timeout=0.2) is False
    runtime.start_following()
    assert runtime.wait_for_views(recorded.notification_id, timeout=2.0) is True
    assert runtime.reads.case("FA-2026-0001", clock.today()) is not None


def test_reminders_are_counted_by_level(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    files.send_reminder("bruno", "FA-2026-0001", channel=Channel.EMAIL, level=1)
    settle(views, files.send_reminder("bruno", "FA-2026-0001", channel=Channel.LETTER, level=2))
    line = views.reads.case("FA-2026-0001", clock.today())
    assert (line.reminders_1, line.reminders_2, line.reminders_3) == (1, 1, 0)
    assert line.last_contact_channel == "letter"
