"""Questions people ask of the read models: a file, a debtor, the worklist facts, aging.

Everything here reads the projections' tables, never the aggregates. What depends on
the calendar is decided for the day asked about.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from domain.kinds import FROM_DEBTOR
from domain.phases import COMMITMENTS, RANK, UNCLAIMED, sql_list
from domain.values import start_of_day
from projections.case_view import (
    CALLBACK_OPEN,
    CASE_VIEW,
    DEBTOR_OWNERS,
    OPEN,
    PLAN_INSTALMENTS,
    CaseLine,
)
from projections.debtors import (
    DEBTOR_CONTACT_MEANS,
    DEBTOR_CONTACTS,
    DEBTOR_IDENTITY,
    DEBTOR_TOUCHES,
    DEBTORS,
    KnownPerson,
    Said,
    identity_of,
    people_of,
)
from projections.dispatches import DispatchReads
from projections.history import HISTORY
from projections.holdings import HoldingReads
from projections.mail import MailReads
from projections.portal import PortalReads
from projections.schema import Type
from projections.storage import ViewStore

MISSED = ("FROM {case_view} c JOIN {plan_instalments} i ON i.invoice_id = c.invoice_id "
          "WHERE c.phase = 'in_payment_plan' AND i.due_on < :day "
          "AND i.cumulative > c.plan_paid")
"""Instalments past their date that the payments since the plan do not cover."""
WORK_COLUMNS = ("number", "debtor_name", "debtor_account", "agent", "currency", "outstanding",
                "due_on", "phase", "promise_on", "reminders_1", "reminders_2", "reminders_3",
                "pre_due_reminders", "calls", "formal_notice_on", "last_contact_at",
                "callback_on", "callback_owner", "wakes_on", "notice_deadline_on",
                "last_step_at")
"""What the worklist reads of each open file."""
T = TypeVar("T")
BUCKETS = ("not_yet_due", "1-30", "31-60", "61-90", "over_90")
NOTICE_ESCALATION = timedelta(days=5)
"""How long the owner of a file whose formal notice expired unpaid has to decide before
the file also shows on the team board."""


@dataclass(frozen=True)
class DebtorView:
    """A debtor with all its files, its totals, its identity, the people known there, its
    owner and today's contacts."""

    account: str
    name: str
    siren: str
    files: list[CaseLine]
    """Its files, largest balance first (the first 500)."""
    people: list[KnownPerson]
    """The people known there, the most recently seen first."""
    touched_today: list[dict[str, Any]]
    invoiced: dict[str, Decimal]
    """Invoiced, by currency: amounts in two currencies are never added."""
    outstanding: dict[str, Decimal]
    """Still owed, by currency."""
    file_count: int
    identity: dict[str, Said]
    """The identity fields its record sets (legal name, SIREN, SIRET, legal form,
    addresses), each with who recorded it and when."""
    owner: dict[str, Any] | None = None
    """Who owns it (`owner`, empty: « à attribuer »), given by whom, when, why; None before
    anybody was given it."""

    @property
    def contacts(self) -> list[dict[str, Any]]:
        """The people as rows: name, function, the latest phone and e-mail, last seen."""
        return [{"name": p.name.value, "function": p.function.value if p.function else "",
                 "phone": p.phone, "email": p.email, "last_seen": p.name.at}
                for p in self.people]


NOBODY = "-"
"""The portfolio's agent filter for files nobody holds (« à attribuer »): no login reads so."""
SORTS = {
    "retard": "due_on ASC, number", "montant": "outstanding DESC, number",
    "debiteur": "debtor_name, number", "numero": "number",
}


