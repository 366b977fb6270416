"""Case view: one row per file with what an agent needs at a glance.

Listens to every fact of a file. The row is written from the file's own fold
(`Invoice.case`), so the view can never disagree with the domain. What depends on the
calendar (status on a day, days late, missed instalments) is computed when read.
Payment plans keep one row per instalment, for the worklist of missed instalments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.case import Case, status_on
from domain.due import Progress, wakes_on
from domain.facts import Fact
from domain.invoice import Invoice
from domain.phases import CALLBACKS_END, ENDED, sql_list
from domain.scenarios import DEFAULT_SCENARIO, SHIPPED, Calendar, Playbook, Scenario
from domain.values import Status, paris_day
from projections.schema import Change, Delete, Index, Insert, Table, Type, Update, Upsert

FAR_FUTURE = date(9999, 12, 31)
REPLAN_PAGE = 2000
"""Open files re-planned at a time when the playbook changes."""
Reader = Callable[[str, dict[str, Any], dict[str, Type]], list[dict[str, Any]]]
"""Reads rows of the view store (`ViewStore.rows`)."""

OPEN = f"phase NOT IN {sql_list(ENDED)}"
CALLBACK_OPEN = f"phase NOT IN {sql_list(CALLBACKS_END)}"

CASE_VIEW = Table(
    "case_view",
    {
        "invoice_id": Type.TEXT, "number": Type.TEXT, "debtor_account": Type.TEXT,
        "debtor_name": Type.TEXT, "debtor_siren": Type.TEXT, "is_consumer": Type.BOOL,
        "currency": Type.TEXT, "amount": Type.CENTS, "paid": Type.CENTS,
        "outstanding": Type.CENTS, "issued_on": Type.DATE, "due_on": Type.DATE,
        "agent": Type.TEXT, "phase": Type.TEXT,
        "promise_on": Type.DATE, "promise_amount": Type.CENTS, "promise_by": Type.TEXT,
        "promise_made_on": Type.DATE, "promise_kept": Type.BOOL,
        "dispute_since": Type.INSTANT, "plan_agreed_on": Type.DATE, "plan_paid": Type.CENTS,
        "formal_notice_on": Type.DATE, "handed_over_to": Type.TEXT,
        "callback_on": Type.DATE, "callback_owner": Type.TEXT,
        "last_contact_at": Type.INSTANT, "last_contact_by": Type.TEXT,
        "last_contact_channel": Type.TEXT, "last_contact_outcome": Type.TEXT,
        "last_contact_name": Type.TEXT,
        "reminders_1": Type.INT, "reminders_2": Type.INT, "reminders_3": Type.INT,
        "calls": Type.INT, "pre_due_reminders": Type.INT, "settled_on": Type.DATE,
        "version": Type.INT, "updated_at": Type.INSTANT, "wakes_on": Type.DATE,
        "credited": Type.CENTS, "discount_granted": Type.CENTS, "disputed_amount": Type.CENTS,
        "notice_deadline_on": Type.DATE, "last_step_at": Type.INSTANT,
        "file_agent": Type.TEXT,
    },
    key=("invoice_id",),
    indexes=(("number",), ("debtor_account",), ("agent",), ("due_on",), ("callback_on",),
             ("promise_on",), ("phase",), ("debtor_name",), ("outstanding",),
             # The worklist's: only files still to work (most of a portfolio is settled).
             Index(("agent", "wakes_on"), OPEN, "open"),
             Index(("agent", "callback_on"), CALLBACK_OPEN, "open"),
             Index(("callback_owner", "callback_on"), CALLBACK_OPEN, "open")),
)

DEBTOR_OWNERS = Table(
    "debtor_owners",
    {"account": Type.TEXT, "owner": Type.TEXT, "assigned_by": Type.TEXT,
     "assigned_at": Type.INSTANT, "reason": Type.TEXT},
    key=("account",),
    indexes=(("owner",),),
)
"""Who owns each debtor (an empty owner: « à attribuer »), as its record last said. Kept
by the case view, at the case view's position, so that a file's agent (its own, as an
exception, or its debtor's owner) never reads an owner the view has not reached."""

PLAN_INSTALMENTS = Table(
    "plan_instalments",
    {"invoice_id": Type.TEXT, "seq": Type.INT, "due_on": Type.DATE, "amount": Type.CENTS,
     "cumulative": Type.CENTS},
    key=("invoice_id", "seq"),
    indexes=(("due_on",),),
)


KEPT_PLANS = 2_000
"""Files' days kept by `Planning.wakes_on` before they are all dropped and worked out anew
(a few hundred bytes each: a catch-up meets every file of the portfolio once)."""


class Planning:
    """Which scenario each debtor follows, as the team's playbook says now.

    The case view keeps, per file, the first day its scenario may have something due
    (`wakes_on`; for a file in a payment plan, the day its first uncovered instalment is
    missed), so that a day's worklist reads only the files that day selects.
    """

    def __init__(self, load: Callable[[], Playbook | None], calendar: Calendar) -> None:
        self._load = load
        self.calendar = calendar
        self._playbook: Playbook | None = None
        self._loaded = False
        self._woken: dict[tuple[Progress, int], date | None] = {}

    def reload(self) -> None:
        """Forgets the playbook read so far (it has just changed), and the days worked
        out with it."""
        self._loaded = False
        self._woken = {}

    def scenario_for(self, account: str) -> Scenario:
        """The scenario the debtor follows; the shipped default before any playbook."""
        if not self._loaded:
            self._playbook, self._loaded = self._load(), True
        if self._playbook is None:
            return next(s for s in SHIPPED if s.name == DEFAULT_SCENARIO)
        return self._playbook.scenario_for(account)

    def wakes_on(self, progress: Progress, account: str) -> date | None:
        """The first day the file's scenario may have something due. Kept for the
        progress and scenario it was worked out for, until the playbook changes: most
        facts (a note, a document, a call that reached nobody...) leave a file's progress
        as it was, and working out its plan took 8% of the runner's CPU for a note."""
        scenario = self.scenario_for(account)
        key = (progress, id(scenario))  # the playbook holds its scenarios until `reload`
        woken = self._woken
        if key in woken:
            return woken[key]
        day = wakes_on(progress, scenario, self.calendar)
        if len(woken) >= KEPT_PLANS:
            woken = self._woken = {}
        woken[key] = day
        return day


class CaseView:
    """The case view read model.

    Its rows depend only on the file's state, not on which fact led there
    (`state_based`): when several facts of a file arrive together, the runner asks once,
    with the last of them. When the playbook changes, `replan` moves every open file's
    `wakes_on` to the scenario now in force.
    """

    name = "case_view"
    version = 7
    tables = (CASE_VIEW, PLAN_INSTALMENTS, DEBTOR_OWNERS)
    state_based = True

    def __init__(self, planning: Planning) -> None:
        self.planning = planning
        self.owners: dict[str, str] = {}
        """Each debtor's owner, as of the last event applied (loaded by `load`)."""

    def load(self, read: Reader) -> None:
        """Reads the debtors' owners as the view stands (at start, after an error)."""
        self.owners = {row["account"]: row["owner"] for row in read(
            "SELECT account, owner FROM {debtor_owners}", {}, DEBTOR_OWNERS.columns)}

    def debtor_changes(self, event: Any) -> list[Change]:
        """A debtor's new owner: its row, and every file of it that is not an exception."""
        if type(event).__name__ != "OwnerAssigned":
            return []
        account = event.account
        self.owners[account] = event.agent
        return [Upsert(DEBTOR_OWNERS, {"account": account, "owner": event.agent,
                                       "assigned_by": event.actor,
                                       "assigned_at": event.timestamp,
                                       "reason": event.reason}),
                Update(CASE_VIEW, {"debtor_account": account, "file_agent": ""},
                       {"agent": event.agent or None})]

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """The file's row; its instalment rows too if it ever had a payment plan."""
        file_id = invoice.id.hex
        case = invoice.case
        row = case_row(file_id, case, invoice.version, fact.timestamp)
        row["agent"] = case.agent or self.owners.get(case.debtor.account) or None
        if case.phase == "in_payment_plan":
            row["wakes_on"] = plan_wakes_on(case, row["plan_paid"])
        else:
            row["wakes_on"] = self.planning.wakes_on(CaseLine(row, case.due_on).progress(),
                                                     case.debtor.account)
        changes: list[Change] = [Upsert(CASE_VIEW, row)]
        if invoice.ever_had("PaymentPlanAgreed"):
            changes.append(Delete(PLAN_INSTALMENTS, {"invoice_id": file_id}))
            changes.extend(Insert(PLAN_INSTALMENTS, row)
                           for row in instalment_rows(file_id, invoice.case))
        return changes

    def replan(self, read: Reader) -> list[Change]:
        """New `wakes_on` for the open files whose scenario changed with the playbook.

        Reads a page of rows at a time: a whole portfolio in memory at once would stay in
        the runner's memory for good."""
        self.planning.reload()
        changes: list[Change] = []
        after = ""
        while True:
            rows = read("SELECT * FROM {case_view} WHERE phase NOT IN "
                        f"{sql_list((*ENDED, 'in_payment_plan'))} AND invoice_id > :after "
                        "ORDER BY invoice_id LIMIT :page",
                        {"after": after, "page": REPLAN_PAGE}, CASE_VIEW.columns)
            for row in rows:
                line = CaseLine(row, row["due_on"])
                wakes = self.planning.wakes_on(line.progress(), row["debtor_account"])
                if wakes != row["wakes_on"]:
                    changes.append(Update(CASE_VIEW, {"invoice_id": row["invoice_id"]},
                                          {"wakes_on": wakes}))
            if len(rows) < REPLAN_PAGE:
                return changes
            after = rows[-1]["invoice_id"]


def case_row(file_id: str, case: Case, version: int, updated_at: datetime) -> dict[str, Any]:
    """The row of a file, from its folded case."""
    promise, plan, touch = case.promise, case.plan, case.last_touch
    levels = case.reminders_by_level
    return {
        "invoice_id": file_id, "number": case.number, "debtor_account": case.debtor.account,
        "debtor_name": case.debtor.name, "debtor_siren": case.debtor.siren,
        "is_consumer": case.debtor.is_consumer, "currency": case.currency,
        "amount": case.amount, "paid": case.paid, "outstanding": case.outstanding,
        "issued_on": case.issued_on, "due_on": case.due_on, "agent": case.agent,
        "phase": case.phase,
        "promise_on": promise.promised_on if promise else None,
        "promise_amount": promise.amount if promise else None,
        "promise_by": promise.promised_by.name if promise else None,
        "promise_made_on": paris_day(promise.made_at) if promise else None,
        "promise_kept": case.promise_kept() if promise else None,
        "dispute_since": case.dispute_open_since,
        "plan_agreed_on": paris_day(plan.agreed_at) if plan else None,
        "plan_paid": case.paid_between(paris_day(plan.agreed_at), FAR_FUTURE) if plan else None,
        "formal_notice_on": case.formal_notice_on, "handed_over_to": case.handed_over_to,
        "callback_on": case.callback_on, "callback_owner": case.callback_owner,
        "last_contact_at": touch.at if touch else None,
        "last_contact_by": touch.by if touch else None,
        "last_contact_channel": touch.channel if touch else None,
        "last_contact_outcome": touch.outcome if touch else None,
        "last_contact_name": touch.contact.name if touch and touch.contact else None,
        "reminders_1": levels.get(1, 0), "reminders_2": levels.get(2, 0),
        "reminders_3": levels.get(3, 0),
        "calls": case.calls, "pre_due_reminders": case.pre_due_reminders,
        "settled_on": max((p.received_on for p in case.payments), default=None)
        if case.is_settled and case.payments else None,
        "version": version, "updated_at": updated_at,
        "credited": case.credited, "discount_granted": case.discount_granted,
        "disputed_amount": case.disputed_amount if case.dispute_open_since else None,
        "notice_deadline_on": case.formal_notice_deadline, "last_step_at": case.last_step_at,
        "file_agent": case.agent or "",
    }


def plan_wakes_on(case: Case, plan_paid: Decimal | None) -> date | None:
    """For a file in a payment plan: the day after the first instalment that the payments
    since the plan do not cover, when it becomes a missed instalment (None: all covered)."""
    if case.plan is None:
        return None
    cumulative = Decimal("0.00")
    for instalment in case.plan.instalments:
        cumulative += instalment.amount
        if cumulative > (plan_paid or 0):
            return instalment.due_on + timedelta(days=1)
    return None


def instalment_rows(file_id: str, case: Case) -> list[dict[str, Any]]:
    """One row per instalment of the file's plan, with the cumulative amount due."""
    if case.plan is None:
        return []
    rows, cumulative = [], Decimal("0.00")
    for seq, instalment in enumerate(case.plan.instalments, start=1):
        cumulative += instalment.amount
        rows.append({"invoice_id": file_id, "seq": seq, "due_on": instalment.due_on,
                     "amount": instalment.amount, "cumulative": cumulative})
    return rows


@dataclass(frozen=True)
class CaseLine:
    """A case view row as read back, with what the calendar decides on a given day."""

    row: dict[str, Any]
    day: date

    def __getattr__(self, name: str) -> Any:
        try:
            return self.row[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def status(self) -> Status:
        """The file's status on the day it was read for."""
        return status_on(self.row["phase"], self.day, self.row["due_on"], self.row["promise_on"],
                         self.instalment_missed)

    @property
    def instalment_missed(self) -> bool:
        """True when the file's payment plan has an instalment missed by that day."""
        wakes = self.row.get("wakes_on")
        return self.row["phase"] == "in_payment_plan" and wakes is not None and wakes <= self.day

    def progress(self, missed_instalment: bool = False) -> Progress:
        """The row as the scenario reads it."""
        row = self.row
        level = 3 if row["reminders_3"] else 2 if row["reminders_2"] else \
            1 if row["reminders_1"] else 0
        return Progress(due_on=row["due_on"], phase=row["phase"], promised_on=row["promise_on"],
                        missed_instalment=missed_instalment or self.instalment_missed,
                        notice_deadline_on=row["notice_deadline_on"],
                        callback_on=row["callback_on"],
                        pre_due_reminders=row["pre_due_reminders"], reminder_level=level,
                        calls=row["calls"], formal_notice=row["formal_notice_on"] is not None,
                        last_contact_at=row["last_contact_at"],
                        last_step_at=row["last_step_at"])

    @property
    def days_late(self) -> int:
        """Days past the due date on that day (0 when not yet due or nothing is owed)."""
        if self.row["outstanding"] <= 0:
            return 0
        return max(0, (self.day - self.row["due_on"]).days)
