"""The worklist of a day: what each agent (or the team) should do, and why, in the order
of `domain.phases.PRIORITY` (which the SQL of the candidates reads too); file by file
(`worklist`), or debtor by debtor as people work (`day_by_debtor`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.due import Due, next_action
from domain.kinds import CHASING
from domain.phases import CALLBACKS_END, ENDED, RANK
from domain.scenarios import Calendar, Playbook
from domain.values import PARIS, start_of_day
from projections.case_view import CaseLine
from projections.queries import Reads


@dataclass
class WorkItem:
    """One file to work today, with every reason it is on the list."""

    number: str
    debtor_name: str
    debtor_account: str
    agent: str | None
    outstanding: Decimal
    days_late: int
    kind: str
    reasons: list[str] = field(default_factory=list)
    action: str = ""
    reference: str = ""
    owner: str | None = None
    currency: str = "EUR"

    @property
    def score(self) -> Decimal:
        """Amount × days late (at least one day), the order within a rank."""
        return self.outstanding * max(self.days_late, 1)

    @property
    def why(self) -> str:
        """Every reason, in one sentence."""
        return " ; ".join(self.reasons)


ACTIONS = {"commitment_broken": "relancer l'engagement non tenu",
           "notice_expired": "transmettre ou relancer"}
"""What to do on a file due for something other than a scenario step."""
CHUNK = 200
"""Candidates read at a time at most; a few more than the page, which they mostly fill."""


def worklist(reads: Reads, playbook: Playbook, calendar: Calendar, day: date,
             agent: str | None = None) -> list[WorkItem]:
    """The day's whole list for one agent, or for the whole team when `agent` is None."""
    return worklist_page(reads, playbook, calendar, day, agent, first=None)[0]


def worklist_page(reads: Reads, playbook: Playbook, calendar: Calendar, day: date,
                  agent: str | None = None, first: int | None = 100
                  ) -> tuple[list[WorkItem], int]:
    """The `first` most urgent items of the day (all when None), and how many there are.

    Only the files the day selects in the case view are read (`Reads.work_candidates`),
    most urgent first; the scenario then says what each one needs. When the list is cut,
    the count is of the files selected, a few of which a contact with the debtor on
    another file may still postpone.
    """
    absent = playbook.absent_on(day)
    items: list[WorkItem] = []
    offset = 0
    size = CHUNK if first is None else min(CHUNK, first + 20)
    while True:
        chunk = reads.work_candidates(day, agent, size, offset)
        offset += len(chunk)
        touches = reads.last_touches(line.debtor_account for _, line in chunk)
        for rank, line in chunk:
            item = _item(line, rank, playbook, calendar, day, agent, touches, absent)
            if item is not None:
                items.append(item)
        items.sort(key=_order)
        exhausted = len(chunk) < size
        # Unread candidates rank no better than the last one read: once the page is full
        # with items that rank before it, the page is final.
        if exhausted or (first is not None and len(items) >= first
                         and _order(items[first - 1]) <= (rank, -_score(line), line.number)):
            break
    if first is None or exhausted:
        return items if first is None else items[:first], len(items)
    return items[:first], len(items) + reads.count_work_candidates(day, agent) - offset


def _score(line: CaseLine) -> Decimal:
    return line.outstanding * max(line.days_late, 1)


def _order(item: WorkItem) -> tuple[int, Decimal, str]:
    return RANK[item.kind], -item.score, item.number


def _item(line: CaseLine, rank: int, playbook: Playbook, calendar: Calendar, day: date,
          agent: str | None, touches: dict[str, datetime], absent: set[str]
          ) -> WorkItem | None:
    """The file's item for the day, or None when nothing is due on it after all."""
    item = WorkItem(number=line.number, debtor_name=line.debtor_name,
                    debtor_account=line.debtor_account, agent=line.agent,
                    outstanding=line.outstanding, days_late=line.days_late, kind="step",
                    currency=line.currency)
    if line.phase not in ENDED and (agent is None or line.agent == agent):
        scenario = playbook.scenario_for(line.debtor_account)
        broken_plan = rank == RANK["commitment_broken"] and line.phase == "in_payment_plan"
        due: Due = next_action(line.progress(broken_plan),
                               scenario, day, calendar, touches.get(line.debtor_account))
        if due.is_due:
            item.kind = due.kind
            item.reasons.append(due.why)
            item.action = due.step.label if due.step else ACTIONS[due.kind]
            item.reference = due.reference
    callback = line.callback_on is not None and line.callback_on <= day and \
        line.phase not in CALLBACKS_END and \
        (agent is None or agent in (line.callback_owner, line.agent))
    if callback:
        if item.kind != "commitment_broken":
            item.kind = "callback"
        item.owner = line.callback_owner
        note = f"rappel promis pour le {line.callback_on:%d/%m/%Y}"
        if line.callback_owner in absent:
            note += f" ({line.callback_owner} absent)"
        item.reasons.insert(0, note)
        item.action = item.action or "rappeler"
    return item if item.reasons else None


