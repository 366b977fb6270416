"""Projection catch-up speed on PostgreSQL, beside a raw select + decode of the same events.

Run: .venv/bin/python -m bench.projections [--files N | --generated N] [--processes 1,2,4]
On the 100,000-file demo dataset by default (about 650,000 facts).
Target: catching up all read models runs at >= 0.3x the raw baseline (events/s).

Then the rebuild split across 1, 2 and 4 processes (`relance projections rebuild
--processus N`, each process a share of the debtors): facts per second and the scaling
against one process, with the CPU per fact of this process and its shares together
(PostgreSQL's not: the shares' server sessions end with them). Reported, not a target:
on a machine of C cores, more than C processes share them.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.bootstrap import Runtime
from adapters.usecases.rebuild import rebuild
from bench.common import (
    CpuMeter,
    baseline,
    bench_runtime,
    cached_dataset,
    measure,
    record_portfolio,
    result,
    rss_mib,
)

TARGET = 0.3
TARGET_GROWTH = 1.1
"""Rebuild memory is flat: RSS at the end within 10 % of RSS half-way."""
BATCH = 1000


def raw_select_and_decode(runtime, head: int) -> float:
    """Seconds to read every event in pages and decode it (the keys of the people named
    read once per page, as the catch-up does), nothing else."""
    recorder, mapper = runtime.files.recorder, runtime.files.mapper
    started, position = time.perf_counter(), 0
    while position < head:
        page = recorder.select_notifications(start=position, limit=500, inclusive_of_start=False)
        runtime.files.sealer.prefetch(n.state for n in page)  # each key read once, not per fact
        for notification in page:
            mapper.to_domain_event(notification)
        position = page[-1].id
    return time.perf_counter() - started


def catch_up(runtime, memory: list[tuple[float, float]] | None = None) -> float:
    """Seconds for the follower to rebuild every read model from zero; with `memory`, the
    process's RSS (MiB) is noted as the rebuild goes (share done, MiB)."""
    for projection in runtime.follower.projections:
        runtime.views.reset(projection)

    def note(done: int, head: int) -> None:
        if memory is not None:
            memory.append((done / head, rss_mib(os.getpid())))

    started = time.perf_counter()
    runtime.follower.catch_up(note, batch_size=BATCH)
    return time.perf_counter() - started


def split_rebuild(runtime: Runtime, processes: int) -> tuple[float, float]:
    """Seconds to rebuild every read model in `processes` processes, and the CPU seconds
    of this process and of its shares (children waited for) meanwhile."""
    before, started = os.times(), time.perf_counter()
    rebuild(runtime, processes=processes)
    wall, after = time.perf_counter() - started, os.times()
    cpu = sum(getattr(after, f) - getattr(before, f)
              for f in ("user", "system", "children_user", "children_system"))
    return wall, cpu


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[Runtime]:
    """The demo dataset (its read models are rebuilt, and left complete), or a generated log."""
    if args.generated:
        with bench_runtime() as runtime:
            started = time.perf_counter()
            events = record_portfolio(runtime, args.generated)
            print(f"recorded {events} events for {args.generated} files in "
                  f"{time.perf_counter() - started:.1f} s")
            yield runtime
    else:
        with cached_dataset(args.files) as (runtime, _):
            yield runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000,
                        help="the demo dataset of that many files (kept between runs)")
    parser.add_argument("--generated", type=int, default=0,
                        help="instead, a freshly generated log of that many files")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--processes", default="1,2,4",
                        help="the split rebuilds measured, by their number of processes "
                             "(empty: none)")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    with _store(args) as runtime:
        head = runtime.files.recorder.max_notification_id()
        raw, ours = [], []
        raw_cpu, our_cpu = CpuMeter(), CpuMeter()
        memory: list[tuple[float, float]] = []
        for _ in range(args.rounds):  # interleaved, best of each: the machine is noisy
            meter = CpuMeter().start()
            raw.append(raw_select_and_decode(runtime, head))
            meter.stop()
            raw_cpu.ours += meter.ours
            raw_cpu.database += meter.database
            meter = CpuMeter().start()
            ours.append(catch_up(runtime, memory if not ours else None))
            meter.stop()
            our_cpu.ours += meter.ours
            our_cpu.database += meter.database
        raw_rate, our_rate = head / min(raw), head / min(ours)
        ratio = our_rate / raw_rate
        per = 1e6 / (head * args.rounds)
        print()
        print(f"{'measure':<34}{'events/s':>12}{'baseline/s':>13}{'ratio':>8}{'target':>9}")
        print(f"{'projection catch-up':<34}{our_rate:>12,.0f}{raw_rate:>13,.0f}"
              f"{ratio:>8.2f}{'>= ' + str(TARGET):>9}")
        print(f"{'CPU µs per fact':<34}{'Python':>12}{'PostgreSQL':>13}")
        print(f"{'catch-up':<34}{our_cpu.ours * per:>12.1f}{our_cpu.database * per:>13.1f}")
        print(f"{'select + decode':<34}{raw_cpu.ours * per:>12.1f}"
              f"{raw_cpu.database * per:>13.1f}")
        half = memory[len(memory) // 2][1]  # half of the batches
        growth = memory[-1][1] / half
        print("rebuild RSS (MiB) by tenths: " + ", ".join(
            f"{mib:.0f}" for _, mib in memory[::max(1, len(memory) // 10)])
            + f"; end / half-way: {growth:.2f}")
        print()
        print(baseline("projection_catchup_vs_select_decode", raw_rate, our_rate, "events/s"))
        print(measure("projection_cpu_us_per_fact", our_cpu.total * per,
                      raw_cpu.total * per, "cpu_us/fact"))
        print(result("projection_catchup_vs_select_decode", ratio, f">={TARGET}",
                     ratio >= TARGET))
        print(result("rebuild_memory_growth", growth, f"<={TARGET_GROWTH}",
                     growth <= TARGET_GROWTH))
        if counts:
            _split_rounds(runtime, head, counts)


def _split_rounds(runtime: Runtime, head: int, counts: list[int]) -> None:
    """The rebuild split 1, 2, 4… ways: rates, scaling, CPU per fact."""
    print()
    print(f"split rebuild on {os.cpu_count()} cores")
    print(f"{'processes':<12}{'events/s':>12}{'vs 1':>8}{'CPU µs/fact':>14}")
    rates: dict[int, float] = {}
    for count in counts:
        wall, cpu = split_rebuild(runtime, count)
        rates[count] = head / wall
        first = rates[counts[0]]
        print(f"{count:<12}{rates[count]:>12,.0f}{rates[count] / first:>8.2f}"
              f"{cpu * 1e6 / head:>14.1f}", flush=True)
    print()
    for count in counts[1:]:
        print(measure(f"projection_split_{count}_processes", rates[count], rates[counts[0]],
                      "events/s"))


if __name__ == "__main__":
    main()
