"""What is due on a file on a given day, and why: its scenario read against its facts.

- A file that is paid, written off, closed or handed over has nothing due.
- An open dispute pauses it; so does a payment plan on track (a missed instalment
  resumes it), and a pending promise until its date (a broken promise brings the file
  back the next day, before any minimum gap between contacts).
- A step already done, by any channel, is not due again; a later step done makes the
  earlier ones moot. When several steps fell due meanwhile (e.g. during a pause), only
  the latest is due: the debtor gets one contact, not a salvo.
- A file never worked starts at the beginning: while no step after the due date was
  done, the first contact is the scenario's first reminder or call after the due date,
  never a formal notice, whatever its days late. It then catches up at the scenario's
  own pace: a step never comes sooner after the last step done than the scenario spaces
  it from that step (first reminder on D+40 → the D+8 call on D+48).
- The scenario's minimum gap between two contacts of the same debtor postpones a step.
- After the formal notice, once its deadline has passed unpaid, the file comes back as
  « délai de mise en demeure expiré : transmettre ou relancer » until someone hands it
  over, agrees a plan or a promise, plans a callback, or closes it; a contact made
  after the deadline puts it off by the minimum gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.case import Case
from domain.phases import ENDED
from domain.scenarios import Calendar, Scenario, Step
from domain.values import paris_day


@dataclass(frozen=True)
class Progress:
    """What the scenario needs to know of a file (from its case or from the case view)."""

    due_on: date
    phase: str
    promised_on: date | None
    missed_instalment: bool
    pre_due_reminders: int
    reminder_level: int
    calls: int
    formal_notice: bool
    last_contact_at: datetime | None
    last_step_at: datetime | None = None
    """When the latest contact making a step was made (the catch-up rule spaces from it)."""
    notice_deadline_on: date | None = None
    """The formal notice's deadline to pay, if one was sent."""
    callback_on: date | None = None
    """A callback planned on the file, if any."""

    @classmethod
    def of(cls, case: Case, day: date) -> Progress:
        """The progress of a file on `day`."""
        return cls(
            due_on=case.due_on, phase=case.phase,
            promised_on=case.promise.promised_on if case.promise else None,
            missed_instalment=bool(case.missed_instalments(day)),
            pre_due_reminders=case.pre_due_reminders,
            reminder_level=max(case.reminders_by_level, default=0),
            calls=case.calls, formal_notice=case.formal_notice_on is not None,
            last_contact_at=case.last_contact_at, last_step_at=case.last_step_at,
            notice_deadline_on=case.formal_notice_deadline, callback_on=case.callback_on,
        )


@dataclass(frozen=True)
class Due:
    """The next action on a file, or why there is none today.

    `step` is None for a pause, an end, or a file waiting for its next step; `on` is the
    day the action falls due (or the day the pause or postponement ends, if known).
    """

    step: Step | None
    on: date | None
    why: str
    reference: str = ""
    """What a fact records when it follows this step (scenario, version, step)."""
    kind: str = "step"

    @property
    def is_due(self) -> bool:
        """True when something is to be done on the day asked about."""
        return self.step is not None or self.kind != "step"


def _done(progress: Progress, scenario: Scenario) -> list[bool]:
    calls_needed = 0
    done = []
    for step in scenario.steps:
        if step.kind == "pre_due":
            done.append(progress.pre_due_reminders > 0)
        elif step.kind == "reminder":
            done.append(progress.reminder_level >= step.level)
        elif step.kind in ("call", "plan_offer"):
            calls_needed += 1
            done.append(progress.calls >= calls_needed)
        else:
            done.append(progress.formal_notice)
    return done


@dataclass(frozen=True)
class _Plan:
    """The file's steps as its scenario and its past place them: which are done, the day
    each one falls due (after the catch-up rule), and the steps that may be due now."""

    done: list[bool]
    dates: list[date]
    open_steps: list[int]
    """Steps not done after the last one done; for a file never worked, from its first
    reminder or call after the due date (earlier ones are moot)."""
    never_worked: bool


def _plan(progress: Progress, scenario: Scenario, calendar: Calendar) -> _Plan:
    steps = scenario.steps
    done = _done(progress, scenario)
    scheduled = [step.date_for(progress.due_on, calendar) for step in steps]
    dates = list(scheduled)
    last_done = max((i for i, d in enumerate(done) if d), default=-1)
    after_due = [i for i, step in enumerate(steps) if step.kind != "pre_due"]
    never_worked = not any(done[i] for i in after_due)
    if last_done in after_due and progress.last_step_at is not None:
        anchor = paris_day(progress.last_step_at)
        for i in range(last_done + 1, len(steps)):
            dates[i] = max(scheduled[i], anchor + (scheduled[i] - scheduled[last_done]))
    open_steps = [i for i in range(last_done + 1, len(steps)) if not done[i]]
    if never_worked and after_due:
        first = next((i for i in after_due if steps[i].kind != "formal_notice"), after_due[0])
        open_steps = [i for i in open_steps if steps[i].kind == "pre_due" or i == first]
    return _Plan(done, dates, open_steps, never_worked)


def _notice_expired(progress: Progress, scenario: Scenario) -> date | None:
    """The day a file whose formal notice went unanswered comes back (None: it does not)."""
    deadline = progress.notice_deadline_on
    if progress.phase != "formal_notice_sent" or deadline is None:
        return None
    if progress.callback_on is not None:
        return None
    back = deadline + timedelta(days=1)
    if progress.last_contact_at is not None:
        back = max(back, paris_day(progress.last_contact_at)
                   + timedelta(days=max(scenario.min_gap_days, 1)))
    return back


