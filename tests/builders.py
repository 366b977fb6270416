"""Builders that keep tests short: a clock the test moves, and ready-made values."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.invoice import Invoice
from domain.service import CaseFiles
from domain.values import Contact, Debtor, Money, Stamp
from projections.schema import Projection
from projections.storage import ViewStore

ACME = Debtor(account="411ACME", name="ACME SARL", siren="732829320")
GLOBEX = Debtor(account="411GLOB", name="Globex SA")
JEAN = Contact(name="Jean Dupont", function="Comptable", phone="01 02 03 04 05",
               email="jean.dupont@acme.example")


@dataclass
class ManualClock:
    """A clock that stands still until the test moves it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Moves the clock forward and returns the new now."""
        self.now += timedelta(**delta)
        return self.now

    def today(self) -> date:
        """The clock's day."""
        return self.now.date()


def eur(text: str) -> Money:
    """An amount in euros from its text, e.g. eur('1500.00')."""
    return Money(Decimal(text))


def stamp(clock: ManualClock, actor: str = "alice", **ago: float) -> Stamp:
    """A stamp recorded now, for something that happened `ago` earlier."""
    return Stamp(actor, clock.now - timedelta(**ago), clock.now)


def register_kwargs(number: str = "FA-2026-0001", **overrides: object) -> dict[str, object]:
    """Everything needed to register a typical invoice of ACME."""
    values: dict[str, object] = dict(
        number=number,
        debtor=ACME,
        amount=eur("1500.00"),
        issued_on=date(2026, 9, 1),
        due_on=date(2026, 10, 1),
        po_reference="BC-778",
        billing_recipient=JEAN,
    )
    values.update(overrides)
    return values


def record_many(files: CaseFiles, clock: ManualClock, n_files: int, notes_per_file: int,
                chunk: int = 200) -> int:
    """Registers `n_files` invoices with notes, saving many files per transaction.

    Returns the number of facts recorded. Faster than one command per fact, for tests
    and benchmarks that need a large log.
    """
    recorded = 0
    for start in range(0, n_files, chunk):
        invoices = []
        for i in range(start, min(start + chunk, n_files)):
            invoice = Invoice.register(stamp(clock, days=30), **register_kwargs(
                f"BULK-{i:07d}", debtor=Debtor(f"411B{i % 97:03d}", f"Débiteur {i % 97}")))
            for n in range(notes_per_file):
                invoice.add_note(stamp(clock, days=1), text=f"Note {n} du dossier {i}")
            invoices.append(invoice)
            recorded += 1 + notes_per_file
        files.save(*invoices)
    return recorded


def dump_views(views: ViewStore, projections: list[Projection]) -> dict[str, list[dict]]:
    """Every row of every table of the projections, in key order: to compare two builds."""
    dumped = {}
    for projection in projections:
        for table in projection.tables:
            dumped[table.name] = views.rows(
                f"SELECT * FROM {{{table.name}}} ORDER BY {', '.join(table.key)}", {},
                table.columns)
    return dumped


def free_port() -> int:
    """A TCP port nobody listens on at this instant, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(base: str, timeout: float = 30.0) -> None:
    """Waits until a relance server answers its health check."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the relance server did not start")
