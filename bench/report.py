"""`make bench`: every benchmark script in turn, then one table of all their results.

Each script runs as its own process (its output is shown as it goes) against
PostgreSQL at RELANCE_BENCH_DATABASE_URL; the pages script uses the 100,000-file demo
dataset, seeded once and kept between runs. Each script prints `BASELINE` lines (its
raw baseline from the same run), `RESULT` lines (one per target) and `MEASURE` lines
(figures without a target, with their baseline); the report gathers them into one
table, then repeats every RESULT line.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

SCRIPTS = ("bench.import", "bench.commands", "bench.lock", "bench.projections",
           "bench.pages", "bench.export", "bench.campaign", "bench.inbox", "bench.sealing")
PAIR = re.compile(r"(\w+)=(\S+)")


def run(script: str, extra: list[str]) -> list[str]:
    """Runs one script, echoing its output; returns its lines."""
    print(f"\n=== {script} ===", flush=True)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", script, *extra], stdout=subprocess.PIPE,
                               text=True, bufsize=1)
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    code = process.wait()
    print(f"--- {script}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
    if code:
        lines.append(f"RESULT name={script}_ran value=0 target=exit_0 ok=false")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=list(SCRIPTS))
    args = parser.parse_args()
    results: list[dict[str, str]] = []
    baselines: dict[str, dict[str, str]] = {}
    for script in args.only:
        for line in run(script, []):
            if line.startswith(("RESULT ", "BASELINE ", "MEASURE ")):
                pairs = dict(PAIR.findall(line))
                if line.startswith("BASELINE"):
                    baselines[pairs["name"]] = pairs
                elif line.startswith("MEASURE"):
                    baselines[pairs["name"]] = pairs
                    results.append({"name": pairs["name"], "value": pairs["figure"],
                                    "target": "-", "ok": "-"})
                else:
                    results.append(pairs)
    print(f"\n{'measure':<34}{'figure':>12}{'baseline':>12}{'unit':>10}{'ratio':>8}"
          f"{'result':>11}{'target':>10}{'ok':>6}")
    for pairs in results:
        base = baselines.get(pairs["name"], {})
        figure, raw = base.get("figure", pairs["value"]), base.get("value", "")
        ratio = f"{float(figure) / float(raw):.2f}" if raw and float(raw) else ""
        print(f"{pairs['name']:<34}{float(figure):>12.1f}{raw:>12}{base.get('unit', ''):>10}"
              f"{ratio:>8}{float(pairs['value']):>11.3f}{pairs.get('target', ''):>10}"
              f"{pairs.get('ok', ''):>6}")
    print()
    for pairs in results:
        if pairs["ok"] == "-":
            continue
        print(f"RESULT name={pairs['name']} value={pairs['value']} "
              f"target={pairs.get('target', '')} ok={pairs.get('ok', '')}")


if __name__ == "__main__":
    main()
