"""How a command runs on the files: load, decide, save, retry, answer once.

The base of the application service (`domain.service.CaseFiles`). A command decides on
copies of the files it touches, then saves every fact at once (several invoices of one
debtor atomically). A version conflict (a colleague recorded a fact on the same file
meanwhile) is retried here, on fresh state, a bounded number of times. An idempotency
key makes a resubmitted command record nothing and return what the first one recorded.
Files are kept in memory as last saved, so that the next command on them costs no read.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
import time as timer
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    Mapper,
    RecordConflictError,
    Recording,
)
from eventsourcing.utils import resolve_topic

from domain.case import Case, Entry
from domain.debtors import DebtorRecord, debtor_id
from domain.errors import DifferentDebtors, InvoiceNotFound, TooMuchContention
from domain.invoice import Invoice, invoice_id
from domain.kinds import CHASING
from domain.receipts import CommandReceipt, fingerprint, receipt_id
from domain.sealing import Sealer
from domain.stored import FactMapper
from domain.transcodings import SealingTranscoder, sealed_subjects, value_transcodings
from domain.values import Stamp, end_of_day, paris_day

log = logging.getLogger("relance.commands")

Clock = Callable[[], datetime]
Act = Callable[[Invoice, Stamp], None]
DECIDED_FILES = 2000
"""Files kept in memory, as last saved, for the next command on them."""
CONTENDED_FOR = 10.0
"""Seconds after a version conflict on a file during which its commands read it from
the store: colleagues are recording on it from other processes."""


@dataclass
class Alongside:
    """Records a command's save also writes, in its transaction (`FileEngine.recording_with`);
    `written` tells afterwards whether they were."""

    others: tuple[Aggregate, ...]
    written: bool = False


@dataclass(frozen=True)
class Recorded:
    """What a command recorded: each fact as (file id, version), and its log position.

    `notification_id` is the position to wait for before reading projections;
    `replayed` is true when an idempotency key returned an earlier command's result.
    """

    facts: tuple[tuple[UUID, int], ...]
    notification_id: int | None
    replayed: bool = False


class _Collected(ProcessingEvent[UUID]):
    """What a save writes. eventsourcing asks of each object whether it is an event or an
    aggregate through typing's runtime Protocol checks, some 12 µs each on Python 3.11
    (two per file saved); relance's aggregates and facts are told apart by their class
    first."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        others = []
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif isinstance(obj, DomainEvent):
                self.events.append(obj)
            else:
                others.append(obj)
        super().collect_events(*others, **kwargs)


class _KeysReadFirst(EventStore[UUID]):
    """eventsourcing's event store, which reads the keys of the people a sequence's facts
    name in one query before decoding them (`Sealer.prefetch`), not one per person."""

    def __init__(self, sealer: Sealer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sealer = sealer

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        stored = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte,
                                             desc=desc, limit=limit)
        self.sealer.prefetch(event.state for event in stored)
        return map(self.mapper.to_domain_event, stored)


def _folded(aggregate: Any, facts: Iterable[Any]) -> Any:
    """The aggregate after `facts`, each applied in turn: eventsourcing's projector,
    without its check that each fact can mutate (a typing Protocol's runtime check,
    11 µs a fact on Python 3.11, 0.55 ms to read a file of fifty facts)."""
    for fact in facts:
        aggregate = fact.mutate(aggregate)
    return aggregate


class _ErasuresNoticed(Repository[UUID]):
    """eventsourcing's repository, which first asks whether another process erased a
    person since this one last looked (every 30 seconds at most, `Keys.erased_elsewhere`):
    then the files and records this process keeps decoded are dropped before the read.
    Facts are folded by `_folded`."""

    engine: FileEngine

    def get(self, aggregate_id: UUID, **kwargs: Any) -> Any:
        self.engine.notice_erasures_elsewhere()
        kwargs.setdefault("projector_func", _folded)
        return super().get(aggregate_id, **kwargs)


