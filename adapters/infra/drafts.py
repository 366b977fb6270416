"""What a person typed into a page's form when their session had expired, kept until they
log in again and see it re-filled.

The fields (never a CSRF token nor a password) stay in the database, like the sessions;
the browser holds only a random token in a short-lived cookie, the store only its
SHA-256. A draft lives `LIFETIME`, is shown once, and only to the person whose session
had expired (anyone, when the browser had no session left to tell who it was).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from projections.schema import Table, Type
from projections.storage import ViewStore

DRAFTS = Table("form_drafts", {"token_hash": Type.TEXT, "login": Type.TEXT, "page": Type.TEXT,
                               "action": Type.TEXT, "fields": Type.JSON,
                               "created_at": Type.INSTANT},
               key=("token_hash",), indexes=(("created_at",),))
LIFETIME = timedelta(hours=1)
MAX_CHARS = 64 * 1024
"""A draft's fields, all together: a long call summary fits; a bigger form is not kept."""
MAX_FIELDS = 600
MAX_ANONYMOUS = 500
"""Forms kept at once from browsers that had no session left: anybody may send those."""
SECRET_FIELDS = ("csrf", "password", "mot_de_passe", "passe", "token", "jeton")
"""Fields never kept (a name holding any of these)."""

Fields = dict[str, str | list[str]]


@dataclass(frozen=True)
class Draft:
    """A form as typed: the page it was on, where it was sent, and its fields."""

    page: str
    action: str
    fields: Fields


def _digest(token: str) -> str:
    # The same digest as the sessions' (adapters.infra.accounts): a stale cookie names its row.
    return hashlib.sha256(token.encode()).hexdigest()


def kept_fields(pairs: list[tuple[str, str]]) -> Fields | None:
    """The fields worth keeping from a form's pairs (a name sent twice: a list), or None
    when the form is too big to keep."""
    fields: Fields = {}
    size = 0
    for name, value in pairs[:MAX_FIELDS]:
        if any(secret in name.lower() for secret in SECRET_FIELDS):
            continue
        size += len(name) + len(value)
        if size > MAX_CHARS:
            return None
        present = fields.get(name)
        if present is None:
            fields[name] = [value] if name == "numeros" else value
        elif isinstance(present, list):
            present.append(value)
        else:
            fields[name] = [present, value]
    return fields


class Drafts:
    """Forms kept across a new login, in the same database as the sessions."""

    def __init__(self, views: ViewStore, clock: Callable[[], datetime]) -> None:
        self.views = views
        self.clock = clock
        views.create_tables([DRAFTS])

    def keep(self, stale_session: str, page: str, action: str, fields: Fields) -> str | None:
        """Keeps a form typed on `page` and sent to `action`; the token for the cookie, or
        None when too many forms of unknown people are kept already."""
        now = self.clock()
        self.views.execute("DELETE FROM {form_drafts} WHERE created_at < :old",
                           {"old": now - LIFETIME})
        owner = self.views.rows("SELECT login FROM {sessions} WHERE token_hash = :hash",
                                {"hash": _digest(stale_session)}, {}) if stale_session else []
        if not owner and self.views.rows(
                "SELECT COUNT(*) AS n FROM {form_drafts} WHERE login = ''", {},
                {"n": Type.INT})[0]["n"] >= MAX_ANONYMOUS:
            return None
        token = secrets.token_urlsafe(32)
        self.views.execute(
            "INSERT INTO {form_drafts} (token_hash, login, page, action, fields, created_at) "
            "VALUES (:hash, :login, :page, :action, :fields, :now)",
            {"hash": _digest(token), "login": owner[0]["login"] if owner else "",
             "page": page, "action": action, "fields": self.views.to_db(fields, Type.JSON),
             "now": now})
        return token

    def take(self, token: str, login: str, page: str) -> Draft | None:
        """The draft of this token for this person on this page, forgotten once taken."""
        if not token or len(token) > 200:
            return None
        rows = self.views.rows("SELECT * FROM {form_drafts} WHERE token_hash = :hash",
                               {"hash": _digest(token)}, DRAFTS.columns)
        if not rows:
            return None
        row: dict[str, Any] = rows[0]
        if self.clock() - row["created_at"] > LIFETIME or row["login"] not in ("", login):
            return None
        if row["page"] != page:
            return None
        self.views.execute("DELETE FROM {form_drafts} WHERE token_hash = :hash",
                           {"hash": row["token_hash"]})
        return Draft(row["page"], row["action"], row["fields"])
