"""One form per fact of the case file, declared once: fields, their checks, the command.

The file page renders every form from these declarations; one route receives them all,
checks each field (a French sentence beside the field when it reads wrong), and calls
the application service. Nothing is recorded unless every field reads right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Role
from adapters.parsing import parse_date, parse_whole
from domain.engine import Recorded
from domain.errors import DomainError
from domain.service import CaseFiles
from domain.values import (
    Channel,
    Contact,
    DuplicateReason,
    HandoverTarget,
    Instalment,
    Money,
    PaymentMeans,
)

CHANNELS = {"email": "E-mail", "letter": "Courrier", "sms": "SMS"}
MEANS = {"transfer": "Virement", "cheque": "Chèque", "bill_of_exchange": "LCR",
         "card": "Carte", "direct_debit": "Prélèvement", "cash": "Espèces", "other": "Autre"}
REASONS = {"not_received": "Facture non reçue", "wrong_recipient": "Mauvais destinataire",
           "missing_po_reference": "Référence de commande manquante", "other": "Autre"}
TARGETS = {"lawyer": "Avocat", "commissaire_de_justice": "Commissaire de justice",
           "agency": "Société de recouvrement"}
LEVELS = {"1": "Première", "2": "Deuxième", "3": "Troisième"}
MAX_VERSION = 10**9


@dataclass(frozen=True)
class Field:
    """One field: its name, French label, kind (text, long, date, money, choice, check,
    number, plan) and, for a choice, its options."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    options: dict[str, str] = field(default_factory=dict)


Handler = Callable[[CaseFiles, str, str, dict[str, Any], str | None], Recorded]


@dataclass(frozen=True)
class FactForm:
    """A form of the file page: what it records, its fields, and the command it calls."""

    kind: str
    title: str
    fields: tuple[Field, ...]
    handler: Handler
    supervised: bool = False
    """It ends the file or hands it over: supervisors and administrators only, unless the
    team lets agents do it too (RELANCE_AGENTS_MAY_CLOSE)."""
    accounts: tuple[str, ...] = ()
    """Fields naming a person of the team: an active account that records facts."""


def may_use(form: FactForm, role: Role, agents_may_close: bool) -> bool:
    """True when a person of this role may send this form."""
    if role not in CAN_RECORD:
        return False
    return not form.supervised or agents_may_close or role in CAN_MANAGE_TEAM


def unknown_accounts(form: FactForm, parsed: dict[str, Any],
                     is_recorder: Callable[[str], bool]) -> dict[str, str]:
    """The French problem of each field naming someone who has no active account that
    records facts."""
    return {name: "Choisissez un compte actif de l'équipe (agent ou superviseur)."
            for name in form.accounts if parsed.get(name) and not is_recorder(parsed[name])}


