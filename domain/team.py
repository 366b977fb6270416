"""The team's settings as commands: scenarios and their versions, document wordings,
the scenario and the contractual rate of a debtor, agents' absences. Every change is a
new fact of the team's playbook (`domain.scenarios.Playbook`): who, when, why."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain.case import Case
from domain.due import Due, Progress, next_action
from domain.engine import FileEngine, Recorded
from domain.errors import TooMuchContention
from domain.scenarios import SHIPPED as SHIPPED_SCENARIOS
from domain.scenarios import Calendar, OwnerRule, Playbook, Scenario, playbook_id
from domain.values import end_of_day

DEFAULT_TEAM = "equipe"


class TeamSettings(FileEngine):
    """The commands and reads of a team's playbook."""

    def playbook(self, team: str = DEFAULT_TEAM) -> Playbook | None:
        """The team's playbook as recorded, or None before its first use."""
        def load() -> Playbook | None:
            try:
                return self.repository.get(playbook_id(team))
            except AggregateNotFoundError:
                return None

        return self._once(("playbook", team), load)  # type: ignore[no-any-return]

    def open_playbook(self, actor: str, team: str = DEFAULT_TEAM) -> Playbook:
        """The team's playbook; on first use, recorded with the shipped scenarios."""
        known = self.playbook(team)
        if known is not None:
            return known
        try:
            return self.repository.get(playbook_id(team))
        except AggregateNotFoundError:
            now = self._now()
            playbook = Playbook(team=team, timestamp=now)
            for scenario in SHIPPED_SCENARIOS:
                playbook.set_scenario(scenario, actor=actor, recorded_at=now,
                                      reason="scénario livré avec relance")
            # Opened meanwhile by another process? Then theirs is as good as ours.
            with contextlib.suppress(RecordConflictError):
                self.save(playbook)
            return self.repository.get(playbook_id(team))

    def set_scenario(self, actor: str, scenario: Scenario, *, reason: str,
                     team: str = DEFAULT_TEAM) -> Recorded:
        """Records a new scenario or a new version of one."""
        return self._on_playbook(team, lambda p, now: p.set_scenario(
            scenario, actor=actor, recorded_at=now, reason=reason))

    def set_template(self, actor: str, name: str, text: str, *, reason: str,
                     team: str = DEFAULT_TEAM) -> Recorded:
        """Records a new version of a document's wording."""
        return self._on_playbook(team, lambda p, now: p.set_template(
            name, text, actor=actor, recorded_at=now, reason=reason))

    def choose_default_scenario(self, actor: str, name: str,
                                team: str = DEFAULT_TEAM) -> Recorded:
        """Makes a scenario the default of the team."""
        return self._on_playbook(team, lambda p, now: p.choose_default(
            name, actor=actor, recorded_at=now))

    def choose_debtor_scenario(self, actor: str, account: str, name: str,
                               team: str = DEFAULT_TEAM) -> Recorded:
        """Makes a debtor follow a scenario."""
        return self._on_playbook(team, lambda p, now: p.choose_for_debtor(
            account, name, actor=actor, recorded_at=now))

    def set_debtor_penalty_rate(self, actor: str, account: str, percent: Decimal | None,
                                team: str = DEFAULT_TEAM) -> Recorded:
        """Records the late-payment rate agreed with a debtor (None: the legal default)."""
        return self._on_playbook(team, lambda p, now: p.set_penalty_rate(
            account, percent, actor=actor, recorded_at=now))

    def penalty_rate(self, number: str, team: str = DEFAULT_TEAM,
                     case: Case | None = None) -> Decimal | None:
        """The contractual rate for a file: the invoice's own, else its debtor's."""
        case = case or self.case(number)
        if case.penalty_rate is not None:
            return case.penalty_rate
        return self.open_playbook("relance", team).penalty_rates.get(case.debtor.account)

    def set_owner_rules(self, actor: str, rules: Sequence[OwnerRule], *, reason: str,
                        team: str = DEFAULT_TEAM) -> Recorded:
        """Records the rules that give new debtors an owner."""
        return self._on_playbook(team, lambda p, now: p.set_owner_rules(
            rules, actor=actor, recorded_at=now, reason=reason))

    def record_absence(self, actor: str, agent: str, first_day: date, last_day: date,
                       team: str = DEFAULT_TEAM) -> Recorded:
        """Records an agent's absence (their callbacks go to the team's list)."""
        return self._on_playbook(team, lambda p, now: p.record_absence(
            agent, first_day, last_day, actor=actor, recorded_at=now))

    def due(self, number: str, day: date, calendar: Calendar,
            team: str = DEFAULT_TEAM) -> Due:
        """What was (or is) due on a file on `day`, under the scenario version of that day.

        Read from the file's own facts as known at the end of that day: the auditor's
        answer to "why did this letter go out then?".
        """
        end = end_of_day(day)
        invoice = self.file_as_recorded(number, end) or self.file(number)
        scenario = self.open_playbook("relance", team).scenario_for(
            invoice.case.debtor.account, at=end)
        return next_action(Progress.of(invoice.case, day), scenario, day, calendar)

    def _on_playbook(self, team: str, change: Callable[[Playbook, datetime], None]
                     ) -> Recorded:
        self.open_playbook("relance", team)
        for _ in range(self.max_attempts):
            playbook = self.repository.get(playbook_id(team))
            change(playbook, self._now())
            try:
                recordings = self.save(playbook)
            except RecordConflictError:
                continue
            return Recorded(tuple((playbook.id, r.domain_event.originator_version)
                                  for r in recordings),
                            max(r.notification.id for r in recordings))
        raise TooMuchContention("the playbook kept changing; try again")

