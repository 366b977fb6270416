"""The worklist of a day: what each agent (or the team) should do, and why, in the order
of `domain.phases.PRIORITY` (which the SQL of the candidates reads too)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.due import Due, next_action
from domain.phases import CALLBACKS_END, ENDED, RANK
from domain.scenarios import Calendar, Playbook
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
                    outstanding=line.outstanding, days_late=line.days_late, kind="step")
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
