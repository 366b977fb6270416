"""A file walked from D-10 to D+40: what is due each day, the worklist, the penalties."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.infra.calendar import FrenchCalendar
from adapters.infra.outbox import FileOutbox
from adapters.infra.rates import load_law_rates
from adapters.usecases.sending import send_by_email
from domain.penalties import penalties
from domain.values import CallOutcome, Instalment, PaymentMeans
from projections.worklist import worklist
from tests.builders import JEAN, eur, register_kwargs

CALENDAR = FrenchCalendar()
N = "FA-2025-0900"


@pytest.fixture
def story(runtime, clock, tmp_path):
    clock.now = datetime(2025, 9, 1, 9, tzinfo=UTC)
    runtime.outbox = FileOutbox(tmp_path / "outbox")
    runtime.start_following()
    files = runtime.files
    files.open_playbook("system")
    files.register_invoice("alice", **register_kwargs(
        N, amount=eur("3000.00"), issued_on=date(2025, 9, 1), due_on=date(2025, 10, 1)))
    files.assign("sophie", N, agent="bruno")
    return runtime


def on(runtime, clock, day: date):
    """Moves the story to 10:00 on `day` and returns bruno's worklist for that day."""
    clock.now = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    head = runtime.files.recorder.max_notification_id()
    assert runtime.wait_for_views(head)
    playbook = runtime.files.open_playbook("system")
    return worklist(runtime.reads, playbook, CALENDAR, day, agent="bruno")


def test_from_d_minus_10_to_d_plus_40(story, clock):
    files = story.files
    assert on(story, clock, date(2025, 9, 21)) == []                     # D-10: nothing yet

    (item,) = on(story, clock, date(2025, 9, 26))                        # D-5
    assert item.action == "relance préventive"
    sent = send_by_email(story, N, "pre_due", "bruno", scenario_step=item.reference)
    assert "arrive à échéance le 01/10/2025" in sent.document.text

    (item,) = on(story, clock, date(2025, 10, 1))                        # D
    assert item.action == "première relance"
    sent = send_by_email(story, N, "reminder_1", "bruno", scenario_step=item.reference)
    assert sent.document.subject.startswith("Facture FA-2025-0900 échue le 01/10/2025")

    assert on(story, clock, date(2025, 10, 4)) == []                     # promise by email
    files.promise_payment("bruno", N, promised_on=date(2025, 10, 6), promised_by=JEAN,
                          amount=eur("1000"))
    assert on(story, clock, date(2025, 10, 6)) == []                     # paused, then kept
    files.receive_payment("compta", N, amount=eur("1000"), received_on=date(2025, 10, 6),
                          means=PaymentMeans.TRANSFER)

    (item,) = on(story, clock, date(2025, 10, 9))                        # D+8: call
    assert item.action == "appel"
    assert item.reasons == ["Référence v1 : J+8 appel, prévu le 09/10/2025"]
    files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Solde promis pour le 14", scenario_step=item.reference)
    files.promise_payment("bruno", N, promised_on=date(2025, 10, 14), promised_by=JEAN)

    assert on(story, clock, date(2025, 10, 14)) == []                    # promise pending
    (item,) = on(story, clock, date(2025, 10, 15))                       # broken: back at once
    assert item.kind == "commitment_broken"
    assert item.why == "promesse du 14/10/2025 non tenue"
    files.raise_dispute("bruno", N, reason="Une palette abîmée")
    assert on(story, clock, date(2025, 10, 16)) == []                    # dispute: paused
    files.resolve_dispute("bruno", N, outcome="Avoir refusé, palette remplacée")

    (item,) = on(story, clock, date(2025, 10, 21))                       # D+20
    assert item.action == "deuxième relance"
    assert item.why == ("promesse du 14/10/2025 non tenue — Référence v1 : J+20 deuxième "
                        "relance, prévu le 21/10/2025")
    sent = send_by_email(story, N, "reminder_2", "bruno", scenario_step=item.reference)
    assert "Notre relance du 01/10/2025 est restée sans effet" in sent.document.text
    assert "Le règlement promis pour le 14/10/2025 ne nous est pas parvenu." in \
        sent.document.text

    (item,) = on(story, clock, date(2025, 10, 26))                       # D+25: call, plan
    assert item.action == "deuxième appel"
    files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Échéancier en deux fois", scenario_step=item.reference)
    files.agree_payment_plan("bruno", N, signed=True, contact=JEAN, instalments=[
        Instalment(date(2025, 11, 1), Decimal("1000.00")),
        Instalment(date(2025, 11, 15), Decimal("1000.00"))])
    plan = send_by_email(story, N, "payment_plan", "bruno").document.text
    assert "1\u202f000,00\xa0€ au plus tard le 15/11/2025" in plan

    on(story, clock, date(2025, 11, 1))
    files.receive_payment("compta", N, amount=eur("1000"), received_on=date(2025, 11, 1),
                          means=PaymentMeans.TRANSFER)
    assert on(story, clock, date(2025, 11, 10)) == []                    # D+40: plan on track

    # D+40 penalties, by hand (H2 2025: ECB 2.15 % + 10 = 12.15 %); a payment day still
    # bears interest on what was owed that morning:
    #   02/10–06/10   5 days × 3,000 × 12.15 % / 365 =  4.99
    #   07/10–01/11  26 days × 2,000 × 12.15 % / 365 = 17.31
    #   02/11–10/11   9 days × 1,000 × 12.15 % / 365 =  3.00   + 40 € indemnity
    owed = penalties(files.case(N), date(2025, 11, 10), load_law_rates())
    assert [line.amount for line in owed.lines] == [
        Decimal("4.99"), Decimal("17.31"), Decimal("3.00")]
    assert owed.total == Decimal("65.30")

    (item,) = on(story, clock, date(2025, 11, 16))                       # instalment missed
    assert item.kind == "commitment_broken"
    assert item.why.startswith("échéance du plan manquée")
    assert item.action == "mise en demeure"

    steps = [e.data["scenario_step"] for e in files.history(N)
             if e.kind in ("PreDueReminderSent", "ReminderSent")]
    assert steps == ["Référence v1 — J-5 : relance préventive",
                     "Référence v1 — J : première relance",
                     "Référence v1 — J+20 : deuxième relance"]
    proofs = [e.data["message_id"] for e in files.history(N)
              if e.kind in ("PreDueReminderSent", "ReminderSent", "DocumentSent")]
    assert len(proofs) == 4
    assert len(list((story.outbox.folder).glob("*.eml"))) == 4