@dataclass(frozen=True)
class PortfolioFilter:
    """What the portfolio page filters on; every value comes in as a bound parameter."""

    status: str = ""
    agent: str = ""
    bucket: str = ""
    debtor: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    search: str = ""
    sort: str = "retard"

    def sql(self, day: date) -> tuple[str, dict[str, Any]]:
        """The WHERE clause and its parameters."""
        clauses, params = ["1 = 1"], {"day": day}
        if self.status in PHASE_OF_STATUS:
            clauses.append("phase = :phase")
            params["phase"] = PHASE_OF_STATUS[self.status]
            if self.status == "promise_broken":
                clauses.append("promise_on < :day")
            elif self.status == "instalment_missed":
                clauses.append("wakes_on <= :day")
            elif self.status == "in_payment_plan":
                clauses.append("(wakes_on IS NULL OR wakes_on > :day)")
            elif self.status == "promised":
                clauses.append("promise_on >= :day")
            elif self.status == "overdue":
                clauses.append("due_on < :day")
            elif self.status == "not_yet_due":
                clauses.append("due_on >= :day")
        if self.agent == NOBODY:
            clauses.append("agent IS NULL")
        elif self.agent:
            clauses.append("agent = :agent")
            params["agent"] = self.agent
        if self.debtor:
            clauses.append("debtor_account = :debtor")
            params["debtor"] = self.debtor
        if self.minimum is not None:
            clauses.append("outstanding >= :minimum")
            params["minimum"] = int(self.minimum * 100)
        if self.maximum is not None:
            clauses.append("outstanding <= :maximum")
            params["maximum"] = int(self.maximum * 100)
        if self.bucket in BUCKET_DAYS:
            low, high = BUCKET_DAYS[self.bucket]
            clauses.append("outstanding > 0 AND due_on <= :b_from AND due_on > :b_to")
            params["b_from"] = day - timedelta(days=low)
            params["b_to"] = day - timedelta(days=high)
        if self.search:
            clauses.append("(number = :q OR debtor_siren = :q OR LOWER(debtor_name) LIKE :like)")
            params["q"] = self.search.strip()
            params["like"] = "%" + self.search.strip().lower().replace("%", "") + "%"
        return " AND ".join(clauses), params


PHASE_OF_STATUS = {
    "not_yet_due": "open", "overdue": "open", "promised": "promised",
    "promise_broken": "promised", "in_dispute": "in_dispute",
    "in_payment_plan": "in_payment_plan", "instalment_missed": "in_payment_plan",
    "formal_notice_sent": "formal_notice_sent",
    "handed_over": "handed_over", "paid": "paid", "written_off": "written_off",
    "closed": "closed",
}
BUCKET_DAYS = {"not_yet_due": (-36500, 0), "1-30": (1, 31), "31-60": (31, 61),
               "61-90": (61, 91), "over_90": (91, 36500)}


def _listed(values: Iterable[str], params: dict[str, Any]) -> str:
    """Values as named parameters of an SQL list (added to `params`): `:v0, :v1`."""
    names = []
    for value in sorted(set(values)):
        names.append(f"v{len(params)}")
        params[names[-1]] = value
    return ", ".join(":" + name for name in names)


def _share(part: int | None, whole: int | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) / Decimal(whole) * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class AgingRow:
    """Outstanding amounts by lateness bucket, for one debtor, one agent, or everyone, in
    one currency (amounts in two currencies are never added)."""

    key: str
    buckets: dict[str, Decimal]
    currency: str = "EUR"

    @property
    def total(self) -> Decimal:
        """The row's whole outstanding amount."""
        return sum(self.buckets.values(), Decimal("0.00"))


THEIRS = sql_list(sorted(FROM_DEBTOR))
"""The contacts the debtor made, as an SQL list."""


