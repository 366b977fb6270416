"""What comes back by e-mail: one record per incoming message, and the facts it leaves.

Courrier reçu: a message read from the mailbox relance watches (a reply of the debtor, an
automatic answer, a delivery failure). Its record is keyed by its Message-ID (by the
digest of its bytes when it has none), so the same message read twice is recorded once:
the second save conflicts with the first and records nothing.

Its life, each step a fact with who and when:

- `Received`: what it is (`reply`, `auto_reply`, `bounce`), who sent it, its subject and
  text, the digest of its raw bytes (kept apart, like documents) and of its attachments,
  and, when it was matched, the debtor and the files it was recorded on, and how.
- `Attached`: a person gave an unmatched message (« courrier non rattaché ») to a debtor;
  it is recorded on the debtor's open files then.
- `Discarded`: a person set an unmatched message aside, with the reason (advertising,
  not for us...).

On the files, in the same transaction (`MailCommands`): a reply is a `ReplyReceived` that
waits for a person, an automatic answer an `AutoReplyReceived`, a failure a
`DeliveryFailed`, and the failing address is marked on the debtor's record
(« adresse à corriger ») so that the daily run stops writing to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event

from domain.chain import ChainedAggregate
from domain.engine import Recorded
from domain.errors import DomainError, MissingInformation
from domain.invoice import Invoice
from domain.values import Contact, ReplyMatch, ReplyOutcome, Stamp, clean, one_line, reference

MAIL_NAMESPACE = UUID("2b8f6a4e-0c1d-4e7a-9f35-6d2e1b7c9a04")
REPLY, AUTO_REPLY, BOUNCE = "reply", "auto_reply", "bounce"
KINDS = {REPLY: "réponse", AUTO_REPLY: "réponse automatique", BOUNCE: "non distribué"}
"""Each kind of incoming message, as people read it."""
RECORDED, UNATTACHED, ATTACHED, DISCARDED = "recorded", "unattached", "attached", "discarded"
STATES = {RECORDED: "rattaché", UNATTACHED: "non rattaché", ATTACHED: "rattaché à la main",
          DISCARDED: "écarté"}
"""Each state, as people read it."""


class MailRefused(DomainError):
    """A change an incoming message's state does not allow (attaching a message twice)."""

    code = "mail_refused"


def mail_key(message_id: str, sha256: str) -> str:
    """What identifies an incoming message: its Message-ID, else the digest of its bytes."""
    cleaned = message_id.strip().lower()
    return f"id:{cleaned}" if cleaned else f"sha256:{sha256}"


def reply_token(message_id: str) -> str:
    """The short reference of a message of ours that a reply carries back in its address
    (`relance+TOKEN@…`) or its subject (`[réf. TOKEN]`): `r` and 12 hexadecimal digits."""
    return "r" + hashlib.sha256(message_id.strip().encode()).hexdigest()[:12]


def reply_address(base: str, message_id: str) -> str:
    """The address a message of ours asks to be answered at: `base` with the message's
    reply token as a sub-address (`relance@x.fr` → `relance+r0123456789ab@x.fr`)."""
    local, _, domain = base.strip().rpartition("@")
    if not local or not domain:
        return base.strip()
    return f"{local.split('+')[0]}+{reply_token(message_id)}@{domain}"


def mail_id(key: str) -> UUID:
    """The record of an incoming message, from its key."""
    return uuid5(MAIL_NAMESPACE, "mail:" + key)


@dataclass(frozen=True)
class Arrival:
    """An incoming message as the mailbox reader understood it (see
    `adapters.infra.mail_reading`), with its bytes already kept apart."""

    message_id: str
    sha256: str
    size: int
    kind: str
    sender: str
    sender_name: str
    subject: str
    sent_at: datetime | None
    text: str
    attachments: tuple[str, ...] = ()
    """The digests of its attachments, kept apart like documents."""
    answers: str = ""
    """The Message-ID of our message it answers (or that bounced), when found."""
    failed_recipient: str = ""
    diagnostic: str = ""
    problems: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Its record's key (`mail_key`)."""
        return mail_key(self.message_id, self.sha256)


@dataclass(frozen=True)
class Destination:
    """Where an incoming message goes: the debtor and its files, and how they were found
    (no account: « courrier non rattaché »)."""

    account: str = ""
    numbers: tuple[str, ...] = field(default_factory=tuple)
    matched_by: str = ""


