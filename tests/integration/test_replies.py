"""What debtors answer comes back into the record: a reminder goes out through a real SMTP
server, the answers arrive in a real IMAP mailbox (Dovecot on loopback), and reading the
mailbox puts each one where the team looks — on both stores."""

from __future__ import annotations

import dataclasses
import mailbox
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from aiosmtpd.controller import Controller

from adapters.infra.inbox import inbox_from_url
from adapters.infra.outbox import SmtpOutbox
from adapters.usecases.campaign import plan
from adapters.usecases.campaign import send as campaign_send
from adapters.usecases.evidence import document_problems, walk
from adapters.usecases.replies import poll, take_in
from adapters.usecases.sending import send_by_email
from domain.dispatch import SENT, SKIPPED, dispatch_key
from domain.mail import UNATTACHED, reply_token
from domain.values import Contact, ReplyOutcome
from tests.builders import GLOBEX, free_port, register_kwargs
from tests.e2e.cli_runner import relance
from tests.integration.test_documents_store import RawBlobs

pytest_plugins = ["tests.mail_fixtures"]

REPLY_ADDRESS = "relance@creancier.example"


class Sink:
    """An SMTP server's handler that keeps what it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def sent(runtime):
    """Two files of ACME, and a first reminder of the first sent through a real SMTP server
    (with the reply address set): the message as the debtor received it."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    runtime.outbox = SmtpOutbox(f"smtp://127.0.0.1:{controller.port}", timeout=5)
    runtime.settings = dataclasses.replace(runtime.settings, reply_address=REPLY_ADDRESS)
    runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    assert send_by_email(runtime, "FA-2026-0001", "reminder_1", "bruno").ok
    controller.stop()
    runtime.refresh_views()
    (message,) = sink.messages
    return message


