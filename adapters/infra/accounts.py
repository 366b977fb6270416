"""Local accounts, roles, passwords, server-side sessions and API tokens.

Passwords are hashed with Argon2 (argon2-cffi) and checked against zxcvbn's lists of
common passwords and patterns. A session is a random token in an HttpOnly cookie; the
store keeps only its SHA-256, so a copy of the database gives no way in. Sessions
expire when idle and after an absolute lifetime, can be listed and ended by their
owner, and a new one is made at each login; each carries its own CSRF token. API
tokens are named, expire, record their last use and can be revoked; they too are
kept only as their SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

import zxcvbn
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from projections.schema import Table, Type
from projections.storage import ViewStore

ACCOUNTS = Table("accounts", {"login": Type.TEXT, "name": Type.TEXT, "role": Type.TEXT,
                              "password_hash": Type.TEXT, "active": Type.BOOL,
                              "created_at": Type.INSTANT, "must_change": Type.BOOL,
                              "password_changed_at": Type.INSTANT}, key=("login",))
API_TOKENS = Table("api_tokens", {"token_hash": Type.TEXT, "login": Type.TEXT,
                                  "created_at": Type.INSTANT, "revoked": Type.BOOL,
                                  "name": Type.TEXT, "expires_at": Type.INSTANT,
                                  "last_used_at": Type.INSTANT, "revoked_at": Type.INSTANT},
                   key=("token_hash",), indexes=(("login",),))
SESSIONS = Table("sessions", {"token_hash": Type.TEXT, "login": Type.TEXT,
                              "csrf": Type.TEXT, "created_at": Type.INSTANT,
                              "last_seen_at": Type.INSTANT, "revoked": Type.BOOL,
                              "client": Type.TEXT, "agent": Type.TEXT},
                 key=("token_hash",), indexes=(("login",),))

MIN_PASSWORD = 10
MAX_PASSWORD = 256
"""Longer passwords are refused, never cut: what is typed is what is checked."""
MIN_STRENGTH = 3
"""zxcvbn's score (0-4) below which a password is too easy to guess."""
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 730
PUBLIC_ID = 12
"""Hex characters of a session's or token's hash that name it on pages and in the CLI."""


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
CAN_SEE_DASHBOARD = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR})


class AccountError(ValueError):
    """An account, a password or a token cannot be created or changed as asked.

    `french` is the sentence shown to the person; the message is the English detail."""

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail)
        self.french = french


@dataclass(frozen=True)
class User:
    """A logged-in person."""

    login: str
    name: str
    role: Role


@dataclass(frozen=True)
class Session:
    """A live session: who, the token forms must carry, its public id, and whether the
    person must choose a new password before anything else."""

    user: User
    csrf: str
    id: str = ""
    must_change: bool = False


@dataclass(frozen=True)
class SessionInfo:
    """A session as its owner sees it in « Mon compte »."""

    id: str
    created_at: datetime
    last_seen_at: datetime
    client: str
    agent: str


