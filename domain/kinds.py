"""Every kind of fact of a file, declared once: its French label and one-line summary (for
the history, the exports and the lawyer's PDF), whether it is a contact with the debtor
(and by which channel, with whom), the phase it puts a file in, and the form people
record it with (on the file page and through the API).

Everything that shows, counts or records a fact reads it here: `projections.history`
(label, summary), `domain.case` and `projections.debtors` (contacts), and the forms of
`adapters.usecases.fact_forms` (the file page, the API, `relance case record`).
`tests/unit/test_fact_kinds.py` fails when a fact class has no declaration, when a
declared phase or contact disagrees with the fold of the file, or when a choice has no
French word.

A new kind of fact: its class in `domain.facts`, its method on `Invoice` (rules, then
`_trigger`) and its state change in `Case._after`, its command in `CaseFiles`, and its
declaration here (see the README's checklist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from domain import facts as f
from domain.attachments import ATTACHMENT_KINDS, size_in_french
from domain.phases import DECIDED_ENDS
from domain.values import (
    PARIS,
    CallOutcome,
    Channel,
    Contact,
    DuplicateReason,
    HandoverTarget,
    PaymentMeans,
    ReplyOutcome,
)


class Words(Protocol):
    """French formats and words, given by the read side (`projections.french`)."""

    def money(self, amount: Decimal, currency: str = "EUR") -> str:
        """An amount: '1 500,00 €'."""
        ...

    def day(self, value: date) -> str:
        """A date: '23/11/2026'."""
        ...

    def word(self, vocabulary: str, value: str) -> str:
        """The French word of a value of a vocabulary ('means', 'transfer' → 'virement')."""
        ...


@dataclass(frozen=True)
class Field:
    """One field of a form: its name, French label, kind (text, long, date, money,
    choice, check, number, plan) and, for a choice, the vocabulary of its values."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: str = ""
    """The vocabulary (`CHOICES`) a choice field takes its values from."""


@dataclass(frozen=True)
class Form:
    """How people record a fact: the slug of its form, its title, its fields, the command
    of `CaseFiles` it calls and how the typed values become that command's arguments."""

    slug: str
    title: str
    fields: tuple[Field, ...]
    command: str
    arguments: Callable[[dict[str, Any]], dict[str, Any]]
    accounts: tuple[str, ...] = ()
    """Fields naming a person of the team (an active account that records facts)."""


@dataclass(frozen=True)
class Touch:
    """A fact that is a contact with the debtor: by which channel (None: the fact's own
    `channel` field says), with whom (the field holding the person, if any), and whether
    somebody at the debtor spoke with us (such a contact can be the source of a promise)."""

    channel: str | None = None
    person: str | None = None
    spoke: bool = False
    chases: bool = False
    """A contact we make to chase the debtor (a call, a reminder, a formal notice): the
    same-day rule counts it. A duplicate sent on request or a promise heard during a call
    is not a second contact."""


@dataclass(frozen=True)
class Kind:
    """The declaration of one kind of fact (see the module's doc)."""

    fact: type[f.Fact]
    label: str
    describe: Callable[[Words, dict[str, Any]], str]
    recorded_by: str
    """Where it comes from: a 'form' (below), the 'call' form, 'registration' (import,
    API, CLI), 'sending' (a document sent by relance), 'mail' (what comes back to the
    mailbox relance reads: replies, automatic answers, bounces), 'contact' (any contact that was
    the debtor's second that day, with its reason), 'attachment' (a document uploaded,
    imported with its invoice, or laid out by relance), 'portal' (what the debtor does on
    its own page: `domain.portal`) or 'relance' itself (a consequence of another fact,
    such as an escompte earned by a payment)."""
    form: Form | None = None
    touch: Touch | None = None
    phase: str | None = None
    """The phase an overdue, unpaid file is in just after this fact (None: unchanged)."""

    @property
    def name(self) -> str:
        """The fact's class name, as stored."""
        return self.fact.__name__

    @property
    def ends_file(self) -> bool:
        """True when the fact is a decision to end the file's collection (written off,
        closed, handed over): supervisors record those."""
        return self.phase in DECIDED_ENDS


