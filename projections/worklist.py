"""The worklist of a day: what each agent (or the team) should do, and why.

Priority, as documented for the team: first the broken commitments (a promise not
kept, an instalment missed), then the callbacks promised to the debtor, then the
scenario's steps; within each, the larger amount × days late first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from domain.due import Due, Progress, next_action
from domain.scenarios import Calendar, Playbook
from projections.case_view import CaseLine
from projections.queries import Reads

LOOKAHEAD = timedelta(days=21)
"""How far ahead of its due date a file may have a step (pre-due steps, in business days)."""

RANKS = {"commitment_broken": 0, "callback": 1, "step": 2}


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


def progress_of(line: CaseLine, missed: bool) -> Progress:
    """A case view row as the scenario reads it."""
    level = 3 if line.reminders_3 else 2 if line.reminders_2 else 1 if line.reminders_1 else 0
    return Progress(due_on=line.due_on, phase=line.phase, promised_on=line.promise_on,
                    missed_instalment=missed, pre_due_reminders=line.pre_due_reminders,
                    reminder_level=level, calls=line.calls,
                    formal_notice=line.formal_notice_on is not None,
                    last_contact_at=line.last_contact_at)


def worklist(reads: Reads, playbook: Playbook, calendar: Calendar, day: date,
             agent: str | None = None) -> list[WorkItem]:
    """The day's list for one agent, or for the whole team when `agent` is None."""
    items: dict[str, WorkItem] = {}
    touches = reads.last_touches()
    missed = reads.files_with_missed_instalment(day)
    for line in reads.open_files(day, day + LOOKAHEAD, agent):
        scenario = playbook.scenario_for(line.debtor_account)
        due: Due = next_action(progress_of(line, line.number in missed), scenario, day,
                               calendar, touches.get(line.debtor_account))
        if not due.is_due:
            continue
        item = _item(items, line, due.kind)
        item.reasons.append(due.why)
        item.action = due.step.label if due.step else "relancer l'engagement non tenu"
        item.reference = due.reference
    absent = playbook.absent_on(day)
    for line in reads.callbacks_due(day, agent):
        item = _item(items, line, "callback")
        item.owner = line.callback_owner
        note = f"rappel promis pour le {line.callback_on:%d/%m/%Y}"
        if line.callback_owner in absent:
            note += f" ({line.callback_owner} absent)"
        item.reasons.insert(0, note)
        item.action = item.action or "rappeler"
    chosen = [i for i in items.values()
              if agent is None or i.agent == agent or i.owner == agent]
    return sorted(chosen, key=lambda i: (RANKS[i.kind], -i.score, i.number))


def _item(items: dict[str, WorkItem], line: CaseLine, kind: str) -> WorkItem:
    item = items.get(line.number)
    if item is None:
        item = items[line.number] = WorkItem(
            number=line.number, debtor_name=line.debtor_name,
            debtor_account=line.debtor_account, agent=line.agent,
            outstanding=line.outstanding, days_late=line.days_late, kind=kind)
    elif RANKS[kind] < RANKS[item.kind]:
        item.kind = kind
    return item
