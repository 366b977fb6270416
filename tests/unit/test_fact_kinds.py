"""Every kind of fact is declared once, completely, and its declaration agrees with the
fold of the file: a missing label, summary or form, a French word missing for a value,
or a declared phase or contact the fold does not give, fails here."""

from __future__ import annotations

import inspect
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.infra.accounts import Role
from adapters.infra.documents import DOCUMENTS
from domain import facts
from domain.invoice import Invoice
from domain.kinds import BY_NAME, CHOICES, KINDS, SPOKE, TOUCHING
from domain.scenarios import STEP_KINDS
from domain.service import CaseFiles
from domain.values import (
    CallOutcome,
    Channel,
    DuplicateReason,
    HandoverTarget,
    Instalment,
    PaymentMeans,
    ReplyMatch,
    ReplyOutcome,
    Status,
)
from projections.french import FRENCH, VOCABULARY
from tests.builders import JEAN, ManualClock, eur, register_kwargs, stamp

FACT_CLASSES = [cls for _, cls in inspect.getmembers(facts, inspect.isclass)
                if issubclass(cls, facts.Fact) and cls is not facts.Fact]
CLOCK = ManualClock()
TODAY = CLOCK.today()
SOON = TODAY + timedelta(days=10)


def _overdue() -> Invoice:
    return Invoice.register(stamp(CLOCK, days=60), **register_kwargs(
        "K-1", issued_on=TODAY - timedelta(days=60), due_on=TODAY - timedelta(days=20)))


def _closed(invoice: Invoice) -> None:
    invoice.close(stamp(CLOCK, hours=2), reason="Avoir émis")


