"""What one email that came back says: a reply, an automatic answer, or a bounce.

`read_message` turns the raw bytes of one message into an `Incoming`, a plain value made
only of strings, bytes and tuples: who wrote, to which address, about which message, the
writer's own words (the quoted history cut away, HTML reduced to text without running or
fetching anything), the attached files as bytes, and for a bounce which address failed and
why. It never raises: whatever cannot be read is left empty and said in `problems`.

The bytes are parsed by the standard library's `email` package under its `compat32`
policy, whose headers stay plain strings until read: `policy.default` parses structured
headers with a parser that takes tens of seconds on one hostile 300 KB `To:` header.
Headers are cut to MAX_HEADER_CHARS before being decoded; parts are walked MAX_DEPTH deep
and MAX_PARTS in all at most. Quote headers ("Le ... a écrit :", "De : ... Envoyé : ...")
are recognised by mail-parser-reply's patterns, plus the forms it misses (a header wrapped
over two lines, "-----Message d'origine-----"); HTML becomes text through html-text (lxml),
which drops scripts and styles and never loads a URL.

Replies are matched to the message they answer by `In-Reply-To`/`References`, or by the
token relance puts in each message it sends (`reply_token`, declared with the incoming
mail in `domain.mail`): `reply_address` tags the Reply-To address with it
(`relance+r0123456789ab@cabinet.fr`), and subjects may carry `[réf. r0123456789ab]`.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import TypeVar

from adapters.infra.mail_text import clean_line, clean_text, decode_bytes, html_to_text, own_words
from domain.mail import AUTO_REPLY, BOUNCE, REPLY, reply_address, reply_token

MAX_HEADER_CHARS = 16_384
MAX_DEPTH = 20
MAX_PARTS = 500
MAX_IDS = 100
__all__ = ["Attachment", "Incoming", "clean_line", "clean_text", "decode_bytes", "html_to_text",
           "own_words", "read_message", "reply_address", "reply_token", "safe_filename"]

_TOKEN_IN_ADDRESS = re.compile(r"\+(r[0-9a-f]{12})@")
_TOKEN_IN_SUBJECT = re.compile(r"\[\s*r[ée]f\.?\s*(r[0-9a-f]{12})\s*\]", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_ADDRESS = re.compile(r"[^\s<>@,;\"]{1,64}@[^\s<>@,;\"]{1,255}")
_ENCODED_WORD = re.compile(r"=\?[^?\s]{1,40}\?[bBqQ]\?[^?\s]{0,1000}\?=")
T = TypeVar("T")


@dataclass(frozen=True)
class Attachment:
    """A file the message carries, as bytes: stored by the caller, never opened here."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Incoming:
    """One message that came back, read. `kind` is REPLY, AUTO_REPLY or BOUNCE (of
    `domain.mail`) and `kind_reason` says in English what decided it. Addresses are
    lowercased; Message-IDs keep their angle brackets. `sha256` is that of the bytes read
    and `raw_size` the whole message's size (larger when only the header of an oversized
    message was read); `truncated` when only the header was read or the text was cut."""

    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: str
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    sent_at: datetime | None
    kind: str
    kind_reason: str
    text: str
    failed_recipients: tuple[str, ...]
    diagnostic: str
    bounced_message_id: str
    attachments: tuple[Attachment, ...]
    reply_tokens: tuple[str, ...]
    raw_size: int
    sha256: str
    truncated: bool
    problems: tuple[str, ...]


