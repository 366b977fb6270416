"""Command latency through the HTTP API, and read-your-writes lag, on PostgreSQL.

Run: .venv/bin/python -m bench.commands [--files N] [--commands C] [--flat F]
       [--rounds K] [--flat-files G] [--rate R]
16 clients post notes through `/api` to a server run as in production
(`relance serve --workers <cores>`), in two rounds:

- paced (the targets): each client sends a command every 16/R seconds, R commands/s
  in all (80 by default: each client one every 200 ms, 288,000 an hour, far more
  than a team of agents records), each on its schedule whether or not the previous
  answer came late. Targets: server
  time p50 <= 5 ms and p99 <= 25 ms; read-your-writes lag p99 <= 100 ms (from the
  answer to the moment the read models show the fact).
- paced again, with one core kept busy by a CPU burner the benchmark starts itself (a
  machine doing something else too): the same targets, reported on their own lines.
- flat out: each client sends its next command as soon as the last is answered, which
  measures how many commands per second the machine records; latency there is the
  queue (16 clients / throughput), reported, not a target. F commands per client (500:
  some seconds of work), K rounds (3), of which the median by CPU per command is
  reported: from one run to the next, this machine moved that figure by 20% or more.
  Each round has G files of its own (1,600), registered before it: five notes each,
  spread as over a portfolio. Rounds that all wrote to the same 160 files added 150
  notes a minute to each, and every round cost more than the one before (by windows
  of 8 s: the web processes 0.76 -> 1.2 ms per command, PostgreSQL 0.15 -> 0.30); on
  fresh files each window, the cost stayed flat.

Baseline in the same run, paced and flat out alike: a raw one-row insert
transaction, 16 threads.

Cost, flat out: the CPU seconds of the server's processes (`relance serve` and its
workers) per command, and PostgreSQL's, beside the same for the raw inserts (this
process's threads and PostgreSQL's per insert). Targets: flat out >= 0.1x the raw
inserts per second, and <= 1 ms of the server's CPU per command. Beside them, the floors
(`bench.floors`): a health probe through the same server, the same note posted to a
FastAPI app with nothing of relance (served the same way), and eventsourcing alone
(loading the aggregate, or keeping it in memory as relance keeps the files it decides
on: its save alone, a transaction of its own with the table lock, costs more than
relance's grouped write of a whole command, `adapters/infra/grouping.py`).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import httpx
import psycopg

from bench.common import (
    CpuMeter,
    LeanClient,
    Round,
    baseline,
    bench_runtime,
    children,
    cpu_burner,
    measure,
    quantile,
    result,
    run_clients,
    server_ms,
)
from bench.floors import framework_floor_ms, http_floor_ms, library_command_ms
from tests.builders import free_port, wait_until_up

CLIENTS = 16
TOKEN = "jeton-du-banc-0123456789"
TARGET_P50, TARGET_P99, TARGET_LAG = 5.0, 25.0, 100.0
TARGET_FLAT, TARGET_CPU_MS = 0.1, 1.0


def raw_inserts(conninfo: str, schema: str, per_client: int, interval: float,
                meter: CpuMeter | None = None) -> Round:
    """One-row insert transactions from 16 threads, each on its own connection; `meter`
    runs from the first insert to the last, while the connections' backends live."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{schema}".raw_rows '
                     "(id BIGSERIAL PRIMARY KEY, file TEXT, body BYTEA)")
    connections = [psycopg.connect(conninfo) for _ in range(CLIENTS)]

    def insert(n: int, i: int) -> float:
        started = time.perf_counter()
        with connections[n].transaction():
            connections[n].execute(f'INSERT INTO "{schema}".raw_rows (file, body) '
                                   "VALUES (%s, %s)", (f"F-{n}", b'{"text": "note %d"}' % i))
        return (time.perf_counter() - started) * 1000

    try:
        if meter is not None:
            meter.start()
        done = run_clients(CLIENTS, per_client, interval, insert)
        if meter is not None:
            meter.stop()
        return done
    finally:
        for conn in connections:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=160)
    parser.add_argument("--commands", type=int, default=100, help="per client, paced rounds")
    parser.add_argument("--flat", type=int, default=500, help="per client, flat-out round")
    parser.add_argument("--rounds", type=int, default=3, help="flat-out rounds (median)")
    parser.add_argument("--flat-files", type=int, default=1600,
                        help="files of each flat-out round, registered for it")
    parser.add_argument("--rate", type=float, default=80.0, help="commands/s, paced round")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    interval = CLIENTS / args.rate
    with bench_runtime() as runtime:
        store = runtime.store
        raw_paced = raw_inserts(store.conninfo, store.schema, args.commands, interval)
        raw_meter = CpuMeter()
        raw_flat = raw_inserts(store.conninfo, store.schema, args.flat, 0.0, raw_meter)
        port = free_port()
        env = {**os.environ, "RELANCE_DATABASE_URL": runtime.settings.database_url,
               "RELANCE_API_TOKEN": TOKEN, "RELANCE_LOG_LEVEL": "WARNING",
               "RELANCE_LOG_FORMAT": "json"}
        server = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port),
             "--workers", str(args.workers)], env=env, stderr=subprocess.DEVNULL)
        base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {TOKEN}"}
        try:
            wait_until_up(base, timeout=60)
            _register(base, auth, "CMD", args.files)
            paced, lags = _load(port, auth, args, runtime, interval)
            with cpu_burner():
                busy, busy_lags = _load(port, auth, args, runtime, interval)
            runner = {pid for pid, command in children(server.pid)
                      if "projections run" in command}
            rounds = []
            for n in range(args.rounds):
                _register(base, auth, f"F{n}", args.flat_files)
                meter, views = CpuMeter({server.pid}).start(), CpuMeter(runner).start()
                flat, _ = _load(port, auth, args, runtime, 0.0, watch_lag=False,
                                per_client=args.flat, files=(f"F{n}", args.flat_files))
                rounds.append((flat, meter.stop(), views.stop()))
            rounds.sort(key=lambda done: done[1].ours / len(done[0].ms))
            flat, meter, views = rounds[len(rounds) // 2]
            floors = (http_floor_ms(port, {server.pid}, CLIENTS, args.commands),
                      library_command_ms(runtime), library_command_ms(runtime, load=False))
        finally:
            server.terminate()
            server.wait(timeout=30)
        framework = framework_floor_ms(free_port(), args.workers, CLIENTS, args.flat)
    _report(args, raw_paced, raw_flat, paced, flat, lags)
    _busy(args, paced, busy, busy_lags)
    print("flat-out rounds, the server's CPU ms per command (the median is reported): "
          + ", ".join(f"{1000 * m.ours / len(f.ms):.3f}" for f, m, _ in rounds) + "\n")
    _cost(len(flat.ms), meter, views, len(raw_flat.ms), raw_meter,
          flat.per_second / raw_flat.per_second, (*floors, framework))


def _cost(commands: int, meter: CpuMeter, views: CpuMeter, inserts: int, raw: CpuMeter,
          ratio: float, floors: tuple[float, float, float, float]) -> None:
    """CPU per unit of work, flat out: the figures a busy machine changes least; beside
    them, the floors of the web stack and of eventsourcing (`bench.floors`). The server's
    share is split between its web processes (the request and the command) and its
    projection runner (the fact applied to the read models)."""
    http, library, kept, framework = floors
    ours, theirs = 1000 * meter.ours / commands, 1000 * raw.ours / inserts
    runner = 1000 * views.ours / commands
    print(f"{'CPU ms per unit, flat out':<46}{'relance':>12}{'PostgreSQL':>12}")
    print(f"{'command via HTTP (server processes)':<46}{ours:>12.3f}"
          f"{1000 * meter.database / commands:>12.3f}")
    if views.pids:  # with one web process, the projections run inside it
        print(f"{'  of which web processes':<46}{ours - runner:>12.3f}{'':>12}")
        print(f"{'  of which projection runner':<46}{runner:>12.3f}{'':>12}")
    print(f"{'one-row insert (client threads)':<46}{theirs:>12.3f}"
          f"{1000 * raw.database / inserts:>12.3f}")
    print(f"{'health probe via HTTP (server processes)':<46}{http:>12.3f}{'-':>12}")
    print(f"{'FastAPI alone: a note posted (server processes)':<46}{framework:>12.3f}"
          f"{'-':>12}")
    print(f"{'eventsourcing alone (load, event, save)':<46}{library:>12.3f}{'-':>12}")
    print(f"{'eventsourcing alone (kept, event, save)':<46}{kept:>12.3f}{'-':>12}\n")
    print(measure("command_cpu_ms_vs_raw_insert", ours, theirs, "cpu_ms/command"))
    if views.pids:
        print(measure("command_web_cpu_ms", ours - runner, theirs, "cpu_ms/command"))
        print(measure("command_projection_cpu_ms", runner, theirs, "cpu_ms/command"))
    print(measure("command_cpu_ms_vs_http_floor", ours, http, "cpu_ms/command"))
    print(measure("command_cpu_ms_vs_framework_alone", ours, framework, "cpu_ms/command"))
    print(measure("command_cpu_ms_vs_eventsourcing_alone", ours, library, "cpu_ms/command"))
    print(measure("command_cpu_ms_vs_eventsourcing_kept", ours, kept, "cpu_ms/command"))
    print(measure("command_database_cpu_ms", 1000 * meter.database / commands,
                  1000 * raw.database / inserts, "cpu_ms/command"))
    print(result("commands_flat_out_vs_raw_inserts", ratio, f">={TARGET_FLAT}",
                 ratio >= TARGET_FLAT))
    print(result("command_cpu_ms", ours, f"<={TARGET_CPU_MS:.0f}", ours <= TARGET_CPU_MS))


def _report(args: argparse.Namespace, raw_paced: Round, raw_flat: Round, paced: Round,
            flat: Round, lags: list[float]) -> None:
    p50, p99 = statistics.median(paced.ms), quantile(paced.ms, 0.99)
    b50, b99 = statistics.median(raw_paced.ms), quantile(raw_paced.ms, 0.99)
    f50, f99 = statistics.median(flat.ms), quantile(flat.ms, 0.99)
    lag99 = quantile(lags, 0.99)
    print(f"\n{'16 clients':<46}{'p50 ms':>9}{'p99 ms':>9}{'per s':>9}{'target':>14}")
    rows = (
        (f"paced, {args.rate:.0f}/s: one-row insert (baseline)", raw_paced, ""),
        (f"paced, {args.rate:.0f}/s: command via HTTP (server)", paced, "<= 5 / 25"),
        ("flat out: one-row insert (baseline)", raw_flat, ""),
        ("flat out: command via HTTP (server)", flat, ""),
    )
    for label, measured, target in rows:
        print(f"{label:<46}{statistics.median(measured.ms):>9.2f}"
              f"{quantile(measured.ms, 0.99):>9.2f}{measured.per_second:>9.0f}{target:>14}")
    print(f"{'read-your-writes lag (paced)':<46}{statistics.median(lags):>9.2f}{lag99:>9.2f}"
          f"{'':>9}{'p99 <= 100':>14}\n")
    print(baseline("command_http_p50_ms", b50, p50, "ms"))
    print(baseline("command_http_p99_ms", b99, p99, "ms"))
    print(measure("commands_flat_out_per_s", flat.per_second, raw_flat.per_second, "1/s"))
    print(measure("command_flat_out_p50_ms", f50, statistics.median(raw_flat.ms), "ms"))
    print(measure("command_flat_out_p99_ms", f99, quantile(raw_flat.ms, 0.99), "ms"))
    print(result("command_http_p50_ms", p50, f"<={TARGET_P50:.0f}", p50 <= TARGET_P50))
    print(result("command_http_p99_ms", p99, f"<={TARGET_P99:.0f}", p99 <= TARGET_P99))
    print(result("read_your_writes_lag_p99_ms", lag99, f"<={TARGET_LAG:.0f}",
                 lag99 <= TARGET_LAG))


def _busy(args: argparse.Namespace, paced: Round, busy: Round, lags: list[float]) -> None:
    """The paced round again while a process of the benchmark keeps one core busy."""
    p50, p99, lag99 = statistics.median(busy.ms), quantile(busy.ms, 0.99), quantile(lags, 0.99)
    print(f"{'paced, one core kept busy by a burner':<46}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'per s':>9}{'target':>14}")
    print(f"{'command via HTTP (server), ' + str(int(args.rate)) + '/s':<46}{p50:>9.2f}"
          f"{p99:>9.2f}{busy.per_second:>9.0f}{'<= 5 / 25':>14}")
    print(f"{'read-your-writes lag':<46}{statistics.median(lags):>9.2f}{lag99:>9.2f}"
          f"{'':>9}{'p99 <= 100':>14}\n")
    print(measure("command_http_p99_ms_busy_vs_idle", p99, quantile(paced.ms, 0.99), "ms"))
    print(result("command_http_p50_ms_one_core_busy", p50, f"<={TARGET_P50:.0f}",
                 p50 <= TARGET_P50))
    print(result("command_http_p99_ms_one_core_busy", p99, f"<={TARGET_P99:.0f}",
                 p99 <= TARGET_P99))
    print(result("read_your_writes_lag_p99_ms_one_core_busy", lag99, f"<={TARGET_LAG:.0f}",
                 lag99 <= TARGET_LAG))


def _register(base: str, auth: dict[str, str], prefix: str, files: int) -> None:
    """Registers `files` invoices numbered `prefix-00000`… of 40 debtors."""
    invoices = [{"number": f"{prefix}-{i:05d}", "debtor_account": f"411{prefix}{i % 40:03d}",
                 "debtor_name": f"Client {prefix} {i % 40}", "amount": "1000.00",
                 "issued_on": "2026-09-01", "due_on": "2026-10-01"} for i in range(files)]
    for start in range(0, files, 1000):
        assert httpx.post(base + "/api/invoices", json=invoices[start:start + 1000],
                          headers=auth, timeout=60).status_code == 200


def _load(port: int, auth: dict[str, str], args: argparse.Namespace, runtime,
          interval: float, watch_lag: bool = True, per_client: int | None = None,
          files: tuple[str, int] | None = None) -> tuple[Round, list[float]]:
    """Each client posts notes to its own files. Meanwhile, if `watch_lag`, the read
    models' position is polled every 5 ms (one query): each fact's lag runs from its
    answer to the first poll showing it. Returns the round (server times) and the lags,
    in milliseconds."""
    prefix, count = files or ("CMD", args.files)
    answered: list[tuple[int, float]] = []
    shown: list[tuple[float, int]] = []
    lock, done = threading.Lock(), threading.Event()
    clients = [LeanClient(port, auth) for _ in range(CLIENTS)]
    position = _position_query(runtime)

    def watch() -> None:
        with psycopg.connect(runtime.store.conninfo, autocommit=True) as conn:
            while not done.is_set():
                shown.append((time.monotonic(), position(conn)))
                time.sleep(0.005)

    def post(n: int, i: int) -> float:
        number = f"{prefix}-{(n + CLIENTS * i) % count:05d}"
        status, headers, body = clients[n].request("POST", f"/api/files/{number}/notes",
                                                   {"text": f"note {i}"})
        at = time.monotonic()
        assert status == 200, body
        with lock:
            answered.append((json.loads(body)["notification_id"], at))
        return server_ms(headers)

    watcher = threading.Thread(target=watch, daemon=True)
    if watch_lag:
        watcher.start()
    try:
        measured = run_clients(CLIENTS, per_client or args.commands, interval, post)
    finally:
        for client in clients:
            client.close()
    if not watch_lag:
        return measured, []
    deadline = time.monotonic() + 30
    head = max(position for position, _ in answered)
    while shown[-1][1] < head and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    watcher.join()
    return measured, _lags(answered, shown)


def _position_query(runtime):
    """The read models' common position (the least of their tracking positions), read
    with one query on the watcher's own connection."""
    names = [p.name for p in runtime.follower.projections]
    table = runtime.views.tracking_table()  # qualified by its schema
    query = (f"SELECT count(*), min(n) FROM (SELECT max(notification_id) AS n FROM {table} "
             "WHERE application_name = ANY(%s) GROUP BY application_name) AS t")

    def position(conn: psycopg.Connection) -> int:
        found, least = conn.execute(query, (names,)).fetchone()
        return least if found == len(names) else 0

    return position


def _lags(answered: list[tuple[int, float]], shown: list[tuple[float, int]]) -> list[float]:
    positions = [showing for _, showing in shown]  # never decreasing
    lags = []
    for position, at in answered:
        first = min(bisect.bisect_left(positions, position), len(shown) - 1)
        lags.append(max(0.0, shown[first][0] - at) * 1000)
    return lags


if __name__ == "__main__":
    main()