ACTS = {
    "PreDueReminderSent": lambda i: i.remind_before_due(
        stamp(CLOCK, hours=1), channel=Channel.EMAIL, summary="Livraison conforme",
        contact=JEAN, expected_means=PaymentMeans.TRANSFER),
    "ReminderSent": lambda i: i.send_reminder(stamp(CLOCK, hours=1), channel=Channel.LETTER,
                                              level=1, recipient="ACME"),
    "CallLogged": lambda i: i.log_call(stamp(CLOCK, hours=1), contact=JEAN,
                                       outcome=CallOutcome.VOICEMAIL, summary="Message"),
    "PaymentPromised": lambda i: i.promise_payment(stamp(CLOCK, hours=1), promised_on=SOON,
                                                   promised_by=JEAN),
    "DocumentSent": lambda i: i.send_document(
        stamp(CLOCK, hours=1), template="call_confirmation", channel=Channel.EMAIL,
        recipient=JEAN.email, subject="Suite à notre appel"),
    "SendingFailed": lambda i: i.record_sending_failure(
        stamp(CLOCK, hours=1), template="reminder_1", channel=Channel.EMAIL,
        recipient=JEAN.email, error="boîte pleine"),
    "DuplicateRequested": lambda i: i.request_duplicate(
        stamp(CLOCK, hours=1), reason=DuplicateReason.NOT_RECEIVED, requested_by=JEAN),
    "DuplicateSent": lambda i: i.send_duplicate(stamp(CLOCK, hours=1), channel=Channel.EMAIL,
                                                recipient=JEAN.email, correction="PO ajouté"),
    "DisputeRaised": lambda i: i.raise_dispute(stamp(CLOCK, hours=1), reason="Palette abîmée",
                                               disputed_amount=eur("1500.00")),
    "DisputeResolved": lambda i: (i.raise_dispute(stamp(CLOCK, hours=2), reason="Palette"),
                                  i.resolve_dispute(stamp(CLOCK, hours=1), outcome="Avoir")),
    "PaymentPlanAgreed": lambda i: i.agree_payment_plan(
        stamp(CLOCK, hours=1), instalments=[Instalment(SOON, Decimal("1500.00"))],
        signed=True, contact=JEAN),
    "DiscountOffered": lambda i: i.offer_discount(stamp(CLOCK, hours=1), discount=eur("30"),
                                                  pay_by=SOON),
    "DiscountGranted": lambda i: (
        i.offer_discount(stamp(CLOCK, hours=2), discount=eur("30"), pay_by=SOON),
        i.receive_payment(stamp(CLOCK, hours=1), amount=eur("1470.00"), received_on=TODAY,
                          means=PaymentMeans.TRANSFER)),
    "CreditNoteApplied": lambda i: i.apply_credit_note(
        stamp(CLOCK, hours=1), amount=eur("300.00"), issued_on=TODAY, reference="AV-12",
        reason="Palette abîmée"),
    "DueDateRescheduled": lambda i: i.reschedule_due_date(
        stamp(CLOCK, hours=1), new_due_on=TODAY - timedelta(days=5), reason="Accord"),
    "FormalNoticeSent": lambda i: i.send_formal_notice(
        stamp(CLOCK, hours=1), registered_letter_number="1A 123", deadline_on=SOON),
    "PaymentReceived": lambda i: i.receive_payment(
        stamp(CLOCK, hours=1), amount=eur("1500.00"), received_on=TODAY,
        means=PaymentMeans.CHEQUE),
    "HandedOver": lambda i: i.hand_over(stamp(CLOCK, hours=1),
                                        to=HandoverTarget.COMMISSAIRE_DE_JUSTICE),
    "DebtAcknowledged": lambda i: i.record_acknowledgment(stamp(CLOCK, hours=1),
                                                          document="Courrier signé"),
    "WrittenOff": lambda i: i.write_off(stamp(CLOCK, hours=1), reason="Insolvable"),
    "CaseClosed": lambda i: i.close(stamp(CLOCK, hours=1), reason="Avoir"),
    "CaseReopened": lambda i: (_closed(i), i.reopen(stamp(CLOCK, hours=1), reason="Erreur")),
    "DocumentAttached": lambda i: i.attach_document(
        stamp(CLOCK, hours=1), sha256="ab" * 32, kind="signed_plan", filename="plan-signé.pdf",
        media_type="application/pdf", size=48_213, note="reçu par courrier"),
    "NoteAdded": lambda i: i.add_note(stamp(CLOCK, hours=1), text="Appeler lundi"),
    "AgentAssigned": lambda i: i.assign(stamp(CLOCK, hours=1), agent="bruno"),
    "SecondContactConfirmed": lambda i: i.confirm_second_contact(
        stamp(CLOCK, hours=1), reason="le débiteur a demandé qu'on le rappelle",
        earlier_actor="marie", earlier_at=CLOCK()),
    "CallbackScheduled": lambda i: i.schedule_callback(stamp(CLOCK, hours=1),
                                                       callback_on=SOON, owner="bruno"),
    "ReplyReceived": lambda i: _replied(i),
    "ReplyHandled": lambda i: (_replied(i, hours=2), i.handle_reply(
        stamp(CLOCK, hours=1), reply_version=2, outcome=ReplyOutcome.PROMISE,
        details="paiement le 15")),
    "AutoReplyReceived": lambda i: i.receive_auto_reply(
        stamp(CLOCK, hours=1), mail="ab" * 16, sender="jean@acme.fr",
        subject="Réponse automatique : absent", text="Je suis absent jusqu'au 5.",
        mail_sha256="cd" * 32),
    "DeliveryFailed": lambda i: i.record_delivery_failure(
        stamp(CLOCK, hours=1), mail="ab" * 16, recipient="jean@acme.fr",
        diagnostic="550 5.1.1 user unknown", message_id="<r.1@relance.local>",
        mail_sha256="cd" * 32),
    "PlanRequested": lambda i: i.request_plan(
        stamp(CLOCK, hours=1), instalments=(Instalment(SOON, Decimal("600.00")),
                                            Instalment(SOON + timedelta(days=30),
                                                       Decimal("600.00"))),
        requested_by=JEAN, details="deux fois"),
    "PaymentClaimed": lambda i: i.claim_payment(
        stamp(CLOCK, hours=1), paid_on=CLOCK().date(), amount=eur("1200.00"),
        means=PaymentMeans.TRANSFER, reference_text="VIR 123", claimed_by=JEAN,
        proof_sha256="ef" * 32),
    "InvoiceDownloaded": lambda i: i.record_download(
        stamp(CLOCK, hours=1), document_sha256="ab" * 32, link="cd" * 16),
    "FactCorrected": lambda i: (i.add_note(stamp(CLOCK, hours=2), text="Apeler"),
                                i.correct(stamp(CLOCK, hours=1), target_version=2,
                                          reason="Faute", changes={"text": "Appeler"})),
    "FactRetracted": lambda i: (i.add_note(stamp(CLOCK, hours=2), text="Doublon"),
                                i.retract(stamp(CLOCK, hours=1), target_version=2,
                                          reason="Doublon")),
}