class IncomingMail(ChainedAggregate):
    """One message read from the mailbox (see the module's text)."""

    @event("Received")
    def __init__(self, key: str, message_id: str, sha256: str, size: int, kind: str,
                 sender: str, sender_name: str, subject: str, sent_at: datetime | None,
                 text: str, attachments: list[str], answers: str, failed_recipient: str,
                 diagnostic: str, problems: list[str], account: str, numbers: list[str],
                 matched_by: str, actor: str, timestamp: datetime) -> None:
        self.key = key
        self.received = dict(
            message_id=message_id, sha256=sha256, size=size, kind=kind, sender=sender,
            sender_name=sender_name, subject=subject, sent_at=sent_at, text=text,
            attachments=tuple(attachments), answers=answers, failed_recipient=failed_recipient,
            diagnostic=diagnostic, problems=tuple(problems))
        """What the message said, as received (to record it on files attached later)."""
        self.kind = kind
        self.sender = sender
        self.subject = subject
        self.account = account
        self.numbers = list(numbers)
        self.state = RECORDED if account else UNATTACHED
        self.received_at = timestamp

    @staticmethod
    def create_id(key: str, **_: Any) -> UUID:
        """The record's id comes from the message's key."""
        return mail_id(key)

    def attach(self, *, account: str, numbers: list[str], actor: str,
               timestamp: datetime) -> None:
        """A person gives the message to a debtor (recorded on those of its files)."""
        if self.state != UNATTACHED:
            raise MailRefused(f"message {self.key} is {self.state}: it cannot be attached")
        self._attached(account=account, numbers=numbers, actor=actor, timestamp=timestamp)

    def discard(self, *, reason: str, actor: str, timestamp: datetime) -> None:
        """A person sets the message aside, with why."""
        if self.state != UNATTACHED:
            raise MailRefused(f"message {self.key} is {self.state}: it cannot be discarded")
        reason = one_line(reason or "", "reason")
        if not reason:
            raise MissingInformation("a message is set aside with a reason", field="reason")
        self._discarded(reason=reason, actor=actor, timestamp=timestamp)

    @event("Attached")
    def _attached(self, account: str, numbers: list[str], actor: str,
                  timestamp: datetime) -> None:
        self.account = account
        self.numbers = list(numbers)
        self.state = ATTACHED

    @event("Discarded")
    def _discarded(self, reason: str, actor: str, timestamp: datetime) -> None:
        self.state = DISCARDED


