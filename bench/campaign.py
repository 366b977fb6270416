"""The daily run at the issue's size, on PostgreSQL: planning, then sending, beside raw SMTP.

Run: .venv/bin/python -m bench.campaign [--files N]   (default 100,000 files)

The run records what it does (its messages, and a fact on every file it covers), so it
never runs on the shared demo dataset itself (`cached_dataset`, also measured by
bench.pages): it runs on a copy, made with pg_dump into a schema of its own (tens of
seconds at 100,000 files) and dropped at the end, whatever happens. Every run of the
script thus starts from the same portfolio, on the bench clock's day (2 November 2026).
A letter goes only to a postal address: the debtors of the day's letters that have none
in the copy (a dataset seeded before the demo gave addresses) get one before the run.

E-mails go to an SMTP sink (aiosmtpd) in a thread of this process that counts them.
Measured:
- **plan**: recording the day's messages (one per debtor and document), beside the raw
  read it starts from (every file the day may put on the worklist);
- **sending**, message by message (the time between two messages, from the second on):
  e-mails per second and CPU per e-mail, beside the **raw baseline** of the same run: as
  many e-mails of the same size sent with smtplib straight to the same sink, one
  connection each as relance's outbox does (target: >= 0.2 x raw, in messages per second
  and in CPU per message: raw CPU per e-mail / the run's, the figure a busy machine
  disturbs least); letters per second,
  beside rendering the same letter to PDF alone. CPU is this process's (the sink's thread
  included, PostgreSQL's not);
- **memory**: this process's RSS at every message; growth from the first 10 % of the
  messages to the end (target: <= 50 MiB: the run does not keep what it sent).
"""

from __future__ import annotations

import argparse
import os
import smtplib
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from psycopg import sql

from adapters.bootstrap import Runtime, bootstrap
from adapters.infra.pdf import html_to_pdf
from adapters.infra.store import parse_database_url
from adapters.settings import Settings
from adapters.usecases import campaign
from adapters.usecases.sending import postal_lines
from bench.common import BENCH_URL, BenchClock, baseline, cached_dataset, measure, result, rss_mib
from domain.dispatch import PRINTED, SENT, TO_SEND
from domain.values import Debtor
from tests.builders import free_port

RATIO = 0.2
"""The run's e-mails per second, at least this share of raw SMTP's."""
TARGET_GROWTH_MIB = 50.0


class Sink:
    """An SMTP handler that accepts and counts every message (and keeps the first)."""

    def __init__(self) -> None:
        self.count = 0
        self.first = b""

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
        self.count += 1
        if not self.first:
            self.first = bytes(envelope.content)
        return "250 OK"


@contextmanager
def sink() -> Iterator[tuple[Sink, int]]:
    """The counting SMTP sink on a free loopback port, in a thread."""
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@contextmanager
def working_copy(files: int) -> Iterator[str]:
    """The database URL of a fresh copy of the cached dataset of `files` files, dropped
    afterwards."""
    with cached_dataset(files) as (runtime, _):
        source = runtime.store.schema
    copy = f"bench_campaign_{uuid.uuid4().hex[:10]}"
    base = parse_database_url(BENCH_URL)
    started = time.perf_counter()
    # Schema names are ours (letters, digits, underscores): safe in the shell line.
    dump = subprocess.Popen(["pg_dump", "--no-owner", "--no-privileges", "--schema", source,
                             "--dbname", base.conninfo], stdout=subprocess.PIPE)
    rename = subprocess.Popen(["sed", f"s/\\b{source}\\b/{copy}/g"], stdin=dump.stdout,
                              stdout=subprocess.PIPE)
    assert dump.stdout is not None
    dump.stdout.close()
    try:
        subprocess.run(["psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname",
                        base.conninfo], stdin=rename.stdout, stdout=subprocess.DEVNULL,
                       check=True)
        if dump.wait() or rename.wait():
            raise RuntimeError("pg_dump of the cached dataset failed")
        print(f"working copy of {source} made in {time.perf_counter() - started:.0f} s "
              f"({copy})", flush=True)
        yield f"{BENCH_URL.split('?')[0]}?schema={copy}"
    finally:
        with psycopg.connect(base.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(copy)))


@dataclass
class Sending:
    """What the run's progress showed, message by message."""

    channels: list[str]
    wall: dict[str, list[float]] = field(default_factory=lambda: {"email": [], "letter": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"email": [], "letter": []})
    rss: list[float] = field(default_factory=list)
    last: tuple[float, float] | None = None

    def __call__(self, done: int, _total: int | None) -> None:
        now = (time.perf_counter(), time.process_time())
        if self.last is not None and done <= len(self.channels):
            channel = self.channels[done - 1]
            self.wall[channel].append(now[0] - self.last[0])
            self.cpu[channel].append(now[1] - self.last[1])
        self.last = now
        self.rss.append(rss_mib(os.getpid()))

    def per_second(self, channel: str) -> float:
        spent = sum(self.wall[channel])
        return len(self.wall[channel]) / spent if spent else 0.0

    def cpu_ms(self, channel: str) -> float:
        taken = self.cpu[channel]
        return 1000 * sum(taken) / len(taken) if taken else 0.0


def give_addresses(runtime: Runtime, rows: list[dict[str, Any]]) -> int:
    """A billing address for each debtor of the day's letters that has none; how many."""
    given = 0
    for row in rows:
        if row["channel"] == "letter" and not postal_lines(
                runtime, Debtor(row["account"], row["debtor_name"])):
            runtime.files.change_debtor_identity("bench", row["account"], changes={
                "billing_address": f"{1 + given % 120} rue du Commerce\n69003 LYON"})
            given += 1
    return given


