"""A real Dovecot IMAP server for the tests, started and stopped by `start_dovecot`.

It listens on a free loopback port, with everything under one temporary folder: its
configuration, its runtime folder (base_dir), its log, a passwd-file with one user and a
plain-text password, and that user's Maildir. No TLS, no system service touched.

Dovecot refuses to serve mail as root ("Mail access not allowed for root") and to run its
login processes as root. So the whole server runs as one unprivileged user: the current
user, or `nobody` when the tests run as root (then the temporary folder is given to it).
"""

from __future__ import annotations

import ctypes
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tests.builders import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PR_SET_PDEATHSIG = 1
AGENT = ("agent", "agent-secret-42")  # a second user, with an ASCII password
START_TIMEOUT = 15.0

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = relance-test-{port}
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:~/Maildir
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
  default_fields = home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


class DovecotUnavailable(Exception):
    """Dovecot is not installed, or did not start; the message says why."""


@dataclass
class Dovecot:
    """A running Dovecot: where it listens, its one user, and helpers to fill its INBOX."""

    host: str
    port: int
    user: str
    password: str
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The INBOX's URL, as RELANCE_INBOX_URL spells it."""
        return self.url_for(self.user, self.password)

    def url_for(self, user: str, password: str, folder: str = "INBOX") -> str:
        """The URL of a folder as another user (or with another password) sees it."""
        return (f"imap://{quote(user, safe='')}:{quote(password, safe='')}"
                f"@{self.host}:{self.port}/{quote(folder)}")

    def client(self) -> imaplib.IMAP4:
        """A logged-in IMAP connection (the caller logs out)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        secret = f"\0{self.user}\0{self.password}".encode()
        client.authenticate("PLAIN", lambda _: secret)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        """Delivers a message into a folder (IMAP APPEND), unseen unless `flags` says."""
        client = self.client()
        try:
            status, data = client.append(folder, f"({flags})" if flags else None, None, raw)
            if status != "OK":
                raise DovecotUnavailable(f"APPEND refused: {data!r}")
        finally:
            client.logout()

    def clear(self, folder: str = "INBOX") -> None:
        """Deletes every message of a folder."""
        client = self.client()
        try:
            client.select(folder)
            status, data = client.uid("SEARCH", None, "ALL")
            if status == "OK" and data and data[0]:
                uids = data[0].decode().replace(" ", ",")
                client.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        """Each message's flags, in UID order, as the server reports them."""
        client = self.client()
        try:
            client.select(folder, readonly=True)
            _, data = client.uid("FETCH", "1:*", "(FLAGS)")
            return [line.decode() for line in data if isinstance(line, bytes)]
        finally:
            client.logout()

    def stop(self) -> None:
        """Stops the server (its children with it) and removes its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(user: str = "relance", password: str = "s3cret p@ss/wörd?#%",
                  others: dict[str, str] | None = None) -> Dovecot:
    """Starts a Dovecot of its own on a free loopback port, with a user (and `others`,
    by name and password); raises DovecotUnavailable when it is not installed or does
    not answer within START_TIMEOUT seconds."""
    if not os.access(DOVECOT, os.X_OK):
        raise DovecotUnavailable(f"Dovecot is not installed ({DOVECOT}): `make tools` installs it")
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="relance-dovecot-"))
    port = free_port()
    (root / "home").mkdir()
    accounts = {user: password, **(others or {})}
    (root / "users").write_text("".join(f"{name}:{{PLAIN}}{secret}::::::\n"
                                        for name, secret in accounts.items()), encoding="utf-8")
    (root / "dovecot.conf").write_text(CONFIG.format(
        root=root, port=port, user=account.pw_name,
        group=_group_name(account.pw_gid)), encoding="utf-8")
    as_user = {}
    if os.geteuid() == 0:
        for path in [root, *root.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        **as_user)
    server = Dovecot("127.0.0.1", port, user, password, root, process)
    try:
        _wait_for_greeting(server)
    except DovecotUnavailable:
        log = (root / "dovecot.log").read_text(errors="replace")[-2000:] if (
            root / "dovecot.log").exists() else ""
        server.stop()
        raise DovecotUnavailable(f"Dovecot did not start on port {port}: {log}") from None
    return server


def _die_with_parent() -> None:
    """Asks Linux to stop the server (SIGTERM) when the test process dies, however it
    dies, so that no server outlives its tests."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _group_name(gid: int) -> str:
    return grp.getgrgid(gid).gr_name


def _wait_for_greeting(server: Dovecot) -> None:
    """Polls the port until the server greets ("* OK"), or gives up at the deadline."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise DovecotUnavailable(f"exited with status {server.process.returncode}")
        try:
            with socket.create_connection((server.host, server.port), timeout=2) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise DovecotUnavailable(f"no greeting within {START_TIMEOUT} seconds")
