"""The projection runner: follows the event log and keeps every read model up to date.

One runner serves all projections and both stores. It reads the log in batches and
applies each batch in one transaction, with each projection's position. A projection
behind the others (a rebuild) is fed only the facts it has not seen. Files are kept
in a bounded cache and moved forward fact by fact, so catching up reads each fact
once. After each batch, readers waiting for their own writes are woken at once.

A one-off catch-up can be split across processes (`Partition`): each owns the debtors
whose account falls in its share, with its own position per projection, and the
positions are joined once every process has reached the same head (`join_partitions`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import cache
from typing import cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, Notification, OperationalError

from domain.debtors import DebtorRecord
from domain.dispatch import Dispatch, Run
from domain.facts import Fact, InvoiceRegistered
from domain.invoice import Invoice
from domain.mail import IncomingMail
from domain.portal import PortalLink
from domain.scenarios import Playbook
from domain.service import CaseFiles
from projections.outage import connection_lost
from projections.schema import Change, Projection
from projections.search import forget_names
from projections.storage import ViewStore, Write

log = logging.getLogger("relance.projections")
LIVE_BATCH = 100
"""A batch smaller than this means the runner has caught up with the log."""
GATHER = 0.02
"""Seconds the runner lets facts gather after a live batch of several: facts coming
faster than it applies them one batch at a time. A batch of one fact costs about 0.8 ms
of CPU here, most of it whatever the batch's size: under load, fewer and fuller batches
keep the runner's CPU for the web (PostgreSQL's `commit_delay` makes the same trade).
16 clients flat out (about 1,000 commands/s) then make batches of a dozen facts or more,
and the read models show a fact at most this much later. A fact alone, as when the
service is not busy, is applied at once."""
CATCH_UP_RETRIES = 5
"""Times a catch-up applies a batch again after the server ended its connection."""
REFRESH_AFTER = 20_000
"""Facts applied before the views' planner statistics are refreshed (once caught up)."""
SWITCH_INTERVAL = 0.002
"""How long (s) a thread holds the interpreter while another waits for it, when catching
up. The writer thread needs it back after each of its round trips to the database,
while the thread working out the next batch holds it."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Partition:
    """The share `index` of `count` of a catch-up split across processes.

    The share is of debtors, not of files: every read model that combines files combines
    those of one debtor (its people, its owner, its touches, its name in the search), so
    a debtor's files and its record's events must be applied in the log's order by one
    process. A file's share follows from its debtor's account, read on its registration.
    The events of no debtor (runs, messages, links) are the first share's.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"no share {self.index} of {self.count}")

    def tracking(self, projection: str) -> str:
        """The name this share's position of `projection` is kept under."""
        return f"{projection}@{self.index}/{self.count}"

    @classmethod
    def of(cls, tracked: str) -> Partition:
        """The share a position's name (`tracking`) is kept for."""
        index, count = tracked.rsplit("@", 1)[1].split("/")
        return cls(int(index), int(count))

    def owns(self, account: str) -> bool:
        """Whether the debtor `account` is this share's."""
        return zlib.crc32(account.encode()) % self.count == self.index


_FACT, _PLAYBOOK = "facts", "playbook"


@cache
def _route(kind: type) -> str | None:
    """What events of this class are to the projections (worked out once per class): a
    fact, a change of the playbook, or the name of the method that projections taking
    such events have (None: no projection takes them)."""
    if issubclass(kind, Playbook.Event):
        return _PLAYBOOK
    if issubclass(kind, DebtorRecord.Event):
        return "debtor_changes"
    if issubclass(kind, IncomingMail.Event):
        return "mail_changes"
    if issubclass(kind, PortalLink.Event):
        return "portal_changes"
    if issubclass(kind, Dispatch.Event | Run.Event):
        return "run_changes"
    if issubclass(kind, Fact):
        return _FACT
    return None


def partition_names(projection: str, count: int) -> list[str]:
    """The positions a catch-up split `count` ways keeps for `projection`."""
    return [Partition(i, count).tracking(projection) for i in range(count)]


def join_partitions(views: ViewStore, projections: Sequence[Projection], count: int,
                    head: int) -> None:
    """Once every share of a catch-up split `count` ways has reached `head`, each
    projection's position is `head` and the shares' positions are dropped; before, a
    `RuntimeError` says which share is behind, and nothing changes."""
    kept = views.share_positions([p.name for p in projections])
    for projection in projections:
        for name in partition_names(projection.name, count):
            if kept.get(name, 0) < head:
                raise RuntimeError(f"{name} is at {kept.get(name, 0)}, not at {head}")
    views.apply([Write(p.name, [], head) for p in projections
                 if views.position(p.name) < head])
    views.forget_positions([n for p in projections for n in partition_names(p.name, count)])


