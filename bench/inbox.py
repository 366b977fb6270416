"""Reading the mailbox at the issue's size: 10,000 messages, beside a raw IMAP fetch.

Run: .venv/bin/python -m bench.inbox [--messages N] [--debtors D]   (default 10,000 / 1,000)

A portfolio of D debtors with two files each, each debtor sent one e-mail reminder with its
Message-ID (on PostgreSQL, a fresh schema of RELANCE_BENCH_DATABASE_URL, dropped at the
end); a Dovecot IMAP server on loopback (`tests.mailserver`) whose INBOX holds N messages
answering them, mixed as a mailbox is: 60 % replies in the thread of our reminder, 10 %
replies carrying only the reply token, 10 % from a known address without either, 10 %
automatic answers, 5 % hard bounces (RFC 3464), 5 % from strangers.

- **raw baseline**: every message's bytes fetched with imaplib, 500 per FETCH
  (`adapters.infra.inbox.fetch_all_raw`), nothing parsed or recorded;
- **processed**: `poll` until the mailbox has nothing unread: each message fetched,
  read, matched, its bytes kept and its facts recorded, then marked read. Messages per
  second (target >= 20: a backlog of 10,000 read in under ten minutes) and CPU per
  message (this process's; PostgreSQL's and Dovecot's not), beside the raw fetch's.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime

from adapters.bootstrap import Runtime
from adapters.infra.inbox import fetch_all_raw, inbox_from_url
from adapters.usecases.replies import poll
from bench.common import BenchClock, baseline, bench_runtime, measure, result
from domain.mail import reply_token
from domain.values import Channel, Contact, Debtor, Money
from tests.mailserver import Dovecot, start_dovecot

TARGET_PER_S = 20.0
REPLY_TO = "relance@creancier.example"
CHUNK = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--debtors", type=int, default=1_000)
    args = parser.parse_args()
    server = start_dovecot()
    try:
        with bench_runtime() as runtime:
            print(f"portfolio: {args.debtors} debtors, {2 * args.debtors} files ...", flush=True)
            ours = _portfolio(runtime, args.debtors)
            runtime.refresh_views()
            print(f"mailbox: {args.messages} messages ...", flush=True)
            _fill(server, ours, args.messages)
            url = server.url

            cpu, wall = time.process_time(), time.perf_counter()
            fetched = fetch_all_raw(url)
            raw_wall, raw_cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert fetched == args.messages, fetched

            inbox = inbox_from_url(url)
            taken = []
            cpu, wall = time.process_time(), time.perf_counter()
            while True:
                batch = poll(runtime, inbox, limit=CHUNK)
                if not batch:
                    break
                taken.extend(batch)
                print(f"  {len(taken)} / {args.messages}", flush=True)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            runtime.refresh_views()
            outcomes = {o: sum(1 for t in taken if t.outcome == o)
                        for o in ("recorded", "unattached", "known")}
    finally:
        server.stop()

    n = len(taken)
    per_s, raw_per_s = n / wall, fetched / raw_wall
    cpu_ms, raw_cpu_ms = cpu / n * 1000, raw_cpu / fetched * 1000
    print()
    print(f"{'measure':<34}{'relance':>12}{'raw fetch':>12}{'ratio':>9}")
    print(f"{'messages per second':<34}{per_s:>12.1f}{raw_per_s:>12.1f}"
          f"{per_s / raw_per_s:>9.3f}")
    print(f"{'CPU ms per message':<34}{cpu_ms:>12.2f}{raw_cpu_ms:>12.2f}"
          f"{cpu_ms / max(raw_cpu_ms, 1e-9):>9.1f}")
    print(f"{'wall seconds':<34}{wall:>12.1f}{raw_wall:>12.1f}")
    print(f"outcomes: {outcomes}")
    print()
    print(baseline("inbox_raw_fetch_per_s", raw_per_s, per_s, "messages/s"))
    print(measure("inbox_cpu_ms_per_message", cpu_ms, raw_cpu_ms, "ms"))
    print(result("inbox_messages_per_s", round(per_s, 1), f">={TARGET_PER_S:g}",
                 per_s >= TARGET_PER_S))


def _portfolio(runtime: Runtime, debtors: int) -> list[tuple[str, str, str]]:
    """Two files per debtor and one reminder e-mail to each: (account, address,
    Message-ID of the reminder)."""
    files = runtime.files
    day = runtime.today()
    ours = []
    for i in range(debtors):
        account, address = f"411B{i:05d}", f"compta@debiteur{i}.example"
        person = Contact(name=f"Compta {i}", email=address)
        numbers = [f"FB-{i:05d}-{j}" for j in (1, 2)]
        for number in numbers:
            files.register_invoice(
                "bench", number=number, debtor=Debtor(account=account, name=f"Débiteur {i}"),
                amount=Money(Decimal("1200.00")), issued_on=day.replace(day=1), due_on=day,
                billing_recipient=person)
        message_id = f"<relance.bench{i}@creancier.example>"
        files.send_reminder("relance", numbers, channel=Channel.EMAIL, level=1,
                            recipient=address, message_id=message_id)
        ours.append((account, address, message_id))
    return ours


def _fill(server: Dovecot, ours: list[tuple[str, str, str]], messages: int) -> None:
    """The INBOX, through one IMAP connection."""
    pick = random.Random(11)
    client = server.client()
    try:
        for n in range(messages):
            _, address, message_id = pick.choice(ours)
            share = n % 20
            raw = _message(n, share, address, message_id)
            status, data = client.append("INBOX", None, None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND refused: {data!r}")
    finally:
        client.logout()


def _message(n: int, share: int, address: str, ours: str) -> bytes:
    """One message of the mix (`share`: its place in 20)."""
    message = EmailMessage()
    message["Date"] = format_datetime(time_of(n))
    message["Message-ID"] = f"<m{n}@bench.example>"
    message["To"] = REPLY_TO
    text = ("Bonjour,\n\nLe règlement part cette semaine.\n\nCordialement\n\n"
            "Le lun. 2 nov. 2026 à 10:00, Créancier <relance@creancier.example> a écrit :\n"
            "> Madame, Monsieur,\n> sauf erreur de notre part, la facture reste due.\n")
    if share < 12:  # in the thread
        message["From"], message["Subject"] = address, "Re: Relance"
        message["In-Reply-To"] = message["References"] = ours
    elif share < 14:  # the reply token only
        message["From"], message["Subject"] = address, "Re: Relance"
        message.replace_header("To", f"relance+{reply_token(ours)}@creancier.example")
    elif share < 16:  # a known address only
        message["From"], message["Subject"] = address, "Nos factures"
    elif share < 18:  # an automatic answer
        message["From"], message["Subject"] = address, "Réponse automatique : absent"
        message["Auto-Submitted"] = "auto-replied"
        message["In-Reply-To"] = ours
        text = "Je suis absent jusqu'au 15 novembre."
    elif share < 19:  # a hard bounce
        return _bounce(n, address, ours)
    else:  # a stranger
        message["From"], message["Subject"] = f"contact{n}@ailleurs.example", "Offre"
        text = "Découvrez nos offres."
    message.set_content(text)
    return bytes(message)


def _bounce(n: int, address: str, ours: str) -> bytes:
    return (f"From: MAILER-DAEMON@mx.creancier.example\r\nTo: {REPLY_TO}\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {format_datetime(time_of(n))}\r\nMessage-ID: <dsn{n}@bench.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n"
            "Content-Type: text/plain\r\n\r\nNot delivered.\r\n--b\r\n"
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{address}>: User unknown\r\n\r\n--b\r\n"
            f"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ours}\r\n"
            f"To: {address}\r\n\r\n--b--\r\n").encode()


def time_of(n: int) -> datetime:
    """A message's Date: one a second from 07:00 on the bench's day."""
    return BenchClock.now.replace(hour=7) + timedelta(seconds=n)


if __name__ == "__main__":
    main()
