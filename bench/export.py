"""Export speed and memory on PostgreSQL, beside raw reads of the same events.

Run: .venv/bin/python -m bench.export [--files N] [--facts F]
Targets: a file of 200 facts exports as JSON in <= 50 ms and as a PDF dossier in
<= 1.5 s; a portfolio JSON export streams in constant memory (the peak memory at the
end within 1.5x the peak once a fifth of the files are written). Baselines in the same run:
reading the same file's events (select + decode), and every event of the portfolio.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from adapters.infra.export_formats import Scope
from adapters.usecases.exporting import Request, export
from bench.common import baseline, bench_runtime, record_portfolio, result
from bench.projections import raw_select_and_decode
from domain.invoice import invoice_id
from domain.values import CallOutcome, Contact, Debtor, Money

TARGET_JSON_MS, TARGET_PDF_MS, TARGET_MEMORY_GROWTH = 50.0, 1500.0, 1.5
CONTACT = Contact("Jean Dupont", "Comptable", "01 02 03 04 05", "jean@example.fr")


def big_file(runtime, facts: int) -> str:
    """One file with `facts` facts: calls, notes, reminders."""
    files, number = runtime.files, "BIG-0001"
    today = runtime.today()
    files.register_invoice("bench", number=number, amount=Money(Decimal("125000.00")),
                           debtor=Debtor("411BIG", "Grand Compte SA", "732829320"),
                           issued_on=today - timedelta(days=400),
                           due_on=today - timedelta(days=340), billing_recipient=CONTACT)
    for i in range(facts - 1):
        if i % 2:
            files.log_call("bench", number, contact=CONTACT, outcome=CallOutcome.VOICEMAIL,
                           summary=f"Appel n° {i}, message laissé")
        else:
            files.add_note("bench", number, text=f"Note de suivi n° {i} : relance à prévoir")
    return number


def timed(action: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each run."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def read_file(runtime, number: str) -> None:
    """The raw baseline: the file's events selected and decoded, nothing else."""
    for stored in runtime.files.recorder.select_events(invoice_id(number)):
        runtime.files.mapper.to_domain_event(stored)


def stream(runtime, folder: Path, traced: bool = False
           ) -> tuple[float, int, int, list[tuple[int, int]]]:
    """A portfolio JSON export to a file: seconds, files, facts, and (traced) the peak
    memory reached after each tenth of the files."""
    total = runtime.reads.views.rows("SELECT COUNT(*) AS n FROM {case_view}", {}, {})[0]["n"]
    peaks: list[tuple[int, int]] = []

    def sample(done: int) -> None:
        if traced and done % max(1, total // 10) == 0:
            peaks.append((done, tracemalloc.get_traced_memory()[1]))

    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    with (folder / "portfolio.json").open("w", encoding="utf-8") as out:
        written = export(runtime, Request(Scope("portfolio"), "json", "bench"), out, sample)
    seconds = time.perf_counter() - started
    if traced:
        tracemalloc.stop()
    return seconds, written.files, written.facts, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--facts", type=int, default=200, help="facts of the big file")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with bench_runtime() as runtime, tempfile.TemporaryDirectory() as folder:
        number = big_file(runtime, args.facts)
        record_portfolio(runtime, args.files)
        runtime.refresh_views()
        one = Request(Scope("file", number), "json", "bench")
        export(runtime, Request(Scope("file", number), "pdf", "bench"), io.BytesIO())  # warm
        raw_times = timed(lambda: read_file(runtime, number), args.runs)
        as_json = timed(lambda: export(runtime, one, io.StringIO()), args.runs)
        as_pdf = timed(lambda: export(runtime, Request(Scope("file", number), "pdf", "bench"),
                                      io.BytesIO()), max(3, args.runs // 2))
        head = runtime.files.recorder.max_notification_id() or 0
        raw_seconds = raw_select_and_decode(runtime, head)
        seconds, n_files, n_facts, _ = stream(runtime, Path(folder))
        peaks = stream(runtime, Path(folder), traced=True)[3]
    json_ms, pdf_ms, base_ms = (statistics.median(t) for t in (as_json, as_pdf, raw_times))
    # Constant memory: the peak reached once a fifth of the files are out stays put.
    growth = peaks[-1][1] / peaks[1][1]
    print(f"\nfile of {args.facts} facts{'':<22}{'median ms':>10}{'x baseline':>12}{'target':>10}")
    print(f"{'baseline: select + decode':<40}{base_ms:>10.1f}{1:>12.1f}{'':>10}")
    print(f"{'JSON export':<40}{json_ms:>10.1f}{json_ms / base_ms:>12.1f}{'<= 50':>10}")
    print(f"{'PDF/A-3 dossier':<40}{pdf_ms:>10.1f}{pdf_ms / base_ms:>12.1f}{'<= 1500':>10}")
    rate, raw_rate = n_facts / seconds, head / raw_seconds
    print(f"\nportfolio JSON stream{'':<19}{'files':>8}{'facts':>9}{'facts/s':>10}"
          f"{'x baseline':>12}")
    print(f"{'baseline: select + decode all':<40}{'':>8}{head:>9}{raw_rate:>10.0f}{1:>12.2f}")
    print(f"{'JSON export of every file':<40}{n_files:>8}{n_facts:>9}{rate:>10.0f}"
          f"{rate / raw_rate:>12.2f}")
    print("peak traced memory (MiB) after each tenth of the files: "
          + ", ".join(f"{peak / 2**20:.1f}" for _, peak in peaks) + "\n")
    print(baseline("export_file_json_ms", base_ms, json_ms, "ms"))
    print(baseline("export_file_pdf_ms", base_ms, pdf_ms, "ms"))
    print(result("export_file_json_ms", json_ms, f"<={TARGET_JSON_MS:.0f}",
                 json_ms <= TARGET_JSON_MS))
    print(result("export_file_pdf_ms", pdf_ms, f"<={TARGET_PDF_MS:.0f}", pdf_ms <= TARGET_PDF_MS))
    print(result("export_stream_memory_growth", growth, f"<={TARGET_MEMORY_GROWTH}",
                 growth <= TARGET_MEMORY_GROWTH))


if __name__ == "__main__":
    main()
