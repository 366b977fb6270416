"""What a file says, derived from its facts: balance, promises, plan, status on a day.

`Entry` is a fact as it stands after later corrections and retractions; `Case.of(entries)`
folds the entries into the file's current shape. Nothing here is stored: the facts are
the only truth, and the same fold serves the aggregate, the projections and the
"as it stood" views.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain import kinds
from domain.values import (
    PORTAL_ACTOR,
    Contact,
    Debtor,
    Instalment,
    Status,
    paris_day,
    unchecked_copy,
)

ZERO = Decimal("0.00")
TOUCHES = {kind.name: kind.touch for kind in kinds.KINDS if kind.touch is not None}
ANSWERS_TO_HANDLE = frozenset({"ReplyReceived", "PlanRequested", "PaymentClaimed"})
"""What the debtor said that waits for a person (« réponse à traiter ») until handled
(`ReplyHandled`): a reply by e-mail, instalments asked for, a payment it says it made."""
PORTAL_ANSWERS = frozenset({"PaymentPromised", "DisputeRaised", "DuplicateRequested"})
"""Facts that wait for a person too when the debtor recorded them on its page."""


def waits_for_a_person(kind: str, actor: str) -> bool:
    """True for what the debtor said that waits for a person (`Case.replies_waiting`)."""
    return kind in ANSWERS_TO_HANDLE or (actor == PORTAL_ACTOR and kind in PORTAL_ANSWERS)
STEP_FACTS = frozenset({"PreDueReminderSent", "ReminderSent", "CallLogged", "FormalNoticeSent"})
"""Facts that make a step of a scenario (see `domain.due`)."""
"""How each contact with the debtor is made, by fact kind (declared in `domain.kinds`)."""


def _touch(entry: Entry, how: kinds.Touch) -> Touch:
    """The contact with the debtor a fact makes."""
    contact = entry.data.get(how.person) if how.person else None
    channel = entry.data.get("channel") or how.channel or ""
    return Touch(entry.occurred_at, entry.actor, channel, entry.data.get("outcome", ""),
                 contact if contact is not None and not contact.is_empty() else None)


def _with(case: Case, **changes: Any) -> Case:
    """`dataclasses.replace` for a Case, without running `__init__` again (it checks
    nothing): replaying a file makes one new Case per fact, and this is 5x cheaper."""
    assert changes.keys() <= Case.__dataclass_fields__.keys(), changes.keys()
    return unchecked_copy(case, **changes)


@dataclass(frozen=True)
class Entry:
    """One fact of a file as it stands now: its latest corrected values, or retracted."""

    version: int
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    data: dict[str, Any]
    digest: str
    retracted_by: int | None = None
    corrected_by: tuple[int, ...] = ()

    @property
    def is_effective(self) -> bool:
        """True unless retracted; corrections and retractions are never effective facts."""
        return self.retracted_by is None and self.kind not in ("FactCorrected", "FactRetracted")

    def corrected(self, changes: dict[str, Any], by: int) -> Entry:
        """This entry with the corrected values, remembering which fact corrected it."""
        occurred_at = changes.get("occurred_at", self.occurred_at)
        data = {**self.data, **{k: v for k, v in changes.items() if k != "occurred_at"}}
        return replace(
            self, occurred_at=occurred_at, data=data, corrected_by=(*self.corrected_by, by)
        )

    def retracted(self, by: int) -> Entry:
        """This entry, marked as retracted by the given fact."""
        return replace(self, retracted_by=by)


@dataclass(frozen=True)
class Payment:
    """Money received on the file."""

    received_on: date
    amount: Decimal
    version: int


@dataclass(frozen=True)
class Offer:
    """An early-payment discount (escompte) offered: how much, if paid by when."""

    version: int
    amount: Decimal
    pay_by: date


@dataclass(frozen=True)
class CreditNote:
    """A credit note (avoir) applied to the invoice."""

    version: int
    reference: str
    amount: Decimal
    issued_on: date


@dataclass(frozen=True)
class Promise:
    """A payment promise: who, what amount, by when, made when."""

    version: int
    made_at: datetime
    promised_on: date
    amount: Decimal
    promised_by: Contact


@dataclass(frozen=True)
class Plan:
    """An agreed payment plan and when it was agreed."""

    version: int
    agreed_at: datetime
    instalments: tuple[Instalment, ...]
    signed: bool


@dataclass(frozen=True)
class AttachedDocument:
    """A document on the file: the digest of its bytes, what it is, its name, media type
    and size, and who attached it when."""

    version: int
    sha256: str
    kind: str
    filename: str
    media_type: str
    size: int
    note: str
    attached_at: datetime
    attached_by: str


@dataclass(frozen=True)
class Touch:
    """The latest contact with the debtor: when, by whom, how, with what outcome, with whom."""

    at: datetime
    by: str
    channel: str
    outcome: str
    contact: Contact | None


PHASES_WITHOUT_DATE = {
    "written_off": Status.WRITTEN_OFF,
    "paid": Status.PAID,
    "closed": Status.CLOSED,
    "handed_over": Status.HANDED_OVER,
    "in_dispute": Status.IN_DISPUTE,
    "in_payment_plan": Status.IN_PAYMENT_PLAN,
    "formal_notice_sent": Status.FORMAL_NOTICE_SENT,
}


def status_on(phase: str, day: date, due_on: date, promised_on: date | None,
              instalment_missed: bool = False) -> Status:
    """The status on `day` of a file in `phase`: only promises, instalments and due dates
    depend on it."""
    if phase == "in_payment_plan" and instalment_missed:
        return Status.INSTALMENT_MISSED
    if phase in PHASES_WITHOUT_DATE:
        return PHASES_WITHOUT_DATE[phase]
    if phase == "promised":
        assert promised_on is not None
        return Status.PROMISED if day <= promised_on else Status.PROMISE_BROKEN
    return Status.OVERDUE if day > due_on else Status.NOT_YET_DUE


@dataclass(frozen=True)
class Case:
    """The current shape of a file, folded from its effective facts."""

    number: str
    debtor: Debtor
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date
    po_reference: str
    billing_recipient: Contact
    penalty_rate: Decimal | None = None
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    discount_offer: Offer | None = None
    discount_granted: Decimal = ZERO
    promise: Promise | None = None
    plan: Plan | None = None
    dispute_open_since: datetime | None = None
    disputed_amount: Decimal | None = None
    """The amount contested by the open dispute; None: the whole invoice."""
    formal_notice_on: date | None = None
    formal_notice_deadline: date | None = None
    handed_over_to: str | None = None
    written_off: bool = False
    closed: bool = False
    agent: str | None = None
    callback_on: date | None = None
    callback_owner: str | None = None
    last_touch: Touch | None = None
    reminders_by_level: dict[int, int] = field(default_factory=dict)
    acknowledged_on: tuple[date, ...] = ()
    calls: int = 0
    pre_due_reminders: int = 0
    last_step_at: datetime | None = None
    """When the latest contact that makes a scenario step was made (a reminder, a call,
    a formal notice): the scenario spaces its next steps from it."""
    documents: tuple[AttachedDocument, ...] = ()
    """The documents on the file, in the order they were attached (a digest once)."""
    replies_waiting: tuple[int, ...] = ()
    """The debtor's replies not handled yet, by the version of their fact."""

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Case:
        """Folds a file's entries, in version order, into its shape."""
        case: Case | None = None
        for entry in entries:
            if not entry.is_effective:
                continue
            if entry.kind == "InvoiceRegistered":
                case = cls._registered(entry)
                continue
            assert case is not None, "a file starts with its registration"
            case = case._after(entry)
        assert case is not None, "a file starts with its registration"
        return case

    @classmethod
    def _registered(cls, entry: Entry) -> Case:
        d = entry.data
        return cls(
            number=d["number"],
            debtor=d["debtor"],
            amount=d["amount"],
            currency=d["currency"],
            issued_on=d["issued_on"],
            due_on=d["due_on"],
            po_reference=d["po_reference"],
            billing_recipient=d["billing_recipient"],
            penalty_rate=d.get("penalty_rate"),
        )

    def after(self, entry: Entry) -> Case:
        """The case once one more (effective) fact is added at the end."""
        return self._after(entry) if entry.is_effective else self

    def _after(self, entry: Entry) -> Case:
        changes = self._changes(entry)
        if entry.kind in STEP_FACTS and (self.last_step_at is None
                                         or entry.occurred_at > self.last_step_at):
            changes["last_step_at"] = entry.occurred_at
        if waits_for_a_person(entry.kind, entry.actor):
            changes["replies_waiting"] = (
                *changes.get("replies_waiting", self.replies_waiting), entry.version)
        how = TOUCHES.get(entry.kind) if entry.actor != PORTAL_ACTOR else None
        if how is not None and (self.last_touch is None
                                or entry.occurred_at >= self.last_touch.at):
            changes["last_touch"] = _touch(entry, how)
        return _with(self, **changes) if changes else self  # one copy per fact replayed

    def _changes(self, entry: Entry) -> dict[str, Any]:
        """What one fact changes in the file (its fields' new values), steps, replies
        and contacts aside (`domain.kinds` says which facts are contacts with the
        debtor)."""
        d = entry.data
        kind = entry.kind
        if kind == "PaymentReceived":
            payment = Payment(d["received_on"], d["amount"], entry.version)
            return dict(payments=(*self.payments, payment))
        if kind == "PaymentPromised":
            promise = Promise(
                entry.version, entry.occurred_at, d["promised_on"], d["amount"], d["promised_by"]
            )
            return dict(promise=promise)
        if kind == "PaymentPlanAgreed":
            plan = Plan(entry.version, entry.occurred_at, tuple(d["instalments"]), d["signed"])
            return dict(plan=plan, promise=None)
        if kind == "DisputeRaised":
            return dict(dispute_open_since=entry.occurred_at,
                        disputed_amount=d["disputed_amount"])
        if kind == "DisputeResolved":
            return dict(dispute_open_since=None, disputed_amount=None)
        if kind == "DiscountOffered":
            return dict(discount_offer=Offer(entry.version, d["discount_amount"],
                                             d["pay_by"]))
        if kind == "DiscountGranted":
            return dict(discount_granted=self.discount_granted + d["discount_amount"])
        if kind == "CreditNoteApplied":
            note = CreditNote(entry.version, d["reference"], d["amount"], d["issued_on"])
            return dict(credit_notes=(*self.credit_notes, note))
        if kind == "DueDateRescheduled":
            return dict(due_on=d["new_due_on"])
        if kind == "FormalNoticeSent":
            return dict(formal_notice_on=paris_day(entry.occurred_at),
                        formal_notice_deadline=d["deadline_on"])
        if kind == "HandedOver":
            return dict(handed_over_to=d["to"])
        if kind == "DebtAcknowledged":
            return dict(acknowledged_on=(*self.acknowledged_on,
                                         paris_day(entry.occurred_at)))
        if kind == "WrittenOff":
            return dict(written_off=True)
        if kind == "CaseClosed":
            return dict(closed=True)
        if kind == "CaseReopened":
            return dict(closed=False, written_off=False)
        if kind == "AgentAssigned":
            return dict(agent=d["agent"] or None)
        if kind == "CallbackScheduled":
            return dict(callback_on=d["callback_on"], callback_owner=d["owner"])
        if kind == "CallLogged":
            if d["callback_on"] is not None:
                return dict(calls=self.calls + 1, callback_on=d["callback_on"],
                            callback_owner=entry.actor)
            if self.callback_on is not None and paris_day(entry.occurred_at) >= self.callback_on:
                return dict(calls=self.calls + 1, callback_on=None, callback_owner=None)
            return dict(calls=self.calls + 1)
        if kind == "DocumentAttached":
            document = AttachedDocument(
                entry.version, d["sha256"], d["document_kind"], d["filename"], d["media_type"],
                d["size"], d["note"], entry.occurred_at, entry.actor)
            return dict(documents=(*self.documents, document))
        if kind == "ReplyHandled":
            return dict(replies_waiting=tuple(
                v for v in self.replies_waiting if v != d["reply_version"]))
        if kind == "PreDueReminderSent":
            return dict(pre_due_reminders=self.pre_due_reminders + 1)
        if kind == "ReminderSent":
            level, sent = d["level"], self.reminders_by_level
            return dict(reminders_by_level={**sent, level: sent.get(level, 0) + 1})
        return {}

    @property
    def last_contact_at(self) -> datetime | None:
        """When the debtor was last in touch with us, in business time."""
        return self.last_touch.at if self.last_touch else None

    @property
    def paid(self) -> Decimal:
        """Everything received on the file."""
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def credited(self) -> Decimal:
        """What credit notes took off the invoice."""
        return sum((n.amount for n in self.credit_notes), ZERO)

    @property
    def claimed(self) -> Decimal:
        """What the invoice claims once its credit notes are applied."""
        return self.amount - self.credited

    @property
    def outstanding(self) -> Decimal:
        """What is still owed (negative after an overpayment): the invoice, less its credit
        notes, its payments and an early-payment discount earned."""
        return self.claimed - self.paid - self.discount_granted

    @property
    def partly_disputed(self) -> bool:
        """True while a dispute contests only part of what is owed: the rest is chased."""
        return (self.dispute_open_since is not None and self.disputed_amount is not None
                and self.disputed_amount < self.outstanding)

    @property
    def undisputed(self) -> Decimal:
        """What is owed and not contested: what reminders claim during a partial dispute."""
        if self.dispute_open_since is None:
            return self.outstanding
        if self.disputed_amount is None:
            return ZERO
        return max(ZERO, self.outstanding - self.disputed_amount)

    @property
    def is_settled(self) -> bool:
        """Nothing is owed any more."""
        return self.outstanding <= 0

    @property
    def is_closed(self) -> bool:
        """Closed files take only a reopening, a note or a correction."""
        return self.closed or self.written_off or self.is_settled

    def paid_between(self, start: date, end: date) -> Decimal:
        """Payments received from `start` to `end`, both included."""
        return sum((p.amount for p in self.payments if start <= p.received_on <= end), ZERO)

    def promise_kept(self) -> bool:
        """True when the open promise was honoured by its date (or the file is settled)."""
        promise = self.promise
        if promise is None:
            return False
        received = self.paid_between(paris_day(promise.made_at), promise.promised_on)
        return self.is_settled or received >= promise.amount

    def promise_broken_on(self, day: date) -> bool:
        """True from the day after the promised date when it was not paid in full."""
        promise = self.promise
        return promise is not None and day > promise.promised_on and not self.promise_kept()

    def missed_instalments(self, day: date) -> tuple[Instalment, ...]:
        """Instalments past their date that the payments since the plan do not cover yet."""
        plan = self.plan
        if plan is None or self.is_settled:
            return ()
        paid = self.paid_between(paris_day(plan.agreed_at), day)
        missed = []
        due_so_far = ZERO
        for instalment in plan.instalments:
            if day <= instalment.due_on:
                break
            due_so_far += instalment.amount
            if paid < due_so_far:
                missed.append(instalment)
        return tuple(missed)

    def days_past_due(self, day: date) -> int:
        """Days since the due date (0 when not yet due)."""
        return max(0, (day - self.due_on).days)

    @property
    def phase(self) -> str:
        """Where the file stands, leaving out what only the calendar decides."""
        checks = (
            ("written_off", self.written_off),
            ("paid", self.is_settled),
            ("closed", self.closed),
            ("handed_over", bool(self.handed_over_to)),
            ("in_dispute", self.dispute_open_since is not None and not self.partly_disputed),
            ("in_payment_plan", self.plan is not None),
            ("promised", self.promise is not None and not self.promise_kept()),
            ("formal_notice_sent", self.formal_notice_on is not None),
        )
        return next((phase for phase, applies in checks if applies), "open")

    def status(self, day: date) -> Status:
        """Where the file stands on `day`: the first state that applies, in this order."""
        promised_on = self.promise.promised_on if self.promise else None
        return status_on(self.phase, day, self.due_on, promised_on,
                         bool(self.missed_instalments(day)))
