"""The one function that builds relance from its settings; tests call it too."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from eventsourcing.persistence import InfrastructureFactory, IntegrityError
from eventsourcing.utils import Environment

from adapters.infra.accounts import Accounts
from adapters.infra.bearer import BearerTokens
from adapters.infra.blobs import BlobStore
from adapters.infra.calendar import FrenchCalendar
from adapters.infra.clock import utc_now
from adapters.infra.collector import tune_collector
from adapters.infra.coordination import Claims
from adapters.infra.documents import Creditor, Documents
from adapters.infra.outbox import Outbox, outbox_from_url
from adapters.infra.rates import load_law_rates
from adapters.infra.store import Store, parse_database_url, setting_up
from adapters.settings import Settings
from domain.engine import Clock
from domain.penalties import LawRates
from domain.service import CaseFiles
from domain.values import paris_day
from projections.case_view import Planning
from projections.catalog import all_projections
from projections.outage import replace_dead_connections_at_once
from projections.queries import Reads
from projections.runner import Follower
from projections.storage import PostgresViews, SQLiteViews, ViewStore

log = logging.getLogger("relance.bootstrap")


@dataclass
class Runtime:
    """A running relance: settings, store, the case files service and its read models."""

    settings: Settings
    store: Store
    files: CaseFiles
    clock: Clock
    views: ViewStore
    views_factory: InfrastructureFactory[ViewStore]
    follower: Follower
    law_rates: LawRates
    calendar: FrenchCalendar
    documents: Documents
    creditor: Creditor
    outbox: Outbox
    accounts: Accounts
    claims: Claims
    bearer_tokens: BearerTokens
    blobs: BlobStore
    """The documents' bytes, by their SHA-256 (facts name them by digest only)."""
    reads: Reads = field(init=False)
    following: bool = False

    def __post_init__(self) -> None:
        self.reads = Reads(self.views)

    def today(self) -> date:
        """Today in Paris, from the clock."""
        return paris_day(self.clock())

    def start_following(self) -> None:
        """Keeps the read models up to date from this process (embedded mode)."""
        self.follower.start()
        self.following = True

    def refresh_views(self) -> None:
        """Brings the read models up to date before a one-off read (command line)."""
        head = self.files.recorder.max_notification_id() or 0
        try:
            self.follower.catch_up()
        except IntegrityError:
            # Another runner applied the same batch first: its work is as good as ours.
            self.wait_for_views(head, timeout=5.0)

    def wait_for_views(self, notification_id: int | None, timeout: float = 2.0) -> bool:
        """Waits until the read models show a write; False if they are still catching up."""
        if notification_id is None:
            return True
        if self.following:
            return self.follower.wait_for(notification_id, timeout)
        deadline, pause = time.monotonic() + timeout, 0.005
        names = [p.name for p in self.follower.projections]
        while min(self.views.position(n) for n in names) < notification_id:
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return True

    def close(self) -> None:
        """Stops following and releases the database connections."""
        if self.following:
            self.follower.stop()
            self.following = False
        self.documents.close()
        self.views_factory.close()
        self.files.close()


def build_views(store: Store) -> tuple[ViewStore, InfrastructureFactory[ViewStore]]:
    """The view store in the events' own database (and the factory owning its connections)."""
    view_class = PostgresViews if store.is_postgres else SQLiteViews
    factory = InfrastructureFactory.construct(Environment("Views", store.env))
    return factory.tracking_recorder(view_class), factory  # type: ignore[type-var]


def _wording(files: CaseFiles, name: str) -> str | None:
    playbook = files.playbook()
    revision = playbook.template(name) if playbook else None
    return revision.text if revision else None


def bootstrap(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    """Checks the store, creates its tables on first use, and wires service and views
    (`setting_up`: one process at a time)."""
    tune_collector()
    store = parse_database_url(settings.database_url, settings.database_wait)
    with setting_up(store):
        return _bootstrap(settings, store, clock)


def _bootstrap(settings: Settings, store: Store, clock: Clock) -> Runtime:
    files = CaseFiles(store.env, clock=clock)
    views, views_factory = build_views(store)
    if store.is_postgres:
        for recorder in (files.recorder, views):
            replace_dead_connections_at_once(recorder.datastore.pool)  # type: ignore[attr-defined]
    calendar = FrenchCalendar()
    projections = all_projections(Planning(files.playbook, calendar))
    restarted = views.prepare(projections)
    if restarted:
        log.info("read models start from the first fact", extra={"projections": restarted})
    follower = Follower(files, views, projections)
    rates = load_law_rates(Path(settings.rates_dir) if settings.rates_dir else None)
    accounts = Accounts(views, clock, idle=timedelta(minutes=settings.session_idle_minutes),
                        absolute=timedelta(hours=settings.session_hours))
    return Runtime(settings=settings, store=store, files=files, clock=clock, views=views,
                   views_factory=views_factory, follower=follower, law_rates=rates,
                   calendar=calendar,
                   documents=Documents(Path(settings.templates_dir)
                                       if settings.templates_dir else None,
                                       wording=lambda name: _wording(files, name)),
                   creditor=Creditor(**settings.creditor),
                   outbox=outbox_from_url(settings.smtp_url),
                   accounts=accounts, claims=Claims(views, clock),
                   bearer_tokens=BearerTokens(accounts, settings.api_token,
                                              settings.api_token_file),
                   blobs=BlobStore(views, clock, postgres=store.is_postgres))
