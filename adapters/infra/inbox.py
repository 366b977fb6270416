"""Where answers come back: an IMAP mailbox (by URL), or a local Maildir folder.

RELANCE_INBOX_URL: `imap://user:password@host[:port]/FOLDER[?starttls=1]`, `imaps://...`
(the folder INBOX by default), or `maildir:///path/to/Maildir`. Both also take
`max_bytes=` (10 MiB by default) and IMAP `timeout=` (seconds, 30 by default).

Reading is done in two steps so that no message is lost: `fetch` hands over unseen
messages without marking anything (IMAP `BODY.PEEK` in a read-only session; Maildir
files left where they are); the caller records them, then calls `done(keys)`, which marks
them seen. After a crash in between, the same messages come again: recording them must
be idempotent (by key, or by the SHA-256 of the bytes).

A message over `max_bytes` is not downloaded: only its header (HEADER_BYTES at most)
comes, with `oversized=True`; `read_message(f.raw, oversized_size=f.size)` reads it.
"""

from __future__ import annotations

import base64
import imaplib
import os
import re
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import structlog

MAX_BYTES = 10 * 1024 * 1024
HEADER_BYTES = 256 * 1024
FETCH_BYTES = 100 * 1024 * 1024
BATCH = 500

log = structlog.get_logger("relance.inbox")


class InboxUnavailable(Exception):
    """The mailbox cannot be read now (server down, login refused, timeout, folder
    missing); the message says why, in English, never with the password."""


@dataclass(frozen=True)
class Fetched:
    """One message as the mailbox holds it: `key` names it for `done` (stable within the
    mailbox), `size` is its full size, `raw` its bytes, or only its header if `oversized`."""

    key: str
    raw: bytes
    size: int
    oversized: bool


class Inbox(Protocol):
    """Hands over unseen messages, then marks those the caller recorded."""

    def fetch(self, limit: int = 200) -> list[Fetched]:
        """Up to `limit` unseen messages, oldest first, none of them marked."""
        ...

    def done(self, keys: Iterable[str]) -> None:
        """Marks the messages seen, so that `fetch` no longer hands them over."""
        ...


def inbox_from_url(url: str) -> Inbox:
    """The inbox a URL names."""
    return _open(url)


def fetch_all_raw(url: str) -> int:
    """Downloads every message of the folder, seen or not, as fast as the protocol
    allows (IMAP: BATCH messages per FETCH), marking nothing; the number of messages. The
    baseline a benchmark compares the reading of messages with."""
    return _open(url).read_all()


def _open(url: str) -> ImapInbox | MaildirInbox:
    parts = urlsplit(url)
    if parts.scheme == "maildir":
        query = parse_qs(parts.query)
        max_bytes = int((query.get("max_bytes") or [MAX_BYTES])[0])
        return MaildirInbox(Path(unquote(parts.netloc + parts.path)), max_bytes=max_bytes)
    if parts.scheme in ("imap", "imaps"):
        return ImapInbox(url)
    raise ValueError(
        f"RELANCE_INBOX_URL must be imap://, imaps:// or maildir://, got {parts.scheme!r}")


