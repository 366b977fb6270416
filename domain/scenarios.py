"""Reminder scenarios: dated steps relative to the due date D, and the team's playbook.

A scenario is a named list of steps (D-5 pre-due email, D reminder, D+8 call, ...), with
a minimum gap between two contacts of the same debtor. A team keeps several, picks one
per debtor (a default for the others), and every change is recorded in its playbook
(who, when, what), so that the version in force on any day can be found again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.chain import ChainedAggregate
from domain.errors import DomainError
from domain.values import Channel, require_text

PLAYBOOK_NAMESPACE = UUID("3b8f0f7e-6a55-4a57-9a1e-8e4f3d0c2b71")
STEP_KINDS = ("pre_due", "reminder", "call", "plan_offer", "formal_notice")
MODES = {"auto": "automatique", "validate": "à valider", "manual": "manuel"}
"""How the daily run treats a step: sent by itself, queued for a person to validate, or
left to people on the worklist (calls and visits always are)."""


class UnknownScenario(DomainError):
    """A scenario name the playbook does not have."""

    code = "unknown_scenario"


class InvalidScenario(DomainError):
    """A scenario whose steps cannot be followed."""

    code = "invalid_scenario"


class Calendar(Protocol):
    """Which days are worked (French public holidays and weekends are not)."""

    def is_business_day(self, day: date) -> bool:
        """True on a working day."""
        ...


@dataclass(frozen=True)
class Step:
    """One dated step: `offset` days from the due date (negative before it)."""

    offset: int
    kind: str
    channel: Channel
    template: str
    label: str
    level: int = 0
    business_days: bool = False
    mode: str = ""
    """`MODES`: empty for the default (calls manual, formal notices to validate, the
    other written steps automatic)."""
    any_day: bool = False
    """The run may send this step on a weekend or a French public holiday."""
    attach_invoice: bool = False
    """The message carries the invoice (its PDF, else a copy marked as such)."""

    @property
    def run_mode(self) -> str:
        """How the daily run treats this step (`MODES`)."""
        if self.channel == Channel.CALL:
            return "manual"
        if self.mode in MODES:
            return self.mode
        return "validate" if self.kind == "formal_notice" else "auto"

    def date_for(self, due_on: date, calendar: Calendar) -> date:
        """The day this step falls due for an invoice due on `due_on`."""
        if not self.business_days:
            return due_on + timedelta(days=self.offset)
        day, remaining = due_on, abs(self.offset)
        direction = timedelta(days=1 if self.offset >= 0 else -1)
        while remaining:
            day += direction
            if calendar.is_business_day(day):
                remaining -= 1
        return day

    @property
    def code(self) -> str:
        """How the step reads in a record: 'J+20 relance 2'."""
        return f"J{self.offset:+d}" if self.offset else "J"


@dataclass(frozen=True)
class Scenario:
    """A named scenario at one version."""

    name: str
    title: str
    steps: tuple[Step, ...]
    min_gap_days: int
    version: int = 1

    def __post_init__(self) -> None:
        if not self.steps:
            raise InvalidScenario(f"scenario {self.name} has no step")
        if any(s.kind not in STEP_KINDS for s in self.steps):
            raise InvalidScenario(f"scenario {self.name} has a step of unknown kind")
        if list(self.steps) != sorted(self.steps, key=lambda s: s.offset):
            raise InvalidScenario(f"scenario {self.name}: steps must be in date order")
        if any(s.mode and s.mode not in MODES for s in self.steps):
            raise InvalidScenario(f"scenario {self.name} has a step of unknown mode")
        if self.min_gap_days < 0:
            raise InvalidScenario("the minimum gap between contacts cannot be negative")

    def step_reference(self, step: Step) -> str:
        """What a fact records when it follows this step: scenario, version, step."""
        return f"{self.title} v{self.version} — {step.code} : {step.label}"


def _step(offset: int, kind: str, channel: Channel, template: str, label: str,
          level: int = 0, business_days: bool = False) -> Step:
    return Step(offset, kind, channel, template, label, level, business_days)


E, L, S, C = Channel.EMAIL, Channel.LETTER, Channel.SMS, Channel.CALL
SHIPPED = (
    Scenario("reference", "Référence", (
        _step(-5, "pre_due", E, "pre_due", "relance préventive"),
        _step(0, "reminder", E, "reminder_1", "première relance", level=1),
        _step(8, "call", C, "call_confirmation", "appel"),
        _step(20, "reminder", L, "reminder_2", "deuxième relance", level=2),
        _step(25, "call", C, "call_confirmation", "deuxième appel"),
        _step(30, "formal_notice", L, "formal_notice", "mise en demeure"),
    ), min_gap_days=3),
    Scenario("grand_compte", "Grand compte (service fournisseurs)", (
        _step(-10, "pre_due", E, "pre_due",
              "vérifier la réception et la référence de commande", business_days=True),
        _step(2, "reminder", E, "reminder_1", "première relance", level=1, business_days=True),
        _step(10, "call", C, "call_confirmation", "appel au service fournisseurs",
              business_days=True),
        _step(20, "reminder", L, "reminder_2", "deuxième relance", level=2),
        _step(35, "call", C, "call_confirmation", "appel au responsable comptable"),
        _step(45, "formal_notice", L, "formal_notice", "mise en demeure"),
    ), min_gap_days=5),
    Scenario("tpe", "TPE, artisan ou indépendant", (
        _step(-3, "pre_due", C, "pre_due", "appel préventif"),
        _step(3, "call", C, "call_confirmation", "appel"),
        _step(7, "reminder", S, "reminder_1", "relance par SMS", level=1),
        _step(12, "plan_offer", C, "payment_plan", "proposer un échéancier"),
        _step(20, "call", C, "call_confirmation", "appel"),
        _step(30, "formal_notice", L, "formal_notice", "mise en demeure"),
    ), min_gap_days=2),
)
DEFAULT_SCENARIO = "reference"


def playbook_id(team: str) -> UUID:
    """The id of a team's playbook."""
    return uuid5(PLAYBOOK_NAMESPACE, "playbook:" + team)


