"""Server time of the main pages on PostgreSQL under 8 concurrent clients.

Run: .venv/bin/python -m bench.pages [--files N]   (the issue's size: 100,000 files)
Target: p95 <= 50 ms for the worklist, a file, a debtor and the portfolio (filtered,
page 50). Baseline in the same run: /healthz through the same server. The server runs
as in production on this machine: `relance serve --workers <cores>`.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from adapters.accounts import Role
from bench.common import baseline, cached_dataset, children, result, rss_mib

TARGET_MS = 50.0
TARGET_RSS_MIB = 300.0
CLIENTS = 8
PASSWORD = "mot-de-passe-du-banc"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_ms(response: httpx.Response) -> float:
    timing = response.headers.get("server-timing", "app;dur=nan")
    return float(timing.split("dur=")[1])


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the web server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40, help="per client and page")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="web processes, as `relance serve --workers` (one per core)")
    args = parser.parse_args()
    with cached_dataset(args.files) as (runtime, numbers):
        head = runtime.files.recorder.max_notification_id()
        print(f"{args.files} files, {head} facts")
        if not any(user.login == "bench.agent" for user in runtime.accounts.users()):
            runtime.accounts.add("bench.agent", "Bench", Role.AGENT, PASSWORD)
        accounts = sorted({runtime.files.case(n).debtor.account for n in numbers[:50]})
        port = _free_port()
        env = {**os.environ, "RELANCE_DATABASE_URL": runtime.settings.database_url,
               "RELANCE_LOG_LEVEL": "WARNING", "RELANCE_LOG_FORMAT": "json"}
        server = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port),
             "--workers", str(args.workers)], env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base)
        rng = random.Random(5)
        pages = {
            "baseline /healthz": lambda: "/healthz",
            "worklist": lambda: "/journee?agent=bruno.petit",
            "file": lambda: f"/dossiers/{rng.choice(numbers)}",
            "debtor": lambda: f"/debiteurs/{rng.choice(accounts)}",
            "portfolio (filtered, page 50)": lambda: "/portefeuille?statut=paid&page=50",
        }
        timings: dict[str, list[float]] = {name: [] for name in pages}

        def client(name: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                http.post("/connexion", data={"login": "bench.agent", "password": PASSWORD})
                for _ in range(args.requests):
                    answer = http.get(pages[name]())
                    assert answer.status_code == 200, (name, answer.status_code)
                    timings[name].append(_server_ms(answer))

        for name in pages:  # one page at a time, 8 clients at once
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(client, [name] * CLIENTS))
        processes = children(server.pid)
        workers = [rss_mib(pid) for pid, cmd in processes if "spawn_main" in cmd]
        runner = [rss_mib(pid) for pid, cmd in processes if "projections" in cmd]
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{'page':<32}{'p50 ms':>9}{'p95 ms':>9}{'x baseline p95':>16}{'target':>10}")
    baseline_p95 = statistics.quantiles(timings["baseline /healthz"], n=20)[18]
    worst = 0.0
    for name, values in timings.items():
        p50, p95 = statistics.median(values), statistics.quantiles(values, n=20)[18]
        if not name.startswith("baseline"):
            worst = max(worst, p95)
        print(f"{name:<32}{p50:>9.1f}{p95:>9.1f}{p95 / baseline_p95:>16.1f}{'<= 50':>10}")
    rss = max(workers, default=0.0)
    print(f"\nweb worker RSS (MiB): {', '.join(f'{w:.0f}' for w in workers)}; projection "
          f"runner: {', '.join(f'{r:.0f}' for r in runner)}\n")
    print(baseline("pages_p95_ms", baseline_p95, worst, "ms"))
    print(result("pages_p95_ms", worst, f"<={TARGET_MS:.0f}", worst <= TARGET_MS))
    print(result("web_worker_rss_mib", rss, f"<={TARGET_RSS_MIB:.0f}", rss <= TARGET_RSS_MIB))


if __name__ == "__main__":
    main()
