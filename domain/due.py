"""What is due on a file on a given day, and why: its scenario read against its facts.

- A file that is paid, written off, closed or handed over has nothing due.
- An open dispute pauses it; so does a payment plan on track (a missed instalment
  resumes it), and a pending promise until its date (a broken promise brings the file
  back at once).
- A step already done, by any channel, is not due again; a later step done makes the
  earlier ones moot. When several steps fell due meanwhile (e.g. during a pause), only
  the latest is due: the debtor gets one contact, not a salvo.
- The scenario's minimum gap between two contacts of the same debtor postpones a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.case import Case
from domain.phases import ENDED
from domain.scenarios import Calendar, Scenario, Step


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
            last_contact_at=case.last_contact_at,
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
    done = _done(progress, scenario)
    last_done = max((i for i, d in enumerate(done) if d), default=-1)
    upcoming = [step.date_for(progress.due_on, calendar)
                for i, step in enumerate(scenario.steps) if i > last_done and not done[i]]
    if not upcoming:
        return None
    first = min(upcoming)
    if progress.last_contact_at is not None and scenario.min_gap_days:
        first = max(first, progress.last_contact_at.date()
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
    done = _done(progress, scenario)
    last_done = max((i for i, d in enumerate(done) if d), default=-1)
    dates = [step.date_for(progress.due_on, calendar) for step in scenario.steps]
    fallen = [i for i in range(last_done + 1, len(dates)) if dates[i] <= day and not done[i]]
    reasons = []
    if phase == "promised":
        reasons.append(f"promesse du {progress.promised_on:%d/%m/%Y} non tenue")
    if phase == "in_payment_plan":
        reasons.append("échéance du plan manquée")
    if not fallen:
        upcoming = [i for i in range(last_done + 1, len(dates)) if not done[i]]
        if reasons:
            return Due(None, day, " ; ".join(reasons), kind="commitment_broken")
        if not upcoming:
            return Due(None, None, "toutes les étapes du scénario sont faites")
        nxt = scenario.steps[upcoming[0]]
        return Due(None, dates[upcoming[0]],
                   f"prochaine étape : {nxt.label} le {dates[upcoming[0]]:%d/%m/%Y}")
    index = fallen[-1]
    step = scenario.steps[index]
    last_contact = max((c for c in (progress.last_contact_at, debtor_last_contact) if c),
                       default=None)
    if last_contact is not None and scenario.min_gap_days:
        allowed = last_contact.date() + timedelta(days=scenario.min_gap_days)
        if day < allowed:
            return Due(None, allowed, f"{step.label} reportée au {allowed:%d/%m/%Y} : "
                       f"dernier contact le {last_contact:%d/%m/%Y}, écart minimal "
                       f"{scenario.min_gap_days} jours")
    why = f"{scenario.title} v{scenario.version} : {step.code} {step.label}, prévu le " \
          f"{dates[index]:%d/%m/%Y}"
    if len(fallen) > 1:
        why += f" ({len(fallen) - 1} étape(s) antérieure(s) non faite(s) regroupée(s))"
    if reasons:
        why = " ; ".join(reasons) + " — " + why
    return Due(step, dates[index], why, scenario.step_reference(step),
               kind="commitment_broken" if reasons else "step")
