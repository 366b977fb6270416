"""The application service: one short method per thing an agent does on the files.

Each command names the files it concerns, the aggregate decides, and the engine
(`domain.engine`) saves, retries on a conflict and answers an idempotency key once.
The team's settings (`domain.team`), the register of exports (`domain.exports`) and the
bulk opening of files (`domain.batches`) are commands of the same service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from domain.batches import BatchCommands
from domain.debtor_book import DebtorBook
from domain.engine import Recorded, as_list
from domain.errors import AlreadyRegistered
from domain.exports import ExportRegister
from domain.invoice import Invoice, invoice_id
from domain.mail import MailCommands
from domain.portal import PortalCommands
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
    Stamp,
)

__all__ = ["CaseFiles", "Recorded"]


class CaseFiles(DebtorBook, ExportRegister, BatchCommands, MailCommands, PortalCommands):
    """The files of unpaid invoices, and every command recorded on them."""

    name = "CaseFiles"

    # -- commands -----------------------------------------------------------------------

    def register_invoice(
        self,
        actor: str,
        *,
        number: str,
        debtor: Debtor,
        amount: Money,
        issued_on: date,
        due_on: date,
        po_reference: str = "",
        billing_recipient: Contact | None = None,
        penalty_rate: Decimal | None = None,
        occurred_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Recorded:
        """Opens the file of an invoice; the same number twice is refused."""
        args = dict(number=number, debtor=debtor, amount=amount, issued_on=issued_on,
                    due_on=due_on, po_reference=po_reference,
                    billing_recipient=billing_recipient, penalty_rate=penalty_rate)

        def decide(stamp: Stamp) -> list[Invoice]:
            if invoice_id(number) in self.repository:
                raise AlreadyRegistered(f"invoice {number} is already registered", number=number)
            return [Invoice.register(stamp, **args)]

        recorded = self._execute("register_invoice", actor, occurred_at, idempotency_key,
                                 {**args, "occurred_at": occurred_at}, decide)
        if not recorded.replayed:
            self.give_owners(actor, {debtor.account: (amount.amount, "")})
        return recorded

    def remind_before_due(self, actor: str, numbers: str | Sequence[str], *,
                          channel: Channel, summary: str, contact: Contact | None = None,
                          expected_means: PaymentMeans | None = None,
                          scenario_step: str = "", message_id: str = "",
                          document_sha256: str = "", recipient: str = "",
                          occurred_at: datetime | None = None,
                          idempotency_key: str | None = None,
                          same_day_reason: str = "",
                          attachments: Sequence[str] = ()) -> Recorded:
        """Records a pre-due reminder on one or several files of a debtor (with the
        digests of the documents attached to it, if any)."""
        args = dict(channel=channel, summary=summary, contact=contact,
                    expected_means=expected_means, scenario_step=scenario_step,
                    message_id=message_id, document_sha256=document_sha256,
                    recipient=recipient, **_attaching(attachments))
        return self._act("remind_before_due", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.remind_before_due(s, **args),
                         same_day_reason)

    def send_reminder(self, actor: str, numbers: str | Sequence[str], *, channel: Channel,
                      level: int, recipient: str = "", summary: str = "", message_id: str = "",
                      scenario_step: str = "", document_sha256: str = "",
                      occurred_at: datetime | None = None,
                      idempotency_key: str | None = None,
                      same_day_reason: str = "",
                      attachments: Sequence[str] = ()) -> Recorded:
        """Records a reminder sent on one or several files of a debtor (with the digests of
        the documents attached to it, if any)."""
        args = dict(channel=channel, level=level, recipient=recipient, summary=summary,
                    message_id=message_id, scenario_step=scenario_step,
                    document_sha256=document_sha256, **_attaching(attachments))
        return self._act("send_reminder", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.send_reminder(s, **args), same_day_reason)

    def log_call(self, actor: str, numbers: str | Sequence[str], *, contact: Contact,
                 outcome: CallOutcome, summary: str = "", callback_on: date | None = None,
                 scenario_step: str = "", promised_on: date | None = None,
                 promised_amount: Money | None = None, occurred_at: datetime | None = None,
                 idempotency_key: str | None = None, same_day_reason: str = "") -> Recorded:
        """Records one call, about one or several invoices of the same debtor; a promise
        made during the call is recorded with it, atomically, on each invoice. A second
        contact with the debtor that day needs `same_day_reason` (`SameDayContact`)."""
        args = dict(contact=contact, outcome=outcome, summary=summary, callback_on=callback_on,
                    scenario_step=scenario_step)
        listed = as_list(numbers)
        action_id = uuid4().hex

        def act(invoice: Invoice, stamp: Stamp) -> None:
            invoice.log_call(stamp, **args, action_id=action_id, invoice_numbers=listed)
            if promised_on is not None:
                invoice.promise_payment(stamp, promised_on=promised_on, promised_by=contact,
                                        amount=promised_amount if len(listed) == 1 else None,
                                        contact_version=invoice.version)

        return self._act("log_call", actor, listed, occurred_at, idempotency_key,
                         {**args, "promised_on": promised_on,
                          "promised_amount": promised_amount}, act, same_day_reason)

    def promise_payment(self, actor: str, number: str, *, promised_on: date,
                        promised_by: Contact, amount: Money | None = None,
                        means: PaymentMeans | None = None, contact_version: int | None = None,
                        occurred_at: datetime | None = None,
                        idempotency_key: str | None = None) -> Recorded:
        """Records a payment promise on a file."""
        args = dict(promised_on=promised_on, promised_by=promised_by, amount=amount,
                    means=means, contact_version=contact_version)
        return self._act("promise_payment", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.promise_payment(s, **args))

    def send_document(self, actor: str, numbers: str | Sequence[str], *, template: str,
                      channel: Channel, recipient: str, subject: str, message_id: str = "",
                      document_sha256: str = "", occurred_at: datetime | None = None,
                      idempotency_key: str | None = None,
                      attachments: Sequence[str] = ()) -> Recorded:
        """Records a document sent on one or several files (not a reminder), with the
        digests of the documents attached to it, if any."""
        args = dict(template=template, channel=channel, recipient=recipient, subject=subject,
                    message_id=message_id, document_sha256=document_sha256,
                    **_attaching(attachments))
        return self._act("send_document", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.send_document(s, **args))

    def record_sending_failure(self, actor: str, numbers: str | Sequence[str], *,
                               template: str, channel: Channel, recipient: str, error: str,
                               occurred_at: datetime | None = None) -> Recorded:
        """Records that a document could not be sent."""
        args = dict(template=template, channel=channel, recipient=recipient, error=error)
        return self._act("record_sending_failure", actor, numbers, occurred_at, None, args,
                         lambda inv, s: inv.record_sending_failure(s, **args))

    def request_duplicate(self, actor: str, numbers: str | Sequence[str], *,
                          reason: DuplicateReason, details: str = "",
                          requested_by: Contact | None = None,
                          occurred_at: datetime | None = None,
                          idempotency_key: str | None = None) -> Recorded:
        """Records a request for a duplicate invoice."""
        args = dict(reason=reason, details=details, requested_by=requested_by)
        return self._act("request_duplicate", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.request_duplicate(s, **args))

    def send_duplicate(self, actor: str, number: str, *, channel: Channel, recipient: str,
                       correction: str = "", request_version: int | None = None,
                       occurred_at: datetime | None = None,
                       idempotency_key: str | None = None) -> Recorded:
        """Records that a duplicate invoice went out."""
        args = dict(channel=channel, recipient=recipient, correction=correction,
                    request_version=request_version)
        return self._act("send_duplicate", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.send_duplicate(s, **args))

    def raise_dispute(self, actor: str, number: str, *, reason: str, details: str = "",
                      disputed_amount: Money | None = None,
                      occurred_at: datetime | None = None,
                      idempotency_key: str | None = None) -> Recorded:
        """Records a dispute on a file."""
        args = dict(reason=reason, details=details, disputed_amount=disputed_amount)
        return self._act("raise_dispute", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.raise_dispute(s, **args))

    def resolve_dispute(self, actor: str, number: str, *, outcome: str, details: str = "",
                        credit_note: Money | None = None, credit_reference: str = "",
                        occurred_at: datetime | None = None,
                        idempotency_key: str | None = None) -> Recorded:
        """Records the end of a file's dispute, with the credit note that settled it if any."""
        args = dict(outcome=outcome, details=details, credit_note=credit_note,
                    credit_reference=credit_reference)
        return self._act("resolve_dispute", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.resolve_dispute(s, **args))

    def agree_payment_plan(self, actor: str, number: str, *,
                           instalments: Sequence[Instalment], signed: bool = False,
                           contact: Contact | None = None, occurred_at: datetime | None = None,
                           idempotency_key: str | None = None) -> Recorded:
        """Records a payment plan on a file."""
        args = dict(instalments=tuple(instalments), signed=signed, contact=contact)
        return self._act("agree_payment_plan", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.agree_payment_plan(s, **args))

    def offer_discount(self, actor: str, number: str, *, discount: Money, pay_by: date,
                       details: str = "", occurred_at: datetime | None = None,
                       idempotency_key: str | None = None) -> Recorded:
        """Records an early-payment discount offered on a file."""
        args = dict(discount=discount, pay_by=pay_by, details=details)
        return self._act("offer_discount", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.offer_discount(s, **args))

    def apply_credit_note(self, actor: str, number: str, *, amount: Money, issued_on: date,
                          reference: str, reason: str = "",
                          occurred_at: datetime | None = None,
                          idempotency_key: str | None = None) -> Recorded:
        """Records a credit note (avoir) on a file."""
        args = dict(amount=amount, issued_on=issued_on, reference=reference, reason=reason)
        return self._act("apply_credit_note", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.apply_credit_note(s, **args))

    def reschedule_due_date(self, actor: str, number: str, *, new_due_on: date, reason: str,
                            occurred_at: datetime | None = None,
                            idempotency_key: str | None = None) -> Recorded:
        """Records a new due date on a file."""
        args = dict(new_due_on=new_due_on, reason=reason)
        return self._act("reschedule_due_date", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.reschedule_due_date(s, **args))

    def send_formal_notice(self, actor: str, numbers: str | Sequence[str], *,
                           registered_letter_number: str, deadline_on: date,
                           details: str = "", scenario_step: str = "",
                           document_sha256: str = "", recipient: str = "",
                           occurred_at: datetime | None = None,
                           idempotency_key: str | None = None,
                           same_day_reason: str = "") -> Recorded:
        """Records a formal notice covering one or several files of a debtor."""
        args = dict(registered_letter_number=registered_letter_number,
                    deadline_on=deadline_on, details=details, scenario_step=scenario_step,
                    document_sha256=document_sha256, recipient=recipient)
        return self._act("send_formal_notice", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.send_formal_notice(s, **args),
                         same_day_reason)

    def receive_payment(self, actor: str, number: str, *, amount: Money, received_on: date,
                        means: PaymentMeans, reference: str = "", overpayment: bool = False,
                        occurred_at: datetime | None = None,
                        idempotency_key: str | None = None) -> Recorded:
        """Records a payment on a file."""
        args = dict(amount=amount, received_on=received_on, means=means, reference=reference,
                    overpayment=overpayment)
        return self._act("receive_payment", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.receive_payment(s, **args))

    def hand_over(self, actor: str, numbers: str | Sequence[str], *, to: HandoverTarget,
                  recipient: str = "", reference: str = "", occurred_at: datetime | None = None,
                  idempotency_key: str | None = None) -> Recorded:
        """Records the hand-over of one or several files."""
        args = dict(to=to, recipient=recipient, reference=reference)
        return self._act("hand_over", actor, numbers, occurred_at, idempotency_key, args,
                         lambda inv, s: inv.hand_over(s, **args))

    def record_acknowledgment(self, actor: str, number: str, *, document: str,
                              occurred_at: datetime | None = None,
                              idempotency_key: str | None = None) -> Recorded:
        """Records a written acknowledgment of the debt by the debtor."""
        return self._act("record_acknowledgment", actor, number, occurred_at, idempotency_key,
                         {"document": document},
                         lambda inv, s: inv.record_acknowledgment(s, document=document))

    def write_off(self, actor: str, number: str, *, reason: str,
                  occurred_at: datetime | None = None,
                  idempotency_key: str | None = None) -> Recorded:
        """Records the write-off of a file."""
        return self._act("write_off", actor, number, occurred_at, idempotency_key,
                         {"reason": reason}, lambda inv, s: inv.write_off(s, reason=reason))

    def close_file(self, actor: str, number: str, *, reason: str,
                   occurred_at: datetime | None = None,
                   idempotency_key: str | None = None) -> Recorded:
        """Closes a file."""
        return self._act("close_file", actor, number, occurred_at, idempotency_key,
                         {"reason": reason}, lambda inv, s: inv.close(s, reason=reason))

    def reopen_file(self, actor: str, number: str, *, reason: str,
                    occurred_at: datetime | None = None,
                    idempotency_key: str | None = None) -> Recorded:
        """Reopens a closed file."""
        return self._act("reopen_file", actor, number, occurred_at, idempotency_key,
                         {"reason": reason}, lambda inv, s: inv.reopen(s, reason=reason))

    def attach_document(self, actor: str, number: str, *, sha256: str, kind: str,
                        filename: str, media_type: str, size: int, note: str = "",
                        occurred_at: datetime | None = None,
                        idempotency_key: str | None = None) -> Recorded:
        """Attaches a document to a file by the digest of its bytes (stored apart); bytes
        already on the file record nothing."""
        args = dict(sha256=sha256, kind=str(kind), filename=filename, media_type=media_type,
                    size=size, note=note)
        return self._act("attach_document", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.attach_document(s, **args))

    def add_note(self, actor: str, numbers: str | Sequence[str], *, text: str,
                 occurred_at: datetime | None = None,
                 idempotency_key: str | None = None) -> Recorded:
        """Adds a note to one or several files."""
        return self._act("add_note", actor, numbers, occurred_at, idempotency_key,
                         {"text": text}, lambda inv, s: inv.add_note(s, text=text))

    def assign(self, actor: str, numbers: str | Sequence[str], *, agent: str,
               occurred_at: datetime | None = None,
               idempotency_key: str | None = None) -> Recorded:
        """Gives one or several files to an agent."""
        return self._act("assign", actor, numbers, occurred_at, idempotency_key,
                         {"agent": agent}, lambda inv, s: inv.assign(s, agent=agent))

    def schedule_callback(self, actor: str, number: str, *, callback_on: date, owner: str,
                          reason: str = "", occurred_at: datetime | None = None,
                          idempotency_key: str | None = None) -> Recorded:
        """Plans a callback on a file."""
        args = dict(callback_on=callback_on, owner=owner, reason=reason)
        return self._act("schedule_callback", actor, number, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.schedule_callback(s, **args))

    def correct(self, actor: str, number: str, *, target_version: int, reason: str,
                changes: dict[str, Any], occurred_at: datetime | None = None,
                idempotency_key: str | None = None) -> Recorded:
        """Records the right values of an earlier fact of a file."""
        args = dict(target_version=target_version, reason=reason, changes=dict(changes))
        return self._act("correct", actor, number, occurred_at, idempotency_key, args,
                         lambda inv, s: inv.correct(s, **args))

    def retract(self, actor: str, number: str, *, target_version: int, reason: str,
                occurred_at: datetime | None = None,
                idempotency_key: str | None = None) -> Recorded:
        """Records that an earlier fact of a file should not have been recorded."""
        args = dict(target_version=target_version, reason=reason)
        return self._act("retract", actor, number, occurred_at, idempotency_key, args,
                         lambda inv, s: inv.retract(s, **args))


def _attaching(attachments: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The `attachments` argument, only when there are some: a command without any keeps
    the fingerprint it always had (an idempotency key sent again still matches)."""
    return {"attachments": tuple(attachments)} if attachments else {}
