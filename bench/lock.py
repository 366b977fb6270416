"""The ceiling the log's table lock puts on writes, on PostgreSQL.

Run: .venv/bin/python -m bench.lock [--clients N] [--writes W]
eventsourcing numbers facts in the order they commit by taking the events table's
EXCLUSIVE lock for each write transaction (a reader never skips a fact committed late
under a lower number). Writers therefore commit one at a time, however many web
processes and hosts there are: this measures how many write transactions per second
that allows here, flat out from `--clients` threads on their own connections:

- raw: a one-row insert transaction into a plain table, no lock (the baseline);
- locked: the same transaction after `LOCK TABLE ... IN EXCLUSIVE MODE`, as
  eventsourcing does (the ceiling of serialized writers, on this machine and disk);
- eventsourcing, alone: one fact saved by eventsourcing's own write, in its own
  transaction (six statements, pipelined: BEGIN, the lock's timeout, the lock, NOTIFY,
  INSERT, COMMIT);
- relance, alone: one fact saved through relance's recorder in its own transaction
  (lock, NOTIFY, insert, commit, as one statement calling a function), the write of one
  command without its decision and its HTTP, as before group commit;
- relance, grouped: the same through the recorder's group commit, the threads sharing
  one recorder as a web process's do: the facts saved while a transaction holds the
  lock are written together in the next one.

Beside each, the CPU seconds of this process and of PostgreSQL per write. No target:
the figures size a deployment (README « Plusieurs machines »).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable

import psycopg
from eventsourcing.persistence import StoredEvent

from bench.common import CpuMeter, Round, bench_runtime, measure, run_clients


def _plain(conninfo: str, schema: str, clients: int, writes: int,
           lock: bool) -> tuple[Round, CpuMeter]:
    table = f'"{schema}".lock_rows_{"locked" if lock else "free"}'
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, body BYTEA)")
    connections = [psycopg.connect(conninfo) for _ in range(clients)]

    def write(n: int, i: int) -> float:
        started = time.perf_counter()
        with connections[n].transaction():
            if lock:
                connections[n].execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            connections[n].execute(f"INSERT INTO {table} (body) VALUES (%s)",
                                   (b'{"text": "note %d"}' % i,))
        return (time.perf_counter() - started) * 1000

    try:
        return _flat_out(clients, writes, write)
    finally:
        for conn in connections:
            conn.close()


def _recorded(runtime, clients: int, writes: int, how: str  # type: ignore[no-untyped-def]
              ) -> tuple[Round, CpuMeter]:
    recorder = runtime.files.recorder
    insert = {"eventsourcing": recorder._insert, "alone": recorder._write,
              "relance": recorder.insert_events}[how]
    topic = "domain.facts:NoteAdded"

    def write(n: int, i: int) -> float:
        started = time.perf_counter()
        insert([StoredEvent(uuid.uuid4(), 1, topic, b'{"text": "note %d/%d"}' % (n, i))])
        return (time.perf_counter() - started) * 1000

    return _flat_out(clients, writes, write)


def _flat_out(clients: int, writes: int, write: Callable[[int, int], float]
              ) -> tuple[Round, CpuMeter]:
    """`writes` calls of `write` per client, back to back, with the CPU they cost."""
    meter = CpuMeter().start()
    try:
        return run_clients(clients, writes, 0.0, write), meter
    finally:
        meter.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--writes", type=int, default=300, help="per client and round")
    args = parser.parse_args()
    with bench_runtime() as runtime:
        store = runtime.store
        rounds = {
            "raw": _plain(store.conninfo, store.schema, args.clients, args.writes, lock=False),
            "locked": _plain(store.conninfo, store.schema, args.clients, args.writes, lock=True),
            **{how: _recorded(runtime, args.clients, args.writes, how)
               for how in ("eventsourcing", "alone", "relance")},
        }
        transactions = runtime.files.recorder.grouped.transactions
    labels = {"raw": "one-row insert, no lock (baseline)",
              "locked": "one-row insert under the table lock",
              "eventsourcing": "one fact per transaction, eventsourcing's",
              "alone": "one fact per transaction, relance's recorder",
              "relance": "one fact per call, grouped (relance)"}
    print(f"\n{args.clients} writers, flat out{'':<22}{'writes/s':>10}{'CPU ms/write':>14}"
          f"{'PostgreSQL':>12}")
    for key, (done, meter) in rounds.items():
        writes = len(done.ms)
        print(f"{labels[key]:<48}{done.per_second:>10,.0f}{1000 * meter.ours / writes:>14.3f}"
              f"{1000 * meter.database / writes:>12.3f}")
    raw, locked, alone, ours = (rounds[k][0].per_second
                                for k in ("raw", "locked", "alone", "relance"))
    calls = len(rounds["relance"][0].ms)
    print(f"grouped: {calls:,} facts in {transactions:,} transactions, "
          f"{calls / transactions:.1f} facts per transaction")
    print()
    print(measure("log_lock_ceiling_writes_per_s", locked, raw, "writes/s"))
    print(measure("log_lock_eventsourcing_alone_facts_per_s",
                  rounds["eventsourcing"][0].per_second, raw, "writes/s"))
    print(measure("log_lock_relance_alone_facts_per_s", alone, raw, "writes/s"))
    print(measure("log_lock_relance_facts_per_s", ours, raw, "writes/s"))
    print(measure("log_lock_grouped_vs_alone", ours / alone, 1.0, "ratio"))


if __name__ == "__main__":
    main()
