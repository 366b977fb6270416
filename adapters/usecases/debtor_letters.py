"""One letter per debtor: which of its invoices a reminder, a formal notice or a call's
confirmation covers, and the same-day rule checked before anything goes out.

A debtor is worked as a whole (DOMAIN.md): its first and second reminders and its formal
notice list every invoice it owes and that is being chased (overdue, a promise broken,
an instalment missed, or under a formal notice), not the ones paused by a dispute, a
payment plan kept or a promise not yet due; a call's confirmation restates the invoices
the call was about. The file the document is made from comes first, whatever its state;
a chosen list replaces the others. The fact is then recorded on every file covered, in
one command (`domain.engine`: atomically).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date

from adapters.bootstrap import Runtime
from domain.engine import as_list
from domain.errors import DifferentDebtors
from domain.invoice import Invoice
from domain.values import CallOutcome, Status, paris_day

DEBTOR_DOCUMENTS = ("reminder_1", "reminder_2", "formal_notice", "call_confirmation")
"""The documents written for the debtor's invoices together, not for one file."""
CHASED = frozenset({Status.OVERDUE, Status.PROMISE_BROKEN, Status.INSTALMENT_MISSED,
                    Status.FORMAL_NOTICE_SENT})
"""A file's statuses in which its invoice is claimed in the debtor's letters."""
CHASING_DOCUMENTS = {"pre_due": "PreDueReminderSent", "reminder_1": "ReminderSent",
                     "reminder_2": "ReminderSent"}
"""Documents whose sending is a contact with the debtor (the same-day rule counts it)."""


def covered(runtime: Runtime, number: str, template: str,
            numbers: Sequence[str] | None = None) -> list[Invoice]:
    """The invoices a document made from file `number` covers, that file first: the chosen
    `numbers` when given, else (for a debtor's document) the others it owes and that are
    chased, or, for a call's confirmation, the others the call was about and that are
    still open. Other debtors' invoices are refused (`DifferentDebtors`)."""
    main = runtime.files.file(number)
    if template not in DEBTOR_DOCUMENTS:
        return [main]
    if numbers is not None:
        others = [runtime.files.file(n) for n in as_list([number, *numbers])[1:]]
    elif template == "call_confirmation":
        others = _spoken_of(runtime, main)
    else:
        others = _chased(runtime, main, runtime.today())
    strangers = [o.case.number for o in others
                 if o.case.debtor.account != main.case.debtor.account]
    if strangers:
        raise DifferentDebtors(f"invoices {', '.join(strangers)} are not {number}'s debtor's",
                               numbers=[number, *strangers])
    return [main, *others]


def due_numbers(runtime: Runtime, number: str) -> list[str]:
    """The debtor's other invoices its letters made from file `number` would claim."""
    return [inv.case.number for inv in _chased(runtime, runtime.files.file(number),
                                               runtime.today())]


def _chased(runtime: Runtime, main: Invoice, day: date) -> list[Invoice]:
    """The debtor's other files chased on `day`, oldest due date first. The read model
    names the debtor's files; each is then read from its facts, as it is now."""
    fresh_views(runtime)
    view = runtime.reads.debtor(main.case.debtor.account, day)
    lines = sorted((line for line in (view.files if view else [])
                    if line.number != main.case.number and line.status in CHASED),
                   key=lambda line: (line.due_on, line.number))
    invoices = [runtime.files.file(line.number) for line in lines]
    return [inv for inv in invoices if inv.case.status(day) in CHASED]


def _spoken_of(runtime: Runtime, main: Invoice) -> list[Invoice]:
    """The other invoices the file's last call where somebody was reached was about, when
    still open."""
    reached = [e for e in main.entries if e.is_effective and e.kind == "CallLogged"
               and e.data["outcome"] == CallOutcome.REACHED.value]
    if not reached:
        return []
    listed = reached[-1].data.get("invoice_numbers") or ()
    invoices = [runtime.files.file(n) for n in listed if n != main.case.number]
    return [inv for inv in invoices if not inv.case.is_closed]


def fresh_views(runtime: Runtime, timeout: float = 2.0) -> None:
    """The read models up to date with every fact recorded so far (waiting up to `timeout`
    seconds for the runner that follows the log, or bringing them up to date here)."""
    if runtime.following:
        runtime.wait_for_views(runtime.files.recorder.max_notification_id(), timeout=timeout)
    else:
        runtime.refresh_views()


def check_same_day(runtime: Runtime, invoices: Sequence[Invoice], template: str,
                   actor: str, reason: str = "") -> None:
    """Refuses (`SameDayContact`) a document whose sending would be a second contact with
    the debtor today, by someone else, without a reason: checked before it goes out, on a
    copy of the debtor's record, by the record's own rule (recording it checks again)."""
    kind = CHASING_DOCUMENTS.get(template)
    if kind is None:
        return
    now = runtime.files.now()
    account = invoices[0].case.debtor.account
    stored = runtime.files.debtor_record(account)  # the message's own read, within `reading_once`
    if stored is None:  # nobody was ever contacted
        return
    record = copy.deepcopy(stored)
    record.contact(day=paris_day(now), at=now, actor=actor, kinds=(kind,),
                   numbers=tuple(inv.case.number for inv in invoices), recorded_at=now,
                   reason=reason)

