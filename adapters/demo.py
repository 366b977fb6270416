"""A small, reproducible demo portfolio: French debtors and histories that ring true."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from stdnum import luhn
from stdnum.fr import siren as siren_number

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
)

AGENTS = ("amelie.martin", "bruno.petit", "chloe.durand")
COMPANIES = (
    ("Boulangerie Lemoine", "Gérante"), ("Plomberie Garnier", "Artisan"),
    ("Transports Royer SAS", "Comptable"), ("Hôtel du Parc SARL", "Directeur"),
    ("Menuiserie Vasseur", "Gérant"), ("Clinique Saint-Roch", "Service comptabilité"),
    ("Garage Moreau et Fils", "Secrétaire"), ("Agence Horizon Conseil", "DAF"),
    ("Restaurant Le Petit Zinc", "Gérant"), ("Distribution Fabre SA", "Comptable fournisseurs"),
    ("Imprimerie Delorme", "Assistante"), ("Laboratoires Cévenol", "Responsable comptable"),
)
FIRST = ("Jean", "Marie", "Nathalie", "Pierre", "Sophie", "Karim", "Isabelle", "Thomas")
LAST = ("Dupont", "Bernard", "Lefèvre", "Roux", "Fournier", "Girard", "Bonnet", "Mercier")
STORIES = (
    ("paid_after_reminder", 30), ("promise_kept", 15), ("promise_broken", 12),
    ("dispute", 8), ("duplicate", 10), ("payment_plan", 8), ("formal_notice", 7),
    ("handed_over", 3), ("not_yet_due", 7),
)


def seed_portfolio(files: CaseFiles, *, files_count: int = 40, seed: int = 1,
                   today: date) -> list[str]:
    """Registers `files_count` invoices with their histories up to yesterday."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    debtors = [_debtor(rng, i, name, function) for i, (name, function) in enumerate(COMPANIES)]
    numbers = []
    for index in range(files_count):
        debtor, contact = debtors[rng.randrange(len(debtors))]
        number = f"FA-{today.year - 1}-{index + 1:05d}"
        story = rng.choices([s for s, _ in STORIES], [w for _, w in STORIES])[0]
        _play(files, rng, number, debtor, contact, story, today)
        numbers.append(number)
    return numbers