def read_message(raw: bytes, *, max_text_chars: int = 20_000,
                 oversized_size: int | None = None) -> Incoming:
    """Reads one raw message. With `oversized_size`, `raw` is only the header of a message
    of that many bytes, too large to download: it is read as such, and marked truncated."""
    problems: list[str] = []
    message = _parse(raw, problems, headers_only=oversized_size is not None)
    if oversized_size is not None:
        problems.append(f"message of {oversized_size} bytes: only its header was read")
    parts = _Parts.of(message, problems)
    sender_name, sender = _sender(message, problems)
    subject = _unstructured(message, "Subject", problems)
    text = _body_text(parts, problems)
    report = _delivery_report(message, parts, sender, subject, text, problems)
    kind, reason = _classify(message, subject, report)
    if kind != BOUNCE:
        text = own_words(text)
    recipients = _addresses(message, ("To", "Cc", "Delivered-To", "X-Original-To"), problems)
    return Incoming(
        message_id=_first_id(message, "Message-ID", problems),
        in_reply_to=_ids(message, "In-Reply-To", problems),
        references=_ids(message, "References", problems),
        sender=sender, sender_name=sender_name, recipients=recipients, subject=subject,
        sent_at=_sent_at(message, problems), kind=kind, kind_reason=reason,
        text=text[:max_text_chars],
        failed_recipients=report.failed if report else (),
        diagnostic=report.diagnostic if report else "",
        bounced_message_id=report.message_id if report else "",
        attachments=tuple(_attachment(part, number, problems)
                          for number, part in enumerate(parts.attached, start=1)),
        reply_tokens=_tokens(recipients, subject, report.returned if report else None,
                             problems),
        raw_size=len(raw) if oversized_size is None else oversized_size,
        sha256=hashlib.sha256(raw).hexdigest(),
        truncated=oversized_size is not None or len(text) > max_text_chars,
        problems=tuple(dict.fromkeys(problems)))


# The standard library's parsers raise assorted errors on hostile input (IndexError,
# RecursionError, LookupError, AssertionError...): `_guard` records such a failure in the
# problems and hands back a default, so that reading goes on with what could be read.

def _guard(read: Callable[[], T], default: T, problems: list[str], what: str) -> T:
    try:
        return read()
    except Exception as error:  # noqa: BLE001 - recorded in problems, see above
        problems.append(f"unreadable {what} ({type(error).__name__})")
        return default


def _parse(raw: bytes, problems: list[str], *, headers_only: bool) -> Message:
    if not headers_only:
        message = _guard(lambda: message_from_bytes(raw, policy=policy.compat32), None,
                         problems, "MIME structure: only the header was read")
        if message is not None:
            return message
    return _guard(lambda: BytesHeaderParser(policy=policy.compat32).parsebytes(raw),
                  Message(), problems, "header")


class _Parts:
    """The leaves of a message's MIME tree, by role: the first plain and HTML texts, the
    attached files, and the machine-readable parts of a report (after its first part)."""

    def __init__(self) -> None:
        self.plain: Message | None = None
        self.html: Message | None = None
        self.attached: list[Message] = []
        self.report: list[Message] = []

    @classmethod
    def of(cls, message: Message, problems: list[str]) -> _Parts:
        parts = cls()
        stack: list[tuple[Message, int, bool]] = [(message, 0, False)]
        for _ in range(MAX_PARTS):
            if not stack:
                return parts
            part, depth, in_report = stack.pop()
            problems.extend(f"malformed MIME: {_defect(d)}" for d in part.defects)
            payload = part.get_payload()
            if part.get_content_maintype() != "multipart" or not isinstance(payload, list):
                parts._sort(part, in_report, problems)
            elif depth >= MAX_DEPTH:
                problems.append(f"MIME parts nested over {MAX_DEPTH} deep were not read")
            else:
                report = part.get_content_subtype() == "report"
                stack.extend(reversed([(child, depth + 1, in_report or (report and n > 0))
                                       for n, child in enumerate(payload)
                                       if isinstance(child, Message)]))
        if stack:
            problems.append(f"more than {MAX_PARTS} MIME parts: the rest was not read")
        return parts

    def _sort(self, part: Message, in_report: bool, problems: list[str]) -> None:
        kind = part.get_content_type()
        named = part.get_content_disposition() == "attachment" or bool(
            _guard(part.get_filename, None, problems, "attachment name"))
        if in_report:
            self.report.append(part)
        elif named or (kind not in ("text/plain", "text/html")
                       and not kind.startswith("multipart/")):
            self.attached.append(part)
        elif kind == "text/html":
            self.html = self.html or part
        elif self.plain is None or not _payload_bytes(self.plain, problems).strip():
            self.plain = part


def _defect(defect: object) -> str:
    doc = type(defect).__doc__ or type(defect).__name__
    return doc.strip().splitlines()[0].rstrip(".")


def _payload_bytes(part: Message, problems: list[str]) -> bytes:
    def read() -> bytes:
        payload = part.get_payload()
        if isinstance(payload, list):
            return b"".join(bytes(child) for child in payload if isinstance(child, Message))
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""
    return _guard(read, b"", problems, f"{part.get_content_type()} part")


# Headers

