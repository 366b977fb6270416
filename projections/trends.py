"""Trends: what the supervisors' dashboard draws over months (DSO, recovery, promises kept)
and over the last days (each agent's activity).

Listens to the facts that move money or show work:
- payments: every payment a file has received, rewritten from the file's fold whenever a
  payment is recorded, corrected or retracted (`trend_payments`), so that a month's
  receivables and what was recovered after a due date can be summed at any date;
- acts: each call (one per call, even over several invoices), each payment promise (its
  amount, currency, the day it was made and the day promised) and each e-mail sent, with
  who did it and when (`trend_acts`); a retracted act leaves the table.
The questions are asked of these tables and of the case view (`TrendReads`); every sum
is by currency, never across two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.facts import Fact
from domain.invoice import Invoice
from domain.phases import UNCLAIMED, sql_list
from domain.values import paris_day, start_of_day
from projections.schema import Change, Delete, Insert, Table, Type
from projections.storage import ViewStore

TREND_PAYMENTS = Table(
    "trend_payments",
    {"invoice_id": Type.TEXT, "version": Type.INT, "received_on": Type.DATE,
     "amount": Type.CENTS, "currency": Type.TEXT},
    key=("invoice_id", "version"),
    indexes=(("received_on",),),
)
TREND_ACTS = Table(
    "trend_acts",
    {"invoice_id": Type.TEXT, "version": Type.INT, "actor": Type.TEXT,
     "occurred_at": Type.INSTANT, "kind": Type.TEXT, "action": Type.TEXT,
     "amount": Type.CENTS, "currency": Type.TEXT, "made_on": Type.DATE, "due_on": Type.DATE},
    key=("invoice_id", "version"),
    indexes=(("occurred_at",), ("kind", "due_on")),
)
"""`kind`: 'call', 'promise' or 'email'; `action` identifies one act recorded on several
invoices (a call about three invoices is one call)."""

PAYMENT_KINDS = frozenset({"PaymentReceived", "FactCorrected", "FactRetracted"})
EMAIL_KINDS = frozenset({"PreDueReminderSent", "ReminderSent", "DocumentSent", "DuplicateSent"})
RECOVERY_DAYS = (30, 60, 90)


class Trends:
    """The trends read model."""

    name = "trends"
    version = 1
    state_based = False
    tables = (TREND_PAYMENTS, TREND_ACTS)

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """The file's payments when they may have changed; a row for a call, a promise or
        an e-mail sent; a retracted act removed."""
        file_id, kind = invoice.id.hex, fact.kind
        changes: list[Change] = []
        if kind in PAYMENT_KINDS:
            case = invoice.case
            changes.append(Delete(TREND_PAYMENTS, {"invoice_id": file_id}))
            changes.extend(Insert(TREND_PAYMENTS, {
                "invoice_id": file_id, "version": p.version, "received_on": p.received_on,
                "amount": p.amount, "currency": case.currency}) for p in case.payments)
        if kind == "FactRetracted":
            changes.append(Delete(TREND_ACTS, {"invoice_id": file_id,
                                               "version": fact.data()["target_version"]}))
        act = _act(fact, invoice)
        if act is not None:
            changes.append(Insert(TREND_ACTS, act, ignore_existing=True))
        return changes


def _act(fact: Fact, invoice: Invoice) -> dict[str, Any] | None:
    """A call's, a promise's or an e-mail's row; None for any other fact (most facts:
    told apart before anything is read of the fact)."""
    kind = fact.kind
    if kind != "CallLogged" and kind != "PaymentPromised" and kind not in EMAIL_KINDS:
        return None
    data, version = fact.data(), fact.originator_version
    row: dict[str, Any] = {
        "invoice_id": invoice.id.hex, "version": version, "actor": fact.actor,
        "occurred_at": fact.occurred_at, "action": f"{invoice.id.hex}:{version}",
        "amount": None, "currency": invoice.case.currency, "made_on": None, "due_on": None}
    if kind == "CallLogged":
        return {**row, "kind": "call", "action": data.get("action_id") or row["action"]}
    if kind == "PaymentPromised":
        amount = data["amount"]  # a promise without an amount is of the whole balance
        return {**row, "kind": "promise",
                "amount": invoice.case.outstanding if amount is None else amount,
                "currency": data.get("currency") or row["currency"],
                "made_on": paris_day(fact.occurred_at), "due_on": data["promised_on"]}
    if str(data.get("channel", "")) == "email":
        return {**row, "kind": "email"}
    return None


def month_ends(day: date, months: int = 12) -> list[date]:
    """The last day of each of the `months` months up to `day`'s, the last one `day`."""
    ends, current = [day], day.replace(day=1) - timedelta(days=1)
    while len(ends) < months:
        ends.append(current)
        current = current.replace(day=1) - timedelta(days=1)
    return ends[::-1]


