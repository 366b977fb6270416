"""Local accounts, roles and server-side sessions.

Passwords are hashed with Argon2 (argon2-cffi). A session is a random token in an
HttpOnly cookie; the store keeps only its SHA-256, so a copy of the database gives no
way in. Sessions expire when idle and after an absolute lifetime, can be revoked, and
a new one is made at each login. Each carries its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from projections.schema import Table, Type
from projections.storage import ViewStore

ACCOUNTS = Table("accounts", {"login": Type.TEXT, "name": Type.TEXT, "role": Type.TEXT,
                              "password_hash": Type.TEXT, "active": Type.BOOL,
                              "created_at": Type.INSTANT}, key=("login",))
API_TOKENS = Table("api_tokens", {"token_hash": Type.TEXT, "login": Type.TEXT,
                                  "created_at": Type.INSTANT, "revoked": Type.BOOL},
                   key=("token_hash",), indexes=(("login",),))
SESSIONS = Table("sessions", {"token_hash": Type.TEXT, "login": Type.TEXT,
                              "csrf": Type.TEXT, "created_at": Type.INSTANT,
                              "last_seen_at": Type.INSTANT, "revoked": Type.BOOL},
                 key=("token_hash",), indexes=(("login",),))
LOGIN_FAILURES = Table("login_failures", {"id": Type.TEXT, "key": Type.TEXT,
                                          "failed_at": Type.INSTANT},
                       key=("id",), indexes=(("key", "failed_at"),))


class Role(StrEnum):
    """What a person may do."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


TOUCH_EVERY = timedelta(seconds=60)
CAN_RECORD = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
CAN_MANAGE_TEAM = frozenset({Role.SUPERVISOR, Role.ADMIN})
CAN_MANAGE_USERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
CAN_EXPORT = frozenset({Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN})


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True)
class User:
    """A logged-in person."""

    login: str
    name: str
    role: Role