# -- debtor by debtor -------------------------------------------------------------------


@dataclass(frozen=True)
class TodayContact:
    """A contact made with a debtor on the day: by whom, when, by which channel."""

    actor: str
    at: datetime
    channel: str

    @property
    def hour(self) -> str:
        """Its time of day in Paris, as HH:MM."""
        return f"{self.at.astimezone(PARIS):%H:%M}"


@dataclass
class DebtorRow:
    """One debtor to work on the day: its files due, the one action they call for, and the
    marks telling the team that somebody already spoke to it today or is calling it."""

    account: str
    name: str
    agent: str | None
    """Whose list it is on (see `_holder`); None: nobody's yet (« à attribuer »)."""
    items: list[WorkItem]
    """Its files due, most urgent first (none left once a contact today covered them all)."""
    contacts: list[TodayContact] = field(default_factory=list)
    """Who contacted it today, in order."""
    claimed_by: str | None = None
    """Who holds a « j'appelle » claim on it."""
    marked: bool = False
    """Contacted today, or being called by somebody else: listed after the others."""

    @property
    def file_count(self) -> int:
        """How many of its files are due."""
        return len(self.items)

    @property
    def due(self) -> dict[str, Decimal]:
        """What its files due still owe, by currency (two currencies are never added)."""
        totals: dict[str, Decimal] = {}
        for item in self.items:
            totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.outstanding
        return totals

    @property
    def days_late(self) -> int:
        """The oldest of its files due, in days late."""
        return max((item.days_late for item in self.items), default=0)

    @property
    def action(self) -> str:
        """The one thing to do with the debtor: its strongest file's action."""
        return self.items[0].action if self.items else ""

    def contacted_by(self, login: str | None) -> bool:
        """Contacted today by `login` (by anybody, when None)."""
        return any(login is None or contact.actor == login for contact in self.contacts)

    @property
    def order(self) -> tuple[bool, int, Decimal, str]:
        """Unmarked first; then its strongest file's rank and amount × days late; debtors
        with nothing left to do last."""
        if not self.items:
            return self.marked, len(RANK), Decimal(0), self.account
        return (self.marked, *_order(self.items[0]))


@dataclass(frozen=True)
class DayTotals:
    """The head of a day's list of debtors."""

    debtors: int
    files: int
    due: dict[str, Decimal]
    """What the files due still owe, by currency."""
    done: int
    """« Fait aujourd'hui »: debtors of the list its agent contacted today (for the team:
    that anybody contacted), out of `debtors`."""
    exact: bool
    """False when the list was read in part: the debtors read count exactly; the others
    are counted from the files the day selects for the list, some of which may be a
    colleague's (who holds the debtor's most urgent file) or be postponed by a recent
    contact."""