@dataclass(frozen=True)
class DsoPoint:
    """DSO at the end of a month: receivables then, sales of the 365 days before."""

    end: date
    receivables: Decimal
    sales: Decimal

    @property
    def dso(self) -> Decimal | None:
        """Receivables ÷ sales × 365, in whole days (None without sales)."""
        if not self.sales:
            return None
        return (self.receivables / self.sales * 365).quantize(Decimal("1"))


@dataclass(frozen=True)
class RecoveryPoint:
    """A due month: what was still owed at the due dates, what came in after them."""

    month: date
    overdue: Decimal
    recovered: dict[int, Decimal]
    """Paid within 30, 60, 90 days of the due date."""
    complete: dict[int, bool]
    """Whether 30, 60, 90 days have passed since the month's last day."""

    def share(self, days: int) -> Decimal | None:
        """The share (percent) recovered within `days`, once they have all passed."""
        if not self.overdue or not self.complete[days]:
            return None
        return (self.recovered[days] / self.overdue * 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class PromisePoint:
    """Promises whose date fell in a month: how many, how many broken."""

    month: date
    due: int
    broken: int

    @property
    def rate(self) -> Decimal | None:
        """The share (percent) broken."""
        return (Decimal(self.broken) / self.due * 100).quantize(Decimal("0.01")) \
            if self.due else None


@dataclass
class Activity:
    """What an agent did over the last days: calls, promises and their amounts, e-mails."""

    actor: str
    calls: int = 0
    promises: int = 0
    promised: dict[str, Decimal] | None = None
    emails: int = 0


class TrendReads:
    """The dashboard's questions, over the case view and the trends tables."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def currencies(self) -> dict[str, int]:
        """How many files there are in each currency."""
        rows = self.views.rows("SELECT currency, COUNT(*) AS n FROM {case_view} "
                               "GROUP BY currency ORDER BY currency", {}, {"n": Type.INT})
        return {row["currency"]: row["n"] for row in rows}

    def dso(self, day: date, currency: str = "EUR") -> list[DsoPoint]:
        """DSO at the end of each of the last 12 months (today for this month)."""
        ends = month_ends(day)
        before = ends[0] - timedelta(days=365)
        by_day = self.views.rows(
            "SELECT CASE WHEN issued_on <= :before THEN NULL ELSE issued_on END AS d, "  # noqa: S608
            "SUM(amount) AS sales, "
            f"SUM(CASE WHEN phase NOT IN {sql_list(UNCLAIMED)} THEN amount ELSE 0 END) "
            "AS claimed FROM {case_view} WHERE currency = :currency GROUP BY d",
            {"before": before, "currency": currency},
            {"d": Type.DATE, "sales": Type.CENTS, "claimed": Type.CENTS})
        paid = self.views.rows(
            "SELECT CASE WHEN p.received_on <= :before THEN NULL ELSE p.received_on END "  # noqa: S608
            "AS d, SUM(p.amount) AS paid FROM {trend_payments} p JOIN {case_view} c "
            f"ON c.invoice_id = p.invoice_id WHERE c.phase NOT IN {sql_list(UNCLAIMED)} "
            "AND c.currency = :currency GROUP BY d",
            {"before": before, "currency": currency}, {"d": Type.DATE, "paid": Type.CENTS})
        zero = Decimal("0.00")
        points = []
        for end in ends:
            claimed = sum((r["claimed"] for r in by_day if r["d"] is None or r["d"] <= end), zero)
            received = sum((r["paid"] for r in paid if r["d"] is None or r["d"] <= end), zero)
            sales = sum((r["sales"] for r in by_day if r["d"] is not None
                         and end - timedelta(days=365) < r["d"] <= end), zero)
            points.append(DsoPoint(end, max(claimed - received, zero), sales))
        return points

    def recovery(self, day: date, currency: str = "EUR") -> list[RecoveryPoint]:
        """For each of the last 12 due months: the amount still owed at the due dates, and
        how much of it was paid within 30, 60 and 90 days."""
        ends = month_ends(day)
        start = ends[0].replace(day=1)
        params = {"start": start, "day": day, "currency": currency}
        owed = self.views.rows(
            "SELECT due_on, SUM(amount) AS amount FROM {case_view} WHERE due_on >= :start "
            "AND due_on < :day AND currency = :currency GROUP BY due_on", params,
            {"due_on": Type.DATE, "amount": Type.CENTS})
        within = ", ".join(
            f"SUM(CASE WHEN p.received_on > c.due_on AND p.received_on <= "
            f"{self.views.plus_days('c.due_on', days)} THEN p.amount ELSE 0 END) AS r{days}"
            for days in RECOVERY_DAYS)
        paid = self.views.rows(
            "SELECT c.due_on AS due_on, SUM(CASE WHEN p.received_on <= c.due_on THEN p.amount "  # noqa: S608
            f"ELSE 0 END) AS early, {within} FROM {{trend_payments}} p JOIN {{case_view}} c "
            "ON c.invoice_id = p.invoice_id WHERE c.due_on >= :start AND c.due_on < :day "
            "AND c.currency = :currency GROUP BY c.due_on", params,
            {"due_on": Type.DATE, "early": Type.CENTS,
             **{f"r{days}": Type.CENTS for days in RECOVERY_DAYS}})
        zero = Decimal("0.00")
        points = []
        for end in ends:
            first = end.replace(day=1)
            def month(rows: list[dict[str, Any]], column: str, first: date = first,
                      end: date = end) -> Decimal:
                return sum((r[column] for r in rows if first <= r["due_on"] <= end), zero)
            last_day = _month_last_day(end)
            points.append(RecoveryPoint(
                month=first, overdue=max(month(owed, "amount") - month(paid, "early"), zero),
                recovered={n: month(paid, f"r{n}") for n in RECOVERY_DAYS},
                complete={n: last_day + timedelta(days=n) < day for n in RECOVERY_DAYS}))
        return points

    def promises(self, day: date) -> list[PromisePoint]:
        """For each of the last 12 months, the promises whose date fell in it (and has
        passed), and how many were broken: not paid in full between the day they were
        made and the day promised."""
        ends = month_ends(day)
        rows = self.views.rows(
            "SELECT a.invoice_id, a.version, a.due_on AS due_on, a.amount AS amount, "
            "SUM(p.amount) AS paid FROM {trend_acts} a LEFT JOIN {trend_payments} p "
            "ON p.invoice_id = a.invoice_id AND p.received_on >= a.made_on "
            "AND p.received_on <= a.due_on WHERE a.kind = 'promise' AND a.due_on >= :start "
            "AND a.due_on < :day GROUP BY a.invoice_id, a.version, a.due_on, a.amount",
            {"start": ends[0].replace(day=1), "day": day},
            {"due_on": Type.DATE, "amount": Type.CENTS, "paid": Type.CENTS})
        points = []
        for end in ends:
            first = end.replace(day=1)
            month = [r for r in rows if first <= r["due_on"] <= end]
            broken = sum(1 for r in month if (r["paid"] or 0) < r["amount"])
            points.append(PromisePoint(first, len(month), broken))
        return points

    def activity(self, day: date, days: int = 7) -> list[Activity]:
        """Each person's calls, promises (and amounts, by currency) and e-mails sent over
        the `days` days up to `day`."""
        rows = self.views.rows(
            "SELECT actor, kind, currency, COUNT(DISTINCT action) AS n, SUM(amount) AS amount "
            "FROM {trend_acts} WHERE occurred_at >= :start AND occurred_at < :end "
            "GROUP BY actor, kind, currency ORDER BY actor",
            {"start": start_of_day(day - timedelta(days=days - 1)),
             "end": start_of_day(day + timedelta(days=1))},
            {"n": Type.INT, "amount": Type.CENTS})
        people: dict[str, Activity] = {}
        for row in rows:
            person = people.setdefault(row["actor"], Activity(row["actor"], promised={}))
            if row["kind"] == "call":
                person.calls += row["n"]
            elif row["kind"] == "email":
                person.emails += row["n"]
            elif row["kind"] == "promise":
                person.promises += row["n"]
                assert person.promised is not None
                person.promised[row["currency"]] = row["amount"] or Decimal("0.00")
        return list(people.values())


def _month_last_day(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
