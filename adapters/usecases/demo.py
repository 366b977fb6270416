"""A small, reproducible demo portfolio: French debtors and histories that ring true.

It looks like a real day: each debtor has one owner in the team, who made every contact
with it (one person speaks to a debtor in a day); the backlog is current (what is due
today fell due in the last days: a promise broken this week, a step of the scenario, a
formal notice whose deadline just passed), old stories are settled or handed over; and
each fact was recorded when it happened, over past days, so that « voir tel qu'il était
le … » shows the files as they stood a week ago.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from stdnum import luhn
from stdnum.fr import siren as siren_number

from adapters.infra.accounts import Accounts, Role
from adapters.usecases.importing import Progress
from domain.batches import NewFile, Registration, Step
from domain.errors import DomainError
from domain.scenarios import SHIPPED
from domain.service import CaseFiles
from domain.values import (
    PARIS,
    CallOutcome,
    Channel,
    Contact,
    Debtor,
    DuplicateReason,
    HandoverTarget,
    Instalment,
    Money,
    PaymentMeans,
    Stamp,
)

AGENTS = ("amelie.martin", "bruno.petit", "chloe.durand")
SUPERVISOR = "sophie.laurent"
DEMO_PASSWORD = "demo-relance-2026"  # noqa: S105 - the demo's published password
DEMO_ACCOUNTS = (
    ("amelie.martin", "Amélie Martin", Role.AGENT), ("bruno.petit", "Bruno Petit", Role.AGENT),
    ("chloe.durand", "Chloé Durand", Role.AGENT),
    (SUPERVISOR, "Sophie Laurent", Role.SUPERVISOR),
    ("audit", "Cabinet d'audit", Role.AUDITOR), ("admin", "Administrateur", Role.ADMIN),
)
COMPANIES = (
    ("Boulangerie Lemoine", "Gérante"), ("Plomberie Garnier", "Artisan"),
    ("Transports Royer SAS", "Comptable"), ("Hôtel du Parc SARL", "Directeur"),
    ("Menuiserie Vasseur", "Gérant"), ("Clinique Saint-Roch", "Service comptabilité"),
    ("Garage Moreau et Fils", "Secrétaire"), ("Agence Horizon Conseil", "DAF"),
    ("Restaurant Le Petit Zinc", "Gérant"), ("Distribution Fabre SA", "Comptable fournisseurs"),
    ("Imprimerie Delorme", "Assistante"), ("Laboratoires Cévenol", "Responsable comptable"),
)
CITIES = ("Lyon", "Lille", "Nantes", "Rennes", "Bordeaux", "Toulouse", "Dijon", "Metz",
          "Tours", "Reims", "Nîmes", "Brest")
POSTCODES = {"Lyon": "69003", "Lille": "59000", "Nantes": "44000", "Rennes": "35000",
             "Bordeaux": "33000", "Toulouse": "31000", "Dijon": "21000", "Metz": "57000",
             "Tours": "37000", "Reims": "51100", "Nîmes": "30000", "Brest": "29200",
             "Paris": "75011"}
STREETS = ("rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo",
           "rue du Commerce", "place de la Gare", "rue des Artisans")
FIRST = ("Jean", "Marie", "Nathalie", "Pierre", "Sophie", "Karim", "Isabelle", "Thomas")
LAST = ("Dupont", "Bernard", "Lefèvre", "Roux", "Fournier", "Girard", "Bonnet", "Mercier")
STORIES = (
    # settled or handed over long ago
    ("paid_after_reminder", 20), ("promise_kept", 8), ("duplicate", 6), ("handed_over", 3),
    # still being worked: their latest facts are of the last weeks
    ("in_progress", 40), ("promise_pending", 6), ("promise_broken", 8), ("dispute", 5),
    ("payment_plan", 6), ("not_yet_due", 8),
)
LEFT_UNDONE = 0.4
"""Share of files being worked whose latest step was not done on its day: it waits today."""
MISSED = 0.25
"""Share of payment plans whose latest instalment, due this week, was not paid."""
OWNERS_AT_ONCE = 1000
"""Debtors given to their owner per command (a 100,000-file demo has 20,000 debtors)."""
REFERENCE = next(scenario for scenario in SHIPPED if scenario.name == "reference")
"""The scenario the demo's debtors follow (the team's default), whose steps its stories
play on their days."""
CALLS = ({"outcome": CallOutcome.VOICEMAIL, "summary": "Message laissé au standard"},
         {"outcome": CallOutcome.REACHED,
          "summary": "Facture en attente de validation par la direction"})
"""What the scenario's first and second calls heard, in the stories still being worked."""