def wakes_on(progress: Progress, scenario: Scenario, calendar: Calendar) -> date | None:
    """The first day on which `next_action` may find something due on this file alone.

    Never later than the truth (a contact with the debtor on another of its files may
    still postpone a step): the worklist asks `next_action` for the files a day selects.
    None for a file in a payment plan: the case view wakes it the day an instalment is
    missed, which only the plan knows.
    """
    phase = progress.phase
    if phase in ENDED or phase in ("in_dispute", "in_payment_plan"):
        return None
    if phase == "promised" and progress.promised_on:
        return progress.promised_on + timedelta(days=1)
    plan = _plan(progress, scenario, calendar)
    upcoming = [plan.dates[i] for i in plan.open_steps]
    if not upcoming:
        return _notice_expired(progress, scenario)
    first = min(upcoming)
    if progress.last_contact_at is not None and scenario.min_gap_days:
        first = max(first, paris_day(progress.last_contact_at)
                    + timedelta(days=scenario.min_gap_days))
    return first


def next_action(progress: Progress, scenario: Scenario, day: date, calendar: Calendar,
                debtor_last_contact: datetime | None = None) -> Due:
    """The action due on `day`, with the reason a person can read."""
    phase = progress.phase
    if phase in ENDED:
        return Due(None, None, "dossier terminé")
    if phase == "in_dispute":
        return Due(None, None, "en pause : litige ouvert")
    if phase == "in_payment_plan" and not progress.missed_instalment:
        return Due(None, None, "en pause : échéancier respecté")
    if phase == "promised" and progress.promised_on and day <= progress.promised_on:
        return Due(None, progress.promised_on,
                   f"en pause : promesse de paiement au {progress.promised_on:%d/%m/%Y}")
    plan = _plan(progress, scenario, calendar)
    dates = plan.dates
    fallen = [i for i in plan.open_steps if dates[i] <= day]
    reasons = []
    if phase == "promised":
        reasons.append(f"promesse du {progress.promised_on:%d/%m/%Y} non tenue")
    if phase == "in_payment_plan":
        reasons.append("échéance du plan manquée")
    if not fallen:
        if reasons:
            return Due(None, day, " ; ".join(reasons), kind="commitment_broken")
        if not plan.open_steps:
            return _after_the_steps(progress, scenario, day)
        nxt = plan.open_steps[0]
        return Due(None, dates[nxt],
                   f"prochaine étape : {scenario.steps[nxt].label} le {dates[nxt]:%d/%m/%Y}")
    index = fallen[-1]
    step = scenario.steps[index]
    last_contact = max((c for c in (progress.last_contact_at, debtor_last_contact) if c),
                       default=None)
    if last_contact is not None and scenario.min_gap_days:
        allowed = paris_day(last_contact) + timedelta(days=scenario.min_gap_days)
        if day < allowed:
            postponed = (f"{step.label} reportée au {allowed:%d/%m/%Y} : dernier contact le "
                         f"{paris_day(last_contact):%d/%m/%Y}, écart minimal "
                         f"{scenario.min_gap_days} jours")
            if reasons:  # a broken commitment comes back at once, the step waits
                return Due(None, day, " ; ".join([*reasons, postponed]),
                           kind="commitment_broken")
            return Due(None, allowed, postponed)
    why = f"{scenario.title} v{scenario.version} : {step.code} {step.label}, prévu le " \
          f"{dates[index]:%d/%m/%Y}"
    if plan.never_worked and dates[index] < day and step.kind != "pre_due":
        why += " (dossier jamais relancé : le scénario reprend à son début)"
    elif len(fallen) > 1:
        earlier = len(fallen) - 1
        why += (" (1 étape antérieure non faite regroupée)" if earlier == 1 else
                f" ({earlier} étapes antérieures non faites regroupées)")
    if reasons:
        why = " ; ".join(reasons) + " — " + why
    return Due(step, dates[index], why, scenario.step_reference(step),
               kind="commitment_broken" if reasons else "step")


def _after_the_steps(progress: Progress, scenario: Scenario, day: date) -> Due:
    """Every step done: nothing more, unless the formal notice went unanswered."""
    back = _notice_expired(progress, scenario)
    deadline = progress.notice_deadline_on
    if progress.phase == "formal_notice_sent" and deadline is not None and day > deadline:
        if progress.callback_on is not None:
            return Due(None, progress.callback_on,
                       f"délai de mise en demeure expiré le {deadline:%d/%m/%Y} ; rappel "
                       f"prévu le {progress.callback_on:%d/%m/%Y}")
        if back is not None and day >= back:
            return Due(None, day, f"délai de mise en demeure expiré le {deadline:%d/%m/%Y} : "
                       "transmettre ou relancer", kind="notice_expired")
        assert back is not None
        return Due(None, back, f"délai de mise en demeure expiré le {deadline:%d/%m/%Y} ; "
                   f"relancé depuis, à revoir le {back:%d/%m/%Y}")
    if back is not None:
        return Due(None, back, f"mise en demeure : à payer avant le {deadline:%d/%m/%Y}")
    return Due(None, None, "toutes les étapes du scénario sont faites")
