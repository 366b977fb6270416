"""Shared by the benchmark scripts: the bench database and a realistic log generator."""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg import sql

from adapters.bootstrap import Runtime, bootstrap
from adapters.infra.store import ensure_postgres_database, parse_database_url
from adapters.settings import Settings
from domain.invoice import Invoice
from domain.values import CallOutcome, Channel, Contact, Debtor, Money, PaymentMeans, Stamp

BENCH_URL = os.environ.get("RELANCE_BENCH_DATABASE_URL",
                           "postgresql://root@127.0.0.1:5432/relance_bench")


class BenchClock:
    """A fixed 'now' so that runs are comparable."""

    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def bench_runtime() -> Iterator[Runtime]:
    """relance on a fresh schema of the bench database, dropped afterwards."""
    base = parse_database_url(BENCH_URL)
    ensure_postgres_database(base)
    schema = "bench_" + uuid.uuid4().hex[:12]
    runtime = bootstrap(Settings(database_url=f"{BENCH_URL.split('?')[0]}?schema={schema}"),
                        clock=BenchClock())
    try:
        yield runtime
    finally:
        runtime.close()
        with psycopg.connect(base.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


DATASET_FORMAT = 5
"""Bumped whenever the demo seeder changes what it records, or how, so that a cached
dataset of an older seeder is not measured as if it were today's (4: debtors have
owners; 5: facts in the second stored form, `domain/stored.py`)."""


@contextmanager
def cached_dataset(files: int, seed: int = 3) -> Iterator[tuple[Runtime, list[str]]]:
    """The demo portfolio of `files` files, seeded once and kept between runs in its own
    schema of the bench database (seeding 100,000 files takes minutes)."""
    from adapters.usecases.demo import seed_portfolio

    base = parse_database_url(BENCH_URL)
    ensure_postgres_database(base)
    schema = f"dataset_demo_{files}_{seed}_v{DATASET_FORMAT}"
    url = f"{BENCH_URL.split('?')[0]}?schema={schema}"
    with psycopg.connect(base.conninfo, autocommit=True) as conn:
        ready = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name = 'dataset_ready'", (schema,)).fetchone()
        if not ready:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))
    runtime = bootstrap(Settings(database_url=url), clock=BenchClock())
    try:
        if not ready:
            started = datetime.now(UTC)
            numbers = seed_portfolio(runtime.files, files_count=files, seed=seed,
                                     today=runtime.today())
            runtime.follower.catch_up()
            with psycopg.connect(base.conninfo, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE TABLE {}.dataset_ready (numbers TEXT)").format(
                    sql.Identifier(schema)))
                conn.execute(sql.SQL("INSERT INTO {}.dataset_ready VALUES (%s)").format(
                    sql.Identifier(schema)), ("\n".join(numbers),))
            print(f"dataset: {files} files seeded in "
                  f"{(datetime.now(UTC) - started).total_seconds():.0f} s (kept in {schema})")
        else:
            runtime.follower.catch_up()
            with psycopg.connect(base.conninfo, autocommit=True) as conn:
                numbers = conn.execute(sql.SQL("SELECT numbers FROM {}.dataset_ready").format(
                    sql.Identifier(schema))).fetchone()[0].split("\n")
            print(f"dataset: {files} files from the cache ({schema})")
        yield runtime, numbers
    finally:
        runtime.close()


def record_portfolio(runtime: Runtime, n_files: int, seed: int = 7, chunk: int = 250) -> int:
    """Registers `n_files` invoices with about ten facts each, many files per transaction."""
    rng = random.Random(seed)
    now = BenchClock.now
    contact = Contact("Jean Dupont", "Comptable", "01 02 03 04 05", "jean@example.fr")
    recorded = 0
    for start in range(0, n_files, chunk):
        batch = []
        for i in range(start, min(start + chunk, n_files)):
            issued = date(2026, 1, 1) + timedelta(days=rng.randrange(220))
            at = datetime.combine(issued, datetime.min.time(), tzinfo=UTC)
            s = lambda days, a=at: Stamp("agent", min(a + timedelta(days=days), now), now)  # noqa: E731
            amount = Money(Decimal(rng.randrange(8000, 6_000_000)) / 100)
            invoice = Invoice.register(s(0), number=f"B-{i:07d}", debtor=Debtor(
                f"411{i % 5000:05d}", f"Société {i % 5000}"), amount=amount, issued_on=issued,
                due_on=issued + timedelta(days=30), billing_recipient=contact)
            invoice.assign(s(0), agent=f"agent{i % 7}")
            invoice.send_reminder(s(30), channel=Channel.EMAIL, level=1, recipient=contact.email)
            invoice.log_call(s(38), contact=contact, outcome=CallOutcome.REACHED,
                             summary="Paiement promis", callback_on=(at + timedelta(45)).date())
            invoice.promise_payment(s(38), promised_on=(at + timedelta(44)).date(),
                                    promised_by=contact)
            invoice.add_note(s(39), text="Confirmation envoyée par e-mail")
            invoice.send_reminder(s(50), channel=Channel.LETTER, level=2)
            invoice.log_call(s(55), contact=contact, outcome=CallOutcome.VOICEMAIL)
            if rng.random() < 0.6:
                invoice.receive_payment(s(60), amount=amount, received_on=(
                    at + timedelta(60)).date(), means=PaymentMeans.TRANSFER)
            else:
                invoice.send_formal_notice(s(60), registered_letter_number=f"1A{i:09d}",
                                           deadline_on=(at + timedelta(68)).date())
            invoice.add_note(s(61), text="Dossier revu")
            recorded += len(invoice.pending_events)
            batch.append(invoice)
        runtime.files.save(*batch)
    return recorded


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Round:
    """One round of clients: the milliseconds of each call, and the round's wall time."""

    ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.ms) / self.seconds