def raw_smtp(port: int, sample: bytes, count: int) -> tuple[float, float]:
    """Seconds (wall, CPU) to send `count` copies of a message with smtplib, each with its
    own Message-ID and connection."""
    message = message_from_bytes(sample, policy=policy.default)
    assert isinstance(message, EmailMessage)
    started, started_cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        message.replace_header("Message-ID", make_msgid(domain="bench.local"))
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
    return time.perf_counter() - started, time.process_time() - started_cpu


def raw_pdf(runtime: Runtime, key: str, count: int = 10) -> float:
    """Seconds to render one planned letter to PDF, alone (the mean of `count`)."""
    document, _ = campaign.preview_message(runtime, key)
    assert document is not None
    started = time.perf_counter()
    for _ in range(count):
        html_to_pdf(document.html)
    return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    args = parser.parse_args()
    with working_copy(args.files) as url, sink() as (handler, port):
        runtime = bootstrap(Settings(database_url=url, smtp_url=f"smtp://127.0.0.1:{port}"),
                            clock=BenchClock())
        try:
            run(runtime, handler, port, args.files)
        finally:
            runtime.close()


def run(runtime: Runtime, handler: Sink, port: int, files: int) -> None:
    day = runtime.today()
    runtime.refresh_views()
    rss_start = rss_mib(os.getpid())
    started = time.perf_counter()
    candidates = runtime.reads.work_candidates(day, None, None)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    planned = campaign.plan(runtime, day)
    plan_s = time.perf_counter() - started
    runtime.refresh_views()
    rows = [r for r in runtime.reads.dispatches(day=day, limit=1_000_000)
            if r["state"] in TO_SEND]
    addressed = give_addresses(runtime, rows)
    letter = next((r["key"] for r in rows if r["channel"] == "letter"), None)
    pdf_s = raw_pdf(runtime, letter) if letter else 0.0
    progress = Sending([r["channel"] for r in rows])
    started, started_cpu = time.perf_counter(), time.process_time()
    report = campaign.run_campaign(runtime, day=day, progress=progress)
    run_s, run_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    emails, letters = report.count(SENT), report.count(PRINTED)
    assert handler.count == emails, (handler.count, emails)
    raw_s, raw_cpu = raw_smtp(port, handler.first, emails) if emails else (0.0, 0.0)

    raw_rate = emails / raw_s if raw_s else 0.0
    rate = progress.per_second("email")
    letter_rate = progress.per_second("letter")
    tenth = progress.rss[max(0, len(progress.rss) // 10 - 1)] if progress.rss else rss_start
    end = progress.rss[-1] if progress.rss else rss_start
    growth = end - tenth
    print(f"\n{files} files on {day:%d/%m/%Y}: {len(candidates)} files the day may put on "
          f"the worklist; {len(planned)} messages planned, {len(rows)} to send "
          f"(the others wait for a person; {addressed} debtors of letters given an address "
          f"first); states at the end: {report.counts}\n")
    print(f"{'':<34}{'count':>8}{'wall s':>10}{'per s':>10}{'CPU ms each':>13}")
    print(f"{'read the day (raw)':<34}{len(candidates):>8}{read_s:>10.2f}")
    print(f"{'plan (record the messages)':<34}{len(planned):>8}{plan_s:>10.2f}"
          f"{len(planned) / plan_s if plan_s else 0:>10.1f}")
    print(f"{'run (reconcile, plan, send, record)':<34}{len(rows):>8}{run_s:>10.2f}"
          f"{len(rows) / run_s if run_s else 0:>10.1f}{1000 * run_cpu / max(1, len(rows)):>13.1f}")
    print(f"{'  e-mails':<34}{emails:>8}{sum(progress.wall['email']):>10.2f}{rate:>10.1f}"
          f"{progress.cpu_ms('email'):>13.1f}")
    print(f"{'  letters (PDF kept to print)':<34}{letters:>8}"
          f"{sum(progress.wall['letter']):>10.2f}{letter_rate:>10.1f}"
          f"{progress.cpu_ms('letter'):>13.1f}")
    print(f"{'raw SMTP (smtplib, same sink)':<34}{emails:>8}{raw_s:>10.2f}{raw_rate:>10.1f}"
          f"{1000 * raw_cpu / max(1, emails):>13.1f}")
    print(f"{'raw PDF of one letter':<34}{'':>8}{pdf_s:>10.3f}"
          f"{1 / pdf_s if pdf_s else 0:>10.1f}")
    print(f"\nRSS (MiB): {rss_start:.0f} before, {tenth:.0f} after 10 % of the messages, "
          f"{end:.0f} at the end, {max(progress.rss, default=end):.0f} at most\n")
    print(baseline("campaign_messages_per_s", raw_rate, rate, "msg/s"))
    print(measure("campaign_letters_per_s", letter_rate, 1 / pdf_s if pdf_s else 0.0,
                  "letters/s"))
    print(measure("campaign_plan_s", plan_s, read_s, "s"))
    print(result("campaign_messages_per_s", rate, f">={RATIO}x_raw({RATIO * raw_rate:.0f})",
                 rate >= RATIO * raw_rate))
    raw_cpu_ms = 1000 * raw_cpu / max(1, emails)
    cpu_ratio = raw_cpu_ms / progress.cpu_ms("email") if progress.cpu_ms("email") else 0.0
    print(result("campaign_cpu_share_of_raw", cpu_ratio, f">={RATIO}",
                 cpu_ratio >= RATIO))
    print(result("campaign_rss_growth_mib", growth, f"<={TARGET_GROWTH_MIB:.0f}",
                 growth <= TARGET_GROWTH_MIB))


if __name__ == "__main__":
    main()
