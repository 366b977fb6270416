"""Who a bearer token on /api acts for.

An account's token (issued by `relance user token` or from Réglages, named, expiring,
revocable) acts as that account. The deployment's own token acts as an administrator
named « api »: it comes from RELANCE_API_TOKEN, or from the file RELANCE_API_TOKEN_FILE,
which is read again whenever it changes, so it can be rotated without a restart (the
file may hold the old and the new token, one per line, for the time scripts move over).
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from pathlib import Path

import structlog

from adapters.infra.accounts import Accounts, Role, User

DEPLOYMENT = User("api", "API", Role.ADMIN)
RECHECK = 1.0
"""Seconds between two looks at the token file's modification time."""
MIN_TOKEN = 20

log = structlog.get_logger("relance.security")


class BearerTokens:
    """Resolves bearer tokens: the deployment's, then the accounts'."""

    def __init__(self, accounts: Accounts, token: str = "", token_file: str = "") -> None:
        self.accounts = accounts
        self.fixed = token
        self.file = Path(token_file) if token_file else None
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._from_file: tuple[str, ...] = ()
        self._checked = 0.0

    def deployment(self, token: str) -> User | None:
        """The deployment's administrator if the token is one of its live tokens: no
        database read, so the web server's event loop asks this itself, and hands only an
        account's token to a thread (`Accounts.api_user`, in `web.middleware.bearer_user`)."""
        if any(hmac.compare_digest(token.encode(), known.encode())
               for known in self.deployment_tokens()):
            return DEPLOYMENT
        return None

    def deployment_tokens(self) -> tuple[str, ...]:
        """The deployment's live tokens (the environment's, and the file's as it is now)."""
        fixed = (self.fixed,) if self.fixed else ()
        return fixed + self._file_tokens()

    def _file_tokens(self) -> tuple[str, ...]:
        if self.file is None:
            return ()
        with self._lock:
            if time.monotonic() - self._checked < RECHECK:
                return self._from_file
            self._checked = time.monotonic()
            try:
                status = os.stat(self.file)
            except OSError:
                if self._from_file:
                    log.warning("api token file unreadable: deployment token off",
                                file=str(self.file))
                self._stamp, self._from_file = None, ()
                return ()
            stamp = (status.st_mtime, status.st_size)
            if stamp != self._stamp:
                lines = self.file.read_text(encoding="utf-8").splitlines()
                tokens = tuple(t.strip() for t in lines
                               if len(t.strip()) >= MIN_TOKEN and not t.startswith("#"))
                if self._stamp is not None:
                    log.info("api token file changed", tokens=len(tokens))
                self._stamp, self._from_file = stamp, tokens
            return self._from_file
