"""Live coordination: what the team must see of a debtor today, without reloading.

A colleague's « j'appelle » claim and today's contacts show on Ma journée and on the
debtor's page; `static/live.js` asks `/direct/debiteurs` every second for the marks of
the debtors on the page and redraws them (the pages work without it, as of their load).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.bootstrap import Runtime
from domain.values import PARIS
from projections.french import word
from projections.worklist import TodayContact


def people_names(runtime: Runtime) -> dict[str, str]:
    """Each account's name, by login: pages name people, not their logins."""
    return {user.login: user.name or user.login for user in runtime.accounts.users()}


@dataclass(frozen=True)
class Mark:
    """A line telling the team about a debtor today: who contacted it, who is calling it."""

    text: str
    mine: bool
    kind: str
    """'contact' or 'claim'."""


def marks_of(contacts: list[TodayContact], claimed_by: str | None,
             until: datetime | None, me: str, names: dict[str, str]) -> list[Mark]:
    """Today's contacts (one per person, minute and channel) and the « j'appelle » claim,
    as the worklist and the debtor's page show them, and as they are sent live."""
    marks, seen = [], set()
    for contact in contacts:
        said = (contact.actor, contact.hour, contact.channel)
        if said in seen:
            continue
        seen.add(said)
        channel = word("channel", contact.channel) if contact.channel else "contact"
        if contact.actor == me:
            marks.append(Mark(f"fait : contacté par vous à {contact.hour} ({channel})",
                              True, "contact"))
        else:
            marks.append(Mark(f"déjà contacté aujourd'hui par "
                              f"{names.get(contact.actor, contact.actor)} à {contact.hour} "
                              f"({channel})", False, "contact"))
    if claimed_by:
        hour = f" jusqu'à {until.astimezone(PARIS):%H:%M}" if until else ""
        marks.append(Mark("vous appelez (« J'appelle »)" + hour, True, "claim")
                     if claimed_by == me else
                     Mark(f"{names.get(claimed_by, claimed_by)} appelle{hour}", False, "claim"))
    return marks


def live_marks(runtime: Runtime, accounts: list[str], me: str,
               names: dict[str, str]) -> dict[str, list[Mark]]:
    """The marks of these debtors now: two queries, whatever their number."""
    wanted = set(accounts)
    claims = {c.account: c for c in runtime.claims.live() if c.account in wanted}
    contacts: dict[str, list[TodayContact]] = {}
    for touch in runtime.reads.touches_on(runtime.today()):
        if touch["account"] in wanted:
            contacts.setdefault(touch["account"], []).append(
                TodayContact(touch["actor"], touch["occurred_at"], touch["channel"] or ""))
    return {account: marks_of(contacts.get(account, []),
                              claims[account].login if account in claims else None,
                              claims[account].until if account in claims else None, me, names)
            for account in accounts}
