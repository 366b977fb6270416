"""What the fixed parts of relance cost on their own, measured in the same run as relance:
the floor under a target that relance's own code cannot go below.

- `library_registration_us`: eventsourcing creating an aggregate whose first event carries
  an invoice's eleven fields, collecting it and mapping it to its stored form with
  relance's transcoder (no database, no validation, no digest): the least a registered
  invoice costs while each invoice is an eventsourcing aggregate.
- `library_command_ms`: eventsourcing loading a small aggregate from PostgreSQL, triggering
  one event and saving it (the table lock, the insert, the commit), through a plain
  `Application` on the bench database: the least a command costs in the library.
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

import importlib.util
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Mapper, Transcoder

from adapters.bootstrap import Runtime
from adapters.cli.serve import HTTP_PROTOCOL
from bench.common import CpuMeter, LeanClient, run_clients
from domain.sealing import Sealer
from domain.transcodings import value_transcodings
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


def _new(i: int) -> Floor:
    return Floor(f"FLOOR-{i:08d}", f"411{i % 5000:05d}", f"Société {i % 5000}",
                 Decimal("1234.56"), "EUR", date(2026, 9, 1), date(2026, 10, 1), f"BC-{i}",
                 "Jean Dupont", "compta@example.fr", "01 02 03 04 05")


def library_registration_us(mapper: Mapper, count: int = 20_000) -> float:
    """CPU µs for eventsourcing to create, collect and map one invoice-sized aggregate."""
    started = time.process_time()
    for i in range(count):
        for created in _new(i).collect_events():
            mapper.to_stored_event(created)
    return 1e6 * (time.process_time() - started) / count


class FloorApplication(Application):
    """A plain eventsourcing application, with the transcodings relance registers."""

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in value_transcodings(Sealer()):
            transcoder.register(transcoding)


def library_command_ms(runtime: Runtime, count: int = 1_000) -> float:
    """CPU ms for eventsourcing to load an aggregate from PostgreSQL, trigger an event and
    save it, in this process (PostgreSQL's share is not counted: relance's is reported
    apart too)."""
    env = {**runtime.store.env, "CREATE_TABLE": "y"}
    app = FloorApplication(env={k: v for k, v in env.items() if k.startswith(
        ("POSTGRES_", "PERSISTENCE_", "CREATE_"))})
    try:
        ids = []
        for i in range(50):
            aggregate = _new(i)
            app.save(aggregate)
            ids.append(aggregate.id)
        started = time.process_time()
        for i in range(count):
            aggregate = app.repository.get(ids[i % len(ids)])
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