def _header_texts(message: Message, name: str, problems: list[str]) -> list[str]:
    """The header's values as text (raw 8-bit bytes read as UTF-8, else Windows-1252),
    unfolded and cut to MAX_HEADER_CHARS; encoded words are left to the caller."""
    texts = []
    for value in _guard(lambda: message.get_all(name) or [], [], problems, f"{name} header"):
        if isinstance(value, Header):
            value = "".join(chunk if isinstance(chunk, str) else decode_bytes(chunk, None)
                            for chunk, _ in decode_header(value))
        text = re.sub(r"\r?\n[ \t]*", " ", str(value)).strip()
        if len(text) > MAX_HEADER_CHARS:
            problems.append(f"the {name} header was cut to {MAX_HEADER_CHARS} characters")
        texts.append(text[:MAX_HEADER_CHARS])
    return texts


def _decode_words(text: str, problems: list[str], what: str) -> str:
    """A header's encoded words ("=?utf-8?q?...?=") decoded; when one is broken, the others
    are decoded one by one and the broken one is left as it stands."""
    def decode(text: str) -> str:
        return "".join(chunk if isinstance(chunk, str) else decode_bytes(
            chunk, charset, problems, what) for chunk, charset in decode_header(text))
    try:
        return clean_line(decode(text))
    except Exception:  # noqa: BLE001 - recorded below; each word is then tried alone
        problems.append(f"unreadable encoded word in {what}")
    return clean_line(_ENCODED_WORD.sub(
        lambda word: _guard(lambda: decode(word.group()), word.group(), [], what), text))


def _unstructured(message: Message, name: str, problems: list[str]) -> str:
    texts = _header_texts(message, name, problems)
    return _decode_words(texts[0], problems, f"{name} header")[:1000] if texts else ""


def _address_pairs(message: Message, names: tuple[str, ...],
                   problems: list[str]) -> list[tuple[str, str]]:
    return [pair for name in names for text in _header_texts(message, name, problems)
            for pair in _guard(lambda text=text: getaddresses([text]), [], problems,
                               f"{name} header")]


def _addresses(message: Message, names: tuple[str, ...], problems: list[str]) -> tuple[str, ...]:
    found = (clean_line(address).lower() for _, address in
             _address_pairs(message, names, problems))
    return tuple(dict.fromkeys(a for a in found if _ADDRESS.fullmatch(a)))


def _sender(message: Message, problems: list[str]) -> tuple[str, str]:
    pairs = _address_pairs(message, ("From",), problems)
    if not pairs:
        return "", ""
    name, address = pairs[0]
    address = clean_line(address).lower()
    if not _ADDRESS.fullmatch(address):
        problems.append("unreadable From address")
        address = ""
    return _decode_words(name, problems, "From header")[:200], address


def _ids(message: Message, name: str, problems: list[str]) -> tuple[str, ...]:
    """The Message-IDs a header names; past MAX_IDS, the first one and the latest ones."""
    found = list(dict.fromkeys(match for text in _header_texts(message, name, problems)
                               for match in _MESSAGE_ID.findall(text)))
    return tuple(found if len(found) <= MAX_IDS else found[:1] + found[1 - MAX_IDS:])


def _first_id(message: Message, name: str, problems: list[str]) -> str:
    texts = _header_texts(message, name, problems)
    if not texts:
        return ""
    found = _MESSAGE_ID.search(texts[0])
    return found.group() if found else clean_line(texts[0])[:998]


def _sent_at(message: Message, problems: list[str]) -> datetime | None:
    texts = _header_texts(message, "Date", problems)
    if not texts:
        return None
    try:
        sent = parsedate_to_datetime(texts[0])
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append("unreadable Date header")
        return None
    return (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).astimezone(UTC)


def _tokens(recipients: tuple[str, ...], subject: str, returned: Message | None,
            problems: list[str]) -> tuple[str, ...]:
    """Tokens in the plus-tags of the recipients and in the subject; for a bounce, also in
    the returned message's Reply-To, From and Subject (the message relance had sent)."""
    addresses = list(recipients)
    subjects = [subject]
    if returned is not None:
        addresses += _addresses(returned, ("Reply-To", "From"), problems)
        subjects.append(_unstructured(returned, "Subject", problems))
    found = [t for address in addresses for t in _TOKEN_IN_ADDRESS.findall(address)]
    found += [t for s in subjects for t in _TOKEN_IN_SUBJECT.findall(s)]
    return tuple(dict.fromkeys(token.lower() for token in found))


