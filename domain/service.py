"""The application service: one short method per thing an agent does on the files.

Each command loads the files, asks the aggregate, and saves. A version conflict (a
colleague recorded a fact on the same file meanwhile) is retried here, on fresh state,
a bounded number of times. An idempotency key makes a resubmitted command record
nothing and return what the first one recorded.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import random
import threading
import time as timer
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Recording

from domain.case import Case, Entry
from domain.chain import GENESIS, fact_digest
from domain.due import Due, Progress, next_action
from domain.errors import AlreadyRegistered, DifferentDebtors, InvoiceNotFound, TooMuchContention
from domain.exports import ExportRecord, export_id
from domain.invoice import Invoice, invoice_id
from domain.receipts import CommandReceipt, fingerprint, receipt_id
from domain.scenarios import SHIPPED as SHIPPED_SCENARIOS
from domain.scenarios import Calendar, Playbook, Scenario, playbook_id
from domain.transcodings import value_transcodings
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

log = logging.getLogger("relance.commands")

Clock = Callable[[], datetime]
DEFAULT_TEAM = "equipe"
Act = Callable[[Invoice, Stamp], None]
DECIDED_FILES = 2000
"""Files kept in memory, as last saved, for the next command on them."""
CONTENDED_FOR = 10.0
"""Seconds after a version conflict on a file during which its commands read it from
the store: colleagues are recording on it from other processes."""


@dataclass(frozen=True)
class Recorded:
    """What a command recorded: each fact as (file id, version), and its log position.

    `notification_id` is the position to wait for before reading projections;
    `replayed` is true when an idempotency key returned an earlier command's result.
    """

    facts: tuple[tuple[UUID, int], ...]
    notification_id: int | None
    replayed: bool = False


class CaseFiles(Application[UUID]):
    """The files of unpaid invoices, and every command recorded on them."""

    name = "CaseFiles"
    max_attempts = 50
    """Retries on version conflicts before giving up (with growing random pauses)."""

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(env)
        self._clock = clock
        self.listeners: list[Callable[[int], None]] = []
        self._decided: OrderedDict[UUID, Invoice] = OrderedDict()
        self._decided_lock = threading.Lock()
        self._contended: dict[UUID, float] = {}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in value_transcodings():
            transcoder.register(transcoding)

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

        return self._execute("register_invoice", actor, occurred_at, idempotency_key,
                             {**args, "occurred_at": occurred_at}, decide)

    def remind_before_due(self, actor: str, numbers: str | Sequence[str], *,
                          channel: Channel, summary: str, contact: Contact | None = None,
                          expected_means: PaymentMeans | None = None,
                          scenario_step: str = "", message_id: str = "",
                          document_sha256: str = "", occurred_at: datetime | None = None,
                          idempotency_key: str | None = None) -> Recorded:
        """Records a pre-due reminder on one or several files of a debtor."""
        args = dict(channel=channel, summary=summary, contact=contact,
                    expected_means=expected_means, scenario_step=scenario_step,
                    message_id=message_id, document_sha256=document_sha256)
        return self._act("remind_before_due", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.remind_before_due(s, **args))

    def send_reminder(self, actor: str, numbers: str | Sequence[str], *, channel: Channel,
                      level: int, recipient: str = "", summary: str = "", message_id: str = "",
                      scenario_step: str = "", document_sha256: str = "",
                      occurred_at: datetime | None = None,
                      idempotency_key: str | None = None) -> Recorded:
        """Records a reminder sent on one or several files of a debtor."""
        args = dict(channel=channel, level=level, recipient=recipient, summary=summary,
                    message_id=message_id, scenario_step=scenario_step,
                    document_sha256=document_sha256)
        return self._act("send_reminder", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.send_reminder(s, **args))

    def log_call(self, actor: str, numbers: str | Sequence[str], *, contact: Contact,
                 outcome: CallOutcome, summary: str = "", callback_on: date | None = None,
                 scenario_step: str = "", promised_on: date | None = None,
                 promised_amount: Money | None = None, occurred_at: datetime | None = None,
                 idempotency_key: str | None = None) -> Recorded:
        """Records one call, about one or several invoices of the same debtor; a promise
        made during the call is recorded with it, atomically, on each invoice."""
        args = dict(contact=contact, outcome=outcome, summary=summary, callback_on=callback_on,
                    scenario_step=scenario_step)
        listed = _as_list(numbers)
        action_id = uuid4().hex

        def act(invoice: Invoice, stamp: Stamp) -> None:
            invoice.log_call(stamp, **args, action_id=action_id, invoice_numbers=listed)
            if promised_on is not None:
                invoice.promise_payment(stamp, promised_on=promised_on, promised_by=contact,
                                        amount=promised_amount if len(listed) == 1 else None,
                                        contact_version=invoice.version)

        return self._act("log_call", actor, listed, occurred_at, idempotency_key,
                         {**args, "promised_on": promised_on,
                          "promised_amount": promised_amount}, act)

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
                      idempotency_key: str | None = None) -> Recorded:
        """Records a document sent on one or several files (not a reminder)."""
        args = dict(template=template, channel=channel, recipient=recipient, subject=subject,
                    message_id=message_id, document_sha256=document_sha256)
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
                        occurred_at: datetime | None = None,
                        idempotency_key: str | None = None) -> Recorded:
        """Records the end of a file's dispute."""
        args = dict(outcome=outcome, details=details)
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
                           document_sha256: str = "", occurred_at: datetime | None = None,
                           idempotency_key: str | None = None) -> Recorded:
        """Records a formal notice covering one or several files of a debtor."""
        args = dict(registered_letter_number=registered_letter_number,
                    deadline_on=deadline_on, details=details, scenario_step=scenario_step,
                    document_sha256=document_sha256)
        return self._act("send_formal_notice", actor, numbers, occurred_at, idempotency_key,
                         args, lambda inv, s: inv.send_formal_notice(s, **args))

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

    # -- the team's playbook: scenarios, choices, absences -------------------------------

    def playbook(self, team: str = DEFAULT_TEAM) -> Playbook | None:
        """The team's playbook as recorded, or None before its first use."""
        try:
            return self.repository.get(playbook_id(team))
        except AggregateNotFoundError:
            return None

    def open_playbook(self, actor: str, team: str = DEFAULT_TEAM) -> Playbook:
        """The team's playbook; on first use, recorded with the shipped scenarios."""
        try:
            return self.repository.get(playbook_id(team))
        except AggregateNotFoundError:
            now = self._now()
            playbook = Playbook(team=team, timestamp=now)
            for scenario in SHIPPED_SCENARIOS:
                playbook.set_scenario(scenario, actor=actor, recorded_at=now,
                                      reason="scénario livré avec relance")
            # Opened meanwhile by another process? Then theirs is as good as ours.
            with contextlib.suppress(RecordConflictError):
                self.save(playbook)
            return self.repository.get(playbook_id(team))

    def set_scenario(self, actor: str, scenario: Scenario, *, reason: str,
                     team: str = DEFAULT_TEAM) -> Recorded:
        """Records a new scenario or a new version of one."""
        return self._on_playbook(team, lambda p, now: p.set_scenario(
            scenario, actor=actor, recorded_at=now, reason=reason))

    def set_template(self, actor: str, name: str, text: str, *, reason: str,
                     team: str = DEFAULT_TEAM) -> Recorded:
        """Records a new version of a document's wording."""
        return self._on_playbook(team, lambda p, now: p.set_template(
            name, text, actor=actor, recorded_at=now, reason=reason))

    def choose_default_scenario(self, actor: str, name: str,
                                team: str = DEFAULT_TEAM) -> Recorded:
        """Makes a scenario the default of the team."""
        return self._on_playbook(team, lambda p, now: p.choose_default(
            name, actor=actor, recorded_at=now))

    def choose_debtor_scenario(self, actor: str, account: str, name: str,
                               team: str = DEFAULT_TEAM) -> Recorded:
        """Makes a debtor follow a scenario."""
        return self._on_playbook(team, lambda p, now: p.choose_for_debtor(
            account, name, actor=actor, recorded_at=now))

    def set_debtor_penalty_rate(self, actor: str, account: str, percent: Decimal | None,
                                team: str = DEFAULT_TEAM) -> Recorded:
        """Records the late-payment rate agreed with a debtor (None: the legal default)."""
        return self._on_playbook(team, lambda p, now: p.set_penalty_rate(
            account, percent, actor=actor, recorded_at=now))

    def penalty_rate(self, number: str, team: str = DEFAULT_TEAM,
                     case: Case | None = None) -> Decimal | None:
        """The contractual rate for a file: the invoice's own, else its debtor's."""
        case = case or self.case(number)
        if case.penalty_rate is not None:
            return case.penalty_rate
        return self.open_playbook("relance", team).penalty_rates.get(case.debtor.account)

    def record_absence(self, actor: str, agent: str, first_day: date, last_day: date,
                       team: str = DEFAULT_TEAM) -> Recorded:
        """Records an agent's absence (their callbacks go to the team's list)."""
        return self._on_playbook(team, lambda p, now: p.record_absence(
            agent, first_day, last_day, actor=actor, recorded_at=now))

    def due(self, number: str, day: date, calendar: Calendar,
            team: str = DEFAULT_TEAM) -> Due:
        """What was (or is) due on a file on `day`, under the scenario version of that day.

        Read from the file's own facts as known at the end of that day: the auditor's
        answer to "why did this letter go out then?".
        """
        end = datetime.combine(day, time.max, tzinfo=UTC)
        invoice = self.file_as_recorded(number, end) or self.file(number)
        scenario = self.open_playbook("relance", team).scenario_for(
            invoice.case.debtor.account, at=end)
        return next_action(Progress.of(invoice.case, day), scenario, day, calendar)

    def _on_playbook(self, team: str, change: Callable[[Playbook, datetime], None]
                     ) -> Recorded:
        self.open_playbook("relance", team)
        for _ in range(self.max_attempts):
            playbook = self.repository.get(playbook_id(team))
            change(playbook, self._now())
            try:
                recordings = self.save(playbook)
            except RecordConflictError:
                continue
            return Recorded(tuple((playbook.id, r.domain_event.originator_version)
                                  for r in recordings),
                            max(r.notification.id for r in recordings))
        raise TooMuchContention("the playbook kept changing; try again")

    def record_export(self, actor: str, *, digest: str, scope: str, key: str, fmt: str,
                      as_of: datetime | None, files: int, facts: int) -> ExportRecord:
        """Records that an export was made: the first time creates its record, each
        later time with the same content is recorded on it (who, when)."""
        for _ in range(self.max_attempts):
            record = self.export_record(digest)
            if record is None:
                record = ExportRecord(digest=digest, actor=actor, scope=scope, key=key[:500],
                                      fmt=fmt, as_of=as_of, files=files, facts=facts,
                                      timestamp=self._now())
            else:
                record.record_again(actor, self._now())
            try:
                self.save(record)
            except RecordConflictError:
                continue
            return record
        raise TooMuchContention("the register of exports kept changing; try again")

    def export_record(self, digest: str) -> ExportRecord | None:
        """The record of the export with this digest, if relance made it."""
        try:
            return self.repository.get(export_id(digest))
        except AggregateNotFoundError:
            return None

    # -- reading ------------------------------------------------------------------------

    def file(self, number: str, version: int | None = None) -> Invoice:
        """The file of an invoice number, as it is now (or at a version)."""
        try:
            return self.repository.get(invoice_id(number), version=version)
        except AggregateNotFoundError:
            raise InvoiceNotFound(f"no file for invoice {number}", number=number) from None

    def case(self, number: str) -> Case:
        """The current shape of a file."""
        return self.file(number).case

    def history(self, number: str) -> list[Entry]:
        """Every fact of a file in order, with corrections and retractions."""
        return self.file(number).entries

    def file_as_recorded(self, number: str, at: datetime) -> Invoice | None:
        """The file as we knew it at an instant: only facts recorded by then (None before)."""
        file_id = invoice_id(number)
        invoice: Invoice | None = None
        for fact in self.events.get(file_id):
            if fact.timestamp > at:  # type: ignore[attr-defined]
                break
            invoice = fact.mutate(invoice)  # type: ignore[attr-defined]
        if invoice is None and not self.recorder.select_events(file_id, limit=1):
            raise InvoiceNotFound(f"no file for invoice {number}", number=number)
        return invoice

    def case_by_business_date(self, number: str, day: date) -> Case | None:
        """What had happened on a file by the end of `day` (business time), as known now."""
        end = datetime.combine(day, time.max, tzinfo=UTC)
        entries = [e for e in self.file(number).entries if e.occurred_at <= end]
        if not entries or entries[0].kind != "InvoiceRegistered":
            return None
        return Case.of(entries)

    def broken_link(self, number: str) -> int | None:
        """The version of the first fact whose stored digest or chain link does not hold.

        Digests are recomputed from the stored form, before any upcasting.
        """
        file_id = invoice_id(number)
        previous = GENESIS
        for stored in self.recorder.select_events(file_id):
            try:
                state = self.mapper.transcoder.decode(stored.state)
            except (ValueError, TypeError, KeyError, ArithmeticError):
                return stored.originator_version
            recomputed = fact_digest(topic=stored.topic, originator_id=file_id,
                                     originator_version=stored.originator_version, state=state)
            if state.get("prev_hash") != previous or state.get("digest") != recomputed:
                return stored.originator_version
            previous = recomputed
        return None

    # -- the one place where commands are run -------------------------------------------

    def _act(self, command: str, actor: str, numbers: str | Sequence[str],
             occurred_at: datetime | None, key: str | None, args: dict[str, Any],
             act: Act) -> Recorded:
        listed = _as_list(numbers)

        def decide(stamp: Stamp) -> list[Invoice]:
            invoices = [self._to_decide_on(number) for number in listed]
            accounts = {inv.case.debtor.account for inv in invoices}
            if len(accounts) > 1:
                raise DifferentDebtors(
                    f"invoices {', '.join(listed)} belong to different debtors",
                    numbers=listed,
                )
            for invoice in invoices:
                act(invoice, stamp)
            return invoices

        return self._execute(command, actor, occurred_at, key,
                             {**args, "numbers": listed, "occurred_at": occurred_at}, decide)

    def _execute(self, command: str, actor: str, occurred_at: datetime | None,
                 key: str | None, args: dict[str, Any],
                 decide: Callable[[Stamp], list[Invoice]]) -> Recorded:
        digest = fingerprint(command, args) if key else ""
        for attempt in range(1, self.max_attempts + 1):
            if key is not None:
                earlier = self._receipt(key)
                if earlier is not None:
                    earlier.check_same_command(command, digest)
                    log.info("command replayed", extra={"command": command, "key": key})
                    return Recorded(tuple(earlier.facts), self.recorder.max_notification_id(),
                                    replayed=True)
            now = self._now()
            invoices = decide(Stamp(actor, occurred_at or now, now))
            facts = tuple((inv.id, e.originator_version)
                          for inv in invoices for e in inv.pending_events)
            receipt = None
            if key is not None:
                receipt = CommandReceipt._create(
                    CommandReceipt.Issued, id=receipt_id(key), timestamp=now, key=key,
                    command=command, fingerprint=digest, actor=actor,
                    facts=[[file_id.hex, version] for file_id, version in facts],
                )
            try:
                recordings = self.save(*invoices, receipt)
            except RecordConflictError:
                self._forget(invoices)
                log.info("version conflict, retrying",
                         extra={"command": command, "attempt": attempt})
                timer.sleep(random.uniform(0, min(0.05, 0.002 * attempt)))  # noqa: S311
                continue
            self._remember(invoices)
            notification_id = max((r.notification.id for r in recordings), default=None)
            log.info("command recorded", extra={
                "command": command, "facts": len(facts), "notification_id": notification_id})
            return Recorded(facts, notification_id)
        raise TooMuchContention(f"{command} gave up after {self.max_attempts} conflicts")

    def _to_decide_on(self, number: str) -> Invoice:
        """A copy of the file as this process last saved or loaded it for a command.

        It is not checked against the store (that would cost a round trip per command):
        if a colleague's process added a fact meanwhile, saving fails on the version it
        took, `_forget` drops the copy, and the command is decided again on the stored file
        (and so are the next ones on that file for `CONTENDED_FOR` seconds).
        """
        file_id = invoice_id(number)
        with self._decided_lock:
            known = self._decided.get(file_id)
            if known is not None:
                self._decided.move_to_end(file_id)
            if timer.monotonic() - self._contended.get(file_id, -CONTENDED_FOR) < CONTENDED_FOR:
                known = None
        if known is None:
            known = self.file(number)
            self._remember([known])
        return copy.deepcopy(known)

    def _remember(self, invoices: list[Invoice]) -> None:
        """Keeps the files as just saved (never a version older than one already kept)."""
        with self._decided_lock:
            for invoice in invoices:
                kept = self._decided.get(invoice.id)
                if kept is None or kept.version < invoice.version:
                    self._decided[invoice.id] = invoice
                    self._decided.move_to_end(invoice.id)
            while len(self._decided) > DECIDED_FILES:
                self._decided.popitem(last=False)

    def _forget(self, invoices: list[Invoice]) -> None:
        """Drops the files a save conflicted on, and reads them from the store for a while."""
        now = timer.monotonic()
        with self._decided_lock:
            for invoice in invoices:
                self._decided.pop(invoice.id, None)
                self._contended[invoice.id] = now
            if len(self._contended) > DECIDED_FILES:
                self._contended = {k: t for k, t in self._contended.items()
                                   if now - t < CONTENDED_FOR}

    def _receipt(self, key: str) -> CommandReceipt | None:
        try:
            return self.repository.get(receipt_id(key))
        except AggregateNotFoundError:
            return None

    def now(self) -> datetime:
        """Now, from the service's clock."""
        return self._now()

    def _now(self) -> datetime:
        if self._clock is None:
            raise RuntimeError("CaseFiles was built without a clock: it can only read")
        return self._clock()

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            last = max(r.notification.id for r in recordings)
            for listener in self.listeners:
                listener(last)


def _as_list(numbers: str | Sequence[str]) -> list[str]:
    listed = [numbers] if isinstance(numbers, str) else list(numbers)
    return list(dict.fromkeys(n.strip() for n in listed if n.strip())) or [""]