class ImapInbox:
    """A folder on an IMAP server. Keys are `UIDVALIDITY:UID`: should the server renumber
    the folder (a new UIDVALIDITY), keys from before are ignored by `done`."""

    def __init__(self, url: str, *, timeout: float | None = None,
                 max_bytes: int | None = None) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.secure = parts.scheme == "imaps"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (993 if self.secure else 143)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.folder = unquote(parts.path.lstrip("/")) or "INBOX"
        self.starttls = (query.get("starttls") or ["0"])[0] in ("1", "true")
        self.timeout = timeout or float((query.get("timeout") or [30])[0])
        self.max_bytes = max_bytes or int((query.get("max_bytes") or [MAX_BYTES])[0])

    def fetch(self, limit: int = 200) -> list[Fetched]:
        with self._session(readonly=True) as (client, validity):
            uids = _search(client, "UNSEEN")[:limit]
            sizes = _sizes(client, uids)
            chosen, total = [], 0
            for uid in (u for u in uids if u in sizes):
                total += min(sizes[uid], self.max_bytes)
                if chosen and total > FETCH_BYTES:
                    break
                chosen.append(uid)
            whole = _bodies(client, [u for u in chosen if sizes[u] <= self.max_bytes],
                            "BODY.PEEK[]")
            heads = _bodies(client, [u for u in chosen if sizes[u] > self.max_bytes],
                            f"BODY.PEEK[HEADER]<0.{HEADER_BYTES}>")
        return [Fetched(f"{validity}:{uid}", whole[uid] if uid in whole else heads[uid],
                        sizes[uid], uid in heads) for uid in chosen
                if uid in whole or uid in heads]

    def done(self, keys: Iterable[str]) -> None:
        wanted = [key.partition(":") for key in keys]
        if not wanted:
            return
        with self._session(readonly=False) as (client, validity):
            uids = [int(uid) for seen_validity, _, uid in wanted
                    if seen_validity == validity and uid.isdigit()]
            if len(uids) < len(wanted):
                log.warning("inbox_keys_ignored", folder=self.folder,
                            ignored=len(wanted) - len(uids), uidvalidity=validity)
            for batch in _batches(uids):
                _check(client.uid("STORE", batch, "+FLAGS.SILENT", r"(\Seen)"), "STORE")

    def read_all(self) -> int:
        """Downloads every message of the folder (see `fetch_all_raw`)."""
        with self._session(readonly=True) as (client, _):
            uids = _search(client, "ALL")
            return sum(len(_bodies(client, uids[n:n + BATCH], "BODY.PEEK[]"))
                       for n in range(0, len(uids), BATCH))

    @contextmanager
    def _session(self, *, readonly: bool) -> Iterator[tuple[imaplib.IMAP4, str]]:
        """A logged-in connection with the folder selected, and its UIDVALIDITY; every
        failure on the way becomes InboxUnavailable."""
        try:
            client = self._connect()
            try:
                if self.starttls:
                    client.starttls(ssl_context=ssl.create_default_context())
                self._login(client)
                _check(client.select(_quoted(self.folder), readonly=readonly),
                       f"SELECT {self.folder}")
                validity = (client.response("UIDVALIDITY")[1] or [None])[0] or b"0"
                yield client, validity.decode("ascii", "replace")
            finally:
                with suppress(OSError, imaplib.IMAP4.error):
                    client.logout()
        except (OSError, imaplib.IMAP4.error, ValueError) as error:
            reason = f"{type(error).__name__}: {error}".strip()
            if self.password:
                reason = reason.replace(self.password, "***")
            raise InboxUnavailable(
                f"IMAP server {self.host}:{self.port} ({self.folder}): {reason}") from None

    def _connect(self) -> imaplib.IMAP4:
        if self.secure:
            return imaplib.IMAP4_SSL(self.host, self.port, timeout=self.timeout,
                                     ssl_context=ssl.create_default_context())
        return imaplib.IMAP4(self.host, self.port, timeout=self.timeout)

    def _login(self, client: imaplib.IMAP4) -> None:
        if (self.user + self.password).isascii():
            client.login(self.user, self.password)
            return
        # LOGIN takes ASCII only; SASL PLAIN carries UTF-8 (RFC 4616).
        secret = f"\0{self.user}\0{self.password}".encode()
        client.authenticate("PLAIN", lambda _: secret)


def _check(answer: tuple[str, list], command: str) -> list:
    status, data = answer
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise imaplib.IMAP4.error(f"{command} refused: {detail}")
    return data


def _search(client: imaplib.IMAP4, criterion: str) -> list[int]:
    data = _check(client.uid("SEARCH", None, criterion), "SEARCH")
    return sorted(int(uid) for uid in b" ".join(d for d in data if d).split())


def _batches(uids: list[int]) -> Iterator[str]:
    for n in range(0, len(uids), BATCH):
        yield ",".join(map(str, uids[n:n + BATCH]))


