"""The one function that builds relance from its settings; tests call it too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapters.clock import utc_now
from adapters.settings import Settings
from adapters.store import Store, check_store, parse_database_url
from domain.service import CaseFiles, Clock


@dataclass
class Runtime:
    """A running relance: its settings, its store and the case files service."""

    settings: Settings
    store: Store
    files: CaseFiles
    clock: Clock

    def today(self) -> date:
        """Today's date in UTC, from the clock."""
        return self.clock().date()

    def close(self) -> None:
        """Releases the database connections."""
        self.files.close()


def bootstrap(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    """Checks the store, creates its tables on first use, and wires the service."""
    store = parse_database_url(settings.database_url)
    check_store(store)
    files = CaseFiles(store.env, clock=clock)
    return Runtime(settings=settings, store=store, files=files, clock=clock)