def _attachment(part: Message, number: int, problems: list[str]) -> Attachment:
    media_type = part.get_content_type()
    name = _guard(part.get_filename, None, problems, "attachment name")
    name = _decode_words(name, problems, "attachment name") if isinstance(name, str) else ""
    return Attachment(safe_filename(name, media_type, number), media_type,
                      _payload_bytes(part, problems))


_WINDOWS_NAMES = re.compile(r"^(?:con|prn|aux|nul|com\d|lpt\d)(?:\.|$)", re.IGNORECASE)


def safe_filename(name: str, media_type: str, number: int) -> str:
    """A file name safe to show and to save: no folder, no control or reserved character,
    120 characters at most (the extension kept); "pièce-jointe-N.ext" when none is left."""
    name = re.sub(r'[<>:"|?*]', "_", re.split(r"[\\/]", clean_line(name))[-1]).strip(" .")
    if _WINDOWS_NAMES.match(name):
        name = "_" + name
    if len(name) > 120:
        stem, dot, extension = name.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        name = stem[:119 - len(keep)] + "." + keep if keep else name[:120]
    extension = mimetypes.guess_extension(media_type) or ".bin"
    return name or f"pièce-jointe-{number}{extension}"


def _body_text(parts: _Parts, problems: list[str]) -> str:
    """The message's text: its plain text, else its HTML converted."""
    for part, html in ((parts.plain, False), (parts.html, True)):
        data = _payload_bytes(part, problems) if part is not None else b""
        if data.strip():
            text = decode_bytes(data, part.get_content_charset(), problems,
                                f"{part.get_content_type()} part")
            return clean_text(html_to_text(text, problems) if html else text)
    return ""


# Classification

_AUTO_SUBJECT = re.compile(
    r"^\W*(?:r[ée]ponse automatique|absence du bureau|absent|out of office|automatic reply"
    r"|auto[- ]?reply|autoreply|auto[- ]?response|message d'absence|abwesenheit)\b",
    re.IGNORECASE)
_ABSENCE = re.compile(r"absen|cong[ée]s|vacances|out of (?:the )?office", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"^\W*(?:undelivered mail returned to sender|delivery status notification \(failure\)"
    r"|(?:message )?non remis|undeliverable|mail delivery failed|delivery failure"
    r"|returned mail|failure notice|[ée]chec de (?:la )?remise)", re.IGNORECASE)
_DELAY = re.compile(r"delay|retard|diff[ée]r|will retry", re.IGNORECASE)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")


@dataclass(frozen=True)
class _Report:
    """What a delivery report says: the failed addresses, why, and what was returned."""

    failed: tuple[str, ...]
    diagnostic: str
    message_id: str
    returned: Message | None
    hard: bool
    source: str


def _classify(message: Message, subject: str, report: _Report | None) -> tuple[str, str]:
    """The kind of message and why: bounces first (they often say Auto-Submitted too),
    then automatic answers (RFC 3834 and the usual headers and subjects), else a reply."""
    if report is not None:
        return (BOUNCE, f"{report.source}: delivery failed") if report.hard else (
            AUTO_REPLY, f"{report.source}: no final failure")
    header = str(message.get("Auto-Submitted") or "").strip().lower()
    precedence = str(message.get("Precedence") or "").strip().lower()
    if header and not header.startswith("no"):
        return AUTO_REPLY, f"Auto-Submitted: {header[:60]}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if message.get(name) is not None:
            return AUTO_REPLY, f"{name} header"
    if precedence in ("auto_reply", "bulk", "junk"):
        return AUTO_REPLY, f"Precedence: {precedence}"
    if _AUTO_SUBJECT.search(subject):
        return AUTO_REPLY, "automatic answer subject"
    if message.get("X-Auto-Response-Suppress") is not None and _ABSENCE.search(subject):
        return AUTO_REPLY, "X-Auto-Response-Suppress with an absence subject"
    return REPLY, "written by a person"


def _delivery_report(message: Message, parts: _Parts, sender: str, subject: str, text: str,
                     problems: list[str]) -> _Report | None:
    """The delivery report a message is, if it is one: an RFC 3464 multipart/report, or a
    bounce written in prose (from MAILER-DAEMON or postmaster, or with a bounce subject)."""
    returned = _returned_headers(parts, problems)
    bounced_id = _first_id(returned, "Message-ID", problems) if returned is not None else ""
    if message.get_content_type() == "multipart/report":
        for part in parts.report:
            if part.get_content_type() in ("message/delivery-status",
                                           "message/global-delivery-status"):
                return _from_status(part, returned, bounced_id, problems)
        return _Report((), "", bounced_id, returned, False, "report")
    if sender.partition("@")[0] in _DAEMONS or _BOUNCE_SUBJECT.search(subject):
        return _from_prose(message, text, subject, returned, bounced_id, problems)
    return None