def test_a_scenario_change_is_recorded_and_the_version_of_the_day_explains_a_step(story, clock):
    files = story.files
    playbook = files.open_playbook("system")
    reference = playbook.scenario("reference")
    clock.now = datetime(2025, 10, 5, 9, tzinfo=UTC)
    shorter = reference.__class__(reference.name, reference.title,
                                  reference.steps[:2] + reference.steps[3:], 3)
    files.set_scenario("sophie", shorter, reason="Moins d'appels en octobre")
    revisions = files.open_playbook("system").revisions["reference"]
    assert [(r.scenario.version, r.actor, r.reason) for r in revisions] == [
        (1, "system", "scénario livré avec relance"), (2, "sophie", "Moins d'appels en octobre")]
    assert files.due(N, date(2025, 10, 2), CALENDAR).why.startswith("Référence v1")
    clock.now = datetime(2025, 10, 21, 9, tzinfo=UTC)
    assert files.due(N, date(2025, 10, 21), CALENDAR).why.startswith("Référence v2")


def test_an_absent_agents_callbacks_show_in_the_team_list(story, clock):
    files = story.files
    clock.now = datetime(2025, 10, 1, 9, tzinfo=UTC)
    files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.REACHED,
                   callback_on=date(2025, 10, 3))
    files.record_absence("sophie", "bruno", date(2025, 10, 2), date(2025, 10, 10))
    on(story, clock, date(2025, 10, 3))
    team = worklist(story.reads, files.open_playbook("x"), CALENDAR, date(2025, 10, 3))
    (item,) = team
    assert item.kind == "callback"
    assert item.reasons[0] == "rappel promis pour le 03/10/2025 (bruno absent)"


