"""Right figures, right days, right words: stories of the practice, on both stores.

Each story goes through the application service and reads back what an agent, a
supervisor or an auditor would see: the fold of the file, the case view, the worklist,
the export.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.infra.export_formats import Scope
from adapters.infra.rates import load_law_rates
from adapters.usecases.exporting import Request, export
from domain.errors import EmptyCall
from domain.penalties import penalties
from domain.values import CallOutcome, Channel, Contact, Instalment, PaymentMeans, Status
from projections.worklist import worklist
from tests.builders import JEAN, eur, register_kwargs

N = "FA-2026-0001"
RATES = load_law_rates()


def settle(runtime, recorded) -> None:
    assert runtime.wait_for_views(recorded.notification_id)


def todo(runtime, day: date, agent: str | None = None):
    return worklist(runtime.reads, runtime.files.open_playbook("relance"), runtime.calendar,
                    day, agent)


def exported(runtime, number: str) -> dict:
    out = io.StringIO()
    export(runtime, Request(Scope("file", number), "json", "auditeur"), out)
    return json.loads(out.getvalue())["files"][0]


def test_a_payment_one_day_late_owes_one_day_of_interest_and_the_export_says_so(runtime):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs(issued_on=date(2026, 9, 1),
                                                      due_on=date(2026, 10, 1)))
    files.receive_payment("compta", N, amount=eur("1500.00"), received_on=date(2026, 10, 2),
                          means=PaymentMeans.TRANSFER)
    owed = penalties(files.case(N), runtime.today(), RATES)
    assert [(line.start, line.end) for line in owed.lines] == [
        (date(2026, 10, 2), date(2026, 10, 2))]
    assert owed.interest > 0
    computed = exported(runtime, N)["computed"]
    assert Decimal(computed["interest"]) == owed.interest
    assert computed["indemnity"] == "40.00"


def test_an_escompte_paid_in_time_settles_the_file_and_shows_as_a_fact(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs(issued_on=date(2026, 10, 1),
                                                      due_on=date(2026, 10, 31)))
    files.offer_discount("bruno", N, discount=eur("30.00"), pay_by=date(2026, 10, 15),
                         occurred_at=datetime(2026, 10, 2, 9, tzinfo=UTC))
    settle(views, files.receive_payment("compta", N, amount=eur("1470.00"),
                                        received_on=date(2026, 10, 14),
                                        means=PaymentMeans.TRANSFER))
    line = views.reads.case(N, views.today())
    assert (line.status, line.outstanding, line.discount_granted) == (
        Status.PAID, Decimal("0.00"), Decimal("30.00"))
    history = views.reads.history(N)
    assert history[-1]["label"] == "Escompte accordé"
    assert penalties(files.case(N), views.today(), RATES).total == Decimal("0.00")
    assert todo(views, views.today()) == []
    out = io.BytesIO()                                    # the CSV is bytes, for Excel
    export(views, Request(Scope("file", N), "csv", "auditeur"), out)
    assert "Escompte accordé" in out.getvalue().decode("utf-8-sig")


def test_an_escompte_paid_late_lapses_and_the_rest_is_chased(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs(issued_on=date(2026, 9, 1),
                                                      due_on=date(2026, 10, 1)))
    files.offer_discount("bruno", N, discount=eur("30.00"), pay_by=date(2026, 9, 15),
                         occurred_at=datetime(2026, 9, 2, 9, tzinfo=UTC))
    settle(views, files.receive_payment("compta", N, amount=eur("1470.00"),
                                        received_on=date(2026, 9, 20),
                                        means=PaymentMeans.TRANSFER))
    assert views.reads.case(N, views.today()).outstanding == Decimal("30.00")
    assert [i.number for i in todo(views, views.today())] == [N]


def test_a_credit_note_lowers_the_balance_and_can_settle_a_dispute(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    files.apply_credit_note("compta", N, amount=eur("200.00"), issued_on=date(2026, 10, 20),
                            reference="AV-2026-014", reason="Remise commerciale")
    files.raise_dispute("bruno", N, reason="Deux portes abîmées")
    settle(views, files.resolve_dispute("bruno", N, outcome="Avoir pour les deux portes",
                                        credit_note=eur("300.00"),
                                        credit_reference="AV-2026-015"))
    case = files.case(N)
    assert (case.credited, case.outstanding) == (Decimal("500.00"), Decimal("1000.00"))
    kinds = [row["kind"] for row in views.reads.history(N)]
    assert kinds[-2:] == ["CreditNoteApplied", "DisputeResolved"]
    line = views.reads.case(N, views.today())
    assert (line.credited, line.outstanding, line.status) == (
        Decimal("500.00"), Decimal("1000.00"), Status.OVERDUE)


def test_a_partial_dispute_pauses_only_the_disputed_amount(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    settle(views, files.raise_dispute("bruno", N, reason="Une porte abîmée",
                                      disputed_amount=eur("400.00")))
    line = views.reads.case(N, views.today())
    assert line.status is Status.OVERDUE
    assert line.disputed_amount == Decimal("400.00")
    assert [i.number for i in todo(views, views.today())] == [N]
    files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    settle(views, files.raise_dispute("bruno", "FA-2026-0002", reason="Tout est à refaire"))
    assert views.reads.case("FA-2026-0002", views.today()).status is Status.IN_DISPUTE
    assert "FA-2026-0002" not in [i.number for i in todo(views, views.today())]


def test_a_file_of_2016_exports_with_every_rate_known(runtime):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs(issued_on=date(2016, 2, 1),
                                                      due_on=date(2016, 3, 31)))
    files.record_acknowledgment("bruno", N, document="Courrier signé",
                                occurred_at=datetime(2020, 6, 1, 10, tzinfo=UTC))
    computed = exported(runtime, N)["computed"]
    assert computed["missing_rates"] == []
    assert computed["interest_lines"][0]["from"] == "2016-04-01"
    assert "taux BCE au 01/01/2016 (0,05" in computed["interest_lines"][0]["explanation"]


def test_a_call_at_half_past_midnight_in_paris_is_a_contact_of_that_paris_day(views, clock):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    at_night = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)            # 2 November, 00:30 Paris
    settle(views, files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.REACHED,
                                 summary="Appelé tard", occurred_at=at_night))
    assert [t["actor"] for t in views.reads.touches_on(date(2026, 11, 2))] == ["bruno"]
    assert views.reads.touches_on(date(2026, 11, 1)) == []
    clock.now = datetime(2026, 11, 1, 23, 45, tzinfo=UTC)
    assert views.today() == date(2026, 11, 2)


def test_an_unanswered_formal_notice_comes_back_to_its_owner_then_to_the_team(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs(issued_on=date(2026, 8, 1),
                                                      due_on=date(2026, 9, 1)))
    files.assign("sophie", N, agent="bruno")
    files.send_reminder("bruno", N, channel=Channel.LETTER, level=2,
                        occurred_at=datetime(2026, 9, 25, 9, tzinfo=UTC))
    files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.VOICEMAIL,
                   occurred_at=datetime(2026, 9, 28, 9, tzinfo=UTC))
    settle(views, files.send_formal_notice(
        "bruno", N, registered_letter_number="1A 234 567 8901 2", deadline_on=date(2026, 10, 20),
        occurred_at=datetime(2026, 10, 1, 9, tzinfo=UTC)))
    assert files.history(N)[-1].data["recipient"] == "ACME SARL, à l'attention de Jean Dupont"
    (item,) = todo(views, date(2026, 10, 21), "bruno")
    assert (item.kind, item.action) == ("notice_expired", "transmettre ou relancer")
    assert item.why == "délai de mise en demeure expiré le 20/10/2026 : transmettre ou relancer"
    assert views.reads.notices_expired(date(2026, 10, 21), set()) == []
    assert [line.number for line in views.reads.notices_expired(date(2026, 10, 21),
                                                                {"bruno"})] == [N]
    assert [line.number for line in views.reads.notices_expired(date(2026, 10, 26), set())] == [N]
    assert [i.kind for i in todo(views, date(2026, 11, 30), "bruno")] == ["notice_expired"]
    settle(views, files.hand_over("sophie", N, to="lawyer"))
    assert todo(views, date(2026, 11, 30), "bruno") == []
    assert views.reads.notices_expired(date(2026, 11, 30), set()) == []


def test_a_broken_promise_is_back_the_next_day_whatever_the_minimum_gap(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    files.send_reminder("bruno", N, channel=Channel.EMAIL, level=1,
                        occurred_at=datetime(2026, 10, 1, 9, tzinfo=UTC))
    files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.REACHED, summary="Paiera",
                   promised_on=date(2026, 10, 20),
                   occurred_at=datetime(2026, 10, 9, 9, tzinfo=UTC))
    # A colleague wrote to the same debtor, about its other invoice, the day it was due.
    settle(views, files.send_reminder("carol", "FA-2026-0002", channel=Channel.EMAIL, level=1,
                                      occurred_at=datetime(2026, 10, 20, 15, tzinfo=UTC)))
    items = {i.number: i for i in todo(views, date(2026, 10, 21))}
    assert items[N].kind == "commitment_broken"
    assert items[N].why.startswith("promesse du 20/10/2026 non tenue")


def test_a_missed_instalment_shows_in_the_status(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs())
    settle(views, files.agree_payment_plan("bruno", N, signed=True, contact=JEAN, instalments=[
        Instalment(date(2026, 11, 5), Decimal("500.00")),
        Instalment(date(2026, 12, 5), Decimal("1000.00"))]))
    assert views.reads.case(N, date(2026, 11, 5)).status is Status.IN_PAYMENT_PLAN
    assert views.reads.case(N, date(2026, 11, 6)).status is Status.INSTALMENT_MISSED
    assert views.reads.case(N, date(2026, 11, 6)).status.value == "instalment_missed"


def test_a_call_where_somebody_answered_but_nothing_is_said_is_refused(runtime):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs())
    with pytest.raises(EmptyCall):
        files.log_call("bruno", N, contact=Contact(), outcome=CallOutcome.REACHED)
    files.log_call("bruno", N, contact=Contact(), outcome=CallOutcome.NO_ANSWER)
    assert [e.kind for e in files.history(N)] == ["InvoiceRegistered", "CallLogged"]


def test_business_time_is_kept_and_the_recorded_time_is_the_clocks(runtime, clock):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs())
    yesterday = clock.now - timedelta(days=1)
    files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.REACHED, summary="Hier",
                   occurred_at=yesterday)
    fact = files.history(N)[-1]
    assert (fact.occurred_at, fact.recorded_at) == (yesterday, clock.now)