CHOICES: dict[str, tuple[str, ...]] = {
    "channel": tuple(c.value for c in Channel),
    "written_channel": tuple(c.value for c in Channel if c is not Channel.CALL),
    "means": tuple(m.value for m in PaymentMeans),
    "duplicate_reason": tuple(r.value for r in DuplicateReason),
    "handover_target": tuple(t.value for t in HandoverTarget),
    "reminder_level": ("1", "2", "3"),
    "outcome": tuple(o.value for o in CallOutcome),
    "reply_outcome": tuple(o.value for o in ReplyOutcome),
}
"""The values each choice field takes; their French words are in `projections.french`."""


def _who(person: Contact | None) -> str:
    if person is None or person.is_empty():
        return ""
    return " ".join(p for p in (person.name, f"({person.function})" if person.function else "")
                    if p)


def _join(*parts: str) -> str:
    return " — ".join(p for p in parts if p)


def _contact(name: str | None) -> Contact:
    return Contact(name=name or "")


def _text(value: Any) -> str:
    return value or ""


def _registered(w: Words, d: dict[str, Any]) -> str:
    return _join(f"{d['number']} de {w.money(d['amount'], d['currency'])}", d["debtor"].name,
                 f"émise le {w.day(d['issued_on'])}, échéance {w.day(d['due_on'])}")


def _pre_due(w: Words, d: dict[str, Any]) -> str:
    return _join(w.word("channel", d["channel"]), _who(d["contact"]),
                 f"à {d['recipient']}" if d["recipient"] else "", d["summary"],
                 f"paiement prévu par {w.word('means', d['expected_means'])}"
                 if d["expected_means"] else "", _attached(d))


def _call(w: Words, d: dict[str, Any]) -> str:
    return _join(_who(d["contact"]) or "interlocuteur inconnu", w.word("outcome", d["outcome"]),
                 d["summary"], f"rappel le {w.day(d['callback_on'])}" if d["callback_on"] else "",
                 f"factures {', '.join(d['invoice_numbers'])}"
                 if len(d["invoice_numbers"]) > 1 else "")


def _promise(w: Words, d: dict[str, Any]) -> str:
    return _join(f"{w.money(d['amount'], d['currency'])} pour le {w.day(d['promised_on'])}",
                 _who(d["promised_by"]),
                 f"par {w.word('means', d['means'])}" if d["means"] else "")


def _plan(w: Words, d: dict[str, Any]) -> str:
    return _join(f"{len(d['instalments'])} échéances : " + ", ".join(
        f"{w.money(i.amount)} le {w.day(i.due_on)}" for i in d["instalments"]),
        "signé" if d["signed"] else "non signé")


def _payment(w: Words, d: dict[str, Any]) -> str:
    return _join(f"{w.money(d['amount'], d['currency'])} reçu le {w.day(d['received_on'])} "
                 f"par {w.word('means', d['means'])}", d["reference"],
                 "trop-perçu" if d["overpayment"] else "")


def _attached(d: dict[str, Any]) -> str:
    """How many documents went with a message, when some did."""
    count = len(d.get("attachments") or ())
    if not count:
        return ""
    return "1 pièce jointe" if count == 1 else f"{count} pièces jointes"


def _document(_: Words, d: dict[str, Any]) -> str:
    kind = ATTACHMENT_KINDS.get(d["document_kind"], d["document_kind"])
    return _join(kind[:1].upper() + kind[1:], f"« {d['filename']} »", size_in_french(d["size"]),
                 d["note"], f"SHA-256 {d['sha256'][:16]}…")


def _reply(w: Words, d: dict[str, Any]) -> str:
    writer = d["writer"]
    who = f"{writer.name} <{writer.email}>" if writer.name and writer.email else \
        writer.email or writer.name
    return _join(f"de {who}", f"« {d['subject']} »" if d["subject"] else "",
                 d["text"][:300] + ("…" if len(d["text"]) > 300 else ""),
                 w.word("reply_match", d["matched_by"]), _attached(d))