class Reads(HoldingReads, DispatchReads, MailReads, PortalReads):
    """Read-side questions, answered from the view store (who holds what: `HoldingReads`)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views
        self._remembered: dict[tuple[Any, ...], Any] = {}
        self._computing: dict[tuple[Any, ...], threading.Lock] = {}
        self._memo_lock = threading.Lock()

    def as_of_position(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """`compute()`, remembered until the case view moves on (any fact, or any change of
        the playbook, moves it): totals over every file, a page of the portfolio, a day's
        worklist are asked again and again between two facts, and the answer is the same.
        Requests asking at once wait for one computation instead of each making its own."""
        key = (*key, self.views.position("case_view"))
        with self._memo_lock:
            if key in self._remembered:
                return self._remembered[key]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            if key in self._remembered:
                return self._remembered[key]
            value = None
            try:
                value = compute()
            finally:
                with self._memo_lock:
                    if value is not None:
                        if len(self._remembered) > 64:
                            self._remembered.clear()
                        self._remembered[key] = value
                    self._computing.pop(key, None)
        return value

    def _lines(self, where: str, params: dict[str, Any], day: date,
               order: str = "due_on, number", suffix: str = "",
               columns: tuple[str, ...] = ()) -> list[CaseLine]:
        chosen = ", ".join(columns) if columns else "*"
        rows = self.views.rows(
            f"SELECT {chosen} FROM {{case_view}} WHERE {where} ORDER BY {order}{suffix}",
            params, CASE_VIEW.columns)
        return [CaseLine(row, day) for row in rows]

    # -- a file and a debtor ------------------------------------------------------------

    def case(self, number: str, day: date) -> CaseLine | None:
        """The case view of one file, as of `day` for what the calendar decides."""
        lines = self._lines("number = :number", {"number": number}, day)
        return lines[0] if lines else None

    def history(self, number: str) -> list[dict[str, Any]]:
        """Every fact of a file, in order."""
        return self.views.rows("SELECT * FROM {history} WHERE number = :number ORDER BY version",
                               {"number": number}, HISTORY.columns)

    def debtor_history(self, account: str, limit: int = 200) -> list[dict[str, Any]]:
        """The latest facts of every file of a debtor, in business-time order."""
        rows = self.views.rows(
            "SELECT * FROM {history} WHERE debtor_account = :account "
            "ORDER BY occurred_at DESC, number DESC, version DESC LIMIT :limit",
            {"account": account, "limit": limit}, HISTORY.columns)
        return rows[::-1]

    def debtor(self, account: str, day: date) -> DebtorView | None:
        """A debtor, its files with totals, its known contacts, and who reached it on `day`."""
        found = self.views.rows("SELECT * FROM {debtors} WHERE account = :account",
                                {"account": account}, DEBTORS.columns)
        if not found:
            return None
        where = {"account": account}
        identity = identity_of(self.views.rows(
            "SELECT * FROM {debtor_identity} WHERE account = :account", where,
            DEBTOR_IDENTITY.columns))
        totals = self.views.rows(
            "SELECT currency, COUNT(*) AS n, SUM(amount) AS invoiced, "
            "SUM(outstanding) AS outstanding FROM {case_view} WHERE debtor_account = :account "
            "GROUP BY currency ORDER BY currency", {"account": account},
            {"n": Type.INT, "invoiced": Type.CENTS, "outstanding": Type.CENTS})
        return DebtorView(
            account=account, name=found[0]["name"], siren=found[0]["siren"],
            invoiced={t["currency"]: t["invoiced"] for t in totals},
            outstanding={t["currency"]: t["outstanding"] for t in totals},
            file_count=sum(t["n"] for t in totals),
            files=self._lines("debtor_account = :account", {"account": account}, day,
                              order="outstanding DESC, due_on, number", suffix=" LIMIT 500"),
            people=self.debtor_people(account), identity=identity,
            owner=self._owner(account), touched_today=self.touches_on(day, account))

    def debtor_at_hand(self, account: str, name: str, day: date) -> DebtorView:
        """What a file page needs of its debtor to call it: its open files, the people
        known there, its owner and who reached it on `day` (no identity, no totals: the
        page shows neither, and they cost two more reads)."""
        return DebtorView(
            account=account, name=name, siren="", invoiced={}, outstanding={},
            file_count=0, identity={},
            files=self._lines(f"debtor_account = :account AND {OPEN}", {"account": account},
                              day, order="outstanding DESC, due_on, number",
                              suffix=" LIMIT 500"),
            people=self.debtor_people(account), owner=self._owner(account),
            touched_today=self.touches_on(day, account))

    def _owner(self, account: str) -> dict[str, Any] | None:
        owners = self.views.rows("SELECT * FROM {debtor_owners} WHERE account = :account",
                                 {"account": account}, DEBTOR_OWNERS.columns)
        return owners[0] if owners else None

    def debtor_people(self, account: str) -> list[Any]:
        """The people known at a debtor (named on any of its files), with their means of
        contact: the part of `debtor` a document's addressee is chosen from."""
        where = {"account": account}
        return people_of(
            self.views.rows("SELECT * FROM {debtor_contacts} WHERE account = :account", where,
                            DEBTOR_CONTACTS.columns),
            self.views.rows("SELECT * FROM {debtor_contact_means} WHERE account = :account",
                            where, DEBTOR_CONTACT_MEANS.columns))

    def touches_on(self, day: date, account: str | None = None) -> list[dict[str, Any]]:
        """Who of the team contacted a debtor (or any debtor) on `day` (a Paris day), when
        and how, in order: the day's marks and the team board (the debtor's own replies
        are not among them)."""
        start = start_of_day(day)
        params: dict[str, Any] = {"start": start, "end": start + timedelta(days=1)}
        where = f"occurred_at >= :start AND occurred_at < :end AND kind NOT IN {THEIRS}"
        if account is not None:
            where += " AND account = :account"
            params["account"] = account
        return self.views.rows(
            f"SELECT * FROM {{debtor_touches}} WHERE {where} ORDER BY occurred_at", params,
            DEBTOR_TOUCHES.columns)

    # -- worklist facts -----------------------------------------------------------------

    def callbacks_due(self, day: date, owner: str | None = None) -> list[CaseLine]:
        """Callbacks planned for `day` or earlier and not yet made: all of them, or those of
        one person (owned by them, or on the files they hold)."""
        where = f"callback_on <= :day AND {CALLBACK_OPEN}"
        params: dict[str, Any] = {"day": day}
        if owner is not None:
            where += " AND (callback_owner = :owner OR agent = :owner)"
            params["owner"] = owner
        return self._lines(where, params, day, "callback_on, number")

    def notices_expired(self, day: date, absent: set[str]) -> list[CaseLine]:
        """Formal notices whose deadline passed unpaid with nobody deciding (no hand-over,
        plan, promise, callback or closure): for the team once the owner has had
        `NOTICE_ESCALATION` to decide, at once when the file has no owner or its owner
        is absent."""
        lines = self._lines(
            "phase = 'formal_notice_sent' AND notice_deadline_on < :day "
            "AND callback_on IS NULL AND wakes_on <= :day", {"day": day}, day,
            "notice_deadline_on, number")
        late = day - NOTICE_ESCALATION
        return [line for line in lines if line.notice_deadline_on < late
                or not line.agent or line.agent in absent]

    def promises_falling_due(self, day: date) -> list[CaseLine]:
        """Open promises whose date is `day`."""
        return self._lines("phase = 'promised' AND promise_on = :day", {"day": day}, day)

    def promises_broken(self, day: date) -> list[CaseLine]:
        """Promises whose date has passed without being paid in full."""
        return self._lines("phase = 'promised' AND promise_on < :day", {"day": day}, day,
                           "promise_on, number")

    def missed_instalments(self, day: date) -> list[tuple[CaseLine, dict[str, Any]]]:
        """Each file's first instalment past its date that payments do not cover yet."""
        types = {**CASE_VIEW.columns, **{f"i_{k}": t for k, t in PLAN_INSTALMENTS.columns.items()}}
        rows = self.views.rows(
            "SELECT c.*, i.seq AS i_seq, i.due_on AS i_due_on, i.amount AS i_amount, "
            f"i.cumulative AS i_cumulative {MISSED} ORDER BY c.invoice_id, i.seq",
            {"day": day}, types)
        first: dict[str, tuple[CaseLine, dict[str, Any]]] = {}
        for row in rows:
            if row["invoice_id"] not in first:
                instalment = {k[2:]: row.pop(k) for k in list(row) if k.startswith("i_")}
                instalment["invoice_id"] = row["invoice_id"]
                first[row["invoice_id"]] = (CaseLine(row, day), instalment)
        return sorted(first.values(), key=lambda m: (m[1]["due_on"], m[0].number))

    def without_contact(self, days: int, day: date) -> list[CaseLine]:
        """Overdue files still being worked with no contact for `days` days (or ever)."""
        since = start_of_day(day - timedelta(days=days))
        return self._lines(
            f"{OPEN} AND due_on < :day "
            "AND (last_contact_at IS NULL OR last_contact_at < :since)",
            {"day": day, "since": since}, day)

    def falling_due(self, first: date, last: date, day: date) -> list[CaseLine]:
        """Open files whose due date falls between two days (e.g. August, for July calls)."""
        return self._lines(f"{OPEN} AND due_on >= :first AND due_on <= :last",
                           {"first": first, "last": last}, day)

    def last_touches(self, accounts: Iterable[str] | None = None,
                     before: datetime | None = None) -> dict[str, datetime]:
        """For each debtor (of `accounts`, or all), when it was last contacted (before
        `before`, if given)."""
        conditions, params = [], {}
        if accounts is not None:
            params = {f"a{i}": account for i, account in enumerate(sorted(set(accounts)))}
            if not params:
                return {}
            conditions.append(f"account IN ({', '.join(':' + name for name in params)})")
        if before is not None:
            conditions.append("occurred_at < :before")
            params["before"] = before
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        rows = self.views.rows("SELECT account, MAX(occurred_at) AS last FROM {debtor_touches} "
                               f"{where}GROUP BY account", params, {"last": Type.INSTANT})
        return {row["account"]: row["last"] for row in rows}

    def work_candidates(self, day: date, agent: str | None, limit: int | None,
                        offset: int = 0, accounts: Iterable[str] | None = None
                        ) -> list[tuple[int, CaseLine]]:
        """Files the day may put on the worklist, most urgent first, with their rank: the
        `limit` first after `offset` (all when None), of every debtor or of `accounts`.

        Rank 0: a broken commitment (promise past its date, instalment missed); 1: a
        callback due; 2: a scenario step (`wakes_on` reached). Within a rank, the
        larger amount × days late first. The scenario decides for each file whether
        a step is really due (a contact on a sibling file may postpone it).
        """
        where, rank, params = self._work_sql(day, agent)
        if accounts is not None:
            listed = _listed(accounts, params)
            if not listed:
                return []
            where = f"debtor_account IN ({listed}) AND ({where})"
        late = self.views.greatest(self.views.days_before(":day", "due_on"), "1")
        page = "" if limit is None else " LIMIT :limit OFFSET :offset"
        rows = self.views.rows(
            f"SELECT {', '.join(WORK_COLUMNS)}, {rank} AS work_rank FROM {{case_view}} "
            f"WHERE {where} ORDER BY work_rank, CAST(outstanding AS NUMERIC) * {late} DESC, number"
            f"{page}", {**params, "limit": limit, "offset": offset},
            {**CASE_VIEW.columns, "work_rank": Type.INT})
        return [(row.pop("work_rank"), CaseLine(row, day)) for row in rows]

    def count_work_candidates(self, day: date, agent: str | None) -> int:
        """How many files `work_candidates` would give in all."""
        where, _, params = self._work_sql(day, agent)
        return self.views.rows(f"SELECT COUNT(*) AS n FROM {{case_view}} WHERE {where}",
                               params, {"n": Type.INT})[0]["n"]

    def work_totals(self, day: date, agent: str | None, leaving_out: Iterable[str] = ()
                    ) -> tuple[int, int, dict[str, Decimal]]:
        """Of the files `work_candidates` would give, leaving out some debtors: how many
        debtors, how many files, and what they still owe by currency."""
        where, _, params = self._work_sql(day, agent)
        listed = _listed(leaving_out, params)
        if listed:
            where = f"debtor_account NOT IN ({listed}) AND ({where})"
        # One scan of the candidates, read once for both sums (a CTE used twice).
        owed = self.views.rows(
            "WITH due AS (SELECT debtor_account, currency, outstanding FROM {case_view} "
            f"WHERE {where}) SELECT currency, COUNT(*) AS n, SUM(outstanding) AS owed, "
            "(SELECT COUNT(DISTINCT debtor_account) FROM due) AS debtors FROM due "
            "GROUP BY currency ORDER BY currency", params,
            {"n": Type.INT, "owed": Type.CENTS, "debtors": Type.INT})
        debtors = owed[0]["debtors"] if owed else 0
        return debtors, sum(row["n"] for row in owed), {row["currency"]: row["owed"]
                                                          for row in owed}

    def debtor_names(self, accounts: Iterable[str]) -> dict[str, str]:
        """The name of each of these debtors."""
        params: dict[str, Any] = {}
        listed = _listed(accounts, params)
        if not listed:
            return {}
        rows = self.views.rows(f"SELECT account, name FROM {{debtors}} WHERE account IN ({listed})",
                               params, DEBTORS.columns)
        return {row["account"]: row["name"] for row in rows}

    @staticmethod
    def _work_sql(day: date, agent: str | None) -> tuple[str, str, dict[str, Any]]:
        step = f"wakes_on <= :day AND {OPEN}"  # as the partial indexes say, word for word
        callback = f"callback_on <= :day AND {CALLBACK_OPEN}"
        params: dict[str, Any] = {"day": day}
        if agent is not None:
            step = f"agent = :agent AND {step}"
            callback = (f"((agent = :agent AND {callback}) "
                        f"OR (callback_owner = :agent AND {callback}))")
            params["agent"] = agent
        # A promise past its date, or an instalment missed: `wakes_on` says when.
        broken = f"{step} AND phase IN {sql_list(COMMITMENTS)}"
        expired = f"{step} AND phase = 'formal_notice_sent' AND notice_deadline_on < :day"
        rank = (f"CASE WHEN {broken} THEN {RANK['commitment_broken']} WHEN {callback} "
                f"THEN {RANK['callback']} WHEN {expired} THEN {RANK['notice_expired']} "
                f"ELSE {RANK['step']} END")
        return f"({step}) OR ({callback})", rank, params

    # -- the portfolio ------------------------------------------------------------------

    def portfolio(self, day: date, filters: PortfolioFilter, page: int = 1,
                  per_page: int = 50) -> tuple[list[CaseLine], int]:
        """One page of files matching the filters, and how many match in all."""
        return self.as_of_position(("portfolio", day, filters, page, per_page),
                                   lambda: self._portfolio(day, filters, page, per_page))

    def _portfolio(self, day: date, filters: PortfolioFilter, page: int,
                   per_page: int) -> tuple[list[CaseLine], int]:
        where, params = filters.sql(day)
        order = SORTS.get(filters.sort, SORTS["retard"])
        total = self.views.rows(f"SELECT COUNT(*) AS n FROM {{case_view}} WHERE {where}",
                                params, {"n": Type.INT})[0]["n"]
        lines = self._lines(where, {**params, "limit": per_page,
                                    "offset": (page - 1) * per_page},
                            day, order=order, suffix=" LIMIT :limit OFFSET :offset")
        return lines, total

    def numbers(self, day: date, filters: PortfolioFilter, page: int = 1000
                ) -> Iterator[str]:
        """Every matching file's number, in order, a page at a time (for exports)."""
        where, params = filters.sql(day)
        after = ""
        while True:
            rows = self.views.rows(
                f"SELECT number FROM {{case_view}} WHERE {where} AND number > :after "
                "ORDER BY number LIMIT :limit", {**params, "after": after, "limit": page}, {})
            yield from (row["number"] for row in rows)
            if len(rows) < page:
                return
            after = rows[-1]["number"]

    def kpis(self, day: date) -> dict[str, Any]:
        """Overdue amount and DSO by currency, broken-promise rate, share recovered within
        90 days."""
        return self.as_of_position(("kpis", day), lambda: self._kpis(day))

    def _kpis(self, day: date) -> dict[str, Any]:
        year_ago = day - timedelta(days=365)
        money = self.views.rows(
            "SELECT currency, "
            "SUM(CASE WHEN outstanding > 0 AND due_on < :day AND phase NOT IN "
            f"{sql_list(UNCLAIMED)} THEN outstanding ELSE 0 END) AS overdue, "
            f"SUM(CASE WHEN outstanding > 0 AND phase NOT IN {sql_list(UNCLAIMED)} "
            "THEN outstanding ELSE 0 END) AS receivables, "
            "SUM(CASE WHEN issued_on >= :year_ago THEN amount ELSE 0 END) AS sales "
            "FROM {case_view} GROUP BY currency ORDER BY currency",
            {"day": day, "year_ago": year_ago},
            {"overdue": Type.CENTS, "receivables": Type.CENTS, "sales": Type.CENTS})
        row = self.views.rows(
            "SELECT "
            "SUM(CASE WHEN promise_on IS NOT NULL AND promise_on < :day THEN 1 ELSE 0 END) "
            "AS promises_due, "
            "SUM(CASE WHEN phase = 'promised' AND promise_on < :day THEN 1 ELSE 0 END) "
            "AS promises_broken, "
            "SUM(CASE WHEN due_on <= :d90 THEN 1 ELSE 0 END) AS due_90, "
            "SUM(CASE WHEN due_on <= :d90 AND settled_on IS NOT NULL "
            "AND settled_on <= due_on + 90 THEN 1 ELSE 0 END) AS recovered_90 "
            "FROM {case_view}".replace("due_on + 90", self.views.plus_days("due_on", 90)),
            {"day": day, "d90": day - timedelta(days=90)},
            {"promises_due": Type.INT, "promises_broken": Type.INT, "due_90": Type.INT,
             "recovered_90": Type.INT})[0]
        return {
            "overdue": {m["currency"]: m["overdue"] for m in money if m["overdue"]}
            or {"EUR": Decimal("0.00")},
            "dso": {m["currency"]: ((m["receivables"] or 0) / m["sales"] * 365).quantize(
                Decimal("1")) for m in money if m["sales"]},
            "promises_broken_rate": _share(row["promises_broken"], row["promises_due"]),
            "recovered_90_rate": _share(row["recovered_90"], row["due_90"]),
        }

    # -- aging (balance âgée) -----------------------------------------------------------

    def aging(self, day: date, by: str | None = None) -> list[AgingRow]:
        """Outstanding by lateness bucket on `day`, per debtor, per agent, or in total."""
        return self.as_of_position(("aging", day, by), lambda: self._aging(day, by))

    def _aging(self, day: date, by: str | None) -> list[AgingRow]:
        key = {"debtor": "debtor_account", "agent": "agent", None: "'total'"}[by]
        rows = self.views.rows(
            f"SELECT {key} AS k, currency, CASE "
            "WHEN due_on >= :day THEN 'not_yet_due' "
            "WHEN due_on >= :d30 THEN '1-30' WHEN due_on >= :d60 THEN '31-60' "
            "WHEN due_on >= :d90 THEN '61-90' ELSE 'over_90' END AS bucket, "
            "SUM(outstanding) AS amount FROM {case_view} "
            f"WHERE outstanding > 0 AND phase NOT IN {sql_list(UNCLAIMED)} "
            "GROUP BY k, currency, bucket ORDER BY k, currency",
            {"day": day, "d30": day - timedelta(days=30), "d60": day - timedelta(days=60),
             "d90": day - timedelta(days=90)},
            {"amount": Type.CENTS})
        table: dict[tuple[str, str], dict[str, Decimal]] = {}
        for row in rows:
            buckets = table.setdefault((row["k"] or "", row["currency"]),
                                       dict.fromkeys(BUCKETS, Decimal("0.00")))
            buckets[row["bucket"]] = row["amount"]
        return [AgingRow(k, v, currency) for (k, currency), v in table.items()]