def _mail(sender: str, subject: str, text: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = headers.pop("to", REPLY_ADDRESS)
    message["Subject"] = subject
    message["Date"] = format_datetime(headers.pop("date"))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return bytes(message)


def _bounce(ours: str, now) -> bytes:
    """A delivery status notification (RFC 3464) returning our message to Jean: a hard
    failure."""
    return f"""From: MAILER-DAEMON@mx.creancier.example (Mail Delivery System)
To: {REPLY_ADDRESS}
Subject: Undelivered Mail Returned to Sender
Date: {format_datetime(now)}
Message-ID: <dsn.{ours.strip("<>")}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.creancier.example

Final-Recipient: rfc822; jean.dupont@acme.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <jean.dupont@acme.example>: User unknown

--b1
Content-Type: text/rfc822-headers

From: {REPLY_ADDRESS}
To: jean.dupont@acme.example
Message-ID: {ours}
Subject: Relance

--b1--
""".replace("\n", "\r\n").encode()


def _kinds(runtime, number: str) -> list[str]:
    return [e.kind for e in runtime.files.history(number)]


def test_each_answer_lands_where_the_team_looks(runtime, dovecot, sent):
    ours = sent["Message-ID"]
    assert sent["Reply-To"] == f"relance+{reply_token(ours)}@creancier.example"
    now = runtime.clock()
    threaded = _mail("Jean Dupont <jean.dupont@acme.example>", f"Re: {sent['Subject']}",
                     "Bonjour,\n\nLe virement part vendredi.\n\nJean\n\n"
                     "Le lun. 2 nov. 2026 à 10:00, Créancier <relance@creancier.example> a "
                     "écrit :\n> Madame, Monsieur,\n> sauf erreur de notre part…\n",
                     date=now, in_reply_to=ours, references=ours)
    colleague = _mail("Compta ACME <compta@acme.example>", "Facture FA-2026-0002",
                      "Nous avons bien reçu votre courrier, le règlement suit.", date=now)
    stranger = _mail("paul@ailleurs.example", "Proposition commerciale",
                     "Découvrez nos offres.", date=now)
    away = _mail("jean.dupont@acme.example", "Réponse automatique : absent",
                 "Je suis absent jusqu'au 10 novembre.", date=now, in_reply_to=ours,
                 auto_submitted="auto-replied")
    for raw in (threaded, colleague, stranger, away, _bounce(ours, now)):
        dovecot.append(raw)

    inbox = inbox_from_url(dovecot.url)
    taken = poll(runtime, inbox)
    runtime.refresh_views()

    assert [(t.outcome, t.kind, t.account) for t in taken] == [
        ("recorded", "reply", "411ACME"), ("recorded", "reply", "411ACME"),
        ("unattached", "reply", ""), ("recorded", "auto_reply", "411ACME"),
        ("recorded", "bounce", "411ACME")]
    # The threaded reply is on the file the reminder covered, its quoted history gone.
    replies = [e for e in runtime.files.history("FA-2026-0001") if e.kind == "ReplyReceived"]
    assert [(r.data["matched_by"], r.data["writer"].email) for r in replies] == [
        ("thread", "jean.dupont@acme.example"), ("sender", "compta@acme.example")]
    assert replies[0].data["text"] == "Bonjour,\n\nLe virement part vendredi.\n\nJean"
    kept = threaded.replace(b"\n", b"\r\n")  # as the mailbox keeps it
    assert runtime.blobs.get(replies[0].data["mail_sha256"]) == kept
    # The reminder claimed both invoices due (one letter per debtor): the threaded reply
    # is on both; the unthreaded one from the same company, on every open file.
    # Its owner sees them to handle; the daily run leaves ACME alone meanwhile.
    assert {(r["number"], r["sender"]) for r in runtime.reads.replies_waiting()} == {
        ("FA-2026-0001", "jean.dupont@acme.example"), ("FA-2026-0002", "jean.dupont@acme.example"),
        ("FA-2026-0001", "compta@acme.example"), ("FA-2026-0002", "compta@acme.example")}
    assert runtime.reads.accounts_with_replies() == {"411ACME"}
    # The stranger waits for a person.
    (unattached,) = runtime.reads.incoming(UNATTACHED)
    assert unattached["sender"] == "paul@ailleurs.example"
    # The out-of-office is kept, and is neither a reply to handle nor a contact.
    assert "AutoReplyReceived" in _kinds(runtime, "FA-2026-0001")
    assert len(runtime.reads.replies_waiting(accounts=["411ACME"])) == 4
    # The bounce: recorded on the file, the address to correct.
    failed = [e for e in runtime.files.history("FA-2026-0001") if e.kind == "DeliveryFailed"]
    assert failed[0].data["recipient"] == "jean.dupont@acme.example"
    assert "5.1.1" in failed[0].data["diagnostic"]
    assert [f["email"] for f in runtime.reads.failing_addresses("411ACME")] == [
        "jean.dupont@acme.example"]
    # Everything read is marked read in the mailbox: reading again finds nothing new.
    assert poll(runtime, inbox) == []

    # The same message fetched twice (delivered twice) is recorded once.
    dovecot.append(threaded)
    (again,) = poll(runtime, inbox)
    assert again.outcome == "known"
    assert _kinds(runtime, "FA-2026-0001").count("ReplyReceived") == 2


def test_the_daily_run_waits_until_a_person_handled_the_reply(runtime, clock, dovecot):
    due_on = runtime.today() + timedelta(days=9)  # its « relance préventive » on a Friday
    for number in ("FA-2026-0001", "FA-2026-0002"):
        runtime.files.register_invoice("alice", **register_kwargs(
            number, issued_on=due_on - timedelta(days=30), due_on=due_on))
    runtime.refresh_views()
    dovecot.append(_mail("jean.dupont@acme.example", "Vos factures", "Je conteste la "
                         "facture FA-2026-0001.", date=clock()))
    poll(runtime, inbox_from_url(dovecot.url))
    clock.advance(days=4)  # that Friday: past the gap the reply (a contact) set
    runtime.refresh_views()
    day = runtime.today()
    assert plan(runtime, day) == []

    for waiting in runtime.reads.replies_waiting():
        runtime.files.handle_reply("alice", waiting["number"],
                                   reply_version=waiting["version"],
                                   outcome=ReplyOutcome.DISPUTE, details="palette abîmée")
    runtime.refresh_views()
    assert runtime.reads.accounts_with_replies() == set()
    assert plan(runtime, day) == [dispatch_key(day, "411ACME", "pre_due")]


def test_a_reply_read_after_planning_holds_its_debtors_message_and_no_other(
        runtime, clock, dovecot):
    due_on = runtime.today() + timedelta(days=9)
    runtime.files.register_invoice("alice", **register_kwargs(
        "FA-2026-0001", issued_on=due_on - timedelta(days=30), due_on=due_on))
    runtime.files.register_invoice("alice", **register_kwargs(
        "FA-2026-0002", debtor=GLOBEX, issued_on=due_on - timedelta(days=30), due_on=due_on,
        billing_recipient=Contact(name="Marie Lenoir", email="marie.lenoir@globex.example")))
    written = clock()  # a reply ACME writes now, that relance reads only after planning
    clock.advance(days=4)  # the Friday of their « relance préventive »
    runtime.refresh_views()
    day = runtime.today()
    acme, globex = dispatch_key(day, "411ACME", "pre_due"), dispatch_key(day, "411GLOB", "pre_due")
    assert sorted(plan(runtime, day)) == sorted([acme, globex])
    dovecot.append(_mail("jean.dupont@acme.example", "Vos factures", "Je conteste la "
                         "facture FA-2026-0001.", date=written))
    poll(runtime, inbox_from_url(dovecot.url))
    runtime.refresh_views()

    assert campaign_send(runtime, acme) == SKIPPED
    assert campaign_send(runtime, globex) == SENT
    runtime.refresh_views()
    reasons = {d["key"]: d["reason"] for d in runtime.reads.dispatches(day=day)}
    assert "réponse du débiteur à traiter" in reasons[acme]


def test_the_daily_run_writes_no_more_to_an_address_that_bounced(runtime, clock, dovecot):
    due_on = runtime.today() + timedelta(days=9)
    runtime.files.register_invoice("alice", **register_kwargs(
        "FA-2026-0001", issued_on=due_on - timedelta(days=30), due_on=due_on))
    runtime.refresh_views()
    dovecot.append(_bounce("<ailleurs.1@creancier.example>", clock()))
    (taken,) = poll(runtime, inbox_from_url(dovecot.url))
    assert (taken.kind, taken.account) == ("bounce", "411ACME")  # by the failed address
    clock.advance(days=4)
    runtime.refresh_views()
    (key,) = plan(runtime, runtime.today())
    assert campaign_send(runtime, key) == SKIPPED
    runtime.refresh_views()
    (row,) = [d for d in runtime.reads.dispatches(day=runtime.today()) if d["key"] == key]
    assert "jean.dupont@acme.example en échec" in row["reason"]
    assert "5.1.1" in row["reason"]


def test_hostile_messages_are_recorded_without_stopping_the_reading(runtime, dovecot, sent):
    now = runtime.clock()
    malformed = (b"From: jean.dupont@acme.example\r\nSubject: =?utf-8?b?broken\r\n"
                 b"Content-Type: multipart/mixed; boundary=\"x\"\r\nMessage-ID: <m1@acme>\r\n"
                 b"\r\n--x\r\nContent-Type: text/plain; charset=unknown-8bit\r\n\r\n"
                 b"\xff\xfe r\xe9ponse\r\n--x")  # never closed
    html = EmailMessage()
    html["From"] = "jean.dupont@acme.example"
    html["To"] = REPLY_ADDRESS
    html["Subject"] = "Paiement"
    html["Date"] = format_datetime(now)
    html["Message-ID"] = "<h1@acme.example>"
    html.set_content("<html><head><script>alert('x')</script></head><body>"
                     "<p onclick=\"steal()\">Paiement <b>demain</b>.</p>"
                     "<img src=\"http://127.0.0.1:9/pixel.png\"></body></html>", subtype="html")
    huge = _mail("jean.dupont@acme.example", "Pièces", "Voir les pièces.", date=now)
    huge = huge.replace(b"Voir les pi", b"X" * (30 * 1024 * 1024) + b"\nVoir les pi", 1)
    for raw in (malformed, bytes(html), huge):
        dovecot.append(raw)

    taken = poll(runtime, inbox_from_url(dovecot.url))
    runtime.refresh_views()

    assert [t.outcome for t in taken] == ["recorded", "recorded", "recorded"]
    texts = [e.data["text"] for e in runtime.files.history("FA-2026-0001")
             if e.kind == "ReplyReceived"]
    assert "Paiement demain." in texts[1]
    assert "alert" not in texts[1]
    assert "steal" not in texts[1]
    (oversized,) = [m for m in runtime.reads.incoming() if m["size"] > 30 * 1024 * 1024]
    assert oversized["problems"]
    assert oversized["account"] == "411ACME"


def test_verify_names_a_message_changed_behind_relance(runtime, dovecot, sent, store_url):
    dovecot.append(_mail("jean.dupont@acme.example", "Re: relance", "Réglé hier.",
                         date=runtime.clock(), in_reply_to=sent["Message-ID"]))
    poll(runtime, inbox_from_url(dovecot.url))
    assert document_problems(runtime.blobs, walk(runtime.files)[0]) == []
    assert relance(store_url, "verify").returncode == 0

    (reply,) = [e for e in runtime.files.history("FA-2026-0001") if e.kind == "ReplyReceived"]
    raw = RawBlobs(runtime)
    try:
        raw.replace(reply.data["mail_sha256"], b"From: jean.dupont@acme.example\r\n\r\nAutre")
    finally:
        raw.conn.close()
    problems = document_problems(runtime.blobs, walk(runtime.files)[0])
    assert {(p.number, p.kind) for p in problems} == {
        ("FA-2026-0001", "ReplyReceived"), ("FA-2026-0002", "ReplyReceived")}
    told = relance(store_url, "verify")
    assert told.returncode == 1
    assert "Réponse du débiteur" in " ".join(told.stderr.split())


def test_a_maildir_delivery_with_an_empty_file_and_a_huge_one_goes_on(runtime, tmp_path):
    runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    runtime.refresh_views()
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    folder.add(b"")  # a delivery agent that wrote nothing
    reply = _mail("jean.dupont@acme.example", "Facture", "Réglée hier.", date=runtime.clock())
    folder.add(reply)
    inbox = inbox_from_url(f"maildir://{tmp_path / 'Maildir'}")

    taken = poll(runtime, inbox)
    assert sorted(t.outcome for t in taken) == ["empty", "recorded"]
    assert poll(runtime, inbox) == []  # both marked read: the empty one is not a poison

    # The same message given whole as a file (`relance courrier lire`), 30 MB of it: kept
    # from its head, as the mailbox reader keeps what it does not download.
    huge = _mail("jean.dupont@acme.example", "Pièces", "Voir les pièces.", date=runtime.clock())
    huge = huge.replace(b"Voir les", b"X" * (30 * 1024 * 1024) + b"\nVoir les", 1)
    assert take_in(runtime, huge).outcome == "recorded"
    runtime.refresh_views()
    (kept,) = [m for m in runtime.reads.incoming() if m["size"] == len(huge)]
    assert kept["problems"]
    assert len(runtime.blobs.get(kept["sha256"])) < 300_000
