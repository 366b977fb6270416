"""The facts of a case file: one event class per thing that happens in amicable collection.

This module is a storage contract. Class names, fields and module path are written into
the event store; once on main, change them only with `class_version` and an
`upcast_vN_vN+1` static method, and never remove a class.

Every fact carries who recorded it (`actor`), when it happened (`occurred_at`, business
time), when it was recorded (`timestamp`), and `prev_hash`, the digest of the file's
previous fact. Its own `digest` is computed on creation (see `domain.chain`), over the
canonical JSON the fact is stored as (`domain/stored.py`).
Contacts made because the scenario said so carry `scenario_step` (scenario, version
and step), so that an auditor sees why a letter went out on a given day.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, AggregateCreated
from eventsourcing.utils import get_topic

from domain.chain import body_digest, canonical_json, canonical_state
from domain.values import Contact, Debtor, Instalment

if TYPE_CHECKING:
    from domain.invoice import Invoice

BASE_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor",
        "occurred_at",
        "prev_hash",
        "digest",
        "_body",
    }
)


_last_data: tuple[object, dict[str, Any]] = (None, {})
"""The fact whose fields `Fact.data` gave last, and those fields."""


class Fact(Aggregate.Event):
    """Base of every fact recorded on an invoice's file."""

    actor: str
    occurred_at: datetime
    prev_hash: str

    def __post_init__(self) -> None:
        """Encodes the fact once, as canonical JSON (kept as `_body`, which the mapper
        stores as it is: `domain/stored.py`), and takes its digest over that encoding."""
        super().__post_init__()
        cls = type(self)
        body = self.canonical_body()
        digest = body_digest(get_topic(cls), self.originator_id, self.originator_version,
                             getattr(cls, "class_version", 1), body)
        object.__setattr__(self, "digest", digest)
        self.__dict__["_body"] = body

    def canonical_body(self) -> bytes:
        """The canonical JSON of the fact's state, which its digest covers."""
        return canonical_json(canonical_state(vars(self)))

    @property
    def kind(self) -> str:
        """The fact's name, as stored (e.g. 'CallLogged')."""
        return type(self).__name__

    def data(self) -> dict[str, Any]:
        """The fact's own fields, without the ones every fact has (a new dict each time).

        The projections each ask it of the fact they apply, one after the other: the last
        fact's fields are kept, and copied for the next to ask."""
        global _last_data  # one slot, replaced whole: atomic under the GIL
        last = _last_data
        if last[0] is self:
            return dict(last[1])
        data = {k: v for k, v in vars(self).items() if k not in BASE_FIELDS}
        _last_data = (self, data)
        return dict(data)

    def apply(self, aggregate: Invoice) -> None:  # type: ignore[override]
        aggregate.take_in(self)


class InvoiceRegistered(Fact, AggregateCreated):
    """The unpaid invoice gets its file."""

    number: str
    debtor: Debtor
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date
    po_reference: str
    billing_recipient: Contact
    penalty_rate: Decimal | None
    """A late-payment rate agreed in the contract (percent per year), if any."""


class PreDueReminderSent(Fact):
    """Relance préventive: a commercial contact a few days before the due date.

    Version 2 records its recipient (the address it went to); a first-version fact gets
    an empty one: what it does not say is not made up. Version 3 names the documents
    attached to the message by their digests (none before)."""

    class_version = 3

    channel: str
    contact: Contact
    summary: str
    expected_means: str
    scenario_step: str
    message_id: str
    document_sha256: str
    recipient: str
    attachments: tuple[str, ...]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["recipient"] = ""

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["attachments"] = ()


class ReminderSent(Fact):
    """A reminder (relance) went out by email, letter or SMS, at an escalation level.

    Version 2 names the documents attached to the message by their digests (none
    before)."""

    class_version = 2

    channel: str
    level: int
    recipient: str
    summary: str
    message_id: str
    scenario_step: str
    document_sha256: str
    attachments: tuple[str, ...]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["attachments"] = ()


