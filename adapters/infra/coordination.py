"""Team coordination: "j'appelle" claims on a debtor, for 15 minutes, visible to all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from projections.schema import Table, Type
from projections.storage import ViewStore

CLAIMS = Table("claims", {"account": Type.TEXT, "login": Type.TEXT, "until": Type.INSTANT},
               key=("account",))
CLAIM_LENGTH = timedelta(minutes=15)


@dataclass(frozen=True)
class Claim:
    """Somebody is calling this debtor until `until`."""

    account: str
    login: str
    until: datetime


class Claims:
    """The live claims (a claim ends by itself after 15 minutes)."""

    def __init__(self, views: ViewStore, clock) -> None:  # type: ignore[no-untyped-def]
        self.views = views
        self.clock = clock
        views.create_tables([CLAIMS])

    def claim(self, account: str, login: str) -> Claim:
        """Claims a debtor for 15 minutes, unless a colleague holds it; returns the claim."""
        now = self.clock()
        current = self.of(account)
        if current is not None and current.login != login:
            return current
        until = now + CLAIM_LENGTH
        self.views.execute("DELETE FROM {claims} WHERE account = :account", {"account": account})
        self.views.execute("INSERT INTO {claims} (account, login, until) "
                           "VALUES (:account, :login, :until)",
                           {"account": account, "login": login, "until": until})
        return Claim(account, login, until)

    def of(self, account: str) -> Claim | None:
        """The live claim on a debtor, if any."""
        rows = self.views.rows("SELECT * FROM {claims} WHERE account = :account AND "
                               "until > :now", {"account": account, "now": self.clock()},
                               CLAIMS.columns)
        return Claim(**rows[0]) if rows else None

    def live(self) -> list[Claim]:
        """Every live claim."""
        rows = self.views.rows("SELECT * FROM {claims} WHERE until > :now ORDER BY until",
                               {"now": self.clock()}, CLAIMS.columns)
        return [Claim(**row) for row in rows]