def run_clients(clients: int, per_client: int, interval: float,
                act: Callable[[int, int], float]) -> Round:
    """`clients` threads, each calling `act(client, i)` `per_client` times: every `interval`
    seconds on a fixed schedule (clients spread over the interval), or back to back when
    `interval` is 0. `act` returns the milliseconds to keep."""
    done, lock = Round(), threading.Lock()
    start = time.monotonic() + 0.2

    def client(n: int) -> None:
        offset = start + interval * n / clients
        time.sleep(max(0.0, offset - time.monotonic()))  # the round's time counts from start
        for i in range(per_client):
            if interval:
                time.sleep(max(0.0, offset + i * interval - time.monotonic()))
            ms = act(n, i)
            with lock:
                done.ms.append(ms)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    done.seconds = time.monotonic() - start
    return done


class LeanClient:
    """One kept-alive HTTP connection with the standard library's client: a benchmark's
    clients share the server's two cores, and a fuller client (httpx) spends about as
    much CPU per request as the server's whole command (measured here: 0.9 ms against
    0.2 ms), which the raw baselines' psycopg clients do not."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    def request(self, method: str, path: str, payload: object = None
                ) -> tuple[int, dict[str, str], bytes]:
        """The answer's status, headers (names in lower case) and body."""
        body = None if payload is None else json.dumps(payload)
        self.connection.request(method, path, body=body, headers=self.headers)
        answer = self.connection.getresponse()
        return (answer.status, {k.lower(): v for k, v in answer.getheaders()},
                answer.read())

    def close(self) -> None:
        self.connection.close()


def server_ms(headers: dict[str, str]) -> float:
    """The server's own time to its answer's first byte (its `Server-Timing` header)."""
    return float(headers.get("server-timing", "app;dur=nan").split("dur=")[1])


def baseline(name: str, raw: float, figure: float, unit: str) -> str:
    """The raw baseline of a result, from the same run, and the measure's own figure in
    the same unit (for the report's table)."""
    return f"BASELINE name={name} value={raw:.3f} figure={figure:.3f} unit={unit}"


def measure(name: str, figure: float, raw: float, unit: str) -> str:
    """A figure without a target, beside its raw baseline (shown in the report's table)."""
    return f"MEASURE name={name} value={raw:.3f} figure={figure:.3f} unit={unit}"


def result(name: str, value: float, target: str, ok: bool) -> str:
    """The closing line of a bench script, one per target."""
    return f"RESULT name={name} value={value:.3f} target={target} ok={str(ok).lower()}"


def rss_mib(pid: int) -> float:
    """A process's resident memory, in MiB (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[tuple[int, str]]:
    """The processes a process started, with their command lines (Linux)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            if parent == pid:
                with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                    found.append((int(entry), cmd.read().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            continue
    return found


TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[str, int, float]]:
    """Every live process, read once from /proc: its name, its parent, and its CPU
    seconds so far (user + system) (Linux)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                text = stat.read()
        except OSError:
            continue  # it ended meanwhile
        name, _, rest = text.partition(" (")[2].rpartition(")")
        fields = rest.split()
        found[int(entry)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def process_cpu(pids: set[int], table: dict[int, tuple[str, int, float]]) -> float:
    """CPU seconds so far of these processes and of all their live descendants."""
    total = 0.0
    for pid, (_, _, cpu) in table.items():
        walk = pid
        while walk and walk not in pids and walk in table:
            walk = table[walk][1]
        if walk in pids:
            total += cpu
    return total


def postgres_cpu(table: dict[int, tuple[str, int, float]]) -> float:
    """CPU seconds so far of the local PostgreSQL server's processes (its backends: the
    database's share of the work)."""
    return sum(cpu for name, _, cpu in table.values() if name == "postgres")


@dataclass
class CpuMeter:
    """CPU seconds spent between `start` and `stop`: by the watched processes (this one by
    default, with its threads; a server and its workers) and by PostgreSQL's."""

    pids: set[int] = field(default_factory=lambda: {os.getpid()})
    ours: float = 0.0
    database: float = 0.0

    def start(self) -> CpuMeter:
        table = processes()
        self._ours, self._db = process_cpu(self.pids, table), postgres_cpu(table)
        return self

    def stop(self) -> CpuMeter:
        table = processes()
        self.ours = process_cpu(self.pids, table) - self._ours
        self.database = postgres_cpu(table) - self._db
        return self

    @property
    def total(self) -> float:
        """Both together: what a unit of work costs the machine."""
        return self.ours + self.database


@contextmanager
def cpu_burner() -> Iterator[None]:
    """One core kept busy by a process of this benchmark's own for as long as the block
    runs: the load of a machine that does something else too."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        burner.kill()
        burner.wait(timeout=10)