@dataclass(frozen=True)
class ApiToken:
    """An API token as listed (the token itself is shown once, at issue)."""

    id: str
    login: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool
    account_active: bool = True

    def state(self, now: datetime) -> str:
        """« actif », « expiré », « révoqué » or « compte désactivé »."""
        if self.revoked:
            return "révoqué"
        if not self.account_active:
            return "compte désactivé"
        if self.expires_at is not None and self.expires_at <= now:
            return "expiré"
        return "actif"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str, *, login: str = "", name: str = "") -> None:
    """Refuses a password that is too short, too long, common or easy to guess."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters",
                           f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password has at most {MAX_PASSWORD} characters",
                           f"Le mot de passe doit compter au plus {MAX_PASSWORD} caractères.")
    inputs = [part for part in (login, name, *login.split("."), "relance") if part]
    if zxcvbn.zxcvbn(password, user_inputs=inputs)["score"] < MIN_STRENGTH:
        raise AccountError("this password is common or easy to guess",
                           "Ce mot de passe est trop courant ou trop facile à deviner : "
                           "choisissez-en un plus long, par exemple plusieurs mots.")


class Accounts:
    """Accounts, sessions and API tokens, in the same database as everything else."""

    def __init__(self, views: ViewStore, clock, idle: timedelta = timedelta(hours=2),  # type: ignore[no-untyped-def]
                 absolute: timedelta = timedelta(hours=12)) -> None:
        self.views = views
        self.clock = clock
        self.idle = idle
        self.absolute = absolute
        self.hasher = PasswordHasher()
        views.create_tables([ACCOUNTS, SESSIONS, API_TOKENS])

    # -- accounts -----------------------------------------------------------------------

    def add(self, login: str, name: str, role: Role, password: str, *,
            must_change: bool = False) -> User:
        """Creates an account."""
        login = login.strip().lower()
        if not login or len(login) > 100 or not login.isascii() or \
                not login.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise AccountError("a login is letters, digits, '.', '-' or '_'",
                               "Un identifiant ne contient que des lettres sans accent, des "
                               "chiffres, « . », « - » ou « _ » (100 au plus).")
        check_password(password, login=login, name=name)
        if self._account(login, active_only=False):
            raise AccountError(f"the login {login!r} is taken",
                               f"L'identifiant « {login} » est déjà pris.")
        self.views.execute(
            "INSERT INTO {accounts} (login, name, role, password_hash, active, created_at, "
            "must_change, password_changed_at) VALUES (:login, :name, :role, :hash, :active, "
            ":at, :must, :at)",
            {"login": login, "name": name.strip()[:200] or login, "role": Role(role).value,
             "hash": self.hasher.hash(password), "active": True, "at": self.clock(),
             "must": must_change})
        return User(login, name.strip()[:200] or login, Role(role))

    def users(self) -> list[User]:
        """Every active account."""
        rows = self.views.rows("SELECT * FROM {accounts} WHERE active = :yes ORDER BY login",
                               {"yes": True}, ACCOUNTS.columns)
        return [User(r["login"], r["name"], Role(r["role"])) for r in rows]

    def user(self, login: str) -> User | None:
        """The active account of a login, if any."""
        row = self._account(login.strip().lower())
        return User(row["login"], row["name"], Role(row["role"])) if row else None

    def is_recorder(self, login: str) -> bool:
        """True for an active account that records facts (a file's agent, a callback's
        owner)."""
        user = self.user(login)
        return user is not None and user.role in CAN_RECORD

    def _account(self, login: str, active_only: bool = True) -> dict[str, Any] | None:
        rows = self.views.rows("SELECT * FROM {accounts} WHERE login = :login",
                               {"login": login}, ACCOUNTS.columns)
        return rows[0] if rows and (rows[0]["active"] or not active_only) else None

    def set_role(self, login: str, role: Role) -> None:
        """Gives an active account another role."""
        if not self.views.execute("UPDATE {accounts} SET role = :role WHERE login = :login "
                                  "AND active = :yes",
                                  {"role": Role(role).value, "login": login, "yes": True}):
            raise AccountError(f"no active account {login!r}",
                               f"Aucun compte actif « {login} ».")

    def disable(self, login: str) -> None:
        """Disables an account and ends its sessions."""
        self.views.execute("UPDATE {accounts} SET active = :no WHERE login = :login",
                           {"no": False, "login": login})
        self.revoke_all(login)

    # -- passwords ----------------------------------------------------------------------

    def check(self, login: str, password: str) -> User | None:
        """The active account if the password is right (same time for unknown logins)."""
        row = self._account(login.strip().lower())
        stored = row["password_hash"] if row else self._dummy
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(row["login"], row["name"], Role(row["role"])) if row else None

    def change_password(self, login: str, current: str, new: str) -> None:
        """Changes one's own password, after checking the current one."""
        user = self.check(login, current)
        if user is None:
            raise AccountError("the current password is wrong",
                               "Le mot de passe actuel est incorrect.")
        if new == current:
            raise AccountError("the new password is the current one",
                               "Le nouveau mot de passe doit différer de l'actuel.")
        check_password(new, login=user.login, name=user.name)
        self._set_password(user.login, new, must_change=False)

    def reset_password(self, login: str) -> str:
        """A temporary password for an account, to be changed at its next login; every
        session of the account ends."""
        if self._account(login) is None:
            raise AccountError(f"no active account {login!r}",
                               f"Aucun compte actif « {login} ».")
        temporary = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        self._set_password(login, temporary, must_change=True)
        self.revoke_all(login)
        return temporary

    def _set_password(self, login: str, password: str, *, must_change: bool) -> None:
        self.views.execute(
            "UPDATE {accounts} SET password_hash = :hash, must_change = :must, "
            "password_changed_at = :at WHERE login = :login",
            {"hash": self.hasher.hash(password), "must": must_change, "at": self.clock(),
             "login": login})

    @cached_property
    def _dummy(self) -> str:
        # Verifying against a throwaway hash keeps the answer time the same for unknown logins.
        return self.hasher.hash(secrets.token_urlsafe(16))

    # -- sessions -----------------------------------------------------------------------

    def log_in(self, login: str, password: str, *, client: str = "", agent: str = ""
               ) -> tuple[str, Session] | None:
        """A new session for the right password, else None (same answer for any failure)."""
        user = self.check(login, password)
        if user is None:
            return None
        return self.open_session(user, client=client, agent=agent)

    def open_session(self, user: User, *, client: str = "", agent: str = ""
                     ) -> tuple[str, Session]:
        """A new session for a person whose password was just checked."""
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        digest = _digest(token)
        self.views.execute(
            "INSERT INTO {sessions} (token_hash, login, csrf, created_at, last_seen_at, "
            "revoked, client, agent) VALUES (:hash, :login, :csrf, :now, :now, :no, :client, "
            ":agent)",
            {"hash": digest, "login": user.login, "csrf": csrf, "now": now, "no": False,
             "client": client[:100], "agent": agent[:300]})
        row = self._account(user.login)
        return token, Session(user, csrf, digest[:PUBLIC_ID],
                              bool(row and row["must_change"]))

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie token, touched; None if unknown, revoked or expired."""
        if not token or len(token) > 200:
            return None
        rows = self.views.rows(
            "SELECT s.*, a.name, a.role, a.active, a.must_change FROM {sessions} s "
            "JOIN {accounts} a ON a.login = s.login WHERE s.token_hash = :hash",
            {"hash": _digest(token)},
            {**SESSIONS.columns, "active": Type.BOOL, "must_change": Type.BOOL})
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
                {"now": now, "hash": row["token_hash"]})
        return Session(User(row["login"], row["name"], Role(row["role"])), row["csrf"],
                       row["token_hash"][:PUBLIC_ID], bool(row["must_change"]))

    def sessions_of(self, login: str) -> list[SessionInfo]:
        """The live sessions of an account, most recent first."""
        now = self.clock()
        rows = self.views.rows(
            "SELECT * FROM {sessions} WHERE login = :login AND revoked = :no "
            "ORDER BY last_seen_at DESC", {"login": login, "no": False}, SESSIONS.columns)
        return [SessionInfo(r["token_hash"][:PUBLIC_ID], r["created_at"], r["last_seen_at"],
                            r["client"] or "", r["agent"] or "") for r in rows
                if now - r["last_seen_at"] <= self.idle and now - r["created_at"] <= self.absolute]

    def end_session(self, login: str, session_id: str) -> bool:
        """Ends one of an account's sessions, named by its public id."""
        if len(session_id) != PUBLIC_ID or not all(c in "0123456789abcdef" for c in session_id):
            return False
        return self.views.execute(
            "UPDATE {sessions} SET revoked = :yes WHERE login = :login AND revoked = :no "
            "AND substr(token_hash, 1, 12) = :id",
            {"yes": True, "no": False, "login": login, "id": session_id}) > 0

    def end_other_sessions(self, login: str, keep: str) -> int:
        """Ends every session of an account but the one of the token `keep`."""
        return self.views.execute(
            "UPDATE {sessions} SET revoked = :yes WHERE login = :login AND revoked = :no "
            "AND token_hash <> :keep",
            {"yes": True, "no": False, "login": login, "keep": _digest(keep)})

    def log_out(self, token: str) -> None:
        """Revokes one session."""
        self.views.execute("UPDATE {sessions} SET revoked = :yes WHERE token_hash = :hash",
                           {"yes": True, "hash": _digest(token)})

    def revoke_all(self, login: str) -> int:
        """Revokes every session of an account (e.g. when it is disabled)."""
        return self.views.execute(
            "UPDATE {sessions} SET revoked = :yes WHERE login = :login AND revoked = :no",
            {"yes": True, "no": False, "login": login})

    # -- API tokens ---------------------------------------------------------------------

    def issue_api_token(self, login: str, *, name: str = "", days: int = TOKEN_DAYS) -> str:
        """A new bearer token for a script acting as this account (shown once, kept
        hashed), valid for `days` days."""
        if self._account(login) is None:
            raise AccountError(f"no active account {login!r}",
                               f"Aucun compte actif « {login} ».")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise AccountError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days",
                               f"Un jeton vaut de 1 à {MAX_TOKEN_DAYS} jours.")
        token, now = "rl_" + secrets.token_urlsafe(32), self.clock()
        self.views.execute(
            "INSERT INTO {api_tokens} (token_hash, login, created_at, revoked, name, "
            "expires_at) VALUES (:hash, :login, :at, :no, :name, :expires)",
            {"hash": _digest(token), "login": login, "at": now, "no": False,
             "name": name.strip()[:100] or "script", "expires": now + timedelta(days=days)})
        return token

    def api_tokens(self, login: str | None = None) -> list[ApiToken]:
        """Every token (of one account, or of all), newest first."""
        rows = [r for r in self.views.rows(
                    "SELECT t.*, a.active FROM {api_tokens} t JOIN {accounts} a "
                    "ON a.login = t.login ORDER BY t.created_at DESC", {},
                    {**API_TOKENS.columns, "active": Type.BOOL})
                if login is None or r["login"] == login]
        return [ApiToken(r["token_hash"][:PUBLIC_ID], r["login"], r["name"] or "script",
                         r["created_at"], r["expires_at"], r["last_used_at"],
                         bool(r["revoked"]), bool(r["active"])) for r in rows]

    def api_token(self, token: str) -> ApiToken:
        """The listing of a token just issued."""
        token_id = _digest(token)[:PUBLIC_ID]
        return next(t for t in self.api_tokens() if t.id == token_id)

    def revoke_api_token(self, token_id: str, login: str | None = None) -> ApiToken | None:
        """Revokes a token named by its public id (of one account, if given)."""
        found = [t for t in self.api_tokens(login) if t.id == token_id.strip().lower()]
        if len(found) != 1 or found[0].revoked:
            return None
        self.views.execute(
            "UPDATE {api_tokens} SET revoked = :yes, revoked_at = :now WHERE login = :login "
            "AND substr(token_hash, 1, 12) = :id",
            {"yes": True, "now": self.clock(), "login": found[0].login, "id": found[0].id})
        return found[0]

    def api_user(self, token: str) -> User | None:
        """The account a bearer token acts for, if the token is live (its use noted)."""
        if len(token) > 200:
            return None
        rows = self.views.rows(
            "SELECT a.login, a.name, a.role, t.expires_at, t.last_used_at FROM {api_tokens} t "
            "JOIN {accounts} a ON a.login = t.login WHERE t.token_hash = :hash "
            "AND t.revoked = :no AND a.active = :yes",
            {"hash": _digest(token), "no": False, "yes": True},
            {**ACCOUNTS.columns, "expires_at": Type.INSTANT, "last_used_at": Type.INSTANT})
        if not rows:
            return None
        row, now = rows[0], self.clock()
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return None
        if row["last_used_at"] is None or now - row["last_used_at"] > TOUCH_EVERY:
            self.views.execute("UPDATE {api_tokens} SET last_used_at = :now "
                               "WHERE token_hash = :hash", {"now": now, "hash": _digest(token)})
        return User(row["login"], row["name"], Role(row["role"]))