class CallLogged(Fact):
    """A phone call: who was reached, how it went, what was said, when to call back.

    `action_id` is shared by the copies of one call recorded on several invoices.
    """

    contact: Contact
    outcome: str
    summary: str
    callback_on: date | None
    action_id: str
    invoice_numbers: tuple[str, ...]
    scenario_step: str


class PaymentPromised(Fact):
    """A named contact promised to pay an amount by a date.

    `contact_version` points at the call or contact fact the promise came from.
    """

    promised_on: date
    amount: Decimal
    currency: str
    promised_by: Contact
    means: str
    contact_version: int | None


class DocumentSent(Fact):
    """A document other than a reminder went out (call confirmation, duplicate cover
    letter, payment-plan confirmation), with its proof of sending and its digest.

    Version 2 names the documents attached to the message by their digests (the invoice
    sent with a duplicate's cover letter); a first-version fact gets none."""

    class_version = 2

    template: str
    channel: str
    recipient: str
    subject: str
    message_id: str
    document_sha256: str
    attachments: tuple[str, ...]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["attachments"] = ()


class SendingFailed(Fact):
    """A document could not be sent: nothing went out, and the error is kept."""

    template: str
    channel: str
    recipient: str
    error: str


class DuplicateRequested(Fact):
    """The debtor asks for a duplicate of the invoice (never received, wrong recipient...)."""

    reason: str
    details: str
    requested_by: Contact


class DuplicateSent(Fact):
    """The duplicate went out, with the fix it needed."""

    channel: str
    recipient: str
    correction: str
    request_version: int | None


class DisputeRaised(Fact):
    """Litige: the debtor contests the invoice; collection pauses."""

    reason: str
    details: str
    disputed_amount: Decimal | None


class DisputeResolved(Fact):
    """The dispute is settled; collection may resume."""

    outcome: str
    details: str


class PaymentPlanAgreed(Fact):
    """Échelonnement: the balance is to be paid in dated instalments."""

    instalments: tuple[Instalment, ...]
    signed: bool
    contact: Contact


class DiscountOffered(Fact):
    """Escompte: a discount offered for paying early."""

    discount_amount: Decimal
    currency: str
    pay_by: date
    details: str


class DiscountGranted(Fact):
    """Escompte accordé: the discounted amount came in within the offer, so the discount
    settles the rest of the invoice. Recorded by relance with the payment that earned it."""

    discount_amount: Decimal
    currency: str
    offer_version: int
    payment_version: int


class CreditNoteApplied(Fact):
    """Avoir: a credit note lowers what the invoice claims; it corrects the invoice itself,
    so penalties never ran on the amount it credits."""

    reference: str
    amount: Decimal
    currency: str
    issued_on: date
    reason: str


class DueDateRescheduled(Fact):
    """A new due date was granted."""

    new_due_on: date
    reason: str


class FormalNoticeSent(Fact):
    """Mise en demeure sent by registered letter with acknowledgement of receipt.

    Version 2 records its recipient (who and where it was addressed to); a first-version
    fact gets an empty one."""

    class_version = 2

    registered_letter_number: str
    deadline_on: date
    details: str
    scenario_step: str
    document_sha256: str
    recipient: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["recipient"] = ""


class PaymentReceived(Fact):
    """A payment came in, full or partial; an overpayment is flagged explicitly."""

    amount: Decimal
    currency: str
    received_on: date
    means: str
    reference: str
    overpayment: bool


class HandedOver(Fact):
    """The file went to a lawyer, a commissaire de justice or a collection agency."""

    to: str
    recipient: str
    reference: str


class DebtAcknowledged(Fact):
    """The debtor acknowledged the debt in writing (interrupts prescription, Code civil 2240)."""

    document: str


class WrittenOff(Fact):
    """The claim is abandoned as a loss (passage en perte)."""

    reason: str


class CaseClosed(Fact):
    """The file is closed."""

    reason: str


class CaseReopened(Fact):
    """A closed file is opened again."""

    reason: str


