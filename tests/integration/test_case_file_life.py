"""The whole life of a file, on each store, read back exactly as it happened."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from adapters.usecases.demo import seed_portfolio
from adapters.usecases.evidence import walk
from domain.values import (
    CallOutcome,
    Channel,
    DuplicateReason,
    HandoverTarget,
    Instalment,
    PaymentMeans,
    Status,
)
from tests.builders import JEAN, eur, register_kwargs


def test_a_file_from_registration_to_payment_is_read_back_in_order(files, clock):
    number = "FA-2026-0001"
    at = lambda day, hour=10: datetime(2026, 10, day, hour, tzinfo=UTC)  # noqa: E731
    files.register_invoice("alice", **register_kwargs(number), occurred_at=at(1, 8))
    files.assign("sophie", number, agent="bruno", occurred_at=at(1, 9))
    files.remind_before_due("bruno", number, channel=Channel.EMAIL, contact=JEAN,
                            summary="Livraison conforme", occurred_at=at(1, 11),
                            expected_means=PaymentMeans.TRANSFER)
    files.send_reminder("bruno", number, channel=Channel.EMAIL, level=1,
                        recipient=JEAN.email, occurred_at=at(2))
    files.log_call("bruno", number, contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="N'a pas reçu la facture", callback_on=date(2026, 10, 20),
                   occurred_at=at(9))
    files.request_duplicate("bruno", number, reason=DuplicateReason.NOT_RECEIVED,
                            requested_by=JEAN, occurred_at=at(9, 11))
    files.send_duplicate("bruno", number, channel=Channel.EMAIL, recipient=JEAN.email,
                         request_version=6, occurred_at=at(9, 12))
    files.promise_payment("bruno", number, promised_on=date(2026, 10, 25), promised_by=JEAN,
                          amount=eur("1500"), means=PaymentMeans.TRANSFER, contact_version=5,
                          occurred_at=at(9, 13))
    files.raise_dispute("carol", number, reason="Une palette manquante",
                        disputed_amount=eur("300"), occurred_at=at(12))
    files.resolve_dispute("carol", number, outcome="Palette livrée le 14", occurred_at=at(15))
    files.offer_discount("bruno", number, discount=eur("15"), pay_by=date(2026, 10, 25),
                         occurred_at=at(16))
    files.schedule_callback("bruno", number, callback_on=date(2026, 10, 27), owner="bruno",
                            occurred_at=at(16, 11))
    files.receive_payment("compta", number, amount=eur("1000.00"),
                          received_on=date(2026, 10, 24), means=PaymentMeans.TRANSFER,
                          reference="VIR 8812", occurred_at=at(24))
    files.correct("compta", number, target_version=13, reason="Virement de 1 100 €",
                  changes={"amount": Decimal("1100.00")}, occurred_at=at(25))
    files.agree_payment_plan("bruno", number, instalments=[
        Instalment(date(2026, 11, 1), Decimal("200.00")),
        Instalment(date(2026, 11, 15), Decimal("200.00"))], signed=True, contact=JEAN,
        occurred_at=at(26))
    files.add_note("bruno", number, text="Échéancier signé reçu par e-mail", occurred_at=at(26))
    files.receive_payment("compta", number, amount=eur("400.00"),
                          received_on=date(2026, 11, 1), means=PaymentMeans.CHEQUE,
                          occurred_at=datetime(2026, 11, 1, 10, tzinfo=UTC))

    case = files.case(number)
    assert case.outstanding == Decimal("0.00")
    assert case.status(clock.today()) is Status.PAID

    history = files.history(number)
    assert [e.kind for e in history] == [
        "InvoiceRegistered", "AgentAssigned", "PreDueReminderSent", "ReminderSent",
        "CallLogged", "DuplicateRequested", "DuplicateSent", "PaymentPromised",
        "DisputeRaised", "DisputeResolved", "DiscountOffered", "CallbackScheduled",
        "PaymentReceived", "FactCorrected", "PaymentPlanAgreed", "NoteAdded", "PaymentReceived",
    ]
    assert [e.version for e in history] == list(range(1, 18))
    assert [e.actor for e in history][:3] == ["alice", "sophie", "bruno"]
    assert history[4].occurred_at == at(9)
    assert history[4].data["contact"] == JEAN
    assert all(e.recorded_at == clock.now for e in history)
    assert history[12].corrected_by == (14,)
    assert history[12].data["amount"] == Decimal("1100.00")
    assert walk(files)[1] is None                                  # every chain holds


def test_facts_recorded_later_keep_their_recording_time(files, clock):
    files.register_invoice("alice", **register_kwargs())
    registered_at = clock.now
    clock.advance(hours=3)
    files.add_note("bruno", "FA-2026-0001", text="Appel prévu",
                   occurred_at=clock.now - timedelta(days=1))
    first, note = files.history("FA-2026-0001")
    assert first.recorded_at == registered_at
    assert note.recorded_at == clock.now
    assert note.occurred_at == clock.now - timedelta(days=1)


def test_a_file_handed_over_and_written_off_closes_but_can_be_reopened(files, clock):
    files.register_invoice("alice", **register_kwargs())
    files.send_formal_notice("bruno", "FA-2026-0001", registered_letter_number="1A 0001",
                             deadline_on=clock.today() + timedelta(days=8))
    files.hand_over("sophie", "FA-2026-0001", to=HandoverTarget.LAWYER,
                    recipient="Me Lefort")
    files.write_off("sophie", "FA-2026-0001", reason="Liquidation judiciaire")
    assert files.file("FA-2026-0001").case.is_closed
    files.reopen_file("sophie", "FA-2026-0001", reason="Répartition du liquidateur")
    files.close_file("sophie", "FA-2026-0001", reason="Répartition reçue")
    assert files.case("FA-2026-0001").status(clock.today()) is Status.CLOSED


def test_the_demo_portfolio_plays_every_story_through_the_service(runtime, clock):
    numbers = seed_portfolio(runtime.files, files_count=120, seed=1, today=clock.today())
    assert len(numbers) == 120
    digest, problem = walk(runtime.files)
    assert problem is None
    assert digest.files == 120
    statuses = {runtime.files.case(n).status(clock.today()).value for n in numbers}
    assert {"paid", "overdue", "in_dispute", "in_payment_plan", "handed_over"} <= statuses