def seed_accounts(accounts: Accounts) -> list[tuple[str, str]]:
    """The demo team's accounts, created if missing; returns those it created.

    The administrator's password is published with the demo: it must be changed at the
    first login."""
    existing = {user.login for user in accounts.users()}
    created = []
    for login, name, role in DEMO_ACCOUNTS:
        if login not in existing:
            accounts.add(login, name, role, DEMO_PASSWORD, must_change=role is Role.ADMIN)
            created.append((login, role.value))
    return created


def seed_portfolio(files: CaseFiles, *, files_count: int = 40, seed: int = 1,
                   today: date, progress: Progress | None = None) -> list[str]:
    """Records `files_count` invoices with their histories up to yesterday.

    The supervisor first gives each debtor its owner (one command per agent); each story
    is then written as data (its registration and its dated steps, all the owner's) and
    handed to the service's bulk command, which opens the files and plays them, many per
    transaction, so that a large portfolio takes minutes, not hours.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    count = max(len(COMPANIES), files_count // 5)
    debtors = [_debtor(rng, i, _company(i), COMPANIES[i % len(COMPANIES)][1])
               for i in range(count)]
    drawn = [rng.randrange(count) for _ in range(files_count)]
    owners = {debtors[i][0].account: AGENTS[i % len(AGENTS)] for i in sorted(set(drawn))}
    _give_owners(files, owners)
    _give_addresses(files, rng, [debtors[i][0] for i in sorted(set(drawn))])
    now = files.now()
    stories: list[NewFile] = []
    for index, which in enumerate(drawn):
        debtor, contact = debtors[which]
        number = f"FA-{today.year - 1}-{index + 1:05d}"
        story = rng.choices([s for s, _ in STORIES], [w for _, w in STORIES])[0]
        play = Play(rng, debtor, contact, owners[debtor.account], today)
        registration = play.tell(story, number)
        stories.append(play.new_file(registration, now))
    outcomes = files.record_files(stories, progress)
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert not refused, refused[:3]  # the stories follow the rules: a refusal is a bug here
    return [new.registration.number for new in stories]


def _give_owners(files: CaseFiles, owners: dict[str, str]) -> None:
    """The supervisor shares the debtors out: every debtor has one owner."""
    for agent in AGENTS:
        accounts = sorted(a for a, owner in owners.items() if owner == agent)
        for start in range(0, len(accounts), OWNERS_AT_ONCE):
            files.assign_debtors(SUPERVISOR, accounts[start:start + OWNERS_AT_ONCE],
                                 agent=agent, reason="répartition du portefeuille")


def _give_addresses(files: CaseFiles, rng: random.Random, debtors: list[Debtor]) -> None:
    """Each debtor's billing address, as its first invoice gave it (letters need one)."""
    for debtor in debtors:
        city = next((c for c in CITIES if f"({c} " in debtor.name), "Paris")
        street = f"{rng.randrange(1, 120)} {rng.choice(STREETS)}"
        files.change_debtor_identity(SUPERVISOR, debtor.account, changes={
            "billing_address": f"{street}\n{POSTCODES[city]} {city.upper()}"})


def _company(index: int) -> str:
    name = COMPANIES[index % len(COMPANIES)][0]
    rounds = index // len(COMPANIES)
    return name if rounds == 0 else f"{name} ({CITIES[rounds % len(CITIES)]} {rounds})"