@dataclass(frozen=True)
class Session:
    """A live session: who, and the token forms must carry."""

    user: User
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Accounts and sessions, in the same database as everything else."""

    def __init__(self, views: ViewStore, clock, idle: timedelta = timedelta(hours=2),  # type: ignore[no-untyped-def]
                 absolute: timedelta = timedelta(hours=12)) -> None:
        self.views = views
        self.clock = clock
        self.idle = idle
        self.absolute = absolute
        self.hasher = PasswordHasher()
        views.create_tables([ACCOUNTS, SESSIONS, API_TOKENS])

    def add(self, login: str, name: str, role: Role, password: str) -> User:
        """Creates an account."""
        login = login.strip().lower()
        if not login or not login.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise AccountError("a login is letters, digits, '.', '-' or '_'")
        if len(password) < 10:
            raise AccountError("a password has at least 10 characters")
        if self.views.rows("SELECT login FROM {accounts} WHERE login = :login",
                           {"login": login}, ACCOUNTS.columns):
            raise AccountError(f"the login {login!r} is taken")
        self.views.execute(
            "INSERT INTO {accounts} (login, name, role, password_hash, active, created_at) "
            "VALUES (:login, :name, :role, :hash, :active, :at)",
            {"login": login, "name": name.strip() or login, "role": Role(role).value,
             "hash": self.hasher.hash(password), "active": True, "at": self.clock()})
        return User(login, name.strip() or login, Role(role))

    def users(self) -> list[User]:
        """Every active account."""
        rows = self.views.rows("SELECT * FROM {accounts} WHERE active = :yes ORDER BY login",
                               {"yes": True}, ACCOUNTS.columns)
        return [User(r["login"], r["name"], Role(r["role"])) for r in rows]

    def log_in(self, login: str, password: str) -> tuple[str, Session] | None:
        """A new session for the right password, else None (same answer for any failure)."""
        rows = self.views.rows("SELECT * FROM {accounts} WHERE login = :login AND active = :yes",
                               {"login": login.strip().lower(), "yes": True}, ACCOUNTS.columns)
        stored = rows[0]["password_hash"] if rows else self._dummy
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not rows:
            return None
        account = rows[0]
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        self.views.execute(
            "INSERT INTO {sessions} (token_hash, login, csrf, created_at, last_seen_at, revoked)"
            " VALUES (:hash, :login, :csrf, :now, :now, :no)",
            {"hash": _digest(token), "login": account["login"], "csrf": csrf, "now": now,
             "no": False})
        return token, Session(User(account["login"], account["name"], Role(account["role"])),
                              csrf)

    @cached_property
    def _dummy(self) -> str:
        # Verifying against a throwaway hash keeps the answer time the same for unknown logins.
        return self.hasher.hash(secrets.token_urlsafe(16))

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie token, touched; None if unknown, revoked or expired."""
        if not token:
            return None
        rows = self.views.rows(
            "SELECT s.*, a.name, a.role, a.active FROM {sessions} s JOIN {accounts} a "
            "ON a.login = s.login WHERE s.token_hash = :hash",
            {"hash": _digest(token)},
            {**SESSIONS.columns, "active": Type.BOOL, "created_at": Type.INSTANT,
             "last_seen_at": Type.INSTANT, "revoked": Type.BOOL})
        if not rows:
            return None
        row, now = rows[0], self.clock()
        if row["revoked"] or not row["active"] or now - row["last_seen_at"] > self.idle \
                or now - row["created_at"] > self.absolute:
            return None
        if now - row["last_seen_at"] > TOUCH_EVERY:
            # Idle time counts in minutes: one write a minute per session is plenty.
            self.views.execute(
                "UPDATE {sessions} SET last_seen_at = :now WHERE token_hash = :hash",
                {"now": now, "hash": _digest(token)})
        return Session(User(row["login"], row["name"], Role(row["role"])), row["csrf"])

    def issue_api_token(self, login: str) -> str:
        """A new bearer token for a script acting as this account (shown once, kept hashed)."""
        if not any(user.login == login for user in self.users()):
            raise AccountError(f"no active account {login!r}")
        token = "rl_" + secrets.token_urlsafe(32)
        self.views.execute(
            "INSERT INTO {api_tokens} (token_hash, login, created_at, revoked) "
            "VALUES (:hash, :login, :at, :no)",
            {"hash": _digest(token), "login": login, "at": self.clock(), "no": False})
        return token

    def api_user(self, token: str) -> User | None:
        """The account a bearer token acts for, if the token is live."""
        rows = self.views.rows(
            "SELECT a.login, a.name, a.role FROM {api_tokens} t JOIN {accounts} a "
            "ON a.login = t.login WHERE t.token_hash = :hash AND t.revoked = :no "
            "AND a.active = :yes", {"hash": _digest(token), "no": False, "yes": True},
            ACCOUNTS.columns)
        return User(rows[0]["login"], rows[0]["name"], Role(rows[0]["role"])) if rows else None

    def log_out(self, token: str) -> None:
        """Revokes one session."""
        self.views.execute("UPDATE {sessions} SET revoked = :yes WHERE token_hash = :hash",
                           {"yes": True, "hash": _digest(token)})

    def revoke_all(self, login: str) -> int:
        """Revokes every session of an account (e.g. when it is disabled)."""
        return self.views.execute(
            "UPDATE {sessions} SET revoked = :yes WHERE login = :login AND revoked = :no",
            {"yes": True, "no": False, "login": login})

    def disable(self, login: str) -> None:
        """Disables an account and ends its sessions."""
        self.views.execute("UPDATE {accounts} SET active = :no WHERE login = :login",
                           {"no": False, "login": login})
        self.revoke_all(login)


class LoginThrottle:
    """At most `attempts` failed logins per login and per address within `window`.

    Failures are kept in the database, so every web worker counts the same ones (with
    `--workers N`, a throttle per process would grant N times the attempts); they are
    pruned as new ones come.
    """

    def __init__(self, views: ViewStore, clock, attempts: int = 5,  # type: ignore[no-untyped-def]
                 window: timedelta = timedelta(minutes=5)) -> None:
        self.views = views
        self.clock = clock
        self.attempts = attempts
        self.window = window
        views.create_tables([LOGIN_FAILURES])

    def blocked(self, *keys: str) -> bool:
        """True while any of the keys has too many recent failures."""
        since = self.clock() - self.window
        return any(self._count(key, since) >= self.attempts for key in keys)

    def failed(self, *keys: str) -> None:
        """Counts a failure for each key (and forgets the key's expired ones)."""
        now = self.clock()
        for key in keys:
            self.views.execute("DELETE FROM {login_failures} WHERE key = :key "
                               "AND failed_at <= :since", {"key": key, "since": now - self.window})
            self.views.execute("INSERT INTO {login_failures} (id, key, failed_at) "
                               "VALUES (:id, :key, :at)",
                               {"id": secrets.token_hex(16), "key": key, "at": now})

    def _count(self, key: str, since: datetime) -> int:
        found = self.views.rows("SELECT count(*) AS n FROM {login_failures} WHERE key = :key "
                                "AND failed_at > :since", {"key": key, "since": since},
                                {"n": Type.INT})
        return int(found[0]["n"])