class Follower:
    """Feeds the event log to the projections, in batches, exactly once each."""

    def __init__(self, files: CaseFiles, views: ViewStore,
                 projections: Sequence[Projection], cache_size: int = 5000,
                 partition: Partition | None = None) -> None:
        self.files = files
        self.views = views
        self.projections = list(projections)
        self.cache_size = cache_size
        self.partition = partition
        self._tracked = {p.name: partition.tracking(p.name) if partition else p.name
                         for p in self.projections}
        """Where each projection's position is kept: its name, or its share's name."""
        self._named = {tracked: name for name, tracked in self._tracked.items()}
        self._owned: dict[UUID, bool] = {}
        """Whether each file met so far is this share's (a partitioned catch-up only): the
        facts of another share's files are then not even decoded."""
        self._cache: OrderedDict[UUID, Invoice] = OrderedDict()
        self._positions = {p.name: views.position(self._tracked[p.name])
                           for p in self.projections}
        self._moved = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscription: object | None = None
        self._unanalyzed = 0
        """Facts applied since the planner's statistics of the views were last refreshed."""

    # -- reading positions --------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        """Each projection's last applied notification id, as this runner knows it."""
        with self._moved:
            return dict(self._positions)

    def wait_for(self, notification_id: int | None, timeout: float = 2.0) -> bool:
        """Blocks until every projection has applied `notification_id`; False on timeout."""
        if notification_id is None:
            return True
        deadline = time.monotonic() + timeout
        with self._moved:
            while min(self._positions.values()) < notification_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._moved.wait(remaining)
        return True

    # -- following ----------------------------------------------------------------------

    def start(self) -> None:
        """Follows the log in a background thread until `stop()`."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name="relance-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops following and waits for the current batch to finish."""
        self._stopping.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run(self) -> None:
        """Follows the log until stopped; after an error, starts again from the positions."""
        pause = 0.1
        while not self._stopping.is_set():
            try:
                self._follow()
                pause = 0.1
            except (OperationalError, InterfaceError) as error:  # the database is away
                log.warning("projection runner lost the database; retrying",
                            extra={"error": str(error)[:200], "pause_s": pause})
                self._cache.clear()
                self._stopping.wait(pause)
                pause = min(pause * 2, 2.0)
            except Exception:  # the runner must outlive anything else too
                log.exception("projection runner failed; restarting from stored positions")
                self._stopping.wait(pause)
                pause = min(pause * 2, 5.0)

    def _follow(self) -> None:
        self._reload_positions()
        start = min(self._positions.values())
        with self.files.recorder.subscribe(gt=start) as subscription:
            self._subscription = subscription
            if self._stopping.is_set():
                return
            while not self._stopping.is_set():
                try:
                    batch = subscription.next_batch()  # type: ignore[attr-defined]
                except StopIteration:
                    return
                self.process(batch)
                if len(batch) < LIVE_BATCH:  # caught up with the log
                    self._refresh_statistics()
                if 1 < len(batch) < LIVE_BATCH:  # facts come faster than one by one
                    self._stopping.wait(GATHER)

    def catch_up(self, progress: Progress | None = None, batch_size: int = 1000,
                 head: int | None = None) -> int:
        """Applies everything recorded so far, then returns the head it reached.

        While a batch is written, the next one is read and worked out: this thread sends
        a batch's rows (`ViewStore.begin_apply`: on PostgreSQL, copied into staging
        tables), and a thread of its own ends it (the rows merged into the read models,
        the commit: PostgreSQL's work, which this process only waits for). One batch is
        written at a time, in order. Sending the rows from the writing thread costs more:
        its Python work vies with this thread's for the interpreter, at each of a batch's
        thirty round trips. A third thread selects the next batch from the log while this
        one works out the last: the select's wait for PostgreSQL (4 µs a fact on the
        bench's log) is no longer this thread's.

        A batch whose connection the server ended (a pause of this process beyond the
        store's idle limit, a restart) was rolled back whole: it is applied again from
        the stored positions, a bounded number of times.

        With `head`, stops there exactly (the shares of a split catch-up all stop at the
        same fact)."""
        self._reload_positions()
        if head is None:
            head = self.files.recorder.max_notification_id() or 0
        retries, switching = 0, sys.getswitchinterval()
        sys.setswitchinterval(min(switching, SWITCH_INTERVAL))
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="relance-views") as writer, \
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix="relance-log") as reader:
                while True:
                    try:
                        self._catch_up_to(head, writer, reader, progress, batch_size)
                        break
                    except Exception as error:
                        if not connection_lost(error) or retries >= CATCH_UP_RETRIES:
                            raise
                        retries += 1
                        log.warning("catch-up lost its connection; applying the batch again",
                                    extra={"error": str(error)[:200], "retry": retries})
                        self._reload_positions()
        finally:
            sys.setswitchinterval(switching)
        self._refresh_statistics()
        return head

    def _catch_up_to(self, head: int, writer: ThreadPoolExecutor, reader: ThreadPoolExecutor,
                     progress: Progress | None, batch_size: int) -> None:
        planned = self.positions()
        start = min(planned.values())
        writing: Future[None] | None = None

        def read(after: int) -> Future[list[Notification]] | None:
            """The batch after `after`, selected by the reading thread meanwhile."""
            if after >= head:
                return None
            return reader.submit(self.files.recorder.select_notifications, start=after,
                                 limit=batch_size, stop=head, inclusive_of_start=False)

        reading = read(start)
        try:
            while reading is not None:
                batch = reading.result()
                if not batch:
                    break
                reading = read(batch[-1].id)
                writes = self._prepare(batch, planned, before_reading_views=lambda w=writing:
                                       w.result() if w is not None else None)
                for write in writes:
                    planned[self._named[write.projection]] = write.position
                if writing is not None:
                    writing.result()
                writing = writer.submit(self._commit, writes, self.views.begin_apply(writes)
                                        if writes else None)
                if progress:
                    progress(batch[-1].id, head)
            if writing is not None:
                writing.result()
        except BaseException:
            for pending in (reading, writing):
                if pending is not None:
                    pending.cancel()
                    wait([pending])
            self._cache.clear()
            raise

    def _refresh_statistics(self) -> None:
        """After a rebuild or a long catch-up, the database's statistics of the views'
        tables describe the empty tables they were: the worklist's queries would be
        planned for that. They are refreshed once the runner has caught up."""
        if self._unanalyzed >= REFRESH_AFTER:
            self.views.analyze([t for p in self.projections for t in p.tables])
            log.info("view statistics refreshed", extra={"facts": self._unanalyzed})
            self._unanalyzed = 0

    def process(self, batch: Sequence[Notification]) -> None:
        """Applies one batch of notifications to every projection that has not seen them."""
        if not batch:
            return
        try:
            self._commit(self._prepare(batch, self.positions()))
        except Exception:
            self._cache.clear()
            raise

    def _prepare(self, batch: Sequence[Notification], positions: dict[str, int],
                 before_reading_views: Callable[[], None] | None = None) -> list[Write]:
        """Each projection's changes for a batch, from `positions` on. A projection that
        plans anew reads the views: `before_reading_views` first waits for the batch
        being written, if any."""
        self._unanalyzed += len(batch)
        changes: dict[str, list[Change]] = {p.name: [] for p in self.projections}
        latest: dict[str, dict[UUID, tuple[Fact, Invoice]]] = {
            p.name: {} for p in self.projections if p.state_based}
        replanning: set[str] = set()

        def takers(behind: Sequence[Projection]) -> list[tuple[Callable[..., list[Change]],
                                                                dict | None, list[Change]]]:
            """Of these projections, those taking facts: how each takes a fact (its
            `changes`, and where a state-based one keeps a file's last fact, or where
            the changes go)."""
            return [(p.changes, latest.get(p.name), changes[p.name]) for p in behind
                    if getattr(p, "takes_facts", True)]

        every = takers(self.projections)  # a fact all projections are behind: catching up
        for event, behind in self._decoded(batch, positions):
            route = _route(type(event))
            if route == _FACT:
                taking = every if behind is self.projections else takers(behind)
                if not taking:
                    continue
                fact = cast(Fact, event)
                invoice = self._file_after(fact)
                for changes_of, kept, out in taking:
                    if kept is not None:  # state-based: only a file's last fact counts
                        kept.pop(invoice.id, None)
                        kept[invoice.id] = (fact, invoice)
                    else:
                        out.extend(changes_of(fact, invoice))
                continue
            if route == _PLAYBOOK:
                replanning.update(p.name for p in behind if hasattr(p, "replan"))
                continue
            if route is None:
                continue
            for projection in behind:
                takes = getattr(projection, route, None)
                if takes is not None:
                    changes[projection.name].extend(takes(event))
        if replanning and before_reading_views is not None:
            before_reading_views()
        for projection in self.projections:
            if projection.name in replanning:  # before this batch's rows, planned anew
                changes[projection.name][:0] = projection.replan(self.views.rows)  # type: ignore[attr-defined]
            for fact, invoice in latest.get(projection.name, {}).values():
                changes[projection.name].extend(projection.changes(fact, invoice))
        last = batch[-1].id
        return [Write(self._tracked[p.name], changes[p.name], last)
                for p in self.projections if last > positions[p.name]]

    def _decoded(self, batch: Sequence[Notification], positions: dict[str, int]
                 ) -> list[tuple[object, Sequence[Projection]]]:
        """The batch's events to apply, each with the projections behind it, decoded all
        before any is applied (the keys of the people they name read first, in one go).
        Decoding runs hot in the processor's caches when a thousand facts are decoded in
        a row: 13.6 µs a fact here, as in the bench's bare decoding, against 19.2 µs when
        each fact was decoded between the projections' work on the one before."""
        behind_all, ahead_all = min(positions.values()), max(positions.values())
        owned = self._owned  # of a split catch-up: another share's files are not decoded
        self.files.sealer.prefetch(n.state for n in batch if n.id > behind_all
                                   and owned.get(n.originator_id) is not False)
        decoded = []
        decode = self.files.mapper.to_domain_event
        for notification in batch:
            if notification.id > ahead_all:  # as when catching up: every projection
                behind: Sequence[Projection] = self.projections
            else:
                behind = [p for p in self.projections if notification.id > positions[p.name]]
                if not behind:
                    continue
            if owned.get(notification.originator_id) is False:
                continue
            event = decode(notification)
            if self.partition is not None and not self._mine(event):
                continue
            if _route(type(event)) == "debtor_changes" and type(event).__name__ == "PersonErased":
                self.files.forget_people()  # erased elsewhere: the next facts read anew
                forget_names()
            decoded.append((event, behind))
        return decoded

    def _mine(self, event: object) -> bool:
        """Whether this share applies `event` (see `Partition`)."""
        assert self.partition is not None
        if isinstance(event, Fact):
            owned = self._owned.get(event.originator_id)
            if owned is None:
                if isinstance(event, InvoiceRegistered):  # the registration names it
                    account = event.debtor.account
                else:  # a file registered before this catch-up's start
                    first = next(iter(self.files.events.get(event.originator_id, lte=1)))
                    account = first.debtor.account  # type: ignore[attr-defined]
                owned = self._owned[event.originator_id] = self.partition.owns(account)
            return owned
        if isinstance(event, DebtorRecord.Event):
            return self.partition.owns(event.account)  # type: ignore[attr-defined]
        if isinstance(event, Playbook.Event):
            # Every share plans with the playbook in force, read when first needed: what
            # planning anew on a change of it would reach. Planning anew here would read
            # the other shares' rows as they stand, behind or ahead of this fact.
            return False
        return self.partition.index == 0

    def _commit(self, writes: Sequence[Write], end: Callable[[], None] | None = None) -> None:
        """Writes a batch's changes and positions in one transaction (or ends the one
        `ViewStore.begin_apply` began for them), then tells those waiting for them."""
        if end is not None:
            end()
        elif writes:
            self.views.apply(writes)
        with self._moved:
            for write in writes:
                name = self._named[write.projection]
                self._positions[name] = max(self._positions[name], write.position)
            self._moved.notify_all()

    def _reload_positions(self) -> None:
        with self._moved:
            self._positions = {p.name: self.views.position(self._tracked[p.name])
                               for p in self.projections}
        self._cache.clear()
        for projection in self.projections:  # state kept beside the rows, as they stand
            if hasattr(projection, "load"):
                projection.load(self.views.rows)  # type: ignore[attr-defined]

    def _file_after(self, fact: Fact) -> Invoice:
        file_id = fact.originator_id
        invoice = self._cache.pop(file_id, None)
        if invoice is not None and invoice.version == fact.originator_version - 1:
            fact.mutate(invoice)
        elif fact.originator_version == 1:
            invoice = fact.mutate(None)  # type: ignore[assignment]
        else:
            invoice = None
            for earlier in self.files.events.get(file_id, lte=fact.originator_version):
                invoice = earlier.mutate(invoice)  # type: ignore[attr-defined]
        assert invoice is not None
        self._cache[file_id] = invoice
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return invoice
