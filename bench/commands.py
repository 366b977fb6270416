"""Command latency through the HTTP API, and read-your-writes lag, on PostgreSQL.

Run: .venv/bin/python -m bench.commands [--files N] [--commands C]
16 clients post notes through `/api` to a server run as in production
(`relance serve --workers <cores>`). Targets: server time p50 <= 5 ms and p99 <= 25 ms;
read-your-writes lag p99 <= 100 ms (from the answer to the moment the read models
show the fact). Baseline in the same run: a raw one-row insert transaction, 16 threads.
"""

from __future__ import annotations

import argparse
import bisect
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg

from bench.common import baseline, bench_runtime, result
from bench.pages import _free_port, _server_ms, _wait_until_up

CLIENTS = 16
TOKEN = "jeton-du-banc-0123456789"
TARGET_P50, TARGET_P99, TARGET_LAG = 5.0, 25.0, 100.0


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def raw_inserts(conninfo: str, schema: str, per_client: int) -> list[float]:
    """Milliseconds of one-row insert transactions, 16 threads at once."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".raw_rows (id BIGSERIAL PRIMARY KEY, '
                     "file TEXT, body BYTEA)")
    timings: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with psycopg.connect(conninfo) as conn:
            for i in range(per_client):
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute(f'INSERT INTO "{schema}".raw_rows (file, body) VALUES (%s, %s)',
                                 (f"F-{n}", b'{"text": "note %d"}' % i))
                with lock:
                    timings.append((time.perf_counter() - started) * 1000)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=160)
    parser.add_argument("--commands", type=int, default=100, help="per client")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()
    with bench_runtime() as runtime:
        store = runtime.store
        raw = raw_inserts(store.conninfo, store.schema, args.commands)
        port = _free_port()
        env = {**os.environ, "RELANCE_DATABASE_URL": runtime.settings.database_url,
               "RELANCE_API_TOKEN": TOKEN, "RELANCE_LOG_LEVEL": "WARNING",
               "RELANCE_LOG_FORMAT": "json"}
        server = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port),
             "--workers", str(args.workers)], env=env, stderr=subprocess.DEVNULL)
        base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {TOKEN}"}
        try:
            _wait_until_up(base)
            invoices = [{"number": f"CMD-{i:05d}", "debtor_account": f"411C{i % 40:03d}",
                         "debtor_name": f"Client {i % 40}", "amount": "1000.00",
                         "issued_on": "2026-09-01", "due_on": "2026-10-01"}
                        for i in range(args.files)]
            assert httpx.post(base + "/api/invoices", json=invoices, headers=auth,
                              timeout=60).status_code == 200
            server_ms, lags = _load(base, auth, args, runtime)
        finally:
            server.terminate()
            server.wait(timeout=30)
    p50, p99 = statistics.median(server_ms), quantile(server_ms, 0.99)
    b50, b99 = statistics.median(raw), quantile(raw, 0.99)
    lag99 = quantile(lags, 0.99)
    print(f"\n{'16 clients':<42}{'p50 ms':>9}{'p99 ms':>9}{'x baseline p50':>16}{'target':>14}")
    print(f"{'baseline: one-row insert transaction':<42}{b50:>9.2f}{b99:>9.2f}{1:>16.1f}")
    print(f"{'command via HTTP (server time)':<42}{p50:>9.2f}{p99:>9.2f}{p50 / b50:>16.1f}"
          f"{'<= 5 / 25':>14}")
    print(f"{'read-your-writes lag':<42}{statistics.median(lags):>9.2f}{lag99:>9.2f}"
          f"{'':>16}{'p99 <= 100':>14}\n")
    print(baseline("command_http_p50_ms", b50, p50, "ms"))
    print(baseline("command_http_p99_ms", b99, p99, "ms"))
    print(result("command_http_p50_ms", p50, f"<={TARGET_P50:.0f}", p50 <= TARGET_P50))
    print(result("command_http_p99_ms", p99, f"<={TARGET_P99:.0f}", p99 <= TARGET_P99))
    print(result("read_your_writes_lag_p99_ms", lag99, f"<={TARGET_LAG:.0f}",
                 lag99 <= TARGET_LAG))


def _load(base: str, auth: dict[str, str], args: argparse.Namespace, runtime
          ) -> tuple[list[float], list[float]]:
    """Each client posts notes to its own files. Meanwhile the read models' position is
    polled every 2 ms: each fact's lag runs from its answer to the first poll showing it.
    Returns the server times and the lags, in milliseconds."""
    server_ms: list[float] = []
    answered: list[tuple[int, float]] = []
    shown: list[tuple[float, int]] = []
    lock, done = threading.Lock(), threading.Event()
    names = [p.name for p in runtime.follower.projections]

    def watch() -> None:
        while not done.is_set():
            shown.append((time.monotonic(), min(runtime.views.position(n) for n in names)))
            time.sleep(0.002)

    def client(n: int) -> None:
        with httpx.Client(base_url=base, headers=auth, timeout=30) as http:
            for i in range(args.commands):
                number = f"CMD-{(n + args.clients * i) % args.files:05d}"
                answer = http.post(f"/api/files/{number}/notes", json={"text": f"note {i}"})
                at = time.monotonic()
                assert answer.status_code == 200, answer.text
                with lock:
                    server_ms.append(_server_ms(answer))
                    answered.append((answer.json()["notification_id"], at))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client, range(args.clients)))
    deadline = time.monotonic() + 30
    head = max(position for position, _ in answered)
    while shown[-1][1] < head and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    watcher.join()
    return server_ms, _lags(answered, shown)


def _lags(answered: list[tuple[int, float]], shown: list[tuple[float, int]]) -> list[float]:
    positions = [showing for _, showing in shown]  # never decreasing
    lags = []
    for position, at in answered:
        first = min(bisect.bisect_left(positions, position), len(shown) - 1)
        lags.append(max(0.0, shown[first][0] - at) * 1000)
    return lags


if __name__ == "__main__":
    main()