def _debtor(rng: random.Random, index: int, name: str, function: str) -> tuple[Debtor, Contact]:
    body = f"{rng.randrange(10**7, 10**8)}"
    siren = body + luhn.calc_check_digit(body)
    assert siren_number.is_valid(siren)
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    contact = Contact(person, function, f"0{rng.randrange(1, 6)} {rng.randrange(10, 99)} "
                      f"{rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                      f"compta@{name.split()[0].lower()}.example")
    return Debtor(f"411{index + 1:04d}", name, siren), contact


def _play(files: CaseFiles, rng: random.Random, number: str, debtor: Debtor,
          contact: Contact, story: str, today: date) -> None:
    amount = Decimal(str(round(80 * (750 ** rng.random()), 2))).quantize(Decimal("0.01"))
    if story == "not_yet_due":
        issued = today - timedelta(days=rng.randrange(5, 25))
    else:
        issued = today - timedelta(days=rng.randrange(40, 330))
    due = issued + timedelta(days=rng.choice((30, 45, 60)))
    agent = rng.choice(AGENTS)

    def at(day: date, hour: int = 10) -> datetime:
        return datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=UTC)

    steps: list[tuple[date, Callable[[datetime], object]]] = []

    def step(day: date, act: Callable[[datetime], object]) -> None:
        steps.append((day, act))

    files.register_invoice(agent, number=number, debtor=debtor, amount=Money(amount),
                           issued_on=issued, due_on=due, po_reference=f"BC-{rng.randrange(10**5)}",
                           billing_recipient=contact, occurred_at=at(issued, 8))
    step(issued, lambda t: files.assign("sophie.laurent", number, agent=agent, occurred_at=t))
    step(due - timedelta(days=5), lambda t: files.remind_before_due(
        agent, number, channel=Channel.EMAIL, contact=contact, occurred_at=t,
        summary="Livraison conforme, paiement prévu à l'échéance",
        expected_means=PaymentMeans.TRANSFER))
    if story != "not_yet_due":
        step(due, lambda t: files.send_reminder(agent, number, channel=Channel.EMAIL, level=1,
                                                recipient=contact.email, occurred_at=t))
    paid_on = due + timedelta(days=rng.randrange(3, 20))
    call_on = due + timedelta(days=8)
    call = dict(contact=contact, outcome=CallOutcome.REACHED, occurred_at=at(call_on))
    if story == "paid_after_reminder":
        step(paid_on, lambda t: files.receive_payment(
            agent, number, amount=Money(amount), received_on=t.date(),
            means=PaymentMeans.TRANSFER, reference=f"VIR {number}", occurred_at=t))
    elif story in ("promise_kept", "promise_broken"):
        promised = call_on + timedelta(days=7)
        step(call_on, lambda _: files.log_call(
            agent, number, **call, summary="Paiement promis sous huitaine",
            callback_on=promised + timedelta(days=1)))
        step(call_on, lambda t: files.promise_payment(
            agent, number, promised_on=promised, promised_by=contact, occurred_at=t,
            means=PaymentMeans.TRANSFER))
        if story == "promise_kept":
            step(promised, lambda t: files.receive_payment(
                agent, number, amount=Money(amount), received_on=t.date(),
                means=PaymentMeans.TRANSFER, occurred_at=t))
    elif story == "dispute":
        step(call_on, lambda _: files.log_call(agent, number, **call,
                                               summary="Conteste la quantité livrée"))
        step(call_on, lambda t: files.raise_dispute(
            agent, number, reason="Quantité livrée contestée", occurred_at=t))
        if rng.random() < 0.5:
            step(call_on + timedelta(days=12), lambda t: files.resolve_dispute(
                agent, number, outcome="Bon de livraison signé transmis", occurred_at=t))
    elif story == "duplicate":
        step(call_on, lambda t: files.request_duplicate(
            agent, number, reason=DuplicateReason.MISSING_PO_REFERENCE, requested_by=contact,
            occurred_at=t))
        step(call_on, lambda t: files.send_duplicate(
            agent, number, channel=Channel.EMAIL, recipient=contact.email,
            correction="Référence de commande ajoutée", occurred_at=t))
        step(call_on + timedelta(days=15), lambda t: files.receive_payment(
            agent, number, amount=Money(amount), received_on=t.date(),
            means=PaymentMeans.CHEQUE, occurred_at=t))
    elif story == "payment_plan":
        third = (amount / 3).quantize(Decimal("0.01"))
        plan = [Instalment(call_on + timedelta(days=30 * k), third) for k in (1, 2)]
        plan.append(Instalment(call_on + timedelta(days=90), amount - 2 * third))
        step(call_on, lambda t: files.agree_payment_plan(
            agent, number, instalments=plan, signed=True, contact=contact, occurred_at=t))
        step(plan[0].due_on, lambda t: files.receive_payment(
            agent, number, amount=Money(third), received_on=t.date(),
            means=PaymentMeans.TRANSFER, occurred_at=t))
    elif story in ("formal_notice", "handed_over"):
        step(call_on, lambda t: files.log_call(
            agent, number, contact=contact, outcome=CallOutcome.VOICEMAIL, occurred_at=t,
            summary="Message laissé"))
        step(due + timedelta(days=20), lambda t: files.send_reminder(
            agent, number, channel=Channel.LETTER, level=2, occurred_at=t,
            recipient=debtor.name))
        step(due + timedelta(days=30), lambda t: files.send_formal_notice(
            agent, number, registered_letter_number=f"1A {rng.randrange(10**9, 10**10)}",
            deadline_on=t.date() + timedelta(days=8), occurred_at=t))
        if story == "handed_over":
            step(due + timedelta(days=50), lambda t: files.hand_over(
                "sophie.laurent", number, to=HandoverTarget.COMMISSAIRE_DE_JUSTICE,
                recipient="SCP Martin & Associés", occurred_at=t))
    for day, act in sorted(steps, key=lambda s: s[0]):
        if day < today:
            act(at(day))