_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _sizes(client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    sizes = {}
    for batch in _batches(uids):
        for item in _check(client.uid("FETCH", batch, "(RFC822.SIZE)"), "FETCH"):
            line = item[0] if isinstance(item, tuple) else item
            uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _bodies(client: imaplib.IMAP4, uids: list[int], item: str) -> dict[int, bytes]:
    """The literal each message's FETCH response carries, by UID (which the server may
    name before or after the literal)."""
    found = {}
    for batch in _batches(uids):
        data = _check(client.uid("FETCH", batch, f"({item})"), "FETCH")
        for n, part in enumerate(data):
            if not isinstance(part, tuple):
                continue
            after = data[n + 1] if n + 1 < len(data) and isinstance(data[n + 1], bytes) else b""
            uid = _UID.search(part[0]) or _UID.search(after)
            if uid:
                found[int(uid.group(1))] = part[1]
    return found


def _quoted(folder: str) -> str:
    """A folder name as IMAP reads it: modified UTF-7 (RFC 3501 5.1.3), in quotes."""
    pieces = re.split(r"([^\x20-\x7e]+)", folder)  # odd pieces: runs of other characters
    name = "".join(
        "&" + base64.b64encode(piece.encode("utf-16-be")).rstrip(b"=").decode("ascii")
        .replace("/", ",") + "-" if n % 2 else piece.replace("&", "&-")
        for n, piece in enumerate(pieces))
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MaildirInbox:
    """A Maildir folder (new/, cur/, tmp/), where a local delivery agent drops mail.
    Unseen: the files in new/, and those in cur/ without the S flag. Keys are the files'
    unique names (the part before ":2,"), which moving a file to cur/ keeps."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes

    def fetch(self, limit: int = 200) -> list[Fetched]:
        fetched = []
        for key, file in sorted(self._unseen().items())[:limit]:
            try:
                size = file.stat().st_size
                with file.open("rb") as stream:
                    raw = stream.read() if size <= self.max_bytes else _header(stream)
            except FileNotFoundError:
                continue  # moved by another reader meanwhile: it comes again next time
            except OSError as error:
                raise InboxUnavailable(f"Maildir {self.path}: {error}") from None
            fetched.append(Fetched(key, raw, size, size > self.max_bytes))
        return fetched

    def done(self, keys: Iterable[str]) -> None:
        files = self._files()
        for key in keys:
            file = files.get(key)
            if file is None:
                log.warning("inbox_key_unknown", maildir=str(self.path), key=key)
                continue
            flags = file.name.partition(":2,")[2] if ":2," in file.name else ""
            target = self.path / "cur" / f"{key}:2,{''.join(sorted(set(flags + 'S')))}"
            try:
                file.rename(target)
            except OSError as error:
                raise InboxUnavailable(f"Maildir {self.path}: {error}") from None

    def read_all(self) -> int:
        """Reads every message of the folder (see `fetch_all_raw`)."""
        count = 0
        for file in self._files().values():
            with suppress(FileNotFoundError):
                file.read_bytes()
                count += 1
        return count

    def _unseen(self) -> dict[str, Path]:
        return {key: file for key, file in self._files().items()
                if file.parent.name == "new" or "S" not in file.name.partition(":2,")[2]}

    def _files(self) -> dict[str, Path]:
        files = {}
        try:
            for folder in ("cur", "new"):
                for entry in os.scandir(self.path / folder):
                    if entry.is_file() and not entry.name.startswith("."):
                        files[entry.name.partition(":")[0]] = Path(entry.path)
        except OSError as error:
            raise InboxUnavailable(f"no readable Maildir at {self.path}: {error}") from None
        return files


def _header(stream: BinaryIO) -> bytes:
    """A message's header (HEADER_BYTES at most), up to and with the blank line."""
    return header_of(stream.read(HEADER_BYTES))


def header_of(raw: bytes) -> bytes:
    """The header of a message's bytes (HEADER_BYTES at most), up to and with the blank
    line: what is kept of a message too large to keep whole."""
    head = raw[:HEADER_BYTES]
    ends = [n + len(mark) for mark in (b"\n\r\n", b"\n\n") if (n := head.find(mark)) >= 0]
    return head[:min(ends)] if ends else head