def _returned_headers(parts: _Parts, problems: list[str]) -> Message | None:
    for part in [*parts.report, *parts.attached]:
        kind, payload = part.get_content_type(), part.get_payload()
        if kind in ("message/rfc822", "message/global") and isinstance(payload, list):
            return payload[0] if payload and isinstance(payload[0], Message) else None
        if kind in ("text/rfc822-headers", "message/global-headers"):
            text = decode_bytes(_payload_bytes(part, problems), None)
            return _guard(lambda text=text: HeaderParser(policy=policy.compat32).parsestr(text),
                          None, problems, "returned headers")
    return None


def _from_status(part: Message, returned: Message | None, bounced_id: str,
                 problems: list[str]) -> _Report:
    """A delivery-status part: a hard failure for each recipient whose Action is failed or
    whose Status is 5.x.x; the others (delayed, relayed, delivered) change nothing."""
    blocks = [b for b in part.get_payload() if isinstance(b, Message)] if isinstance(
        part.get_payload(), list) else []
    if not blocks:
        problems.append("delivery-status part without readable fields")
    failed, failures, others = [], [], []
    for block in blocks:
        action = str(block.get("Action") or "").strip().lower()
        status = str(block.get("Status") or "").strip().partition(" ")[0]
        if action != "failed" and not status.startswith("5"):
            others += [_diagnostic(block, status)] if action or status else []
            continue
        recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        address = clean_line(recipient.rpartition(";")[2]).strip("<>").lower()
        failed += [address[:320]] if "@" in address else []
        failures.append(_diagnostic(block, status))
    diagnostic = "\n".join(dict.fromkeys(d for d in failures or others[:1] if d))
    return _Report(tuple(dict.fromkeys(failed)), diagnostic[:2000], bounced_id, returned,
                   bool(failures), "delivery-status report")


def _diagnostic(block: Message, status: str) -> str:
    code = clean_line(str(block.get("Diagnostic-Code") or ""))
    code = code.partition(";")[2].strip() if ";" in code[:12] else code
    return f"{status} {code}".strip() if status not in code else code


_ENHANCED = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_POSTFIX_RECIPIENT = re.compile(r"^\s*<([^\s<>@]{1,64}@[^\s<>@]{1,255})>:", re.MULTILINE)
_EXIM_RECIPIENT = re.compile(r"^[ \t]+([^\s<>@]{1,64}@[^\s<>@]{1,255})[ \t]*$", re.MULTILINE)
_RETURNED_COPY = re.compile(r"^-{3,}[^\n]*(?:copy|original|message)", re.I | re.M)


def _from_prose(message: Message, text: str, subject: str, returned: Message | None,
                bounced_id: str, problems: list[str]) -> _Report:
    """A bounce without a delivery-status part: the failed addresses come from the
    X-Failed-Recipients header, or from the lines naming them (Postfix, Exim) before the
    copy of the returned message; a delay notice (4.x.x only, or "delayed") is no failure."""
    whole = text[:20_000]
    head = _RETURNED_COPY.split(whole, maxsplit=1)[0]
    failed = list(_addresses(message, ("X-Failed-Recipients",), problems))
    failed += [a.lower() for a in _POSTFIX_RECIPIENT.findall(head) + _EXIM_RECIPIENT.findall(head)]
    codes = {found.group(1) for found in _ENHANCED.finditer(head)}
    hard = "5" in codes or not (_DELAY.search(subject) or "4" in codes)
    diagnostic = next((line.strip() for line in head.splitlines()
                       if _ENHANCED.search(line) or re.search(r"\b[45]\d\d\b", line)), "")
    if not bounced_id:
        found = re.search(r"^\s*Message-ID:\s*(<[^<>\s]{1,900}>)", whole, re.I | re.M)
        bounced_id = found.group(1) if found else ""
    return _Report(tuple(dict.fromkeys(failed)), clean_line(diagnostic)[:2000], bounced_id,
                   returned, hard, "bounce message")