def _replied(invoice: Invoice, hours: int = 1) -> None:
    invoice.receive_reply(
        stamp(CLOCK, hours=hours), mail="ab" * 16, writer=JEAN, subject="Re: Relance",
        text="Nous payons le 15.", answers="<r.1@relance.local>", matched_by=ReplyMatch.THREAD,
        mail_sha256="cd" * 32)


def _after(kind: str) -> Invoice:
    invoice = _overdue()
    ACTS[kind](invoice)
    return invoice


def test_every_fact_class_has_exactly_one_declaration():
    declared = [kind.fact for kind in KINDS]
    assert sorted(c.__name__ for c in declared) == sorted(c.__name__ for c in FACT_CLASSES)
    assert len(set(declared)) == len(declared)


@pytest.mark.parametrize("kind", sorted(BY_NAME))
def test_each_kind_has_a_french_label_and_a_summary_of_its_fact(kind):
    invoice = _overdue() if kind == "InvoiceRegistered" else _after(kind)
    entry = next(e for e in reversed(invoice.entries) if e.kind == kind)
    declaration = BY_NAME[kind]
    assert declaration.label
    assert declaration.label[0].isupper()
    summary = declaration.describe(FRENCH, entry.data)
    assert summary.strip(), kind
    for internal in ("_", "Decimal(", "datetime.", "Contact("):
        assert internal not in summary, (kind, summary)


@pytest.mark.parametrize("kind", sorted(set(BY_NAME) - {"InvoiceRegistered"}))
def test_the_declared_phase_and_contact_are_what_the_fold_gives(kind):
    declaration = BY_NAME[kind]
    invoice = _after(kind)
    case = invoice.case
    assert case.phase == (declaration.phase or "open"), kind
    fact = next(e for e in reversed(invoice.entries) if e.kind == kind)
    if declaration.touch is None:  # the contact before it, if any, is still the last
        assert case.last_touch is None or case.last_touch.at < fact.occurred_at, kind
    else:
        assert case.last_touch is not None, kind
        assert case.last_touch.at == fact.occurred_at
        expected = declaration.touch.channel or fact.data["channel"]
        assert case.last_touch.channel == expected
    assert (kind in TOUCHING) == (declaration.touch is not None)
    assert (kind in SPOKE) == bool(declaration.touch and declaration.touch.spoke)


def test_every_kind_recorded_by_a_form_has_one_and_it_calls_a_command_of_the_service():
    for kind in KINDS:
        assert (kind.recorded_by == "form") == (kind.form is not None), kind.name
        if kind.form is None:
            assert kind.recorded_by in ("registration", "call", "note", "sending", "relance",
                                        "contact", "attachment", "mail", "portal"), \
                kind.name
            continue
        assert callable(getattr(CaseFiles, kind.form.command, None)), kind.form.command
        for field in kind.form.fields:
            assert field.label
            assert (field.kind == "choice") == bool(field.choices), field
            assert not field.choices or field.choices in CHOICES, field
    slugs = [kind.form.slug for kind in KINDS if kind.form]
    assert len(slugs) == len(set(slugs))


def test_every_value_shown_to_people_has_its_french_word():
    wanted = {
        "status": [s.value for s in Status], "channel": [c.value for c in Channel],
        "outcome": [o.value for o in CallOutcome], "means": [m.value for m in PaymentMeans],
        "duplicate_reason": [r.value for r in DuplicateReason],
        "handover_target": [t.value for t in HandoverTarget],
        "role": [r.value for r in Role], "step_kind": list(STEP_KINDS),
        "document": list(DOCUMENTS),
        **{name.removeprefix("written_"): list(values) for name, values in CHOICES.items()},
    }
    for vocabulary, values in wanted.items():
        missing = [v for v in values if v not in VOCABULARY[vocabulary]]
        assert missing == [], (vocabulary, missing)
    fields = {name for kind in KINDS if kind.form for name in
              ("amount", "received_on", "text", "reason")}
    assert fields <= set(VOCABULARY["field"])


def test_a_correction_summary_reads_in_french():
    invoice = _overdue()
    invoice.receive_payment(stamp(CLOCK, hours=2), amount=eur("1000.00"), received_on=TODAY,
                            means=PaymentMeans.TRANSFER)
    invoice.correct(stamp(CLOCK, hours=1), target_version=2, reason="Chèque de 1 050",
                    changes={"amount": Decimal("1050.00")})
    entry = invoice.entries[-1]
    summary = BY_NAME["FactCorrected"].describe(FRENCH, entry.data)
    assert summary == ("corrige l'entrée n° 2 — montant : 1\u202f050,00\u00a0€ — "
                       "Chèque de 1 050")
