"""Server time of the main pages on PostgreSQL, at the issue's size.

Run: .venv/bin/python -m bench.pages [--files N] [--rate R]   (default 100,000 files)
8 logged-in clients ask for one page after the other (Ma journée debtor by debtor, for an
agent and for the whole team; a file, a debtor, the portfolio filtered at page 50), in two
rounds per page:

- paced (the target): each client asks every 8/R seconds, R pages/s in all (32 by
  default: each of 8 agents a page every 250 ms, many times what people click), each
  on its schedule whether or not the previous answer came late. Target: p95 <= 50 ms.
- flat out: each client asks again as soon as it is answered; reported, not a target
  (on 2 cores, 8 clients queue behind each other).

Each page is first asked 3 times by every client, untimed: a worker's first answer
reads and compiles what it keeps afterwards. Pages that sum over the whole portfolio
(the day's list, the portfolio) are remembered between two facts (`Reads.as_of_position`):
the rounds measure them between facts; what the first reader after a fact waits is
measured apart, in process (`worklist_after_a_fact_ms`, reported, not a target).

Baseline in the same run: /healthz through the same server. The server runs as in
production on this machine: `relance serve --workers <cores>`. Also: each web
worker's resident memory at the end (target <= 300 MiB).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import httpx

from adapters.bootstrap import Runtime
from adapters.infra.accounts import Role
from bench.common import (
    Round,
    baseline,
    cached_dataset,
    children,
    measure,
    quantile,
    result,
    rss_mib,
    run_clients,
    server_ms,
)
from projections.worklist import day_by_debtor
from tests.builders import free_port, wait_until_up
from tests.e2e.conftest import submit_login
from web.work import SHOWN

TARGET_MS = 50.0
TARGET_RSS_MIB = 300.0
CLIENTS = 8
PASSWORD = "mot-de-passe-du-banc"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40, help="per client, page and round")
    parser.add_argument("--rate", type=float, default=32.0, help="pages/s, paced round")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="web processes, as `relance serve --workers` (one per core)")
    args = parser.parse_args()
    with cached_dataset(args.files) as (runtime, numbers):
        head = runtime.files.recorder.max_notification_id()
        print(f"{args.files} files, {head} facts")
        if not any(user.login == "bench.agent" for user in runtime.accounts.users()):
            runtime.accounts.add("bench.agent", "Bench", Role.AGENT, PASSWORD)
        accounts = sorted({runtime.files.case(n).debtor.account for n in numbers[:50]})
        port = free_port()
        env = {**os.environ, "RELANCE_DATABASE_URL": runtime.settings.database_url,
               "RELANCE_LOG_LEVEL": "WARNING", "RELANCE_LOG_FORMAT": "json"}
        server = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port),
             "--workers", str(args.workers)], env=env, stderr=subprocess.DEVNULL)
        try:  # the server goes whatever happens: a left-over one would hold its connections
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, timeout=60)
            rng = random.Random(5)
            pages = {
                "baseline /healthz": lambda: "/healthz",
                "worklist by debtor, agent": lambda: "/journee?agent=bruno.petit",
                "worklist by debtor, team": lambda: "/journee?equipe=1",
                "file": lambda: f"/dossiers/{rng.choice(numbers)}",
                "debtor": lambda: f"/debiteurs/{rng.choice(accounts)}",
                "portfolio (filtered, page 50)": lambda: "/portefeuille?statut=paid&page=50",
                "search as one types":
                    lambda: f"/recherche/suggestions?q={rng.choice(numbers)[-5:]}",
            }
            sessions = [httpx.Client(base_url=base, timeout=60) for _ in range(CLIENTS)]
            for http in sessions:  # logging in hashes a password: not while timing
                assert submit_login(http, "bench.agent", PASSWORD).status_code == 303
            rounds: dict[str, tuple[Round, Round]] = {}
            for name, path in pages.items():  # one page at a time, 8 clients at once

                def ask(n: int, _: int, path: Callable[[], str] = path, name: str = name) -> float:
                    answer = sessions[n].get(path())
                    assert answer.status_code == 200, (name, answer.status_code)
                    return server_ms(answer.headers)

                run_clients(CLIENTS, 3, 0.0, ask)  # warm: each worker's first answer is untimed
                rounds[name] = (run_clients(CLIENTS, args.requests, CLIENTS / args.rate, ask),
                                run_clients(CLIENTS, args.requests, 0.0, ask))
            for http in sessions:
                http.close()
            after_fact = _uncached_day(runtime)
            processes = children(server.pid)
            workers = [rss_mib(pid) for pid, cmd in processes if "spawn_main" in cmd]
            runner = [rss_mib(pid) for pid, cmd in processes if "projections" in cmd]
        finally:
            server.terminate()
            server.wait(timeout=30)
    _table(args, rounds)
    healthz = rounds.pop("baseline /healthz")
    worst = max(quantile(paced.ms, 0.95) for paced, _ in rounds.values())
    worst_flat = max(quantile(flat.ms, 0.95) for _, flat in rounds.values())
    rss = max(workers, default=0.0)
    print(f"\nweb worker RSS (MiB): {', '.join(f'{w:.0f}' for w in workers)}; projection "
          f"runner: {', '.join(f'{r:.0f}' for r in runner)}\n")
    print(baseline("pages_p95_ms", quantile(healthz[0].ms, 0.95), worst, "ms"))
    print(measure("pages_flat_out_p95_ms", worst_flat, quantile(healthz[1].ms, 0.95), "ms"))
    wall, cpu = after_fact
    print(f"Ma journée computed anew (the first reader after a fact), in process: "
          f"p50 {statistics.median(wall):.1f} ms wall, {statistics.median(cpu):.1f} ms CPU")
    print(measure("worklist_after_a_fact_ms", statistics.median(wall),
                  statistics.median(rounds["worklist by debtor, agent"][0].ms), "ms"))
    print(result("pages_p95_ms", worst, f"<={TARGET_MS:.0f}", worst <= TARGET_MS))
    print(result("web_worker_rss_mib", rss, f"<={TARGET_RSS_MIB:.0f}", rss <= TARGET_RSS_MIB))


def _uncached_day(runtime: Runtime, times: int = 10) -> tuple[list[float], list[float]]:
    """Ma journée of one agent, computed without the memo of `as_of_position`, as after
    every fact: wall and CPU milliseconds of each computation."""
    playbook = runtime.files.open_playbook("relance")
    wall, cpu = [], []
    for _ in range(times):
        started, started_cpu = time.perf_counter(), time.process_time()
        day_by_debtor(runtime.reads, playbook, runtime.calendar, runtime.today(),
                      "bruno.petit", first=SHOWN)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def _table(args: argparse.Namespace, rounds: dict[str, tuple[Round, Round]]) -> None:
    print(f"\n{'server ms, 8 clients':<32}{'paced p50':>11}{'p95':>8}{'flat p50':>10}"
          f"{'p95':>8}{'flat per s':>12}{'target':>10}")
    for name, (paced, flat) in rounds.items():
        print(f"{name:<32}{statistics.median(paced.ms):>11.1f}{quantile(paced.ms, 0.95):>8.1f}"
              f"{statistics.median(flat.ms):>10.1f}{quantile(flat.ms, 0.95):>8.1f}"
              f"{flat.per_second:>12.0f}{'' if name.startswith('baseline') else '<= 50':>10}")
    print(f"(paced: {args.rate:.0f} pages/s in all)")


if __name__ == "__main__":
    main()