class MailCommands:
    """Recording what the mailbox brings (mixed into `domain.service.CaseFiles`)."""

    def mail(self, key: str) -> IncomingMail | None:
        """The record of an incoming message, or None when it was never read."""
        try:
            return self.repository.get(mail_id(key))  # type: ignore[attr-defined,no-any-return]
        except AggregateNotFoundError:
            return None

    def mail_by_id(self, record: UUID) -> IncomingMail | None:
        """The record of an incoming message by its id."""
        try:
            return self.repository.get(record)  # type: ignore[attr-defined,no-any-return]
        except AggregateNotFoundError:
            return None

    def receive_mail(self, actor: str, arrival: Arrival, destination: Destination
                     ) -> Recorded | None:
        """Records an incoming message and, when it has a destination, what it says on
        each of those files (and a failing address on the debtor's record), in one
        transaction. None when the message was recorded already."""
        if self.mail(arrival.key) is not None:
            return None
        created: list[IncomingMail] = []

        def decide(stamp: Stamp) -> list[Any]:
            created.clear()
            if self.mail(arrival.key) is not None:
                return []  # read meanwhile by another process
            record = IncomingMail(
                key=arrival.key, message_id=one_line(arrival.message_id[:300], "message_id"),
                sha256=arrival.sha256, size=arrival.size, kind=arrival.kind,
                sender=one_line(arrival.sender[:300], "sender"),
                sender_name=one_line(arrival.sender_name[:300], "sender_name"),
                subject=one_line(arrival.subject[:500], "subject"), sent_at=arrival.sent_at,
                text=clean(arrival.text, "text"), attachments=list(arrival.attachments),
                answers=arrival.answers, failed_recipient=arrival.failed_recipient,
                diagnostic=clean(arrival.diagnostic[:1000], "diagnostic"),
                problems=list(arrival.problems), account=destination.account,
                numbers=list(destination.numbers), matched_by=destination.matched_by,
                actor=stamp.actor, timestamp=stamp.recorded_at)
            created.append(record)
            return [record, *self._on_files(record, arrival, destination, stamp)]

        occurred_at = _occurred(arrival, self._now())  # type: ignore[attr-defined]
        recorded: Recorded = self._execute(  # type: ignore[attr-defined]
            "receive_mail", actor, occurred_at, None, {"key": arrival.key}, decide)
        return recorded if created else None

    def attach_mail(self, actor: str, key: str, *, account: str,
                    numbers: Sequence[str]) -> Recorded:
        """Gives an unmatched message to a debtor: recorded on the files named (the
        debtor's open files, as the caller lists them)."""
        account = reference(account, "debtor_account")
        listed = [reference(n, "number") for n in numbers]
        if not listed:
            raise MissingInformation(f"debtor {account} has no open file to attach the "
                                     "message to", field="account")

        def decide(stamp: Stamp) -> list[Any]:
            record = self._mail_to_decide_on(key)
            record.attach(account=account, numbers=listed, actor=stamp.actor,
                          timestamp=stamp.recorded_at)
            arrival = self._arrival_of(record)
            changed = self._on_files(record, arrival, Destination(
                account, tuple(listed), ReplyMatch.PERSON.value), stamp)
            return [record, *changed]

        return self._execute("attach_mail", actor, None, None,  # type: ignore[attr-defined]
                             {"key": key, "account": account, "numbers": listed}, decide)

    def discard_mail(self, actor: str, key: str, *, reason: str) -> Recorded:
        """Sets an unmatched message aside, with the reason."""

        def decide(stamp: Stamp) -> list[Any]:
            record = self._mail_to_decide_on(key)
            record.discard(reason=reason, actor=stamp.actor, timestamp=stamp.recorded_at)
            return [record]

        return self._execute("discard_mail", actor, None, None,  # type: ignore[attr-defined]
                             {"key": key, "reason": reason}, decide)

    def handle_reply(self, actor: str, number: str, *, reply_version: int,
                     outcome: ReplyOutcome, details: str = "",
                     occurred_at: datetime | None = None,
                     idempotency_key: str | None = None) -> Recorded:
        """Records what came of a reply of the debtor waiting on a file."""
        args = dict(reply_version=int(reply_version), outcome=outcome, details=details)
        return self._act("handle_reply", actor, number,  # type: ignore[attr-defined]
                         occurred_at, idempotency_key, args,
                         lambda inv, s: inv.handle_reply(s, **args))

    def clear_failing_address(self, actor: str, account: str, *, email: str,
                              reason: str = "") -> Recorded:
        """Takes an address off « adresse à corriger » (it was fixed, or checked)."""

        def decide(stamp: Stamp) -> list[Any]:
            record = self.debtor_to_decide_on(account, stamp)  # type: ignore[attr-defined]
            changed = record.clear_failing(email, reason=reason, actor=stamp.actor,
                                           timestamp=stamp.recorded_at)
            return [record] if changed else []

        return self._execute("clear_failing_address", actor,  # type: ignore[attr-defined]
                             None, None, {"account": account, "email": email}, decide)

    # -- within a command -----------------------------------------------------------------

    def _mail_to_decide_on(self, key: str) -> IncomingMail:
        record = self.mail(key)
        if record is None:
            raise MailRefused(f"no incoming message {key}")
        return record

    @staticmethod
    def _arrival_of(record: IncomingMail) -> Arrival:
        """The message as its `Received` fact recorded it (to record it on files later)."""
        return Arrival(**record.received)

    def _on_files(self, record: IncomingMail, arrival: Arrival, destination: Destination,
                  stamp: Stamp) -> list[Any]:
        """What the message records on each of its files, and on the debtor's record."""
        if not destination.account:
            return []
        invoices: list[Invoice] = [self._to_decide_on(n)  # type: ignore[attr-defined]
                                   for n in destination.numbers]
        mail = record.id.hex
        for invoice in invoices:
            if arrival.kind == REPLY:
                invoice.receive_reply(
                    stamp, mail=mail, writer=Contact(arrival.sender_name, "", "",
                                                     arrival.sender),
                    subject=arrival.subject[:500], text=arrival.text,
                    answers=arrival.answers[:300], matched_by=ReplyMatch(
                        destination.matched_by), mail_sha256=arrival.sha256,
                    attachments=arrival.attachments)
            elif arrival.kind == BOUNCE:
                invoice.record_delivery_failure(
                    stamp, mail=mail, recipient=arrival.failed_recipient or "?",
                    diagnostic=arrival.diagnostic[:1000], message_id=arrival.answers[:300],
                    mail_sha256=arrival.sha256)
            else:
                invoice.receive_auto_reply(
                    stamp, mail=mail, sender=arrival.sender[:300],
                    subject=arrival.subject[:500], text=arrival.text,
                    mail_sha256=arrival.sha256)
        changed: list[Any] = list(invoices)
        if arrival.kind == BOUNCE and arrival.failed_recipient:
            debtor = self.debtor_to_decide_on(destination.account, stamp)  # type: ignore[attr-defined]
            if debtor.mark_failing(arrival.failed_recipient, diagnostic=arrival.diagnostic,
                                   actor=stamp.actor, timestamp=stamp.recorded_at):
                changed.append(debtor)
        return changed


def _occurred(arrival: Arrival, now: datetime) -> datetime:
    """When the message happened: its Date, unless absent or in the future (a sender's
    clock is not trusted further than now)."""
    if arrival.sent_at is None or arrival.sent_at > now:
        return now
    return arrival.sent_at