def _scenario_data(scenario: Scenario) -> dict[str, Any]:
    return {"name": scenario.name, "title": scenario.title, "min_gap_days": scenario.min_gap_days,
            "steps": [{"offset": s.offset, "kind": s.kind, "channel": s.channel.value,
                       "template": s.template, "label": s.label, "level": s.level,
                       "business_days": s.business_days, "mode": s.mode,
                       "any_day": s.any_day, "attach_invoice": s.attach_invoice}
                      for s in scenario.steps]}


def _scenario_from(data: dict[str, Any], version: int) -> Scenario:
    # Versions recorded before steps had a mode, days and attachments take the defaults.
    steps = tuple(Step(s["offset"], s["kind"], Channel(s["channel"]), s["template"], s["label"],
                       s["level"], s["business_days"], s.get("mode", ""),
                       s.get("any_day", False), s.get("attach_invoice", False))
                  for s in data["steps"])
    return Scenario(data["name"], data["title"], steps, data["min_gap_days"], version)


@dataclass(frozen=True)
class Revision:
    """One recorded version of a scenario: who set it, when, and why."""

    scenario: Scenario
    actor: str
    recorded_at: datetime
    reason: str


@dataclass(frozen=True)
class TemplateRevision:
    """One recorded version of a document's wording: who wrote it, when, and why."""

    name: str
    version: int
    text: str
    actor: str
    recorded_at: datetime
    reason: str


@dataclass(frozen=True)
class OwnerRule:
    """Who gets a new debtor: the first rule that matches names its owner. Each condition
    left empty matches every debtor: an amount owed from `minimum` to `maximum`, an
    account code from `accounts_from` to `accounts_to` (in the ledger's order), a postcode
    starting with one of `postcodes` (a département: '69', '75')."""

    agent: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    accounts_from: str = ""
    accounts_to: str = ""
    postcodes: tuple[str, ...] = ()

    def matches(self, account: str, amount: Decimal, postcode: str) -> bool:
        """True when the debtor falls under the rule."""
        return ((self.minimum is None or amount >= self.minimum)
                and (self.maximum is None or amount <= self.maximum)
                and (not self.accounts_from or account >= self.accounts_from)
                and (not self.accounts_to or account <= self.accounts_to)
                and (not self.postcodes or any(postcode.startswith(p) for p in self.postcodes)))


@dataclass(frozen=True)
class RulesRevision:
    """One recorded version of the owner rules: who set them, when, and why."""

    rules: tuple[OwnerRule, ...]
    actor: str
    recorded_at: datetime
    reason: str