def day_by_debtor(reads: Reads, playbook: Playbook, calendar: Calendar, day: date,
                  agent: str | None = None, first: int | None = 100,
                  claims: dict[str, str] | None = None, viewer: str = ""
                  ) -> tuple[list[DebtorRow], DayTotals]:
    """The day's list debtor by debtor, for one agent or the whole team (`agent` None):
    the `first` rows (all when None), and the list's totals.

    - Each debtor with a file due is one row holding all its files due, whoever holds
      them, and sits on exactly one list: that of the holder of its most urgent file
      (a callback, its promiser's, unless absent). A debtor contacted today with nothing
      left due sits on the list of whoever contacted it first.
    - A debtor contacted today (a call, a reminder, a formal notice) or claimed « j'appelle »
      by somebody other than `viewer` (`claims`: account → login) is marked and comes after
      the others. Its other files stay listed: the day's list is what the morning had due,
      so a contact today does not postpone them here (the same-day rule guards them).

    The candidates are read most urgent first, as for `worklist_page`, and reading stops
    once the first rows are known; each debtor met is then read whole.
    """
    claims = claims or {}
    absent = playbook.absent_on(day)
    contacts: dict[str, list[TodayContact]] = {}
    for touch in reads.touches_on(day):
        if touch["kind"] in CHASING:
            contacts.setdefault(touch["account"], []).append(
                TodayContact(touch["actor"], touch["occurred_at"], touch["channel"]))
    others = {account: login for account, login in claims.items() if login != viewer}
    set_aside = set(contacts) | set(others)

    def rows_of(accounts: list[str]) -> list[DebtorRow]:
        rows = _debtor_rows(reads, playbook, calendar, day, accounts, contacts, absent)
        for row in rows:
            row.claimed_by = claims.get(row.account)
            row.marked = row.account in set_aside
        return [row for row in rows if agent is None or row.agent == agent]

    marked = sorted(rows_of(sorted(set_aside)), key=lambda row: row.order)
    rows: list[DebtorRow] = []
    seen = set(set_aside)
    offset = 0
    size = CHUNK if first is None else min(CHUNK, first + 20)
    while True:
        chunk = reads.work_candidates(day, agent, size, offset)
        offset += len(chunk)
        met = list(dict.fromkeys(line.debtor_account for _, line in chunk
                                 if line.debtor_account not in seen))
        seen.update(met)
        rows.extend(rows_of(met))
        rows.sort(key=lambda row: row.order)
        exhausted = len(chunk) < size
        if exhausted or (first is not None and len(rows) >= first
                         and rows[first - 1].order[1:] <= _last(chunk)):
            break
        size = CHUNK
    listed = rows + marked
    done = sum(row.contacted_by(agent) for row in marked)
    debtors, files, due = (0, 0, {}) if exhausted else \
        reads.work_totals(day, agent, leaving_out=seen)
    totals = DayTotals(debtors + len(listed), files + sum(row.file_count for row in listed),
                       _sum([due, *(row.due for row in listed)]), done, exact=exhausted)
    return (listed if first is None else listed[:first]), totals


def _last(chunk: list[tuple[int, CaseLine]]) -> tuple[int, Decimal, str]:
    """Where the last candidate read stands: no unread one ranks before it."""
    rank, line = chunk[-1]
    return rank, -_score(line), line.number


def _debtor_rows(reads: Reads, playbook: Playbook, calendar: Calendar, day: date,
                 accounts: list[str], contacts: dict[str, list[TodayContact]],
                 absent: set[str]) -> list[DebtorRow]:
    """These debtors' rows: each with all its files due, whoever holds them; a debtor with
    none only if contacted today."""
    if not accounts:
        return []
    # The debtor's contacts before the day space the steps; today's mark the row instead.
    touches = reads.last_touches(accounts, before=start_of_day(day))
    items: dict[str, list[WorkItem]] = {account: [] for account in accounts}
    names: dict[str, str] = {}
    for rank, line in reads.work_candidates(day, None, None, accounts=accounts):
        names[line.debtor_account] = line.debtor_name
        item = _item(line, rank, playbook, calendar, day, None, touches, absent)
        if item is not None:
            items[line.debtor_account].append(item)
    unnamed = [account for account in accounts if account not in names and account in contacts]
    names.update(reads.debtor_names(unnamed))
    rows = []
    for account in accounts:
        due = sorted(items[account], key=_order)
        if due or account in contacts:
            today = contacts.get(account, [])
            rows.append(DebtorRow(account, names.get(account, account),
                                  _holder(due, today, absent), due, today))
    return rows


def _holder(items: list[WorkItem], contacts: list[TodayContact], absent: set[str]
            ) -> str | None:
    """Whose list the debtor is on: the holder of its most urgent file that has one (the
    promiser of a callback unless absent, else the file's agent), else whoever contacted
    it first today."""
    for item in items:
        callback = item.kind == "callback" and item.owner and item.owner not in absent
        holder = item.owner if callback else item.agent
        if holder:
            return holder
    return contacts[0].actor if contacts else None


def _sum(amounts: Iterable[dict[str, Decimal]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for by_currency in amounts:
        for currency, amount in by_currency.items():
            totals[currency] = totals.get(currency, Decimal(0)) + amount
    return dict(sorted(totals.items()))
