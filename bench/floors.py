"""What the fixed parts of relance cost on their own, measured in the same run as relance:
the floor under a target that relance's own code cannot go below.

- `library_registration_us`: eventsourcing making the first event of an aggregate, with
  an invoice's eleven fields, and mapping it to its stored form with relance's transcoder
  (no aggregate folded from it, as a bulk registration folds none; no database, no
  validation, no digest, no sealing): the least a registered invoice costs in Python
  while each invoice is an eventsourcing aggregate.
- `log_table_us`: PostgreSQL storing facts already encoded in a table of the event log's
  shape (its two indexes), by one binary COPY, nothing else: the least a fact costs the
  database.
- `library_command_ms`: eventsourcing loading a small aggregate from PostgreSQL, triggering
  one event and saving it (the table lock, the insert, the commit), through a plain
  `Application` on the bench database; with `load=False`, on an aggregate kept in
  memory, as relance keeps the files it decides on: a command in the library as it
  comes, one transaction per save (relance groups the saves of concurrent commands).
- `necessary_invoice_us`: each step a registered invoice cannot go without, done alone
  by the library that does it (reading its CSV row, deriving its file's id from its
  number, sealing its contact, the canonical JSON and SHA-256 of its digest, the
  eventsourcing event): with `log_table_us`, the least an invoice costs here whatever
  relance's own code does around them.
- `http_floor_ms`: the server's CPU per request to its health probe, flat out from the
  same clients (uvicorn, FastAPI, relance's middleware and the JSON answer; no
  authentication, no database, and answered on the event loop: a command's trip to the
  thread pool is not in it): the least any request costs in the web stack as it is.
- `framework_floor_ms`: the same for a command-shaped request to a FastAPI app with
  nothing of relance (`bench/floor_app.py`: a `def` route, a JSON body, a bearer token),
  served as relance serves: what the web stack alone costs a command.

Each is CPU time (`time.process_time`, or the server processes' CPU), not wall time.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Mapper, Transcoder
from eventsourcing.utils import get_topic
from psycopg import sql

from adapters.bootstrap import Runtime
from adapters.cli.serve import HTTP_PROTOCOL
from bench.common import CpuMeter, LeanClient, run_clients
from domain.chain import body_digest, canonical, canonical_json
from domain.invoice import invoice_id
from domain.sealing import Sealer
from domain.transcodings import ContactAsDict, value_transcodings
from domain.values import Contact
from tests.builders import wait_until_up


class Floor(Aggregate):
    """An aggregate with an invoice's fields and nothing of relance's rules."""

    @event("Registered")
    def __init__(self, number: str, account: str, name: str, amount: Decimal,
                 currency: str, issued_on: date, due_on: date, reference: str,
                 contact: str, email: str, phone: str) -> None:
        self.number, self.account, self.name = number, account, name
        self.amount, self.currency = amount, currency
        self.issued_on, self.due_on, self.reference = issued_on, due_on, reference
        self.contact, self.email, self.phone = contact, email, phone
        self.notes: list[str] = []

    @event("Noted")
    def note(self, text: str) -> None:
        self.notes.append(text)


def _fields(i: int) -> dict[str, Any]:
    return {"number": f"FLOOR-{i:08d}", "account": f"411{i % 5000:05d}",
            "name": f"Société {i % 5000}", "amount": Decimal("1234.56"), "currency": "EUR",
            "issued_on": date(2026, 9, 1), "due_on": date(2026, 10, 1), "reference": f"BC-{i}",
            "contact": "Jean Dupont", "email": "compta@example.fr", "phone": "01 02 03 04 05"}


def _new(i: int) -> Floor:
    return Floor(**_fields(i))


def library_registration_us(mapper: Mapper, count: int = 20_000) -> float:
    """CPU µs for eventsourcing to make and map the first event of an invoice-sized
    aggregate."""
    topic, now = get_topic(Floor), datetime.now(UTC)
    started = time.process_time()
    for i in range(count):
        mapper.to_stored_event(Floor.Registered(  # type: ignore[attr-defined]
            originator_topic=topic, originator_id=uuid4(), originator_version=1,
            timestamp=now, **_fields(i)))
    return 1e6 * (time.process_time() - started) / count


def necessary_invoice_us(data: bytes, count: int = 20_000) -> dict[str, float]:
    """CPU µs per invoice of each step a registration cannot go without, each done alone
    by its library on `count` invoices: the rows of the CSV file `data` read by `csv`,
    the file's id derived from its number (`uuid5`), the contact sealed under its
    debtor's key as a fact's is (`Contact.sealed_for`: a fresh salt, its commitment;
    `ContactAsDict.encode`: AES-GCM), a registration's canonical JSON
    and its SHA-256 (`chain.body_digest`), the eventsourcing event made."""
    text = data.decode("utf-8")
    sealing = ContactAsDict(Sealer())  # how a fact's contact is sealed (domain/stored.py)
    contact = Contact(name="Jean Dupont", phone="01 02 03 04 05", email="compta@example.fr")
    state = canonical({"number": "BENCH-00000001", "debtor": {"account": "41100001",
                                                             "name": "Société 1"},
                       "amount": Decimal("1234.56"), "currency": "EUR",
                       "issued_on": date(2026, 9, 1), "due_on": date(2026, 10, 1),
                       "po_reference": "BC-1", "billing_recipient": ["sub", "c" * 64],
                       "prev_hash": "0" * 64, "timestamp": datetime.now(UTC)})
    topic, now, file_id = get_topic(Floor), datetime.now(UTC), uuid4()
    fields = [_fields(i) for i in range(count)]
    derive = invoice_id.__wrapped__  # made anew, not taken from its cache

    def seal(i: int) -> None:
        sealing.encode(contact.sealed_for(f"subject-{i % 5000}"))

    steps: dict[str, Callable[[], object]] = {
        "CSV row read (csv)": lambda: list(csv.reader(io.StringIO(text), delimiter=";")),
        "file id from the number (uuid5)": lambda: [derive(f"BENCH-{i:08d}")
                                                    for i in range(count)],
        "contact sealed (salt, commitment, AES-GCM)": lambda: [seal(i) for i in range(count)],
        "digest (canonical JSON, SHA-256)": lambda: [body_digest(
            topic, file_id, 1, 1, canonical_json(state)) for _ in range(count)],
        "eventsourcing event made": lambda: [Floor.Registered(  # type: ignore[attr-defined]
            originator_topic=topic, originator_id=uuid4(), originator_version=1,
            timestamp=now, **one) for one in fields],
    }
    for i in range(5000):  # each debtor's key made before, as for debtors seen before
        seal(i)
    costs = {}
    for name, step in steps.items():
        started = time.process_time()
        step()
        costs[name] = 1e6 * (time.process_time() - started) / count
    return costs


def log_table_us(conninfo: str, schema: str, facts: list[tuple[Any, ...]]) -> tuple[float, float]:
    """CPU µs (this process's, PostgreSQL's) per fact to COPY stored facts (originator
    id, version, topic, state) into a new table of the event log's shape, under a lock of
    it, in one transaction; the table is dropped afterwards."""
    table = sql.Identifier(schema, "floor_log_" + uuid4().hex[:8])
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL(
            "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))").format(table))
        conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (notification_id)").format(table))
        try:
            meter = CpuMeter().start()
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
                with cursor.copy(sql.SQL("COPY {} (originator_id, originator_version, topic, "
                                         "state) FROM STDIN (FORMAT BINARY)").format(table)
                                 ) as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for fact in facts:
                        copy.write_row(fact)
            meter.stop()
        finally:
            conn.execute(sql.SQL("DROP TABLE {}").format(table))
    return 1e6 * meter.ours / len(facts), 1e6 * meter.database / len(facts)


class FloorApplication(Application):
    """A plain eventsourcing application, with the transcodings relance registers."""

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in value_transcodings(Sealer()):
            transcoder.register(transcoding)


def library_command_ms(runtime: Runtime, count: int = 1_000, *, load: bool = True) -> float:
    """CPU ms for eventsourcing to load an aggregate from PostgreSQL (or, without `load`,
    to take it as kept in memory), trigger an event and save it, in this process
    (PostgreSQL's share is not counted: relance's is reported apart too)."""
    env = {**runtime.store.env, "CREATE_TABLE": "y"}
    app = FloorApplication(env={k: v for k, v in env.items() if k.startswith(
        ("POSTGRES_", "PERSISTENCE_", "CREATE_"))})
    try:
        ids = []
        for i in range(50):
            aggregate = _new(i)
            app.save(aggregate)
            ids.append(aggregate.id)
        kept = {} if load else {aggregate_id: app.repository.get(aggregate_id)
                                for aggregate_id in ids}
        started = time.process_time()
        for i in range(count):
            aggregate_id = ids[i % len(ids)]
            aggregate = app.repository.get(aggregate_id) if load else kept[aggregate_id]
            aggregate.note(f"note {i}")
            app.save(aggregate)
        return 1e3 * (time.process_time() - started) / count
    finally:
        app.close()


def http_floor_ms(port: int, pids: set[int], clients: int, per_client: int) -> float:
    """The server's CPU ms per health probe, flat out from `clients` clients."""
    sessions = [LeanClient(port) for _ in range(clients)]

    def probe(n: int, _: int) -> float:
        assert sessions[n].request("GET", "/healthz")[0] == 200
        return 0.0

    meter = CpuMeter(pids).start()
    try:
        run_clients(clients, per_client, 0.0, probe)
    finally:
        meter.stop()
        for session in sessions:
            session.close()
    return 1e3 * meter.ours / (clients * per_client)


def framework_floor_ms(port: int, workers: int, clients: int, per_client: int) -> float:
    """The CPU ms per request of `bench.floor_app` served on `port` by uvicorn as relance
    serves (`adapters/cli/serve.py`), flat out from `clients` clients posting a note."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--port", str(port),
         "--workers", str(workers), "--loop", loop, "--http", HTTP_PROTOCOL, "--no-access-log",
         "--no-server-header", "--log-level", "warning"], stderr=subprocess.DEVNULL)
    sessions = [LeanClient(port, {"Authorization": "Bearer floor"}) for _ in range(clients)]

    def post(n: int, i: int) -> float:
        status = sessions[n].request("POST", f"/api/files/F-{n}/notes", {"text": f"note {i}"})[0]
        assert status == 200, status
        return 0.0

    try:
        wait_until_up(f"http://127.0.0.1:{port}", timeout=60)
        run_clients(clients, 20, 0.0, post)  # every worker up and warm
        meter = CpuMeter({server.pid}).start()
        run_clients(clients, per_client, 0.0, post)
        meter.stop()
    finally:
        for session in sessions:
            session.close()
        server.terminate()
        server.wait(timeout=30)
    return 1e3 * meter.ours / (clients * per_client)