def _rule_data(rule: OwnerRule) -> dict[str, Any]:
    return {"agent": rule.agent,
            "minimum": str(rule.minimum) if rule.minimum is not None else "",
            "maximum": str(rule.maximum) if rule.maximum is not None else "",
            "accounts_from": rule.accounts_from, "accounts_to": rule.accounts_to,
            "postcodes": list(rule.postcodes)}


def _rule_from(data: dict[str, Any]) -> OwnerRule:
    return OwnerRule(agent=data["agent"],
                     minimum=Decimal(data["minimum"]) if data["minimum"] else None,
                     maximum=Decimal(data["maximum"]) if data["maximum"] else None,
                     accounts_from=data["accounts_from"], accounts_to=data["accounts_to"],
                     postcodes=tuple(data["postcodes"]))


class Playbook(ChainedAggregate):
    """A team's scenarios with all their versions, the default, per-debtor choices, absences.

    Its events are chained like a file's facts (`relance verify` checks them)."""

    @event("Opened")
    def __init__(self, team: str, timestamp: datetime) -> None:
        self.team = team
        self.revisions: dict[str, list[Revision]] = {}
        self.default = DEFAULT_SCENARIO
        self.debtor_choices: dict[str, str] = {}
        self.absences: dict[str, list[tuple[date, date]]] = {}
        self.penalty_rates: dict[str, Decimal] = {}
        self.templates: dict[str, list[TemplateRevision]] = {}
        self.owner_rules: tuple[OwnerRule, ...] = ()
        self.owner_rule_revisions: list[RulesRevision] = []

    @staticmethod
    def create_id(team: str, **_: Any) -> UUID:
        """The playbook's id comes from the team's name."""
        return playbook_id(team)

    def __deepcopy__(self, memo: dict[int, Any]) -> Playbook:
        # The repository hands out a copy of the playbook at every read (each message of
        # the daily run, each worklist). What its dicts and lists hold (scenarios,
        # wordings, rules, their revisions, dates, amounts) is frozen, so a copy of those
        # containers is a safe copy: a few µs, where deepcopy took 250.
        clone = object.__new__(type(self))
        for name, value in self.__dict__.items():
            if type(value) is dict:
                value = {k: list(v) if type(v) is list else v for k, v in value.items()}
            elif type(value) is list:
                value = list(value)
            clone.__dict__[name] = value
        return clone

    # -- commands -----------------------------------------------------------------------

    def set_scenario(self, scenario: Scenario, *, actor: str, recorded_at: datetime,
                     reason: str) -> None:
        """Records a new scenario, or a new version of one."""
        require_text(reason, "reason")
        self._scenario_set(data=_scenario_data(scenario), actor=actor,
                           timestamp=recorded_at, reason=reason)

    def choose_default(self, name: str, *, actor: str, recorded_at: datetime) -> None:
        """Makes a scenario the one used for debtors without a choice of their own."""
        self._known(name)
        self._default_chosen(name=name, actor=actor, timestamp=recorded_at)

    def choose_for_debtor(self, account: str, name: str, *, actor: str,
                          recorded_at: datetime) -> None:
        """Makes a debtor follow a given scenario."""
        self._known(name)
        self._debtor_scenario_chosen(account=require_text(account, "debtor_account"),
                                     name=name, actor=actor, timestamp=recorded_at)

    def set_penalty_rate(self, account: str, percent: Decimal | None, *, actor: str,
                         recorded_at: datetime) -> None:
        """Records the late-payment rate of a debtor's contract (None: back to the law's)."""
        if percent is not None and not (percent.is_finite() and 0 < percent < 100):
            raise InvalidScenario(f"a penalty rate must be between 0 and 100, got {percent}")
        self._penalty_rate_set(account=require_text(account, "debtor_account"),
                               percent=percent, actor=actor, timestamp=recorded_at)

    def record_absence(self, agent: str, first_day: date, last_day: date, *,
                       actor: str, recorded_at: datetime) -> None:
        """Records that an agent is away from `first_day` to `last_day` included."""
        if last_day < first_day:
            raise InvalidScenario("an absence ends before it starts")
        self._absence_recorded(agent=require_text(agent, "agent"), first_day=first_day,
                               last_day=last_day, actor=actor, timestamp=recorded_at)

    def set_template(self, name: str, text: str, *, actor: str, recorded_at: datetime,
                     reason: str) -> None:
        """Records the team's own wording of a document (a new version of it)."""
        require_text(reason, "reason")
        self._template_set(name=require_text(name, "template"), text=require_text(text, "text"),
                           actor=actor, timestamp=recorded_at, reason=reason)

    def set_owner_rules(self, rules: Sequence[OwnerRule], *, actor: str,
                        recorded_at: datetime, reason: str) -> None:
        """Records the rules that give new debtors an owner (in order: the first that
        matches wins; none: the debtor waits « à attribuer »)."""
        require_text(reason, "reason")
        for rule in rules:
            require_text(rule.agent, "agent")
        self._owner_rules_set(rules=[_rule_data(r) for r in rules], actor=actor,
                              timestamp=recorded_at, reason=reason)

    # -- events -------------------------------------------------------------------------

    @event("OwnerRulesSet")
    def _owner_rules_set(self, rules: list[dict[str, Any]], actor: str, timestamp: datetime,
                         reason: str) -> None:
        self.owner_rules = tuple(_rule_from(r) for r in rules)
        self.owner_rule_revisions.append(RulesRevision(self.owner_rules, actor, timestamp, reason))

    @event("ScenarioSet")
    def _scenario_set(self, data: dict[str, Any], actor: str, timestamp: datetime,
                      reason: str) -> None:
        versions = self.revisions.setdefault(data["name"], [])
        scenario = _scenario_from(data, version=len(versions) + 1)
        versions.append(Revision(scenario, actor, timestamp, reason))

    @event("DefaultChosen")
    def _default_chosen(self, name: str, actor: str, timestamp: datetime) -> None:
        self.default = name

    @event("DebtorScenarioChosen")
    def _debtor_scenario_chosen(self, account: str, name: str, actor: str,
                                timestamp: datetime) -> None:
        self.debtor_choices[account] = name

    @event("PenaltyRateSet")
    def _penalty_rate_set(self, account: str, percent: Decimal | None, actor: str,
                          timestamp: datetime) -> None:
        if percent is None:
            self.penalty_rates.pop(account, None)
        else:
            self.penalty_rates[account] = percent

    @event("AbsenceRecorded")
    def _absence_recorded(self, agent: str, first_day: date, last_day: date, actor: str,
                          timestamp: datetime) -> None:
        self.absences.setdefault(agent, []).append((first_day, last_day))

    @event("TemplateSet")
    def _template_set(self, name: str, text: str, actor: str, timestamp: datetime,
                      reason: str) -> None:
        versions = self.templates.setdefault(name, [])
        versions.append(TemplateRevision(name, len(versions) + 1, text, actor, timestamp, reason))

    # -- reading ------------------------------------------------------------------------

    def template(self, name: str) -> TemplateRevision | None:
        """The team's latest wording of a document, or None (the shipped one applies)."""
        versions = self.templates.get(name)
        return versions[-1] if versions else None

    def scenario(self, name: str, at: datetime | None = None) -> Scenario:
        """The scenario's latest version, or the one in force at instant `at`."""
        versions = self._known(name)
        if at is None:
            return versions[-1].scenario
        known = [r for r in versions if r.recorded_at <= at]
        return (known or versions[:1])[-1].scenario

    def scenario_for(self, account: str, at: datetime | None = None) -> Scenario:
        """The scenario a debtor follows (its own choice, or the default)."""
        return self.scenario(self.debtor_choices.get(account, self.default), at)

    def owner_for(self, account: str, amount: Decimal, postcode: str = "") -> str:
        """The owner the rules give a new debtor ('' when none matches)."""
        return next((rule.agent for rule in getattr(self, "owner_rules", ())
                     if rule.matches(account, amount, postcode)), "")

    def absent_on(self, day: date) -> set[str]:
        """The agents away on `day`."""
        return {agent for agent, spans in self.absences.items()
                if any(first <= day <= last for first, last in spans)}

    def names(self) -> Sequence[str]:
        """Every scenario's name."""
        return list(self.revisions)

    def _known(self, name: str) -> list[Revision]:
        if name not in self.revisions:
            raise UnknownScenario(f"no scenario named {name!r}", name=name)
        return self.revisions[name]