def test_files_falling_due_in_august_make_the_july_list(story, clock):
    files = story.files
    files.register_invoice("alice", **register_kwargs("AUG-1", issued_on=date(2025, 7, 1),
                                                      due_on=date(2025, 8, 14)))
    on(story, clock, date(2025, 7, 3))
    july = story.reads.falling_due(date(2025, 8, 1), date(2025, 8, 31), date(2025, 7, 3))
    assert [line.number for line in july] == ["AUG-1"]


def test_a_contractual_rate_comes_from_the_invoice_else_from_its_debtor(story):
    files = story.files
    assert files.penalty_rate(N) is None
    files.set_debtor_penalty_rate("sophie", "411ACME", Decimal("12"))
    assert files.penalty_rate(N) == Decimal("12")
    files.register_invoice("alice", **register_kwargs("OWN-RATE", penalty_rate=Decimal("15")))
    assert files.penalty_rate("OWN-RATE") == Decimal("15")
    files.set_debtor_penalty_rate("sophie", "411ACME", None)
    assert files.penalty_rate(N) is None


def test_a_debtors_new_scenario_moves_its_files_on_the_worklist_at_once(story, clock,
                                                                       monkeypatch):
    import projections.case_view

    monkeypatch.setattr(projections.case_view, "REPLAN_PAGE", 1)  # re-planned page by page
    files = story.files
    files.register_invoice("alice", **register_kwargs(
        "SIBLING", amount=eur("10.00"), issued_on=date(2025, 9, 1), due_on=date(2025, 10, 1)))
    files.assign("sophie", "SIBLING", agent="bruno")
    assert [i.action for i in on(story, clock, date(2025, 10, 2))] == ["première relance"] * 2
    playbook = files.open_playbook("system")
    reference = playbook.scenario("reference")
    patient = reference.__class__("patient", "Débiteur patient", reference.steps[3:], 3)
    files.set_scenario("sophie", patient, reason="Client historique")
    files.choose_debtor_scenario("sophie", "411ACME", "patient")
    assert on(story, clock, date(2025, 10, 2)) == []                     # first step D+20
    assert [story.reads.case(n, date(2025, 10, 2)).wakes_on for n in (N, "SIBLING")] == [
        date(2025, 10, 21)] * 2                                          # both re-planned
    first, second = on(story, clock, date(2025, 10, 21))
    assert first.reasons == ["Débiteur patient v1 : J+20 deuxième relance, prévu le 21/10/2025"]
    assert second.reasons == first.reasons
    files.choose_debtor_scenario("sophie", "411ACME", "reference")
    assert [i.action for i in on(story, clock, date(2025, 10, 2))] == ["première relance"] * 2


def test_the_page_holds_the_most_urgent_items_and_counts_the_rest(story, clock, monkeypatch):
    import projections.worklist as module

    files = story.files
    for n in range(1, 8):
        number = f"PAGE-{n}"
        files.register_invoice("alice", **register_kwargs(
            number, amount=eur(f"{n}000.00"), issued_on=date(2025, 9, 1),
            due_on=date(2025, 9, 20 - n)))
        files.assign("sophie", number, agent="bruno")
    files.log_call("bruno", "PAGE-3", contact=JEAN, outcome=CallOutcome.REACHED,
                   callback_on=date(2025, 10, 2), occurred_at=clock.now)
    whole = on(story, clock, date(2025, 10, 2))
    assert len(whole) == 8
    assert (whole[0].number, whole[0].kind) == ("PAGE-3", "callback")
    assert [i.score for i in whole[1:]] == sorted((i.score for i in whole[1:]), reverse=True)
    monkeypatch.setattr(module, "CHUNK", 2)                              # several reads
    playbook = files.open_playbook("system")
    page, total = module.worklist_page(story.reads, playbook, CALENDAR, date(2025, 10, 2),
                                       agent="bruno", first=3)
    assert [i.number for i in page] == [i.number for i in whole[:3]]
    assert total == 8
    assert module.worklist_page(story.reads, playbook, CALENDAR, date(2025, 10, 2),
                                agent="bruno", first=None)[0] == whole
