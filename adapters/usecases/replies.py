"""What debtors send back: each message read from the mailbox finds its files and is
recorded on them (see `domain.mail`).

`take_in(runtime, raw)` reads one message (`adapters.infra.mail_reading`: hostile input,
read without running or fetching anything), keeps its bytes and its attachments apart by
their SHA-256 (like documents), finds where it goes, and records it:

1. **the thread**: the Message-IDs it answers (In-Reply-To, References; for a bounce, the
   message that came back) against those of our e-mails (`sent_mail`): the files that
   e-mail covered;
2. else **the reply token** of one of our e-mails, in the address it was sent to
   (`relance+r0123456789ab@…`, see RELANCE_REPLY_ADDRESS) or in its subject;
3. else **its sender**: an address known among one debtor's people, or else an address of
   the same company (the same domain, not a public mailbox provider) known at one debtor:
   that debtor's open files;
4. else it waits in « courrier non rattaché » for a person to attach it or set it aside.

The same message read twice is recorded once (its record is keyed by its Message-ID).
`poll(runtime, inbox)` reads what the mailbox has not given yet and marks it read once
recorded: a crash in between only reads it again, which records nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from adapters.bootstrap import Runtime
from adapters.infra.blobs import BlobRefused
from adapters.infra.inbox import MAX_BYTES, Inbox, header_of
from adapters.infra.mail_reading import Incoming, read_message
from domain.mail import AUTO_REPLY, BOUNCE, REPLY, Arrival, Destination, mail_key
from domain.values import ReplyMatch

log = logging.getLogger("relance.mail")

MAIL_ACTOR = "courrier"
"""Who records what the mailbox brings."""
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PUBLIC_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.fr", "yahoo.com", "hotmail.fr", "hotmail.com",
    "outlook.fr", "outlook.com", "live.fr", "live.com", "msn.com", "icloud.com", "me.com",
    "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr",
    "numericable.fr", "aol.com", "gmx.fr", "gmx.com", "protonmail.com", "proton.me"})
"""Mailbox providers shared by many companies: an address there says nothing of which
debtor wrote."""
TEXT_LIMIT = 20_000


@dataclass(frozen=True)
class Taken:
    """What became of one message: `recorded` (on a debtor's files), `unattached`, `known`
    (read before), or `empty` (no bytes: nothing to record); with the debtor and files,
    when any."""

    outcome: str
    kind: str
    account: str = ""
    numbers: tuple[str, ...] = ()


def take_in(runtime: Runtime, raw: bytes, *, size: int | None = None,
            actor: str = MAIL_ACTOR) -> Taken:
    """Records one message read from the mailbox (`size`: its whole size, when only its
    head was read because it was too large). A message larger than the mailbox reader
    downloads (given whole, as a file) is kept from its head, as the reader would have; an
    empty one records nothing."""
    if not raw.strip():
        return Taken("empty", REPLY)
    if size is None and len(raw) > MAX_BYTES:
        size, raw = len(raw), header_of(raw)
    incoming = read_message(raw, max_text_chars=TEXT_LIMIT, oversized_size=size)
    key = mail_key(incoming.message_id, incoming.sha256)
    if runtime.files.mail(key) is not None:
        return Taken("known", incoming.kind)
    arrival = _arrival(runtime, raw, incoming)
    destination = _destination(runtime, incoming)
    recorded = runtime.files.receive_mail(actor, arrival, destination)
    if recorded is None:
        return Taken("known", incoming.kind)
    log.info("mail recorded", extra={
        "kind": incoming.kind, "matched_by": destination.matched_by or "none",
        "account": destination.account, "files": len(destination.numbers)})
    if not destination.account:
        return Taken("unattached", incoming.kind)
    return Taken("recorded", incoming.kind, destination.account, destination.numbers)


def poll(runtime: Runtime, inbox: Inbox, limit: int = 200) -> list[Taken]:
    """Reads and records what the mailbox has not given yet (at most `limit` messages);
    each one is marked read in the mailbox once recorded. (Where a message goes depends
    on our e-mails and the debtors' people, not on the messages read just before: the
    read models are not waited for between two.)"""
    taken, done = [], []
    fetched = inbox.fetch(limit=limit)
    try:
        for message in fetched:
            try:
                taken.append(take_in(runtime, message.raw,
                                     size=message.size if message.oversized else None))
            except Exception:  # one message that cannot be recorded must not stop the others
                log.exception("mail not recorded: left unread, tried again next time",
                              extra={"key": message.key, "size": message.size})
                continue
            done.append(message.key)
    finally:
        if done:  # what was recorded is marked read, even when a later message failed
            inbox.done(done)
    return taken


# -- what the message is ----------------------------------------------------------------

def _arrival(runtime: Runtime, raw: bytes, incoming: Incoming) -> Arrival:
    """The message as recorded: its bytes and attachments kept apart, its text cleaned."""
    kept = []
    for attachment in incoming.attachments:
        try:
            kept.append(runtime.blobs.put(attachment.content, attachment.media_type))
        except BlobRefused as refused:
            log.warning("mail attachment not kept", extra={"reason": str(refused)})
    sha256 = runtime.blobs.put(raw, "message/rfc822")
    answers = incoming.bounced_message_id if incoming.kind == BOUNCE else (
        incoming.in_reply_to[0] if incoming.in_reply_to else "")
    return Arrival(
        message_id=incoming.message_id, sha256=sha256, size=incoming.raw_size,
        kind=incoming.kind if incoming.kind in (REPLY, AUTO_REPLY, BOUNCE) else REPLY,
        sender=_line(incoming.sender), sender_name=_line(incoming.sender_name),
        subject=_line(incoming.subject), sent_at=incoming.sent_at,
        text=CONTROL.sub("", incoming.text)[:TEXT_LIMIT], attachments=tuple(kept),
        answers=_line(answers),
        failed_recipient=_line(incoming.failed_recipients[0]
                               if incoming.failed_recipients else ""),
        diagnostic=CONTROL.sub("", incoming.diagnostic), problems=incoming.problems)


def _line(text: str) -> str:
    return " ".join(CONTROL.sub("", text or "").split())


# -- where it goes ------------------------------------------------------------------------

def _destination(runtime: Runtime, incoming: Incoming) -> Destination:
    """The debtor and files a message goes to, and how they were found."""
    reads = runtime.reads
    threads = [incoming.bounced_message_id] if incoming.kind == BOUNCE else []
    threads += [*incoming.in_reply_to, *reversed(incoming.references)]
    for message_id in dict.fromkeys(m for m in threads if m):
        found = reads.sent_files([message_id])
        if len(found) == 1:
            account, numbers = next(iter(found.items()))
            return Destination(account, numbers, ReplyMatch.THREAD.value)
    for token in incoming.reply_tokens:
        message_id = reads.message_of_token(token)
        found = reads.sent_files([message_id]) if message_id else {}
        if len(found) == 1:
            account, numbers = next(iter(found.items()))
            return Destination(account, numbers, ReplyMatch.TOKEN.value)
    address = incoming.failed_recipients[0] if incoming.kind == BOUNCE and \
        incoming.failed_recipients else incoming.sender
    account = _debtor_of(runtime, address)
    if account:
        numbers = tuple(reads.open_numbers(account))
        if numbers:
            return Destination(account, numbers, ReplyMatch.SENDER.value)
    return Destination()


def _debtor_of(runtime: Runtime, address: str) -> str:
    """The one debtor an address is known at, else the one debtor an address of the same
    company is known at ('' when none, or several)."""
    if not address or "@" not in address:
        return ""
    accounts = runtime.reads.accounts_of_address(address)
    if len(accounts) == 1:
        return accounts[0]
    if accounts:
        return ""
    domain = address.rpartition("@")[2].lower()
    if domain in PUBLIC_DOMAINS:
        return ""
    accounts = runtime.reads.accounts_of_domain(domain)
    return accounts[0] if len(accounts) == 1 else ""