def read(form: FactForm, values: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The French problems by field, and the typed values."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for f in form.fields:
        raw = (values.get(f.name) or "").strip()
        if not raw:
            if f.required:
                errors[f.name] = "Ce champ est obligatoire."
            parsed[f.name] = False if f.kind == "check" else None
            continue
        try:
            parsed[f.name] = _convert(f, raw)
        except (ValueError, ArithmeticError, DomainError):
            errors[f.name] = MESSAGES.get(f.kind, "Valeur invalide.")
    return errors, parsed


MESSAGES = {
    "date": "Date invalide : utilisez le format JJ/MM/AAAA.",
    "money": "Montant invalide : par exemple 1 500,00.",
    "choice": "Choisissez une valeur de la liste.",
    "number": "Nombre entier attendu.",
    "plan": "Une échéance par ligne : « JJ/MM/AAAA montant », "
            "par exemple « 15/12/2026 500,00 ».",
}


def _convert(f: Field, raw: str) -> Any:
    if f.kind == "date":
        return parse_date(raw)
    if f.kind == "money":
        return Money.parse(raw).require_positive()
    if f.kind == "choice":
        if raw not in f.options:
            raise ValueError(raw)
        return raw
    if f.kind == "check":
        return raw in ("on", "true", "1")
    if f.kind == "number":
        return parse_whole(raw, low=1, high=MAX_VERSION)
    if f.kind == "plan":
        instalments = []
        for line in raw.splitlines():
            if line.strip():
                day, _, amount = line.strip().partition(" ")
                instalments.append(Instalment(parse_date(day), Money.parse(amount).amount))
        if not instalments:
            raise ValueError(raw)
        return instalments
    return raw


def _correction_value(files: CaseFiles, number: str, version: int, name: str,
                      text: str) -> Any:
    """A corrected value typed like the value it replaces."""
    entry = next((e for e in files.history(number) if e.version == version), None)
    current = entry.data.get(name) if entry else None
    if isinstance(current, Decimal):
        return Money.parse(text).amount
    if isinstance(current, date):
        return parse_date(text)
    if isinstance(current, bool):
        return text.lower() in ("oui", "true", "1")
    if isinstance(current, int):
        return parse_whole(text, high=MAX_VERSION)
    return text


def _text(value: Any) -> str:
    return value or ""


FORMS: tuple[FactForm, ...] = (
    FactForm("relance", "Relance envoyée", (
        Field("channel", "Canal", "choice", True, CHANNELS),
        Field("level", "Niveau", "choice", True, LEVELS),
        Field("recipient", "Destinataire"), Field("summary", "Résumé", "long")),
        lambda f, a, n, v, k: f.send_reminder(
            a, n, channel=Channel(v["channel"]), level=int(v["level"]),
            recipient=_text(v["recipient"]), summary=_text(v["summary"]),
            idempotency_key=k)),
    FactForm("preventive", "Relance préventive", (
        Field("channel", "Canal", "choice", True, {**CHANNELS, "call": "Appel"}),
        Field("contact", "Contact"), Field("summary", "Ce qui a été dit", "long", True),
        Field("means", "Règlement prévu par", "choice", False, MEANS)),
        lambda f, a, n, v, k: f.remind_before_due(
            a, n, channel=Channel(v["channel"]), summary=v["summary"],
            contact=_contact(v["contact"]),
            expected_means=PaymentMeans(v["means"]) if v["means"] else None,
            idempotency_key=k)),
    FactForm("duplicata-demande", "Demande de duplicata", (
        Field("reason", "Motif", "choice", True, REASONS), Field("details", "Précisions"),
        Field("contact", "Demandé par")),
        lambda f, a, n, v, k: f.request_duplicate(
            a, n, reason=DuplicateReason(v["reason"]), details=_text(v["details"]),
            requested_by=_contact(v["contact"]), idempotency_key=k)),
    FactForm("duplicata-envoi", "Duplicata envoyé", (
        Field("channel", "Canal", "choice", True, CHANNELS),
        Field("recipient", "Destinataire", required=True),
        Field("correction", "Correction apportée")),
        lambda f, a, n, v, k: f.send_duplicate(
            a, n, channel=Channel(v["channel"]), recipient=v["recipient"],
            correction=_text(v["correction"]), idempotency_key=k)),
    FactForm("litige", "Litige ouvert", (
        Field("reason", "Motif", required=True), Field("details", "Précisions", "long"),
        Field("amount", "Montant contesté", "money")),
        lambda f, a, n, v, k: f.raise_dispute(
            a, n, reason=v["reason"], details=_text(v["details"]),
            disputed_amount=v["amount"], idempotency_key=k)),
    FactForm("litige-fin", "Litige résolu", (
        Field("outcome", "Issue", required=True), Field("details", "Précisions", "long")),
        lambda f, a, n, v, k: f.resolve_dispute(
            a, n, outcome=v["outcome"], details=_text(v["details"]), idempotency_key=k)),
    FactForm("echeancier", "Échéancier accordé", (
        Field("plan", "Échéances (une par ligne : date montant)", "plan", True),
        Field("signed", "Signé par le débiteur", "check"), Field("contact", "Contact")),
        lambda f, a, n, v, k: f.agree_payment_plan(
            a, n, instalments=v["plan"], signed=v["signed"], contact=_contact(v["contact"]),
            idempotency_key=k)),
    FactForm("paiement", "Paiement reçu", (
        Field("amount", "Montant", "money", True), Field("received_on", "Reçu le", "date", True),
        Field("means", "Moyen", "choice", True, MEANS), Field("reference", "Référence"),
        Field("overpayment", "Trop-perçu accepté", "check")),
        lambda f, a, n, v, k: f.receive_payment(
            a, n, amount=v["amount"], received_on=v["received_on"],
            means=PaymentMeans(v["means"]), reference=_text(v["reference"]),
            overpayment=v["overpayment"], idempotency_key=k)),
    FactForm("escompte", "Escompte proposé", (
        Field("discount", "Remise", "money", True),
        Field("pay_by", "Si payé avant le", "date", True),
        Field("details", "Précisions")),
        lambda f, a, n, v, k: f.offer_discount(
            a, n, discount=v["discount"], pay_by=v["pay_by"], details=_text(v["details"]),
            idempotency_key=k)),
    FactForm("echeance", "Nouvelle échéance", (
        Field("new_due_on", "Nouvelle échéance", "date", True),
        Field("reason", "Motif", required=True)),
        lambda f, a, n, v, k: f.reschedule_due_date(
            a, n, new_due_on=v["new_due_on"], reason=v["reason"], idempotency_key=k)),
    FactForm("mise-en-demeure", "Mise en demeure envoyée", (
        Field("letter", "N° de lettre recommandée", required=True),
        Field("deadline_on", "À payer avant le", "date", True), Field("details", "Précisions")),
        lambda f, a, n, v, k: f.send_formal_notice(
            a, n, registered_letter_number=v["letter"], deadline_on=v["deadline_on"],
            details=_text(v["details"]), idempotency_key=k)),
    FactForm("reconnaissance", "Reconnaissance de dette", (
        Field("document", "Document (ex. courrier signé du…)", required=True),),
        lambda f, a, n, v, k: f.record_acknowledgment(a, n, document=v["document"],
                                                      idempotency_key=k)),
    FactForm("transmission", "Transmis", (
        Field("to", "À", "choice", True, TARGETS), Field("recipient", "Cabinet ou société"),
        Field("reference", "Référence")),
        lambda f, a, n, v, k: f.hand_over(
            a, n, to=HandoverTarget(v["to"]), recipient=_text(v["recipient"]),
            reference=_text(v["reference"]), idempotency_key=k), supervised=True),
    FactForm("attribution", "Attribuer le dossier", (Field("agent", "Agent", required=True),),
             lambda f, a, n, v, k: f.assign(a, n, agent=v["agent"], idempotency_key=k),
             accounts=("agent",)),
    FactForm("rappel", "Rappel prévu", (
        Field("callback_on", "Le", "date", True), Field("owner", "Par", required=True),
        Field("reason", "Motif")),
        lambda f, a, n, v, k: f.schedule_callback(
            a, n, callback_on=v["callback_on"], owner=v["owner"], reason=_text(v["reason"]),
            idempotency_key=k), accounts=("owner",)),
    FactForm("perte", "Passer en perte", (Field("reason", "Motif", required=True),),
             lambda f, a, n, v, k: f.write_off(a, n, reason=v["reason"], idempotency_key=k),
             supervised=True),
    FactForm("cloture", "Clore le dossier", (Field("reason", "Motif", required=True),),
             lambda f, a, n, v, k: f.close_file(a, n, reason=v["reason"], idempotency_key=k),
             supervised=True),
    FactForm("reouverture", "Rouvrir le dossier", (Field("reason", "Motif", required=True),),
             lambda f, a, n, v, k: f.reopen_file(a, n, reason=v["reason"], idempotency_key=k)),
    FactForm("correction", "Corriger une entrée", (
        Field("target", "N° de l'entrée", "number", True),
        Field("field", "Champ (ex. amount, received_on, text)", required=True),
        Field("value", "Bonne valeur", required=True), Field("reason", "Motif", required=True)),
        lambda f, a, n, v, k: f.correct(
            a, n, target_version=v["target"], reason=v["reason"],
            changes={v["field"]: _correction_value(f, n, v["target"], v["field"], v["value"])},
            idempotency_key=k)),
    FactForm("annulation", "Annuler une entrée", (
        Field("target", "N° de l'entrée", "number", True), Field("reason", "Motif", required=True)),
        lambda f, a, n, v, k: f.retract(a, n, target_version=v["target"], reason=v["reason"],
                                        idempotency_key=k)),
)
BY_KIND = {form.kind: form for form in FORMS}


def _contact(name: str | None) -> Contact:
    return Contact(name=name or "")