class FileEngine(Application[UUID]):
    """The engine every command of the files runs through, and the reads of a file."""

    max_attempts = 50
    """Retries on version conflicts before giving up, after random pauses whose bound doubles
    at each attempt, from 2 ms to 0.1 s (colleagues on the same file spread out)."""

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock | None = None) -> None:
        self.sealer = Sealer()
        super().__init__(env)
        keys_topic = self.env.get("RELANCE_KEYS_TOPIC")
        if keys_topic:
            self.sealer.keys = resolve_topic(keys_topic)(self.recorder)
        self._clock = clock
        self._decided: OrderedDict[UUID, Invoice] = OrderedDict()
        self._decided_lock = threading.Lock()
        self._contended: dict[UUID, float] = {}
        self._reads = threading.local()

    def construct_repository(self) -> Repository[UUID]:
        repository = _ErasuresNoticed.__new__(_ErasuresNoticed)
        repository.__dict__.update(vars(super().construct_repository()))
        repository.engine = self
        return repository

    def construct_event_store(self) -> EventStore[UUID]:
        return _KeysReadFirst(self.sealer, mapper=self.mapper, recorder=self.recorder)

    def construct_mapper(self) -> Mapper[UUID]:
        """eventsourcing's mapper, which stores facts in their canonical encoding, made
        once for their digest and their row (`domain/stored.py`)."""
        mapper = self.factory.mapper(transcoder=self.construct_transcoder(),
                                     mapper_class=FactMapper)
        assert isinstance(mapper, FactMapper)
        mapper.sealer = self.sealer
        return mapper

    def construct_transcoder(self) -> JSONTranscoder:
        """eventsourcing's JSON transcoder, handing sealed free text to its transcoding."""
        transcoder = SealingTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in value_transcodings(self.sealer):
            transcoder.register(transcoding)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """eventsourcing's save, with relance's collection of the events (`_Collected`)."""
        processing_event = _Collected()
        processing_event.collect_events(*objs, **kwargs)
        subjects = sealed_subjects(processing_event.events)
        if subjects:  # their keys read, or made, in a few queries for the whole save
            self.sealer.keys.prefetch(subjects, create=True)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    # -- reading ------------------------------------------------------------------------

    @contextmanager
    def reading_once(self) -> Iterator[None]:
        """Within it (in this thread), each file, debtor record and the playbook is read
        from the store once, and that state stands for every later read: one document is
        built from one state of them, without reading them again at each step. Never
        around a command, which must decide on the stored state."""
        outer = getattr(self._reads, "memo", None)
        if outer is None:
            self._reads.memo = {}
        try:
            yield
        finally:
            if outer is None:
                self._reads.memo = None

    def _once(self, key: tuple[str, ...], load: Callable[[], Any]) -> Any:
        """`load()`, or within `reading_once` what it gave the first time."""
        memo = getattr(self._reads, "memo", None)
        if memo is None:
            return load()
        if key not in memo:
            memo[key] = load()
        return memo[key]

    def file(self, number: str, version: int | None = None) -> Invoice:
        """The file of an invoice number, as it is now (or at a version)."""
        if version is None:
            return self._once(("file", number), lambda: self._kept(self._file(number, None)))
        return self._file(number, version)

    def _file(self, number: str, version: int | None) -> Invoice:
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
        end = end_of_day(day)
        entries = [e for e in self.file(number).entries if e.occurred_at <= end]
        if not entries or entries[0].kind != "InvoiceRegistered":
            return None
        return Case.of(entries)


    # -- the one place where commands are run -------------------------------------------

    def _act(self, command: str, actor: str, numbers: str | Sequence[str],
             occurred_at: datetime | None, key: str | None, args: dict[str, Any],
             act: Act, same_day_reason: str = "") -> Recorded:
        listed = as_list(numbers)

        def decide(stamp: Stamp) -> list[Aggregate]:
            invoices = [self._to_decide_on(number) for number in listed]
            accounts = {inv.case.debtor.account for inv in invoices}
            if len(accounts) > 1:
                raise DifferentDebtors(
                    f"invoices {', '.join(listed)} belong to different debtors",
                    numbers=listed,
                )
            for invoice in invoices:
                act(invoice, stamp)
            record = self._contact_debtor(invoices, stamp, same_day_reason)
            return [*invoices, record] if record is not None else list(invoices)

        return self._execute(command, actor, occurred_at, key,
                             {**args, "numbers": listed, "occurred_at": occurred_at,
                              **({"same_day_reason": same_day_reason}
                                 if same_day_reason else {})}, decide)

    def _contact_debtor(self, invoices: list[Invoice], stamp: Stamp,
                        reason: str) -> DebtorRecord | None:
        """When the command chases the debtor, records the contact on the debtor's record
        (refused as a second one that day without a reason), and the reason on the files."""
        kinds = tuple(sorted({e.kind for inv in invoices for e in inv.pending_events
                              if e.kind in CHASING}))
        if not kinds:
            return None
        account = invoices[0].case.debtor.account
        record = self.debtor_to_decide_on(account, stamp)
        earlier = record.contact(
            day=paris_day(stamp.occurred_at), at=stamp.occurred_at, actor=stamp.actor,
            kinds=kinds, numbers=tuple(inv.case.number for inv in invoices),
            recorded_at=stamp.recorded_at, reason=reason)
        if earlier is not None:
            for invoice in invoices:
                invoice.confirm_second_contact(stamp, reason=reason, earlier_actor=earlier.actor,
                                               earlier_at=earlier.at)
        return record

    def debtor_record(self, account: str) -> DebtorRecord | None:
        """A debtor's record as it is now, or None when nothing was recorded for it yet."""
        return self._once(  # type: ignore[no-any-return]
            ("debtor", account), lambda: self._kept(self._debtor_record(account)))

    def _debtor_record(self, account: str) -> DebtorRecord | None:
        try:
            return self.repository.get(debtor_id(account))
        except AggregateNotFoundError:
            return None

    def debtor_to_decide_on(self, account: str, stamp: Stamp) -> DebtorRecord:
        """A copy of a debtor's record to decide on (like `_to_decide_on`), or a new one."""
        record_id = debtor_id(account)
        known = self._known_copy(record_id)
        if known is None:
            known = self._debtor_record(account)  # the stored one, even within `reading_once`
            if known is None:
                return DebtorRecord.open(account, stamp.actor, stamp.recorded_at)
            self._remember([known])
        return copy.deepcopy(known)

    def _execute(self, command: str, actor: str, occurred_at: datetime | None,
                 key: str | None, args: dict[str, Any],
                 decide: Callable[[Stamp], Sequence[Aggregate]]) -> Recorded:
        digest = fingerprint(command, args) if key else ""
        for attempt in range(1, self.max_attempts + 1):
            if key is not None:
                earlier = self._receipt(key)
                if earlier is not None:
                    earlier.check_same_command(command, digest)
                    self._taken_along()
                    log.info("command replayed", extra={"command": command, "key": key})
                    return Recorded(tuple(earlier.facts), self.recorder.max_notification_id(),
                                    replayed=True)
            now = self._now()
            invoices = decide(Stamp(actor, occurred_at or now, now))
            facts = tuple((inv.id, e.originator_version)
                          for inv in invoices if isinstance(inv, Invoice)
                          for e in inv.pending_events)
            receipt = None
            if key is not None:
                receipt = CommandReceipt._create(
                    CommandReceipt.Issued, id=receipt_id(key), timestamp=now, key=key,
                    command=command, fingerprint=digest, actor=actor,
                    facts=[[file_id.hex, version] for file_id, version in facts],
                )
            along = self._taken_along() if attempt == 1 else None
            try:
                recordings = self.save(*invoices, receipt, *(along.others if along else ()))
            except RecordConflictError:
                self._forget(invoices)
                log.info("version conflict, retrying",
                         extra={"command": command, "attempt": attempt})
                timer.sleep(random.uniform(0, min(0.1, 0.001 * 2 ** min(attempt, 7))))  # noqa: S311
                continue
            if along is not None:
                along.written = True
            self._remember(invoices)
            notification_id = max((r.notification.id for r in recordings), default=None)
            log.info("command recorded", extra={
                "command": command, "facts": len(facts), "notification_id": notification_id})
            return Recorded(facts, notification_id)
        raise TooMuchContention(f"{command} gave up after {self.max_attempts} conflicts")

    @contextmanager
    def recording_with(self, *others: Aggregate) -> Iterator[Alongside]:
        """Within it (in this thread), the next command's save also writes what `others`
        hold pending, in the same transaction: a message of the daily run and the facts it
        records on its files are then one write.

        On its first attempt only: when that save meets a version conflict (theirs,
        perhaps), their pending events are dropped and the command is retried alone. They
        are not written either when the command records nothing new (its idempotency key
        was used before). The caller reads `written` and, if it is false, records their
        change again on fresh state."""
        along = Alongside(others)
        self._reads.along = along
        try:
            yield along
        finally:
            self._reads.along = None

    def _taken_along(self) -> Alongside | None:
        """What `recording_with` asked the next save to write too (then nothing more)."""
        along: Alongside | None = getattr(self._reads, "along", None)
        self._reads.along = None
        return along

    def _to_decide_on(self, number: str) -> Invoice:
        """A copy of the file as this process last saved or loaded it for a command.

        It is not checked against the store (that would cost a round trip per command):
        if a colleague's process added a fact meanwhile, saving fails on the version it
        took, `_forget` drops the copy, and the command is decided again on the stored file
        (and so are the next ones on that file for `CONTENDED_FOR` seconds).
        """
        file_id = invoice_id(number)
        known = self._known_copy(file_id)
        if known is None:
            known = self._file(number, None)  # the stored file, even within `reading_once`
            self._remember([known])
        return copy.deepcopy(known)

    def _known_copy(self, aggregate_id: UUID) -> Any:
        """The aggregate as this process last saved or loaded it, unless others have been
        recording on it lately (then None: read it from the store)."""
        self.notice_erasures_elsewhere()
        with self._decided_lock:
            known = self._decided.get(aggregate_id)
            if known is not None:
                self._decided.move_to_end(aggregate_id)
            if timer.monotonic() - self._contended.get(aggregate_id, -CONTENDED_FOR) \
                    < CONTENDED_FOR:
                known = None
        return known

    def _kept(self, read: Any) -> Any:
        """A file or debtor record just read from the store, also kept (a copy, so that
        what the reader does with its own cannot reach a command) as this process's latest
        for the next command on it: a message of the daily run reads its files and its
        debtor's record, then records on them, without a second read."""
        if read is not None and not read.pending_events:
            self._remember([copy.deepcopy(read)])
        return read

    def _remember(self, invoices: Sequence[Aggregate]) -> None:
        """Keeps the files as just saved (never a version older than one already kept)."""
        with self._decided_lock:
            for invoice in invoices:
                kept = self._decided.get(invoice.id)
                if kept is None or kept.version < invoice.version:
                    self._decided[invoice.id] = invoice
                    self._decided.move_to_end(invoice.id)
            while len(self._decided) > DECIDED_FILES:
                self._decided.popitem(last=False)

    def notice_erasures_elsewhere(self) -> None:
        """Drops the keys, files and records this process keeps once another process
        erased a person (looked for every 30 seconds at most, `Keys.erased_elsewhere`)."""
        if self.sealer.keys.erased_elsewhere():
            log.info("a person was erased by another process: kept files are read again")
            self.sealer.forget()
            self.forget_cached_files()

    def forget_cached_files(self) -> None:
        """Drops every file and record this process keeps in memory (the ones it decided
        on, and eventsourcing's cache): the next read loads them from the store."""
        with self._decided_lock:
            self._decided.clear()
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(maxsize=cache.maxsize)
        elif cache is not None:
            self.repository.cache = type(cache)()

    def _forget(self, invoices: Sequence[Aggregate | None]) -> None:
        """Drops the files a save conflicted on, and reads them from the store for a while."""
        now = timer.monotonic()
        with self._decided_lock:
            for invoice in invoices:
                if invoice is None:
                    continue
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
            raise RuntimeError("the files were opened without a clock: they can only be read")
        return self._clock()



def as_list(numbers: str | Sequence[str]) -> list[str]:
    """The invoice numbers a command names, once each, in order."""
    listed = [numbers] if isinstance(numbers, str) else list(numbers)
    return list(dict.fromkeys(n.strip() for n in listed if n.strip())) or [""]