def _correction(w: Words, d: dict[str, Any]) -> str:
    return _join(f"corrige l'entrée n° {d['target_version']}",
                 ", ".join(f"{w.word('field', k)} : {_value(w, v)}"
                           for k, v in d["changes"].items()), d["reason"])


def _value(w: Words, value: Any) -> str:
    if isinstance(value, Decimal):
        return w.money(value)
    if isinstance(value, date):
        return w.day(value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


DATE, MONEY, LONG, CHOICE, CHECK = "date", "money", "long", "choice", "check"

KINDS: tuple[Kind, ...] = (
    Kind(f.InvoiceRegistered, "Facture enregistrée", _registered, "registration"),
    Kind(f.PreDueReminderSent, "Relance préventive", _pre_due, "form", Form(
        "preventive", "Relance préventive", (
            Field("channel", "Canal", CHOICE, True, "channel"), Field("contact", "Contact"),
            Field("summary", "Ce qui a été dit", LONG, True),
            Field("means", "Règlement prévu par", CHOICE, False, "means")),
        "remind_before_due", lambda v: dict(
            channel=Channel(v["channel"]), summary=v["summary"], contact=_contact(v["contact"]),
            expected_means=PaymentMeans(v["means"]) if v["means"] else None)),
        touch=Touch(person="contact", spoke=True, chases=True)),
    Kind(f.ReminderSent, "Relance", lambda w, d: _join(
        f"niveau {d['level']} par {w.word('channel', d['channel'])}", d["recipient"],
        d["summary"], _attached(d)), "form", Form(
        "relance", "Relance envoyée", (
            Field("channel", "Canal", CHOICE, True, "written_channel"),
            Field("level", "Niveau", CHOICE, True, "reminder_level"),
            Field("recipient", "Destinataire"), Field("summary", "Résumé", LONG)),
        "send_reminder", lambda v: dict(
            channel=Channel(v["channel"]), level=int(v["level"]),
            recipient=_text(v["recipient"]), summary=_text(v["summary"]))),
        touch=Touch(chases=True)),
    Kind(f.CallLogged, "Appel", _call, "call",
         touch=Touch(channel="call", person="contact", spoke=True, chases=True)),
    Kind(f.PaymentPromised, "Promesse de paiement", _promise, "call",
         touch=Touch(channel="call", person="promised_by"), phase="promised"),
    Kind(f.DocumentSent, "Document envoyé", lambda w, d: _join(
        d["subject"], f"par {w.word('channel', d['channel'])} à {d['recipient']}",
        _attached(d), f"Message-ID {d['message_id']}" if d["message_id"] else ""), "sending"),
    Kind(f.SendingFailed, "Échec d'envoi", lambda w, d: _join(
        f"{w.word('document', d['template'])} à {d['recipient'] or '?'}", d["error"]),
        "sending"),
    Kind(f.DuplicateRequested, "Demande de duplicata", lambda w, d: _join(
        w.word("duplicate_reason", d["reason"]), _who(d["requested_by"]), d["details"]),
        "form", Form(
            "duplicata-demande", "Demande de duplicata", (
                Field("reason", "Motif", CHOICE, True, "duplicate_reason"),
                Field("details", "Précisions"), Field("contact", "Demandé par")),
            "request_duplicate", lambda v: dict(
                reason=DuplicateReason(v["reason"]), details=_text(v["details"]),
                requested_by=_contact(v["contact"]))),
        touch=Touch(channel="call", person="requested_by", spoke=True)),
    Kind(f.DuplicateSent, "Duplicata envoyé", lambda w, d: _join(
        f"par {w.word('channel', d['channel'])} à {d['recipient']}", d["correction"]),
        "form", Form(
            "duplicata-envoi", "Duplicata envoyé", (
                Field("channel", "Canal", CHOICE, True, "written_channel"),
                Field("recipient", "Destinataire", required=True),
                Field("correction", "Correction apportée")),
            "send_duplicate", lambda v: dict(
                channel=Channel(v["channel"]), recipient=v["recipient"],
                correction=_text(v["correction"]))),
        touch=Touch()),
    Kind(f.DisputeRaised, "Litige ouvert", lambda w, d: _join(
        d["reason"], d["details"], f"montant contesté {w.money(d['disputed_amount'])}"
        if d["disputed_amount"] else ""), "form", Form(
        "litige", "Litige ouvert", (
            Field("reason", "Motif", required=True), Field("details", "Précisions", LONG),
            Field("amount", "Montant contesté", MONEY)),
        "raise_dispute", lambda v: dict(reason=v["reason"], details=_text(v["details"]),
                                        disputed_amount=v["amount"])),
        phase="in_dispute"),
    Kind(f.DisputeResolved, "Litige résolu", lambda _, d: _join(d["outcome"], d["details"]),
         "form", Form("litige-fin", "Litige résolu", (
             Field("outcome", "Issue", required=True), Field("details", "Précisions", LONG),
             Field("credit_note", "Avoir accordé (montant)", MONEY),
             Field("credit_reference", "N° de l'avoir")),
             "resolve_dispute", lambda v: dict(
                 outcome=v["outcome"], details=_text(v["details"]),
                 credit_note=v["credit_note"], credit_reference=_text(v["credit_reference"])))),
    Kind(f.PaymentPlanAgreed, "Échéancier accordé", _plan, "form", Form(
        "echeancier", "Échéancier accordé", (
            Field("plan", "Échéances (une par ligne : date montant)", "plan", True),
            Field("signed", "Signé par le débiteur", CHECK), Field("contact", "Contact")),
        "agree_payment_plan", lambda v: dict(instalments=v["plan"], signed=v["signed"],
                                             contact=_contact(v["contact"]))),
        touch=Touch(channel="call", person="contact", spoke=True), phase="in_payment_plan"),
    Kind(f.DiscountOffered, "Escompte proposé", lambda w, d: (
        f"{w.money(d['discount_amount'], d['currency'])} si payé avant le {w.day(d['pay_by'])}"),
        "form", Form("escompte", "Escompte proposé", (
            Field("discount", "Remise", MONEY, True),
            Field("pay_by", "Si payé avant le", DATE, True), Field("details", "Précisions")),
            "offer_discount", lambda v: dict(discount=v["discount"], pay_by=v["pay_by"],
                                             details=_text(v["details"])))),
    Kind(f.DiscountGranted, "Escompte accordé", lambda w, d: (
        f"remise de {w.money(d['discount_amount'], d['currency'])} : montant escompté reçu "
        "dans le délai, facture soldée"), "relance", phase="paid"),
    Kind(f.CreditNoteApplied, "Avoir", lambda w, d: _join(
        f"avoir {d['reference']} de {w.money(d['amount'], d['currency'])} du "
        f"{w.day(d['issued_on'])}", d["reason"]), "form", Form(
        "avoir", "Avoir imputé", (
            Field("amount", "Montant de l'avoir", MONEY, True),
            Field("issued_on", "Émis le", DATE, True),
            Field("reference", "N° de l'avoir", required=True), Field("reason", "Motif")),
        "apply_credit_note", lambda v: dict(
            amount=v["amount"], issued_on=v["issued_on"], reference=v["reference"],
            reason=_text(v["reason"])))),
    Kind(f.DueDateRescheduled, "Nouvelle échéance", lambda w, d: _join(
        f"nouvelle échéance le {w.day(d['new_due_on'])}", d["reason"]), "form", Form(
        "echeance", "Nouvelle échéance", (
            Field("new_due_on", "Nouvelle échéance", DATE, True),
            Field("reason", "Motif", required=True)),
        "reschedule_due_date", lambda v: dict(new_due_on=v["new_due_on"], reason=v["reason"]))),
    Kind(f.FormalNoticeSent, "Mise en demeure", lambda w, d: _join(
        f"LRAR n° {d['registered_letter_number']}", f"à {d['recipient']}" if d["recipient"]
        else "", f"à payer avant le {w.day(d['deadline_on'])}", d["details"]), "form", Form(
        "mise-en-demeure", "Mise en demeure envoyée", (
            Field("letter", "N° de lettre recommandée", required=True),
            Field("deadline_on", "À payer avant le", DATE, True),
            Field("recipient", "Destinataire (le débiteur si vide)"),
            Field("details", "Précisions")),
        "send_formal_notice", lambda v: dict(
            registered_letter_number=v["letter"], deadline_on=v["deadline_on"],
            recipient=_text(v["recipient"]), details=_text(v["details"]))),
        touch=Touch(channel="letter", chases=True), phase="formal_notice_sent"),
    Kind(f.PaymentReceived, "Paiement reçu", _payment, "form", Form(
        "paiement", "Paiement reçu", (
            Field("amount", "Montant", MONEY, True), Field("received_on", "Reçu le", DATE, True),
            Field("means", "Moyen", CHOICE, True, "means"), Field("reference", "Référence"),
            Field("overpayment", "Trop-perçu accepté", CHECK)),
        "receive_payment", lambda v: dict(
            amount=v["amount"], received_on=v["received_on"], means=PaymentMeans(v["means"]),
            reference=_text(v["reference"]), overpayment=v["overpayment"])),
        phase="paid"),
    Kind(f.HandedOver, "Transmis", lambda w, d: _join(
        w.word("handover_target", d["to"]), d["recipient"], d["reference"]), "form", Form(
        "transmission", "Transmis", (
            Field("to", "À", CHOICE, True, "handover_target"),
            Field("recipient", "Cabinet ou société"), Field("reference", "Référence")),
        "hand_over", lambda v: dict(to=HandoverTarget(v["to"]), recipient=_text(v["recipient"]),
                                    reference=_text(v["reference"]))),
        phase="handed_over"),
    Kind(f.DebtAcknowledged, "Reconnaissance de dette", lambda _, d: d["document"], "form",
         Form("reconnaissance", "Reconnaissance de dette", (
             Field("document", "Document (ex. courrier signé du…)", required=True),),
             "record_acknowledgment", lambda v: dict(document=v["document"]))),
    Kind(f.WrittenOff, "Passé en perte", lambda _, d: d["reason"], "form", Form(
        "perte", "Passer en perte", (Field("reason", "Motif", required=True),),
        "write_off", lambda v: dict(reason=v["reason"])), phase="written_off"),
    Kind(f.CaseClosed, "Dossier clos", lambda _, d: d["reason"], "form", Form(
        "cloture", "Clore le dossier", (Field("reason", "Motif", required=True),),
        "close_file", lambda v: dict(reason=v["reason"])), phase="closed"),
    Kind(f.CaseReopened, "Dossier rouvert", lambda _, d: d["reason"], "form", Form(
        "reouverture", "Rouvrir le dossier", (Field("reason", "Motif", required=True),),
        "reopen_file", lambda v: dict(reason=v["reason"]))),
    Kind(f.DocumentAttached, "Document joint", _document, "attachment"),
    Kind(f.NoteAdded, "Note", lambda _, d: d["text"], "note"),
    Kind(f.AgentAssigned, "Attribution", lambda _, d: (
        f"confié à {d['agent']}, par exception au titulaire du débiteur" if d["agent"]
        else "rendu au titulaire du débiteur"), "form", Form(
        "attribution", "Attribuer le dossier", (Field("agent", "Agent", required=True),),
        "assign", lambda v: dict(agent=v["agent"]), accounts=("agent",))),
    Kind(f.SecondContactConfirmed, "Second contact du jour", lambda _, d: _join(
        f"déjà contacté par {d['earlier_actor']} à "
        f"{d['earlier_at'].astimezone(PARIS):%H:%M}", f"motif : {d['reason']}"), "contact"),
    Kind(f.CallbackScheduled, "Rappel prévu", lambda w, d: _join(
        f"le {w.day(d['callback_on'])} par {d['owner']}", d["reason"]), "form", Form(
        "rappel", "Rappel prévu", (
            Field("callback_on", "Le", DATE, True), Field("owner", "Par", required=True),
            Field("reason", "Motif")),
        "schedule_callback", lambda v: dict(callback_on=v["callback_on"], owner=v["owner"],
                                            reason=_text(v["reason"])), accounts=("owner",))),
    Kind(f.ReplyReceived, "Réponse du débiteur", _reply, "mail",
         touch=Touch(channel="email", person="writer", spoke=True)),
    Kind(f.ReplyHandled, "Réponse traitée", lambda w, d: _join(
        f"réponse n° {d['reply_version']} : {w.word('reply_outcome', d['outcome'])}",
        d["details"]), "form", Form(
        "reponse", "Réponse traitée", (
            Field("reply", "N° de la réponse", "number", True),
            Field("outcome", "Suite donnée", CHOICE, True, "reply_outcome"),
            Field("details", "Précisions")),
        "handle_reply", lambda v: dict(reply_version=v["reply"],
                                       outcome=ReplyOutcome(v["outcome"]),
                                       details=_text(v["details"])))),
    Kind(f.AutoReplyReceived, "Réponse automatique", lambda _, d: _join(
        f"de {d['sender']}", f"« {d['subject']} »" if d["subject"] else "", d["text"][:200]),
        "mail"),
    Kind(f.DeliveryFailed, "Non distribué", lambda _, d: _join(
        f"l'e-mail à {d['recipient']} est revenu", d["diagnostic"][:300],
        f"Message-ID {d['message_id']}" if d["message_id"] else ""), "mail"),
    Kind(f.PlanRequested, "Échéancier demandé", lambda w, d: _join(
        f"{len(d['instalments'])} échéances proposées : " + ", ".join(
            f"{w.money(i.amount)} le {w.day(i.due_on)}" for i in d["instalments"]),
        _who(d["requested_by"]), d["details"]), "portal"),
    Kind(f.PaymentClaimed, "Paiement annoncé", lambda w, d: _join(
        f"{w.money(d['amount'], d['currency'])} payé le {w.day(d['paid_on'])} "
        f"par {w.word('means', d['means'])}, à vérifier", d["reference"],
        _who(d["claimed_by"]), "justificatif joint" if d["proof_sha256"] else ""), "portal"),
    Kind(f.InvoiceDownloaded, "Duplicata consulté", lambda _, d: _join(
        "facture téléchargée par le débiteur depuis son espace",
        f"document {d['document_sha256'][:12]}…"), "portal"),
    Kind(f.FactCorrected, "Correction", _correction, "form", Form(
        "correction", "Corriger une entrée", (
            Field("target", "N° de l'entrée", "number", True),
            Field("field", "Champ (ex. amount, received_on, text)", required=True),
            Field("value", "Bonne valeur", required=True), Field("reason", "Motif", required=True)),
        "correct", lambda v: dict(target_version=v["target"], reason=v["reason"],
                                  changes={v["field"]: v["value"]}))),
    Kind(f.FactRetracted, "Annulation", lambda _, d: _join(
        f"annule l'entrée n° {d['target_version']}", d["reason"]), "form", Form(
        "annulation", "Annuler une entrée", (
            Field("target", "N° de l'entrée", "number", True),
            Field("reason", "Motif", required=True)),
        "retract", lambda v: dict(target_version=v["target"], reason=v["reason"]))),
)
BY_NAME = {kind.name: kind for kind in KINDS}
"""Each declaration by the fact's class name, as stored."""
FORMS = tuple(kind.form for kind in KINDS if kind.form is not None)
TOUCHING = frozenset(kind.name for kind in KINDS if kind.touch is not None)
"""Facts that are a contact with the debtor (the same-day rule, « dernier contact »)."""
CHASING = frozenset(kind.name for kind in KINDS if kind.touch is not None and kind.touch.chases)
"""Contacts we make to chase the debtor: the same-day rule counts one a day."""
SPOKE = frozenset(kind.name for kind in KINDS if kind.touch is not None and kind.touch.spoke)
FROM_DEBTOR = frozenset(kind.name for kind in KINDS
                        if kind.touch is not None and kind.recorded_by == "mail")
"""Contacts the debtor made (a reply by e-mail): a contact for the scenario's spacing, but
nobody of the team contacted the debtor."""
"""Contacts in which somebody at the debtor spoke with us: a promise can come from one."""


def kind_of(name: str) -> Kind:
    """The declaration of a fact kind, by its class name."""
    return BY_NAME[name]