def _ascii(word: str) -> str:
    """A word without its accents (`hôtel` → `hotel`): a domain name of plain letters."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


def _debtor(rng: random.Random, index: int, name: str, function: str) -> tuple[Debtor, Contact]:
    body = f"{rng.randrange(10**7, 10**8)}"
    siren = body + luhn.calc_check_digit(body)
    assert siren_number.is_valid(siren)
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    contact = Contact(person, function, f"0{rng.randrange(1, 6)} {rng.randrange(10, 99)} "
                      f"{rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                      f"compta{index}@{_ascii(name.split()[0].lower())}.example")
    return Debtor(f"411{index + 1:05d}", name, siren), contact


class Play:
    """One file's story: its dated steps, every contact made by the debtor's owner."""

    def __init__(self, rng: random.Random, debtor: Debtor, contact: Contact, agent: str,
                 today: date) -> None:
        self.rng, self.debtor, self.contact, self.agent, self.today = \
            rng, debtor, contact, agent, today
        self.steps: list[tuple[date, str, str, dict[str, Any]]] = []
        self.number, self.amount = "", Decimal("0.00")
        self.issued = self.due = today
        self.variant = 0.0
        """A draw that picks a variant of the story (a plan kept or missed, a step left)."""

    def step(self, day: date, command: str, who: str = "", **args: Any) -> None:
        """A step of the story (kept only if it happened before today)."""
        self.steps.append((day, who or self.agent, command, args))

    def days_ago(self, low: int, high: int) -> date:
        """A day between `high` and `low` days before today."""
        return self.today - timedelta(days=self.rng.randrange(low, high + 1))

    def tell(self, story: str, number: str) -> Registration:
        """Plays a story on a new invoice; returns its registration."""
        rng = self.rng
        self.number = number
        self.amount = Decimal(str(round(80 * (750 ** rng.random()), 2))).quantize(
            Decimal("0.01"))
        self.variant = rng.random()
        self.due = self._due_for(story)
        self.issued = self.due - timedelta(days=rng.choice((30, 45, 60)))
        getattr(self, f"_{story}")()
        return Registration(number=number, debtor=self.debtor, amount=Money(self.amount),
                            issued_on=self.issued, due_on=self.due,
                            po_reference=f"BC-{rng.randrange(10**5)}",
                            billing_recipient=self.contact)

    def _due_for(self, story: str) -> date:
        """When the invoice fell due, for its story to reach today where it is."""
        rng = self.rng
        if story == "not_yet_due":
            return self.today + timedelta(days=rng.randrange(0, 25))
        if story == "in_progress":
            return self.days_ago(1, 45)
        if story == "promise_pending":
            return self.days_ago(9, 18)
        if story == "promise_broken":
            return self.days_ago(16, 21)
        if story == "dispute":
            return self.days_ago(12, 70)
        if story == "payment_plan":
            return self.days_ago(39, 44) if self.variant < MISSED else self.days_ago(18, 95)
        return self.days_ago(60, 330)

    # -- the scenario's steps, as the owner does them ----------------------------------

    def _scenario(self, until: date, *, left_undone: bool = False) -> None:
        """The steps of the shipped « Référence » scenario that fell due before `until`, on
        their days (the last one left for today when `left_undone`)."""
        due, contact = self.due, self.contact
        fallen = [step for step in REFERENCE.steps
                  if due + timedelta(days=step.offset) < until]
        if left_undone and fallen:
            fallen = fallen[:-1]
        calls = 0
        for step in fallen:
            day = due + timedelta(days=step.offset)
            if step.kind == "pre_due":
                self.step(day, "remind_before_due", channel=step.channel, contact=contact,
                          summary="Livraison conforme, paiement prévu à l'échéance",
                          expected_means=PaymentMeans.TRANSFER)
            elif step.kind == "reminder":
                self.step(day, "send_reminder", channel=step.channel, level=step.level,
                          recipient=contact.email if step.channel is Channel.EMAIL
                          else self.debtor.name)
            elif step.kind == "call":
                calls += 1
                self.step(day, "log_call", contact=contact, **CALLS[min(calls, len(CALLS)) - 1])
            elif step.kind == "formal_notice":
                self.step(day, "send_formal_notice",
                          registered_letter_number=f"1A {self.rng.randrange(10**9, 10**10)}",
                          deadline_on=day + timedelta(days=8))
            if step.kind == "reminder" and step.level == 1:
                call = next(s for s in REFERENCE.steps if s.kind == "call")
                self.step(day + timedelta(days=3), "schedule_callback",
                          callback_on=due + timedelta(days=call.offset), owner=self.agent,
                          reason="Appeler la comptabilité")

    def _paid(self, day: date, amount: Decimal | None = None,
              means: PaymentMeans = PaymentMeans.TRANSFER) -> None:
        self.step(day, "receive_payment", amount=Money(amount or self.amount),
                  received_on=day, means=means, reference=f"VIR {self.number}")

    def _call_with_promise(self, day: date, promised: date, callback: date) -> None:
        contact = self.contact
        self.step(day, "log_call", contact=contact, outcome=CallOutcome.REACHED,
                  summary="Paiement promis sous huitaine", callback_on=callback)
        self.step(day, "promise_payment", promised_on=promised, promised_by=contact,
                  means=PaymentMeans.TRANSFER)
        self.step(day, "send_document", template="call_confirmation", channel=Channel.EMAIL,
                  recipient=contact.email, subject=f"Suite à notre appel — facture {self.number}",
                  message_id=f"<demo-{self.number}@relance.local>")

    # -- the stories ---------------------------------------------------------------------

    def _paid_after_reminder(self) -> None:
        self._scenario(self.due + timedelta(days=1))
        self._paid(self.due + timedelta(days=self.rng.randrange(3, 7)))

    def _promise_kept(self) -> None:
        call_on = self.due + timedelta(days=8)
        self._scenario(call_on)
        promised = call_on + timedelta(days=7)
        self._call_with_promise(call_on, promised, promised + timedelta(days=1))
        self._paid(promised)

    def _promise_pending(self) -> None:
        call_on = self.due + timedelta(days=8)
        self._scenario(call_on)
        promised = self.today + timedelta(days=self.rng.randrange(1, 10))
        self._call_with_promise(call_on, promised, promised + timedelta(days=1))

    def _promise_broken(self) -> None:
        call_on = self.due + timedelta(days=8)
        self._scenario(call_on)
        promised = call_on + timedelta(days=7)
        self._call_with_promise(call_on, promised, promised + timedelta(days=1))

    def _duplicate(self) -> None:
        call_on = self.due + timedelta(days=8)
        self._scenario(call_on)
        self.step(call_on, "log_call", contact=self.contact, outcome=CallOutcome.REACHED,
                  summary="N'a pas reçu la facture avec la référence de commande")
        self.step(call_on, "request_duplicate", reason=DuplicateReason.MISSING_PO_REFERENCE,
                  requested_by=self.contact)
        self.step(call_on, "send_duplicate", channel=Channel.EMAIL, recipient=self.contact.email,
                  correction="Référence de commande ajoutée")
        self._paid(call_on + timedelta(days=15), means=PaymentMeans.CHEQUE)

    def _dispute(self) -> None:
        call_on = self.due + timedelta(days=8)
        self._scenario(call_on)
        self.step(call_on, "log_call", contact=self.contact, outcome=CallOutcome.REACHED,
                  summary="Conteste la quantité livrée")
        self.step(call_on, "raise_dispute", reason="Quantité livrée contestée")
        resolved = call_on + timedelta(days=12)
        if resolved < self.today - timedelta(days=8):
            self.step(resolved, "resolve_dispute", outcome="Bon de livraison signé transmis")
            self._paid(resolved + timedelta(days=self.rng.randrange(3, 8)))

    def _payment_plan(self) -> None:
        call_on = self.due + timedelta(days=8)
        self._scenario(call_on)
        third = (self.amount / 3).quantize(Decimal("0.01"))
        plan = [Instalment(call_on + timedelta(days=30 * k), third) for k in (1, 2)]
        plan.append(Instalment(call_on + timedelta(days=90), self.amount - 2 * third))
        self.step(call_on, "log_call", contact=self.contact, outcome=CallOutcome.REACHED,
                  summary="Trésorerie tendue : accord pour payer en trois fois")
        self.step(call_on, "agree_payment_plan", instalments=plan, signed=True,
                  contact=self.contact)
        for instalment in plan:
            if instalment.due_on >= self.today or self.variant < MISSED:
                break
            self._paid(instalment.due_on, instalment.amount)

    def _in_progress(self) -> None:
        self._scenario(self.today, left_undone=self.variant < LEFT_UNDONE)

    def _not_yet_due(self) -> None:
        self._scenario(self.today)

    def _handed_over(self) -> None:
        self._scenario(self.due + timedelta(days=31))
        self.step(self.due + timedelta(days=50), "hand_over", who=SUPERVISOR,
                  to=HandoverTarget.COMMISSAIRE_DE_JUSTICE, recipient="SCP Martin & Associés")

    # -- when it happened, when it was recorded ------------------------------------------

    def new_file(self, registration: Registration, now: datetime) -> NewFile:
        """The file with its steps before today, each stamped with its business time (the
        owner's working hours, in order within a day) and its recording time (a few
        minutes later; a payment the next morning, with the bank statement)."""
        rng = self.rng
        clock = datetime.combine(self.issued, time(8, rng.randrange(60)), tzinfo=PARIS)
        recorded = clock + timedelta(minutes=rng.randrange(1, 20))
        stamp = Stamp(self.agent, clock, min(recorded, now))
        stamps: list[Step] = []
        last_day = self.issued
        for day, who, command, args in sorted(self.steps, key=lambda s: s[0]):
            if day >= self.today:
                continue
            if day != last_day:
                clock = datetime.combine(day, time(9, 0), tzinfo=PARIS) + timedelta(
                    minutes=rng.randrange(0, 150))
                last_day = day
            else:
                clock += timedelta(minutes=rng.randrange(2, 15))
            late = (datetime.combine(day + timedelta(days=1), time(8, 30), tzinfo=PARIS)
                    if command == "receive_payment"
                    else clock + timedelta(minutes=rng.randrange(1, 20)))
            recorded = max(recorded + timedelta(seconds=1), late)
            stamps.append(Step(Stamp(who, clock, max(min(recorded, now), clock)), command,
                               args))
        return NewFile(registration, stamp, stamps)
