"""Where emails go: an SMTP server (by URL), or a folder of .eml files for the demo.

RELANCE_SMTP_URL: `smtp://[user:password@]host[:port][?starttls=1]`, `smtps://...`, or
`file:///path/to/folder` (the default: `file://var/outbox`). A message counts as sent
only once the server accepted it; its Message-ID is then the proof kept on the file.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from adapters.infra.documents import Document
from domain.mail import reply_address


class SendFailed(Exception):
    """The message was not accepted; nothing went out."""


class Outbox(Protocol):
    """Sends one message and returns its Message-ID, or raises SendFailed."""

    def send(self, message: EmailMessage) -> str:
        """Sends the message; its Message-ID on success."""
        ...


class Attached(Protocol):
    """A file an email carries: its name, its media type (`type/subtype`) and its bytes."""

    @property
    def filename(self) -> str:
        """The file's name, as the recipient sees it."""
        ...

    @property
    def media_type(self) -> str:
        """`application/pdf`, `image/png`..."""
        ...

    @property
    def content(self) -> bytes:
        """The file's bytes."""
        ...


def build_message(document: Document, sender: str, recipient: str,
                  attachments: Sequence[Attached] = (), *, message_id: str = "",
                  reply_to: str = "") -> EmailMessage:
    """The email of a document: text and HTML alternatives, with its Message-ID (a fresh
    one unless given), the address to answer at (its reply token in it, see
    `domain.mail.reply_address`) when `reply_to` is given, and the files attached, if any."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = document.subject
    message["Message-ID"] = message_id or make_msgid(
        domain=sender.rpartition("@")[2] or "relance.local")
    if reply_to:
        message["Reply-To"] = reply_address(reply_to, str(message["Message-ID"]))
    message.set_content(document.text)
    message.add_alternative(document.html, subtype="html")
    for attached in attachments:
        maintype, _, subtype = attached.media_type.partition("/")
        message.add_attachment(attached.content, maintype=maintype,
                               subtype=subtype or "octet-stream", filename=attached.filename)
    return message


class SmtpOutbox:
    """An SMTP server."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.secure = parts.scheme == "smtps"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if self.secure else 25)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.starttls = (parse_qs(parts.query).get("starttls") or ["0"])[0] in ("1", "true")
        self.timeout = timeout

    def send(self, message: EmailMessage) -> str:
        try:
            if self.secure:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout,
                    context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.user:
                    client.login(self.user, self.password)
                refused = client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise SendFailed(f"{type(error).__name__}: {error}".strip()) from None
        if refused:
            raise SendFailed(f"recipients refused: {', '.join(refused)}")
        return str(message["Message-ID"])


class FileOutbox:
    """A folder: each message becomes a .eml file (for the demo and for printing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        message_id = str(message["Message-ID"])
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = message_id.strip("<>").replace("@", "_at_").replace("/", "_")
            (self.folder / f"{name}.eml").write_bytes(bytes(message))
        except OSError as error:
            raise SendFailed(str(error)) from None
        return message_id


def outbox_from_url(url: str) -> Outbox:
    """The outbox a URL names."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileOutbox(Path(unquote(parts.netloc + parts.path)))
    if parts.scheme in ("smtp", "smtps"):
        return SmtpOutbox(url)
    raise ValueError(f"RELANCE_SMTP_URL must be smtp://, smtps:// or file://, got {parts.scheme!r}")
