"""The Invoice aggregate: one file (dossier) per unpaid invoice, its rules and its story."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain import attachments as documents
from domain import facts as f
from domain.case import Case, Entry
from domain.chain import GENESIS
from domain.corrections import check_changes, check_outcome
from domain.errors import (
    CallbackInThePast,
    DisputeAlreadyOpen,
    EmptyCall,
    ExceedsOutstanding,
    FactAlreadyRetracted,
    FileClosed,
    FileNotClosed,
    FutureBusinessTime,
    InvalidAmount,
    InvalidChannel,
    InvalidInvoice,
    InvalidPaymentPlan,
    MissingInformation,
    NoOpenDispute,
    NoReplyWaiting,
    Overpayment,
    PromiseBeforeContact,
    UncorrectableField,
    UnfitOutcome,
    UnknownFact,
)
from domain.kinds import SPOKE
from domain.sealing import FREE_TEXT, debtor_subject, sealed_text, subject_of
from domain.values import (
    CallOutcome,
    Channel,
    Contact,
    Debtor,
    DuplicateReason,
    HandoverTarget,
    Instalment,
    Money,
    PaymentMeans,
    ReplyMatch,
    ReplyOutcome,
    Stamp,
    clean,
    one_line,
    paris_day,
    reference,
    require_text,
)

FITTING_OUTCOMES = {
    "PlanRequested": (ReplyOutcome.PLAN, ReplyOutcome.REFUSED, ReplyOutcome.NOTHING),
    "PaymentClaimed": (ReplyOutcome.NOTHING, ReplyOutcome.REFUSED),
    "PaymentPromised": (ReplyOutcome.NOTHING,),
    "DisputeRaised": (ReplyOutcome.NOTHING,),
    "DuplicateRequested": (ReplyOutcome.NOTHING,),
}
"""What can come of an answer on the debtor's page: instalments are granted or refused, a
payment announced is found or not; a promise, a dispute or a duplicate request is already
on the file as such, and is only seen (« rien à faire » here). A reply by e-mail may lead
to anything."""

INVOICE_NAMESPACE = UUID("6f1d0c52-3a43-4b8e-9a51-0d1c2b7e4f10")


def _digests(values: Sequence[str]) -> tuple[str, ...]:
    """The digests of the documents attached to a message, each once, in order."""
    return tuple(dict.fromkeys(documents.digest(v) for v in values))


@lru_cache(maxsize=16_384)
def invoice_id(number: str) -> UUID:
    """The file's id, derived from the invoice number: one number, one file. Kept for the
    numbers last asked: every command and read on a file asks it (5 µs made anew)."""
    return uuid5(INVOICE_NAMESPACE, "invoice:" + number.strip())


def _rate(percent: Decimal | None) -> Decimal | None:
    if percent is None:
        return None
    if isinstance(percent, bool) or not isinstance(percent, Decimal) or not (
            percent.is_finite() and 0 < percent < 100):
        raise InvalidAmount(f"a penalty rate must be a percentage between 0 and 100, "
                            f"got {percent!r}")
    return percent


class Invoice(Aggregate):
    """An unpaid invoice's file, and everything that happened on it.

    Glossary (French terms of the trade, used once here):
    - dossier: the file of one invoice; débiteur: the debtor.
    - relance préventive: the pre-due reminder; relance: a reminder after the due date.
    - promesse de paiement: a payment promise; litige: a dispute;
      échelonnement: a payment plan; escompte: an early-payment discount.
    - mise en demeure: the formal notice, by registered letter (lettre recommandée avec
      accusé de réception), the last amicable step.
    - commissaire de justice: the officer (formerly huissier) who takes over afterwards.
    """

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        self._kinds: set[str] = set()
        self._head = GENESIS
        self._case: Case | None = None

    # -- registration -------------------------------------------------------------------

    @classmethod
    def register(cls, stamp: Stamp, **registration: Any) -> Invoice:
        """Opens the file of an unpaid invoice: its fields and their checks are
        `registration`'s."""
        fact = cls.registration(stamp, **registration)
        invoice = cast(Invoice, fact.mutate(None))
        invoice.pending_events.append(fact)
        return invoice

    @classmethod
    def registration(
        cls,
        stamp: Stamp,
        *,
        number: str,
        debtor: Debtor,
        amount: Money,
        issued_on: date,
        due_on: date,
        po_reference: str = "",
        billing_recipient: Contact | None = None,
        penalty_rate: Decimal | None = None,
    ) -> f.InvoiceRegistered:
        """The fact that opens the file of an unpaid invoice, checked, and built as
        eventsourcing builds an aggregate's first event; `penalty_rate` is a contractual
        rate. `register` folds the file from it; a bulk registration saves it as it is
        (`domain/batches.py`)."""
        number = reference(number, "number")
        amount.require_positive()
        if due_on < issued_on:
            raise InvalidInvoice(
                f"due date {due_on} is before issue date {issued_on}",
                issued_on=issued_on.isoformat(),
                due_on=due_on.isoformat(),
            )
        return f.InvoiceRegistered(
            originator_topic=get_topic(cls),
            originator_id=invoice_id(number),
            originator_version=cls.INITIAL_VERSION,
            timestamp=stamp.recorded_at,
            actor=stamp.actor,
            occurred_at=stamp.occurred_at,
            prev_hash=GENESIS,
            number=number,
            debtor=sealed(debtor, debtor.account),
            amount=amount.amount,
            currency=amount.currency,
            issued_on=issued_on,
            due_on=due_on,
            po_reference=clean(po_reference, "po_reference"),
            billing_recipient=sealed(billing_recipient or Contact(), debtor.account),
            penalty_rate=_rate(penalty_rate),
        )

    # -- contacts with the debtor -------------------------------------------------------

    def remind_before_due(
        self,
        stamp: Stamp,
        *,
        channel: Channel,
        summary: str,
        contact: Contact | None = None,
        expected_means: PaymentMeans | None = None,
        scenario_step: str = "",
        message_id: str = "",
        document_sha256: str = "",
        recipient: str = "",
        attachments: Sequence[str] = (),
    ) -> None:
        """Records a pre-due reminder (relance préventive), where it went and the documents
        attached to it (by digest)."""
        self._trigger(
            f.PreDueReminderSent,
            stamp,
            channel=Channel(channel).value,
            recipient=clean(recipient, "recipient"),
            contact=contact or Contact(),
            summary=clean(summary, "summary"),
            expected_means=PaymentMeans(expected_means).value if expected_means else "",
            scenario_step=clean(scenario_step, "scenario_step"),
            message_id=clean(message_id, "message_id"),
            document_sha256=clean(document_sha256, "document_sha256"),
            attachments=_digests(attachments),
        )

    def send_reminder(
        self,
        stamp: Stamp,
        *,
        channel: Channel,
        level: int,
        recipient: str = "",
        summary: str = "",
        message_id: str = "",
        scenario_step: str = "",
        document_sha256: str = "",
        attachments: Sequence[str] = (),
    ) -> None:
        """Records a reminder sent by email, letter or SMS at an escalation level, with the
        documents attached to it (by digest)."""
        if Channel(channel) is Channel.CALL:
            raise InvalidChannel("a reminder goes out by email, letter or SMS; log a call")
        if not 1 <= level <= 3:
            raise MissingInformation(f"reminder level {level} is not 1, 2 or 3", field="level")
        self._trigger(
            f.ReminderSent,
            stamp,
            channel=Channel(channel).value,
            level=level,
            recipient=clean(recipient, "recipient"),
            summary=clean(summary, "summary"),
            message_id=clean(message_id, "message_id"),
            scenario_step=clean(scenario_step, "scenario_step"),
            document_sha256=clean(document_sha256, "document_sha256"),
            attachments=_digests(attachments),
        )

    def log_call(
        self,
        stamp: Stamp,
        *,
        contact: Contact,
        outcome: CallOutcome,
        summary: str = "",
        callback_on: date | None = None,
        action_id: str = "",
        invoice_numbers: Sequence[str] = (),
        scenario_step: str = "",
    ) -> None:
        """Records a phone call with whom, how it went, what was said, and a callback.
        A call where somebody answered must say who, or what was said."""
        self._check_not_before(callback_on, stamp, "callback")
        spoken = CallOutcome(outcome) in (CallOutcome.REACHED, CallOutcome.WRONG_PERSON,
                                          CallOutcome.REFUSED)
        if spoken and contact.is_empty() and not clean(summary, "summary"):
            raise EmptyCall("a call where somebody answered names no one and says nothing")
        self._trigger(
            f.CallLogged,
            stamp,
            contact=contact,
            outcome=CallOutcome(outcome).value,
            summary=clean(summary, "summary"),
            callback_on=callback_on,
            action_id=action_id,
            invoice_numbers=tuple(invoice_numbers) or (self.case.number,),
            scenario_step=clean(scenario_step, "scenario_step"),
        )

    def promise_payment(
        self,
        stamp: Stamp,
        *,
        promised_on: date,
        promised_by: Contact,
        amount: Money | None = None,
        means: PaymentMeans | None = None,
        contact_version: int | None = None,
    ) -> None:
        """Records a promise to pay (all or part of the balance) by a date."""
        require_text(promised_by.name, "promised_by")
        contact_day = paris_day(stamp.occurred_at)
        if contact_version is not None:
            source = self._effective_entry(contact_version)
            if source.kind not in SPOKE:
                raise UnknownFact(
                    f"fact {contact_version} is not a contact with the debtor",
                    version=contact_version,
                )
            contact_day = max(contact_day, paris_day(source.occurred_at))
        if promised_on < contact_day:
            raise PromiseBeforeContact(
                f"promised date {promised_on} is before the contact of {contact_day}",
                promised_on=promised_on.isoformat(),
                contact_on=contact_day.isoformat(),
            )
        owed = self.case.outstanding
        money = self._money(amount) if amount else Money(owed, self.case.currency)
        if money.amount > owed:
            raise InvalidAmount(
                f"promised {money.amount} exceeds the outstanding {owed}",
                amount=str(money.amount),
            )
        self._trigger(
            f.PaymentPromised,
            stamp,
            promised_on=promised_on,
            amount=money.amount,
            currency=money.currency,
            promised_by=promised_by,
            means=PaymentMeans(means).value if means else "",
            contact_version=contact_version,
        )

    def send_document(self, stamp: Stamp, *, template: str, channel: Channel, recipient: str,
                      subject: str, message_id: str = "", document_sha256: str = "",
                      attachments: Sequence[str] = ()) -> None:
        """Records a document sent (not a reminder): its proof, its digest and the
        documents attached to it (by digest)."""
        self._trigger(
            f.DocumentSent, stamp, template=require_text(template, "template"),
            channel=Channel(channel).value, recipient=require_text(recipient, "recipient"),
            subject=clean(subject, "subject"), message_id=clean(message_id, "message_id"),
            document_sha256=clean(document_sha256, "document_sha256"),
            attachments=_digests(attachments))

    def record_sending_failure(self, stamp: Stamp, *, template: str, channel: Channel,
                               recipient: str, error: str) -> None:
        """Records that a document could not be sent, and why."""
        self._trigger(
            f.SendingFailed, stamp, template=require_text(template, "template"),
            channel=Channel(channel).value, recipient=clean(recipient, "recipient"),
            error=clean(error[:500], "error"))

    def request_duplicate(
        self,
        stamp: Stamp,
        *,
        reason: DuplicateReason,
        details: str = "",
        requested_by: Contact | None = None,
    ) -> None:
        """Records that the debtor asked for a duplicate of the invoice."""
        self._trigger(
            f.DuplicateRequested,
            stamp,
            reason=DuplicateReason(reason).value,
            details=clean(details, "details"),
            requested_by=requested_by or Contact(),
        )

    def send_duplicate(
        self,
        stamp: Stamp,
        *,
        channel: Channel,
        recipient: str,
        correction: str = "",
        request_version: int | None = None,
    ) -> None:
        """Records that the duplicate went out, with the fix it needed."""
        if request_version is not None:
            self._effective_entry(request_version, kind="DuplicateRequested")
        self._trigger(
            f.DuplicateSent,
            stamp,
            channel=Channel(channel).value,
            recipient=require_text(recipient, "recipient"),
            correction=clean(correction, "correction"),
            request_version=request_version,
        )

    # -- pauses and arrangements --------------------------------------------------------

    def raise_dispute(
        self,
        stamp: Stamp,
        *,
        reason: str,
        details: str = "",
        disputed_amount: Money | None = None,
    ) -> None:
        """Records a dispute (litige): collection pauses while it is open."""
        if self.case.dispute_open_since is not None:
            raise DisputeAlreadyOpen("a dispute is already open on this file")
        amount = self._money(disputed_amount).amount if disputed_amount else None
        if amount is not None and amount > self.case.amount:
            raise InvalidAmount(f"disputed {amount} exceeds the invoice {self.case.amount}")
        self._trigger(
            f.DisputeRaised,
            stamp,
            reason=require_text(reason, "reason"),
            details=clean(details, "details"),
            disputed_amount=amount,
        )

    def resolve_dispute(self, stamp: Stamp, *, outcome: str, details: str = "",
                        credit_note: Money | None = None, credit_reference: str = "") -> None:
        """Records how the open dispute ended; a credit note (avoir) granted to settle it is
        recorded with it, at once."""
        if self.case.dispute_open_since is None:
            raise NoOpenDispute("no dispute is open on this file")
        if credit_note is not None:
            self.apply_credit_note(stamp, amount=credit_note,
                                   issued_on=paris_day(stamp.occurred_at),
                                   reference=credit_reference or "avoir",
                                   reason=require_text(outcome, "outcome"))
        self._trigger(
            f.DisputeResolved,
            stamp,
            outcome=require_text(outcome, "outcome"),
            details=clean(details, "details"),
        )

    def agree_payment_plan(
        self,
        stamp: Stamp,
        *,
        instalments: Sequence[Instalment],
        signed: bool = False,
        contact: Contact | None = None,
    ) -> None:
        """Records a payment plan whose instalments add up to the outstanding balance."""
        if not instalments:
            raise InvalidPaymentPlan("a payment plan needs at least one instalment")
        checked = tuple(
            Instalment(i.due_on, self._money(Money(i.amount, self.case.currency)).amount)
            for i in instalments
        )
        dates = [i.due_on for i in checked]
        if dates != sorted(set(dates)):
            raise InvalidPaymentPlan("instalment dates must be distinct and in order")
        if dates[0] < paris_day(stamp.occurred_at):
            raise InvalidPaymentPlan("the first instalment is before the plan was agreed")
        total = sum((i.amount for i in checked), Decimal("0.00"))
        if total != self.case.outstanding:
            raise InvalidPaymentPlan(
                f"instalments total {total}, the outstanding balance is {self.case.outstanding}",
                total=str(total),
                outstanding=str(self.case.outstanding),
            )
        self._trigger(
            f.PaymentPlanAgreed, stamp, instalments=checked, signed=signed,
            contact=contact or Contact(),
        )

    def offer_discount(
        self, stamp: Stamp, *, discount: Money, pay_by: date, details: str = ""
    ) -> None:
        """Records an early-payment discount (escompte) offered if paid by a date."""
        money = self._money(discount)
        if money.amount >= self.case.outstanding:
            raise InvalidAmount(f"a discount of {money.amount} leaves nothing to pay")
        self._check_not_before(pay_by, stamp, "pay-by date")
        self._trigger(
            f.DiscountOffered,
            stamp,
            discount_amount=money.amount,
            currency=money.currency,
            pay_by=pay_by,
            details=clean(details, "details"),
        )

    def apply_credit_note(self, stamp: Stamp, *, amount: Money, issued_on: date,
                          reference: str, reason: str = "") -> None:
        """Records a credit note (avoir) that lowers what the invoice claims."""
        money = self._money(amount)
        if money.amount > self.case.outstanding:
            raise ExceedsOutstanding(
                f"a credit note of {money.amount} exceeds the outstanding "
                f"{self.case.outstanding}", amount=str(money.amount))
        self._trigger(
            f.CreditNoteApplied,
            stamp,
            reference=require_text(reference, "reference"),
            amount=money.amount,
            currency=money.currency,
            issued_on=issued_on,
            reason=clean(reason, "reason"),
        )

    def reschedule_due_date(self, stamp: Stamp, *, new_due_on: date, reason: str) -> None:
        """Records a new due date granted to the debtor."""
        if new_due_on < self.case.issued_on:
            raise InvalidInvoice(f"new due date {new_due_on} is before the issue date")
        self._trigger(
            f.DueDateRescheduled,
            stamp,
            new_due_on=new_due_on,
            reason=require_text(reason, "reason"),
        )

    # -- escalation and ending ----------------------------------------------------------

    def send_formal_notice(
        self, stamp: Stamp, *, registered_letter_number: str, deadline_on: date,
        details: str = "", scenario_step: str = "", document_sha256: str = "",
        recipient: str = "",
    ) -> None:
        """Records the formal notice (mise en demeure), its registered-letter number and
        whom it was addressed to (the debtor, to the attention of its billing contact, when
        not given)."""
        self._check_not_before(deadline_on, stamp, "deadline")
        case = self.case
        attention = case.billing_recipient.name
        self._trigger(
            f.FormalNoticeSent,
            stamp,
            recipient=clean(recipient, "recipient") or case.debtor.name
            + (f", à l'attention de {attention}" if attention else ""),
            registered_letter_number=require_text(
                registered_letter_number, "registered_letter_number"
            ),
            deadline_on=deadline_on,
            details=clean(details, "details"),
            scenario_step=clean(scenario_step, "scenario_step"),
            document_sha256=clean(document_sha256, "document_sha256"),
        )

    def receive_payment(
        self,
        stamp: Stamp,
        *,
        amount: Money,
        received_on: date,
        means: PaymentMeans,
        reference: str = "",
        overpayment: bool = False,
    ) -> None:
        """Records a payment; one larger than the balance must be flagged as overpayment."""
        money = self._money(amount)
        if received_on > paris_day(stamp.recorded_at):
            raise FutureBusinessTime(f"payment date {received_on} is in the future")
        if money.amount > self.case.outstanding and not overpayment:
            raise Overpayment(
                f"payment of {money.amount} exceeds the outstanding {self.case.outstanding}",
                amount=str(money.amount),
                outstanding=str(self.case.outstanding),
            )
        self._trigger(
            f.PaymentReceived,
            stamp,
            amount=money.amount,
            currency=money.currency,
            received_on=received_on,
            means=PaymentMeans(means).value,
            reference=clean(reference, "reference"),
            overpayment=overpayment,
        )
        self._grant_discount_earned(stamp)

    def _grant_discount_earned(self, stamp: Stamp) -> None:
        """An escompte settles the invoice once what came in by its date covers the
        discounted amount; paid later or short, the offer lapses."""
        case = self.case
        offer = case.discount_offer
        if offer is None or case.discount_granted or case.outstanding <= 0:
            return
        paid_in_time = sum((p.amount for p in case.payments if p.received_on <= offer.pay_by),
                           Decimal("0.00"))
        if case.claimed - paid_in_time > offer.amount:
            return
        self._trigger(
            f.DiscountGranted,
            stamp,
            discount_amount=case.outstanding,
            currency=case.currency,
            offer_version=offer.version,
            payment_version=self.version,
        )

    def hand_over(
        self, stamp: Stamp, *, to: HandoverTarget, recipient: str = "", reference: str = ""
    ) -> None:
        """Records the hand-over to a lawyer, a commissaire de justice or an agency."""
        self._trigger(
            f.HandedOver,
            stamp,
            to=HandoverTarget(to).value,
            recipient=clean(recipient, "recipient"),
            reference=clean(reference, "reference"),
        )

    def record_acknowledgment(self, stamp: Stamp, *, document: str) -> None:
        """Records the debtor's written acknowledgment of the debt (e.g. a signed letter)."""
        self._trigger(f.DebtAcknowledged, stamp, document=require_text(document, "document"))

    def write_off(self, stamp: Stamp, *, reason: str) -> None:
        """Records that the claim is abandoned as a loss."""
        self._trigger(f.WrittenOff, stamp, reason=require_text(reason, "reason"))

    def close(self, stamp: Stamp, *, reason: str) -> None:
        """Closes the file."""
        self._trigger(f.CaseClosed, stamp, reason=require_text(reason, "reason"))

    def reopen(self, stamp: Stamp, *, reason: str) -> None:
        """Opens a closed or written-off file again."""
        if not (self.case.closed or self.case.written_off):
            raise FileNotClosed("the file is not closed")
        self._trigger(f.CaseReopened, stamp, reason=require_text(reason, "reason"))

    # -- documents ----------------------------------------------------------------------

    def attach_document(self, stamp: Stamp, *, sha256: str, kind: str, filename: str,
                        media_type: str, size: int, note: str = "") -> None:
        """Attaches a document, named by the digest of its bytes (kept apart from the
        record); bytes already attached to the file are not attached again."""
        digest = documents.digest(sha256)
        if any(d.sha256 == digest for d in self.case.documents):
            return
        self._trigger(
            f.DocumentAttached,
            stamp,
            sha256=digest,
            document_kind=documents.attachment_kind(kind).value,
            filename=documents.filename(filename),
            media_type=one_line(require_text(media_type, "media_type"), "media_type"),
            size=documents.size(size),
            note=clean(note, "note"),
        )

    # -- what the debtor sends back -------------------------------------------------------

    def receive_reply(self, stamp: Stamp, *, mail: str, writer: Contact, subject: str,
                      text: str, answers: str, matched_by: ReplyMatch, mail_sha256: str,
                      attachments: Sequence[str] = ()) -> None:
        """Records the debtor's reply on the file; it waits for a person to handle it."""
        self._trigger(
            f.ReplyReceived, stamp, mail=require_text(mail, "mail"), writer=writer,
            subject=one_line(subject, "subject"), text=clean(text, "text"),
            answers=one_line(answers, "answers"), matched_by=ReplyMatch(matched_by).value,
            mail_sha256=documents.digest(mail_sha256), attachments=_digests(attachments))

    def handle_reply(self, stamp: Stamp, *, reply_version: int, outcome: ReplyOutcome,
                     details: str = "") -> None:
        """Records what came of a reply waiting on the file."""
        if reply_version not in self.case.replies_waiting:
            raise NoReplyWaiting(
                f"entry {reply_version} of file {self.case.number} is not a reply waiting",
                number=self.case.number, version=reply_version)
        answer = self._effective_entry(reply_version).kind
        fits = FITTING_OUTCOMES.get(answer)
        if fits is not None and ReplyOutcome(outcome) not in fits:
            raise UnfitOutcome(
                f"a {answer} is handled as {', '.join(fits)}, not {outcome}",
                outcome=str(outcome), answer=answer)
        self._trigger(f.ReplyHandled, stamp, reply_version=reply_version,
                      outcome=ReplyOutcome(outcome).value, details=clean(details, "details"))

    def request_plan(self, stamp: Stamp, *, instalments: Sequence[Instalment],
                     requested_by: Contact, details: str = "") -> None:
        """Records the instalments the debtor proposes; they wait for the owner."""
        plan = tuple(instalments)
        if not plan:
            raise InvalidPaymentPlan("a payment plan needs at least one instalment")
        days = [instalment.due_on for instalment in plan]
        if days != sorted(set(days)):
            raise InvalidPaymentPlan("instalment dates must be distinct and in order")
        for instalment in plan:
            self._check_not_before(instalment.due_on, stamp, "instalment")
            if instalment.amount <= 0:
                raise InvalidAmount(f"instalment of {instalment.amount}",
                                    amount=str(instalment.amount))
        self._trigger(f.PlanRequested, stamp, instalments=plan, requested_by=requested_by,
                      details=clean(details, "details"))

    def claim_payment(self, stamp: Stamp, *, paid_on: date, amount: Money,
                      means: PaymentMeans, reference_text: str, claimed_by: Contact,
                      proof_sha256: str = "") -> None:
        """Records a payment the debtor says it made: to check, the balance stays."""
        if paid_on > paris_day(stamp.occurred_at):
            raise FutureBusinessTime(f"payment date {paid_on} is in the future")
        money = self._money(amount)
        self._trigger(f.PaymentClaimed, stamp, paid_on=paid_on, amount=money.amount,
                      currency=money.currency, means=PaymentMeans(means).value,
                      reference=one_line(reference_text, "reference"),
                      proof_sha256=documents.digest(proof_sha256) if proof_sha256 else "",
                      claimed_by=claimed_by)

    def record_download(self, stamp: Stamp, *, document_sha256: str, link: str) -> None:
        """Records that the debtor downloaded the invoice's PDF from its page."""
        self._trigger(f.InvoiceDownloaded, stamp,
                      document_sha256=documents.digest(document_sha256), link=link)

    def receive_auto_reply(self, stamp: Stamp, *, mail: str, sender: str, subject: str,
                           text: str, mail_sha256: str) -> None:
        """Records an automatic answer (out of office...): no contact, nothing to handle."""
        self._trigger(
            f.AutoReplyReceived, stamp, mail=require_text(mail, "mail"),
            sender=one_line(sender, "sender"), subject=one_line(subject, "subject"),
            text=clean(text, "text"), mail_sha256=documents.digest(mail_sha256))

    def record_delivery_failure(self, stamp: Stamp, *, mail: str, recipient: str,
                                diagnostic: str, message_id: str, mail_sha256: str) -> None:
        """Records that our message to `recipient` came back undelivered."""
        self._trigger(
            f.DeliveryFailed, stamp, mail=require_text(mail, "mail"),
            recipient=one_line(recipient, "recipient"), diagnostic=clean(diagnostic, "diagnostic"),
            message_id=one_line(message_id, "message_id"),
            mail_sha256=documents.digest(mail_sha256))

    # -- team work ----------------------------------------------------------------------

    def add_note(self, stamp: Stamp, *, text: str) -> None:
        """Adds a free note."""
        self._trigger(f.NoteAdded, stamp, text=require_text(text, "text"))

    def assign(self, stamp: Stamp, *, agent: str) -> None:
        """Gives the file to an agent, as an exception to the debtor's owner; an empty
        agent puts it back with the debtor's owner."""
        self._trigger(f.AgentAssigned, stamp, agent=clean(agent or "", "agent"))

    def confirm_second_contact(self, stamp: Stamp, *, reason: str, earlier_actor: str,
                               earlier_at: datetime) -> None:
        """Records why a contact went ahead on a day the debtor had already been
        contacted."""
        self._trigger(f.SecondContactConfirmed, stamp, reason=require_text(reason, "reason"),
                      earlier_actor=earlier_actor, earlier_at=earlier_at)

    def schedule_callback(
        self, stamp: Stamp, *, callback_on: date, owner: str, reason: str = ""
    ) -> None:
        """Plans a call back to the debtor on a day, by someone."""
        self._check_not_before(callback_on, stamp, "callback")
        self._trigger(
            f.CallbackScheduled,
            stamp,
            callback_on=callback_on,
            owner=require_text(owner, "owner"),
            reason=clean(reason, "reason"),
        )

    # -- mistakes -----------------------------------------------------------------------

    def correct(
        self, stamp: Stamp, *, target_version: int, reason: str, changes: dict[str, Any]
    ) -> None:
        """Records the right values of an earlier fact; the original stays in the record."""
        target = self._correctable(target_version)
        check_changes(target, changes, stamp, self.case.currency)
        corrected = dict(self._entries)
        corrected[target_version] = target.corrected(changes, by=self.version + 1)
        check_outcome(corrected.values())
        self._trigger(
            f.FactCorrected,
            stamp,
            target_version=target_version,
            reason=require_text(reason, "reason"),
            changes=dict(changes),
        )

    def retract(self, stamp: Stamp, *, target_version: int, reason: str) -> None:
        """Records that an earlier fact should not have been recorded; it stays visible. A
        payment retracted takes with it the escompte it had earned."""
        target = self._correctable(target_version)
        if target.kind == "InvoiceRegistered":
            raise UncorrectableField("the registration cannot be retracted: close the file")
        earned = [e.version for e in self._entries.values() if e.kind == "DiscountGranted"
                  and e.is_effective and e.data["payment_version"] == target_version]
        for version in [target_version, *earned]:
            self._trigger(
                f.FactRetracted,
                stamp,
                target_version=version,
                reason=require_text(reason, "reason"),
            )

    # -- reading ------------------------------------------------------------------------

    @property
    def case(self) -> Case:
        """The file's current shape, folded from its facts."""
        if self._case is None:
            self._case = Case.of(self._entries.values())
        return self._case

    @property
    def entries(self) -> list[Entry]:
        """Every fact of the file in order, with its corrections and retractions."""
        return list(self._entries.values())

    def ever_had(self, kind: str) -> bool:
        """Whether a fact of this kind was ever recorded on the file, even if retracted
        since (without going through its facts: a file may hold hundreds)."""
        return kind in self._kinds

    def entry(self, version: int) -> Entry:
        """The fact of that version, with its corrections and retractions so far."""
        return self._entries[version]

    @property
    def head_hash(self) -> str:
        """Digest of the last fact: it summarises the whole history of the file."""
        return self._head

    def __deepcopy__(self, memo: dict[int, Any]) -> Invoice:
        # The repository hands out copies of cached files. Entries are immutable, so a
        # fresh dict of them is a safe copy, and hundreds of times cheaper than deepcopy.
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._entries = dict(self._entries)
        clone._kinds = set(self._kinds)
        clone._pending_events = list(self._pending_events)
        return clone

    def take_in(self, fact: f.Fact) -> None:
        """Changes state for a fact (when triggered and on every replay): no rule here."""
        version = fact.originator_version
        self._entries[version] = Entry(
            version=version,
            kind=fact.kind,
            occurred_at=fact.occurred_at,
            recorded_at=fact.timestamp,
            actor=fact.actor,
            data=fact.data(),
            digest=fact.digest,  # type: ignore[attr-defined]
        )
        self._kinds.add(fact.kind)
        if isinstance(fact, f.FactCorrected):
            target = self._entries[fact.target_version]
            self._entries[fact.target_version] = target.corrected(fact.changes, by=version)
        elif isinstance(fact, f.FactRetracted):
            target = self._entries[fact.target_version]
            self._entries[fact.target_version] = target.retracted(by=version)
        self._head = fact.digest  # type: ignore[attr-defined]
        if isinstance(fact, f.FactCorrected | f.FactRetracted) or self._case is None:
            self._case = None  # an earlier fact changed: fold again when asked
        else:
            self._case = self._case.after(self._entries[version])

    # -- shared checks ------------------------------------------------------------------

    def _trigger(self, kind: type[f.Fact], stamp: Stamp, **data: Any) -> None:
        if not issubclass(kind, f.ALLOWED_WHEN_CLOSED) and self.case.is_closed:
            raise FileClosed(
                f"file {self.case.number} is closed: reopen it first", number=self.case.number
            )
        self.trigger_event(
            kind,
            timestamp=stamp.recorded_at,
            actor=stamp.actor,
            occurred_at=stamp.occurred_at,
            prev_hash=self._head,
            **{name: sealed(value, self.case.debtor.account, name)
               for name, value in data.items()},
        )

    def _money(self, money: Money) -> Money:
        return money.require_positive().require_currency(self.case.currency)

    @staticmethod
    def _check_not_before(day: date | None, stamp: Stamp, what: str) -> None:
        if day is not None and day < paris_day(stamp.occurred_at):
            raise CallbackInThePast(
                f"{what} {day} is before {paris_day(stamp.occurred_at)}", day=day.isoformat()
            )

    def _effective_entry(self, version: int, kind: str | None = None) -> Entry:
        entry = self._entries.get(version)
        if entry is None or (kind is not None and entry.kind != kind):
            raise UnknownFact(f"fact {version} is not a {kind or 'fact'} of this file",
                              version=version)
        if entry.retracted_by is not None:
            raise FactAlreadyRetracted(f"fact {version} was retracted", version=version)
        return entry

    def _correctable(self, version: int) -> Entry:
        entry = self._effective_entry(version)
        if entry.kind in ("FactCorrected", "FactRetracted"):
            raise UncorrectableField(
                f"fact {version} is itself a correction: correct the original fact again"
            )
        return entry


def sealed(value: Any, account: str, name: str = "") -> Any:
    """A value put in a fact (as its field `name`), with the people it names sealed under
    their keys (domain/sealing.py): a contact, a consumer's name, what people wrote in
    their own words (under the debtor's subject), or those among a correction's values."""
    if name == "recipient" and type(value) is str and value:  # an address or a name: theirs
        return sealed_text(value, subject_of(account, value))
    if name in FREE_TEXT and type(value) is str and value:
        return sealed_text(value, debtor_subject(account))
    if isinstance(value, Contact):
        return value.sealed_for(subject_of(account, value.name or value.email or value.phone))
    if isinstance(value, Debtor):
        return value.sealed_for(subject_of(account, value.name))
    if isinstance(value, dict) and any(isinstance(v, Contact) or k in FREE_TEXT
                                       for k, v in value.items()):
        return {k: sealed(v, account, k) for k, v in value.items()}
    return value