class DocumentAttached(Fact):
    """A document joined the file: its bytes are kept apart, named here by their SHA-256
    (`domain.attachments`), with its kind, name, media type, size and a note. (Its kind is
    `document_kind`: every fact's `kind` is its class name.)"""

    sha256: str
    document_kind: str
    filename: str
    media_type: str
    size: int
    note: str


class NoteAdded(Fact):
    """A free note on the file."""

    text: str


class AgentAssigned(Fact):
    """The file is now worked by this agent, as an exception to the debtor's owner; an
    empty agent puts it back with the debtor's owner."""

    agent: str


class SecondContactConfirmed(Fact):
    """The debtor had already been contacted that day, and this contact went ahead anyway,
    for the reason given (the same-day rule). Recorded with the contact, on each file it
    is about."""

    reason: str
    earlier_actor: str
    earlier_at: datetime


class CallbackScheduled(Fact):
    """Somebody is to call the debtor back on a day."""

    callback_on: date
    owner: str
    reason: str


class ReplyReceived(Fact):
    """Réponse du débiteur: an e-mail from the debtor, on each file the message it answers
    covered (or, matched by its sender, each open file of the debtor). Who wrote, the
    subject, the text without the quoted history, the message it answers and how it was
    matched (`thread`, `token`, `sender`, or `person` when somebody attached it); the raw
    message is kept apart, named by its SHA-256 (`mail_sha256`), like a document. It waits
    for a person (`ReplyHandled`), and the daily run leaves the debtor alone meanwhile."""

    mail: str
    """The incoming message's record (`domain.mail`), as a hex id."""
    writer: Contact
    subject: str
    text: str
    answers: str
    matched_by: str
    mail_sha256: str
    attachments: tuple[str, ...]


class ReplyHandled(Fact):
    """A person dealt with a reply of the debtor: what came of it (a promise, a dispute, a
    duplicate requested, nothing to do), recorded on the file as such."""

    reply_version: int
    outcome: str
    details: str


class AutoReplyReceived(Fact):
    """An automatic answer to our message (out of office, a delayed-delivery notice): kept
    on the file, but neither a contact nor a reply to handle."""

    mail: str
    sender: str
    subject: str
    text: str
    mail_sha256: str


class DeliveryFailed(Fact):
    """Non distribué: the mail server of the debtor returned our message (a delivery
    status notification): the address failed, with the server's diagnostic. The message
    the file says was sent never arrived."""

    mail: str
    recipient: str
    diagnostic: str
    message_id: str
    mail_sha256: str


class PlanRequested(Fact):
    """Demande d'échéancier: the debtor proposes dated instalments (on its page). The owner
    accepts (a `PaymentPlanAgreed` follows) or refuses; either way it is handled like a
    reply (`ReplyHandled`)."""

    instalments: tuple[Instalment, ...]
    requested_by: Contact
    details: str


class PaymentClaimed(Fact):
    """Paiement annoncé: the debtor says it paid (when, how much, how, its reference),
    with its proof kept apart like a document (`proof_sha256`, empty without one). A
    payment to check, not a payment: the balance does not change until it is received."""

    paid_on: date
    amount: Decimal
    currency: str
    means: str
    reference: str
    proof_sha256: str
    claimed_by: Contact


class InvoiceDownloaded(Fact):
    """Duplicata consulté: the debtor downloaded the invoice's PDF from its page, through
    the link named (`link`, its record's id), and got the bytes named by
    `document_sha256`."""

    document_sha256: str
    link: str


class FactCorrected(Fact):
    """An earlier fact was wrong: these are its right values. The original stays."""

    target_version: int
    reason: str
    changes: dict[str, Any]


class FactRetracted(Fact):
    """An earlier fact should not have been recorded. The original stays."""

    target_version: int
    reason: str


ALLOWED_WHEN_CLOSED = (CaseReopened, NoteAdded, FactCorrected, FactRetracted, SendingFailed,
                       DocumentAttached, ReplyReceived, ReplyHandled, AutoReplyReceived,
                       DeliveryFailed, InvoiceDownloaded)

