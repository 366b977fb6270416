# ruff: noqa: N999 - named as the benchmark list names it; run with python -m bench.import
"""Bulk import speed on PostgreSQL, beside a raw COPY of the same rows in the same run.

Run: .venv/bin/python -m bench.import [--rows N]
Targets: importing invoices (validated, one file and one fact each, in batches) runs at
>= 0.05x the speed of a raw COPY of the same CSV rows into a plain table (on the way to
0.25x, reported beside it); the CPU an invoice costs (this process's and PostgreSQL's,
µs per invoice) is at most 40 µs, reported beside the raw COPY's, a ratio a busy machine
changes far less than the wall-clock one.

Beside them, the floors (`bench.floors`): eventsourcing making and mapping an event, the
log table alone, and each step an invoice cannot go without, done alone by its library
(reading the row, deriving the file's id, sealing the contact, the digest, the event),
together with the log table: the least an invoice costs on this machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import time
import uuid

import psycopg
from eventsourcing.utils import get_topic
from psycopg import sql

from adapters.usecases.importing import import_invoices
from bench.common import CpuMeter, baseline, bench_runtime, measure, result
from bench.floors import library_registration_us, log_table_us, necessary_invoice_us
from domain.facts import InvoiceRegistered

TARGET = 0.05
"""The import's speed against a raw COPY's, for now."""
GOAL = 0.25
"""Where it is headed: reported, not a target yet."""
TARGET_CPU_US = 40.0
HEADER = ["numero", "compte_client", "raison_sociale", "siren", "montant_ttc", "devise",
          "date_facture", "echeance", "commande", "contact", "email", "telephone"]


def make_csv(rows: int, seed: int = 11) -> bytes:
    """A French-style invoices file: ';' separated, amounts with commas, dd/mm/yyyy."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    for i in range(rows):
        cents = rng.randrange(8_000, 6_000_000)
        writer.writerow([f"BENCH-{i:08d}", f"411{i % 5000:05d}", f"Société {i % 5000}",
                         "", f"{cents // 100},{cents % 100:02d}", "EUR",
                         f"{1 + i % 28:02d}/09/2026", f"{1 + i % 28:02d}/10/2026",
                         f"BC-{i}", "Jean Dupont", "compta@example.fr", "01 02 03 04 05"])
    return out.getvalue().encode("utf-8")


def raw_copy(conninfo: str, schema: str, data: bytes) -> float:
    """Seconds to COPY the same rows into a plain table."""
    table = sql.Identifier(schema, "raw_invoices_" + uuid.uuid4().hex[:8])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")), delimiter=";"))[1:]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(
            table, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(h))
                                      for h in HEADER)))
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(
                sql.SQL("COPY {} FROM STDIN").format(table)) as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        conn.execute(sql.SQL("DROP TABLE {}").format(table))
    return elapsed


def stored_facts(runtime) -> list[tuple[object, ...]]:
    """The invoices' registrations the import stored, as the log holds them (id, version,
    topic, state)."""
    table = sql.Identifier(runtime.store.schema, runtime.files.recorder.events_table_name)
    with psycopg.connect(runtime.store.conninfo) as conn:
        return conn.execute(sql.SQL("SELECT originator_id, originator_version, topic, state "
                                    "FROM {} WHERE topic = %s ORDER BY notification_id"
                                    ).format(table), (get_topic(InvoiceRegistered),)
                            ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    data = make_csv(args.rows)
    with bench_runtime() as runtime:
        raw_meter = CpuMeter().start()
        raw = raw_copy(runtime.store.conninfo, runtime.store.schema, data)
        raw_meter.stop()
        meter = CpuMeter().start()
        started = time.perf_counter()
        report = import_invoices(runtime.files, data, "bench")
        ours = time.perf_counter() - started
        meter.stop()
        assert report.created == args.rows, report.rejected[:3]
        raw_again = raw_copy(runtime.store.conninfo, runtime.store.schema, data)
        floor_us = library_registration_us(runtime.files.mapper)
        steps = necessary_invoice_us(data)
        log_us = log_table_us(runtime.store.conninfo, runtime.store.schema,
                              stored_facts(runtime))
    raw_rate, our_rate = args.rows / min(raw, raw_again), args.rows / ours
    ratio = our_rate / raw_rate
    per = 1e6 / args.rows
    cpu_us, raw_cpu_us = meter.total * per, raw_meter.total * per
    print(f"{'measure':<34}{'invoices/s':>12}{'raw COPY/s':>13}{'ratio':>8}{'target':>10}")
    print(f"{'CSV import (validated, batched)':<34}{our_rate:>12,.0f}{raw_rate:>13,.0f}"
          f"{ratio:>8.3f}{'>= ' + str(TARGET):>10}   (headed for >= {GOAL})")
    print()
    print(f"{'CPU µs per invoice':<34}{'Python':>12}{'PostgreSQL':>13}{'total':>8}")
    print(f"{'import':<34}{meter.ours * per:>12.1f}{meter.database * per:>13.1f}"
          f"{cpu_us:>8.1f}")
    print(f"{'raw COPY':<34}{raw_meter.ours * per:>12.1f}{raw_meter.database * per:>13.1f}"
          f"{raw_cpu_us:>8.1f}")
    print(f"{'eventsourcing alone (event, map)':<34}{floor_us:>12.1f}{'-':>13}"
          f"{floor_us:>8.1f}")
    print(f"{'the log table alone (COPY)':<34}{log_us[0]:>12.1f}{log_us[1]:>13.1f}"
          f"{sum(log_us):>8.1f}")
    fixed = floor_us + sum(log_us)
    print(f"{'floor of the fixed parts (both)':<34}{floor_us + log_us[0]:>12.1f}"
          f"{log_us[1]:>13.1f}{fixed:>8.1f}   (target {TARGET_CPU_US:.0f})")
    print()
    print(f"{'the least an invoice costs here':<46}{'CPU µs':>8}   (each step alone)")
    for name, us in steps.items():
        print(f"{'  ' + name:<46}{us:>8.1f}")
    print(f"{'  the log table alone (COPY)':<46}{sum(log_us):>8.1f}")
    least = sum(steps.values()) + sum(log_us)
    print(f"{'  together':<46}{least:>8.1f}   (target {TARGET_CPU_US:.0f}; the import "
          f"{cpu_us:.1f})")
    print()
    print(baseline("import_vs_raw_copy", raw_rate, our_rate, "rows/s"))
    print(measure("import_cpu_vs_raw_copy", cpu_us, raw_cpu_us, "cpu_us/invoice"))
    print(measure("import_cpu_vs_eventsourcing_alone", cpu_us, floor_us, "cpu_us/invoice"))
    print(measure("import_cpu_vs_fixed_parts", cpu_us, fixed, "cpu_us/invoice"))
    print(measure("import_cpu_vs_necessary_steps", cpu_us, least, "cpu_us/invoice"))
    print(result("import_vs_raw_copy", ratio, f">={TARGET}", ratio >= TARGET))
    print(result("import_cpu_us_per_invoice", cpu_us, f"<={TARGET_CPU_US:.0f}",
                 cpu_us <= TARGET_CPU_US))


if __name__ == "__main__":
    main()
