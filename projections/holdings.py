"""Who holds what: each agent's debtors and open files, the « à attribuer » queue, a
debtor's owner, and the debtors a portfolio filter selects (to give them an owner at once).

A debtor's owner is the `debtor_owners` row its record last set (an empty owner, or no row:
« à attribuer »); a file's agent in the case view is its own, as an exception, else its
debtor's owner. Both are kept by the case view at one position, so these reads never see
a file follow an owner that its debtor does not have yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from projections.case_view import DEBTOR_OWNERS, OPEN
from projections.schema import Type
from projections.storage import ViewStore

if TYPE_CHECKING:
    from projections.queries import PortfolioFilter

IN_LIST = 500
"""Accounts named in one `IN (...)` list at most."""
UNOWNED = ("LEFT JOIN {debtor_owners} o ON o.account = c.debtor_account "
           f"WHERE c.{OPEN} AND (o.owner IS NULL OR o.owner = '')")
"""Open files of debtors nobody owns."""


class _Viewing(Protocol):
    views: ViewStore


def _named(accounts: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Accounts as `IN (:a0, :a1, …)` lists and their parameters, `IN_LIST` at a time."""
    listed = sorted(set(accounts))
    chunks = []
    for start in range(0, len(listed), IN_LIST):
        params = {f"a{i}": account for i, account in enumerate(listed[start:start + IN_LIST])}
        chunks.append(("(" + ", ".join(":" + name for name in params) + ")", params))
    return chunks


class HoldingReads:
    """Reads of who holds what (mixed into `projections.queries.Reads`)."""

    def holdings(self: _Viewing) -> list[dict[str, Any]]:
        """Per agent: the debtors they own, the open files they hold (their debtors' and
        the files given to them as exceptions) and what those still owe, by currency. A
        row with agent None holds the open files of nobody (« à attribuer »)."""
        owned = {row["owner"]: row["debtors"] for row in self.views.rows(
            "SELECT owner, COUNT(*) AS debtors FROM {debtor_owners} WHERE owner <> '' "
            "GROUP BY owner", {}, {"debtors": Type.INT})}
        files = {row["agent"]: row for row in self.views.rows(
            f"SELECT agent, COUNT(*) AS files, COUNT(DISTINCT debtor_account) AS accounts "
            f"FROM {{case_view}} WHERE {OPEN} GROUP BY agent", {},
            {"files": Type.INT, "accounts": Type.INT})}
        owed = self.views.rows(
            f"SELECT agent, currency, SUM(outstanding) AS outstanding FROM {{case_view}} "
            f"WHERE {OPEN} GROUP BY agent, currency ORDER BY currency", {},
            {"outstanding": Type.CENTS})
        agents = sorted(set(owned) | {a for a in files if a}) + ([None] if None in files else [])
        return [{"agent": agent,
                 "debtors": owned.get(agent, 0) if agent else files[None]["accounts"],
                 "files": files[agent]["files"] if agent in files else 0,
                 "outstanding": {o["currency"]: o["outstanding"] for o in owed
                                 if o["agent"] == agent}}
                for agent in agents]

    def unassigned(self: _Viewing, limit: int = 200) -> tuple[list[dict[str, Any]], int]:
        """The « à attribuer » queue: debtors with open files and no owner, the longest
        overdue first (name, open files, what they owe by currency, oldest due date), the
        first `limit` of them; and how many there are in all."""
        found = self.views.rows(
            "SELECT c.debtor_account AS account, MAX(c.debtor_name) AS name, "
            "COUNT(*) AS files, MIN(c.due_on) AS oldest_due "
            f"FROM {{case_view}} c {UNOWNED} GROUP BY c.debtor_account "
            "ORDER BY oldest_due, account LIMIT :limit", {"limit": limit},
            {"files": Type.INT, "oldest_due": Type.DATE})
        total = self.views.rows(
            f"SELECT COUNT(DISTINCT c.debtor_account) AS n FROM {{case_view}} c {UNOWNED}",
            {}, {"n": Type.INT})[0]["n"]
        owed: dict[str, dict[str, Decimal]] = {}
        for names, params in _named(row["account"] for row in found):
            for row in self.views.rows(
                    "SELECT debtor_account, currency, SUM(outstanding) AS outstanding "
                    f"FROM {{case_view}} WHERE debtor_account IN {names} AND {OPEN} "
                    "GROUP BY debtor_account, currency ORDER BY currency", params,
                    {"outstanding": Type.CENTS}):
                owed.setdefault(row["debtor_account"], {})[row["currency"]] = row["outstanding"]
        for row in found:
            row["outstanding"] = owed.get(row["account"], {})
        return found, total

    def debtor_owner(self: _Viewing, account: str) -> dict[str, Any] | None:
        """Who owns a debtor (`owner`, empty: « à attribuer »), given by whom, when and why;
        None when nobody was ever given it."""
        rows = self.views.rows("SELECT * FROM {debtor_owners} WHERE account = :account",
                               {"account": account}, DEBTOR_OWNERS.columns)
        return rows[0] if rows else None

    def owners_of(self: _Viewing, accounts: Iterable[str]) -> dict[str, str]:
        """The owner of each of these debtors that was ever given one ('' when put back
        « à attribuer »)."""
        return {row["account"]: row["owner"] for names, params in _named(accounts)
                for row in self.views.rows(
                    f"SELECT account, owner FROM {{debtor_owners}} WHERE account IN {names}",
                    params, {})}

    def exceptions(self: _Viewing, account: str) -> list[dict[str, Any]]:
        """A debtor's open files given to somebody other than its owner: number, agent."""
        return self.views.rows(
            f"SELECT number, file_agent FROM {{case_view}} WHERE debtor_account = :account "
            f"AND file_agent <> '' AND {OPEN} ORDER BY number", {"account": account}, {})

    def following(self: _Viewing, accounts: Iterable[str]) -> int:
        """How many open files of these debtors follow their owner (not exceptions): the
        files a change of owner moves."""
        return sum(self.views.rows(
            f"SELECT COUNT(*) AS n FROM {{case_view}} WHERE debtor_account IN {names} "
            f"AND (file_agent IS NULL OR file_agent = '') AND {OPEN}", params,
            {"n": Type.INT})[0]["n"] for names, params in _named(accounts))

    def debtor_accounts(self: _Viewing, day: date, filters: PortfolioFilter,
                        limit: int) -> list[str]:
        """The debtors with a file the portfolio's filters select, by account, the first
        `limit` of them."""
        where, params = filters.sql(day)
        return [row["debtor_account"] for row in self.views.rows(
            f"SELECT DISTINCT debtor_account FROM {{case_view}} WHERE {where} "
            "ORDER BY debtor_account LIMIT :limit", {**params, "limit": limit}, {})]
