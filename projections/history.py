"""History: one row per fact of a file, with a one-line French summary.

Listens to every fact. A row is written once, as the fact was recorded; a later
correction or retraction only marks the row it targets (`corrected_by`,
`retracted_by`), so the record shows both the original and what changed it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.case import Entry
from domain.facts import Fact
from domain.invoice import Invoice
from domain.values import Contact
from projections.french import day, money
from projections.schema import Change, Insert, Table, Type, Update

HISTORY = Table(
    "history",
    {"invoice_id": Type.TEXT, "version": Type.INT, "number": Type.TEXT,
     "debtor_account": Type.TEXT, "occurred_at": Type.INSTANT, "recorded_at": Type.INSTANT,
     "actor": Type.TEXT, "kind": Type.TEXT, "label": Type.TEXT, "summary": Type.TEXT,
     "corrects": Type.INT, "corrected_by": Type.JSON, "retracted_by": Type.INT},
    key=("invoice_id", "version"),
    indexes=(("number", "version"), ("debtor_account", "occurred_at")),
)


class History:
    """The history read model, per file and per debtor."""

    name = "history"
    version = 1
    state_based = False
    tables = (HISTORY,)

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """A new row for the fact; a mark on the row a correction or retraction targets."""
        entries = invoice.entries
        entry = next(e for e in reversed(entries) if e.version == fact.originator_version)
        row = history_row(entry)
        case = invoice.case
        changes: list[Change] = [Insert(HISTORY, {
            "invoice_id": invoice.id.hex, "version": row.version, "number": case.number,
            "debtor_account": case.debtor.account, "occurred_at": row.occurred_at,
            "recorded_at": row.recorded_at, "actor": row.actor, "kind": row.kind,
            "label": row.label, "summary": row.summary, "corrects": row.corrects,
            "corrected_by": [], "retracted_by": None,
        })]
        target = row.corrects
        if target is not None:
            marked = next(e for e in entries if e.version == target)
            changes.append(Update(HISTORY, {"invoice_id": invoice.id.hex, "version": target},
                                  {"corrected_by": list(marked.corrected_by),
                                   "retracted_by": marked.retracted_by}))
        return changes

KIND_LABELS: dict[str, str] = {
    "InvoiceRegistered": "Facture enregistrée",
    "PreDueReminderSent": "Relance préventive",
    "ReminderSent": "Relance",
    "CallLogged": "Appel",
    "PaymentPromised": "Promesse de paiement",
    "DocumentSent": "Document envoyé",
    "SendingFailed": "Échec d'envoi",
    "DuplicateRequested": "Demande de duplicata",
    "DuplicateSent": "Duplicata envoyé",
    "DisputeRaised": "Litige ouvert",
    "DisputeResolved": "Litige résolu",
    "PaymentPlanAgreed": "Échéancier accordé",
    "DiscountOffered": "Escompte proposé",
    "DueDateRescheduled": "Nouvelle échéance",
    "FormalNoticeSent": "Mise en demeure",
    "PaymentReceived": "Paiement reçu",
    "HandedOver": "Transmis",
    "DebtAcknowledged": "Reconnaissance de dette",
    "WrittenOff": "Passé en perte",
    "CaseClosed": "Dossier clos",
    "CaseReopened": "Dossier rouvert",
    "NoteAdded": "Note",
    "AgentAssigned": "Attribution",
    "CallbackScheduled": "Rappel prévu",
    "FactCorrected": "Correction",
    "FactRetracted": "Annulation",
}

WORDS: dict[str, str] = {
    "email": "e-mail", "letter": "courrier", "sms": "SMS", "call": "appel",
    "reached": "joint", "voicemail": "messagerie", "wrong_person": "mauvais interlocuteur",
    "refused": "refus", "no_answer": "pas de réponse",
    "transfer": "virement", "cheque": "chèque", "bill_of_exchange": "LCR", "card": "carte",
    "direct_debit": "prélèvement", "cash": "espèces", "other": "autre",
    "not_received": "facture non reçue", "wrong_recipient": "mauvais destinataire",
    "missing_po_reference": "référence de commande manquante",
    "lawyer": "avocat", "commissaire_de_justice": "commissaire de justice",
    "agency": "société de recouvrement",
}


@dataclass(frozen=True)
class HistoryRow:
    """One fact of a file as people read it."""

    version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    kind: str
    label: str
    summary: str
    corrects: int | None
    retracted_by: int | None
    corrected_by: tuple[int, ...]


def history_row(entry: Entry) -> HistoryRow:
    """The row of one fact."""
    return HistoryRow(
        version=entry.version,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        actor=entry.actor,
        kind=entry.kind,
        label=KIND_LABELS.get(entry.kind, entry.kind),
        summary=describe(entry.kind, entry.data),
        corrects=entry.data.get("target_version"),
        retracted_by=entry.retracted_by,
        corrected_by=entry.corrected_by,
    )


def describe(kind: str, data: dict[str, Any]) -> str:
    """A one-line French summary of a fact."""
    describer = _DESCRIBERS.get(kind)
    return describer(data) if describer else ""


def _word(value: str) -> str:
    return WORDS.get(value, value)


def _who(contact: Contact | None) -> str:
    if contact is None or contact.is_empty():
        return ""
    parts = [contact.name, f"({contact.function})" if contact.function else ""]
    return " ".join(p for p in parts if p)


def _join(*parts: str) -> str:
    return " — ".join(p for p in parts if p)


def _amount(data: dict[str, Any], key: str = "amount") -> str:
    return money(data[key], data.get("currency", "EUR"))


_DESCRIBERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "InvoiceRegistered": lambda d: _join(
        f"{d['number']} de {_amount(d)}", d["debtor"].name,
        f"émise le {day(d['issued_on'])}, échéance {day(d['due_on'])}",
    ),
    "PreDueReminderSent": lambda d: _join(
        _word(d["channel"]), _who(d["contact"]), d["summary"],
        f"paiement prévu par {_word(d['expected_means'])}" if d["expected_means"] else "",
    ),
    "ReminderSent": lambda d: _join(
        f"niveau {d['level']} par {_word(d['channel'])}", d["recipient"], d["summary"]
    ),
    "CallLogged": lambda d: _join(
        _who(d["contact"]) or "interlocuteur inconnu", _word(d["outcome"]), d["summary"],
        f"rappel le {day(d['callback_on'])}" if d["callback_on"] else "",
        f"factures {', '.join(d['invoice_numbers'])}" if len(d["invoice_numbers"]) > 1 else "",
    ),
    "PaymentPromised": lambda d: _join(
        f"{_amount(d)} pour le {day(d['promised_on'])}", _who(d["promised_by"]),
        f"par {_word(d['means'])}" if d["means"] else "",
    ),
    "DocumentSent": lambda d: _join(d["subject"], f"par {_word(d['channel'])} à {d['recipient']}",
                                    f"Message-ID {d['message_id']}" if d["message_id"] else ""),
    "SendingFailed": lambda d: _join(f"{d['template']} à {d['recipient'] or '?'}", d["error"]),
    "DuplicateRequested": lambda d: _join(_word(d["reason"]), _who(d["requested_by"]),
                                          d["details"]),
    "DuplicateSent": lambda d: _join(f"par {_word(d['channel'])} à {d['recipient']}",
                                     d["correction"]),
    "DisputeRaised": lambda d: _join(
        d["reason"], d["details"],
        f"montant contesté {_amount(d, 'disputed_amount')}" if d["disputed_amount"] else "",
    ),
    "DisputeResolved": lambda d: _join(d["outcome"], d["details"]),
    "PaymentPlanAgreed": lambda d: _join(
        f"{len(d['instalments'])} échéances : " + ", ".join(
            f"{money(i.amount)} le {day(i.due_on)}" for i in d["instalments"]),
        "signé" if d["signed"] else "non signé",
    ),
    "DiscountOffered": lambda d: f"{_amount(d, 'discount_amount')} si payé avant le "
                                 f"{day(d['pay_by'])}",
    "DueDateRescheduled": lambda d: _join(f"nouvelle échéance le {day(d['new_due_on'])}",
                                          d["reason"]),
    "FormalNoticeSent": lambda d: _join(
        f"LRAR n° {d['registered_letter_number']}", f"à payer avant le {day(d['deadline_on'])}",
        d["details"],
    ),
    "PaymentReceived": lambda d: _join(
        f"{_amount(d)} reçu le {day(d['received_on'])} par {_word(d['means'])}",
        d["reference"], "trop-perçu" if d["overpayment"] else "",
    ),
    "HandedOver": lambda d: _join(_word(d["to"]), d["recipient"], d["reference"]),
    "DebtAcknowledged": lambda d: d["document"],
    "WrittenOff": lambda d: d["reason"],
    "CaseClosed": lambda d: d["reason"],
    "CaseReopened": lambda d: d["reason"],
    "NoteAdded": lambda d: d["text"],
    "AgentAssigned": lambda d: f"confié à {d['agent']}",
    "CallbackScheduled": lambda d: _join(f"le {day(d['callback_on'])} par {d['owner']}",
                                         d["reason"]),
    "FactCorrected": lambda d: _join(
        f"corrige l'entrée n° {d['target_version']}",
        ", ".join(f"{k} → {v}" for k, v in d["changes"].items()), d["reason"],
    ),
    "FactRetracted": lambda d: _join(f"annule l'entrée n° {d['target_version']}", d["reason"]),
}
