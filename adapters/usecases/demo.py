"""A small, reproducible demo portfolio: French debtors and histories that ring true."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from stdnum import luhn
from stdnum.fr import siren as siren_number

from adapters.infra.accounts import Accounts, Role
from adapters.usecases.importing import Progress
from domain.batches import NewFile, Registration, Step
from domain.errors import DomainError
from domain.service import CaseFiles
from domain.values import (
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
DEMO_PASSWORD = "demo-relance-2026"  # noqa: S105 - the demo's published password
DEMO_ACCOUNTS = (
    ("amelie.martin", "Amélie Martin", Role.AGENT), ("bruno.petit", "Bruno Petit", Role.AGENT),
    ("chloe.durand", "Chloé Durand", Role.AGENT),
    ("sophie.laurent", "Sophie Laurent", Role.SUPERVISOR),
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
FIRST = ("Jean", "Marie", "Nathalie", "Pierre", "Sophie", "Karim", "Isabelle", "Thomas")
LAST = ("Dupont", "Bernard", "Lefèvre", "Roux", "Fournier", "Girard", "Bonnet", "Mercier")
STORIES = (
    ("paid_after_reminder", 30), ("promise_kept", 15), ("promise_broken", 12),
    ("dispute", 8), ("duplicate", 10), ("payment_plan", 8), ("formal_notice", 7),
    ("handed_over", 3), ("not_yet_due", 7),
)


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

    Each story is written as data (its registration and its dated steps) and handed to
    the service's bulk command, which opens the files and plays them, many per
    transaction, so that a large portfolio takes minutes, not hours.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    count = max(len(COMPANIES), files_count // 8)
    debtors = [_debtor(rng, i, _company(i), COMPANIES[i % len(COMPANIES)][1])
               for i in range(count)]
    now = files.now()
    stories: list[NewFile] = []
    for index in range(files_count):
        debtor, contact = debtors[rng.randrange(len(debtors))]
        number = f"FA-{today.year - 1}-{index + 1:05d}"
        story = rng.choices([s for s, _ in STORIES], [w for _, w in STORIES])[0]
        stories.append(_story(rng, number, debtor, contact, story, today, now))
    outcomes = files.record_files(stories, progress)
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert not refused, refused[:3]  # the stories follow the rules: a refusal is a bug here
    return [new.registration.number for new in stories]


def _company(index: int) -> str:
    name = COMPANIES[index % len(COMPANIES)][0]
    rounds = index // len(COMPANIES)
    return name if rounds == 0 else f"{name} ({CITIES[rounds % len(CITIES)]} {rounds})"


def _debtor(rng: random.Random, index: int, name: str, function: str) -> tuple[Debtor, Contact]:
    body = f"{rng.randrange(10**7, 10**8)}"
    siren = body + luhn.calc_check_digit(body)
    assert siren_number.is_valid(siren)
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    contact = Contact(person, function, f"0{rng.randrange(1, 6)} {rng.randrange(10, 99)} "
                      f"{rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                      f"compta{index}@{name.split()[0].lower()}.example")
    return Debtor(f"411{index + 1:05d}", name, siren), contact


def _story(rng: random.Random, number: str, debtor: Debtor, contact: Contact, story: str,
           today: date, now: datetime) -> NewFile:
    amount = Decimal(str(round(80 * (750 ** rng.random()), 2))).quantize(Decimal("0.01"))
    if story == "not_yet_due":
        issued = today - timedelta(days=rng.randrange(5, 25))
    else:
        issued = today - timedelta(days=rng.randrange(40, 330))
    due = issued + timedelta(days=rng.choice((30, 45, 60)))
    agent = rng.choice(AGENTS)

    def at(day: date, hour: int = 10, who: str = agent) -> Stamp:
        return Stamp(who, datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=UTC), now)

    registered = at(issued, 8)
    registration = Registration(number=number, debtor=debtor, amount=Money(amount),
                                issued_on=issued, due_on=due,
                                po_reference=f"BC-{rng.randrange(10**5)}",
                                billing_recipient=contact)
    steps: list[tuple[date, str, str, dict[str, Any]]] = []

    def step(day: date, command: str, who: str = agent, **args: Any) -> None:
        steps.append((day, who, command, args))

    paid_on = due + timedelta(days=rng.randrange(3, 20))
    call_on = due + timedelta(days=8)
    step(issued, "assign", who="sophie.laurent", agent=agent)
    step(due - timedelta(days=5), "remind_before_due", channel=Channel.EMAIL, contact=contact,
         summary="Livraison conforme, paiement prévu à l'échéance",
         expected_means=PaymentMeans.TRANSFER)
    if story != "not_yet_due":
        step(due, "send_reminder", channel=Channel.EMAIL, level=1, recipient=contact.email)
        step(due + timedelta(days=2), "add_note",
             text="Relance envoyée, pas de réponse pour l'instant")
        step(due + timedelta(days=3), "schedule_callback", callback_on=call_on, owner=agent,
             reason="Appeler la comptabilité")
    if story == "paid_after_reminder":
        step(paid_on, "receive_payment", amount=Money(amount), received_on=paid_on,
             means=PaymentMeans.TRANSFER, reference=f"VIR {number}")
    elif story in ("promise_kept", "promise_broken"):
        promised = call_on + timedelta(days=7)
        step(call_on, "log_call", contact=contact, outcome=CallOutcome.REACHED,
             summary="Paiement promis sous huitaine", callback_on=promised + timedelta(days=1))
        step(call_on, "promise_payment", promised_on=promised, promised_by=contact,
             means=PaymentMeans.TRANSFER)
        step(call_on, "send_document", template="call_confirmation", channel=Channel.EMAIL,
             recipient=contact.email, subject=f"Suite à notre appel — facture {number}",
             message_id=f"<demo-{number}@relance.local>")
        if story == "promise_kept":
            step(promised, "receive_payment", amount=Money(amount), received_on=promised,
                 means=PaymentMeans.TRANSFER)
    elif story == "dispute":
        step(call_on, "log_call", contact=contact, outcome=CallOutcome.REACHED,
             summary="Conteste la quantité livrée")
        step(call_on, "raise_dispute", reason="Quantité livrée contestée")
        if rng.random() < 0.5:
            step(call_on + timedelta(days=12), "resolve_dispute",
                 outcome="Bon de livraison signé transmis")
    elif story == "duplicate":
        step(call_on, "request_duplicate", reason=DuplicateReason.MISSING_PO_REFERENCE,
             requested_by=contact)
        step(call_on, "send_duplicate", channel=Channel.EMAIL, recipient=contact.email,
             correction="Référence de commande ajoutée")
        step(call_on + timedelta(days=15), "receive_payment", amount=Money(amount),
             received_on=call_on + timedelta(days=15), means=PaymentMeans.CHEQUE)
    elif story == "payment_plan":
        third = (amount / 3).quantize(Decimal("0.01"))
        plan = [Instalment(call_on + timedelta(days=30 * k), third) for k in (1, 2)]
        plan.append(Instalment(call_on + timedelta(days=90), amount - 2 * third))
        step(call_on, "agree_payment_plan", instalments=plan, signed=True, contact=contact)
        step(plan[0].due_on, "receive_payment", amount=Money(third),
             received_on=plan[0].due_on, means=PaymentMeans.TRANSFER)
    elif story in ("formal_notice", "handed_over"):
        noticed = due + timedelta(days=30)
        step(call_on, "log_call", contact=contact, outcome=CallOutcome.VOICEMAIL,
             summary="Message laissé")
        step(due + timedelta(days=20), "send_reminder", channel=Channel.LETTER, level=2,
             recipient=debtor.name)
        step(noticed, "send_formal_notice",
             registered_letter_number=f"1A {rng.randrange(10**9, 10**10)}",
             deadline_on=noticed + timedelta(days=8))
        if story == "handed_over":
            step(due + timedelta(days=50), "hand_over", who="sophie.laurent",
                 to=HandoverTarget.COMMISSAIRE_DE_JUSTICE, recipient="SCP Martin & Associés")
    return NewFile(registration, registered,
                   [Step(at(day, who=who), command, args)
                    for day, who, command, args in sorted(steps, key=lambda s: s[0])
                    if day < today])
