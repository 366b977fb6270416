"""What a person decides on « À valider », read from its form and carried out: send a
message (its wording edited for this message only, when it was), set it aside with a
reason, say whether an « incertain » one went out, or do either to the messages ticked.

A message's wording is sent as edited only when it differs from the preview the person
read (its fingerprint travels with the form); a preview that changed since it was shown
(an invoice paid or disputed meanwhile) is refused, to be read again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from adapters.bootstrap import Runtime
from adapters.infra.documents import DocumentUnavailable, WordingBroken
from adapters.messages import in_french
from adapters.usecases import campaign
from domain.dispatch import FAILED, PRINTED, SENT, SKIPPED, UNCERTAIN, DispatchRefused
from domain.errors import DomainError
from projections.french import count

MAX_SUBJECT, MAX_TEXT, MAX_REASON = 300, 20_000, 500
DONE_WORDS = {"envoyes": ("message envoyé", "messages envoyés"),
              "lettres": ("lettre à imprimer", "lettres à imprimer"),
              "echecs": ("message en échec : nouvel essai au prochain envoi",
                         "messages en échec : nouvel essai au prochain envoi"),
              "vides": ("message écarté : plus rien à relancer",
                        "messages écartés : plus rien à relancer"),
              "ecartes": ("message écarté", "messages écartés"),
              "regles": ("message incertain réglé", "messages incertains réglés"),
              "encours": ("message en cours d'envoi (voir Envois)",
                          "messages en cours d'envoi (voir Envois)")}
"""What a decision did, as the queue says it afterwards."""
DONE_OF_STATE = {SENT: "envoyes", PRINTED: "lettres", FAILED: "echecs", SKIPPED: "vides"}
"""What a validated message became once sent (or tried)."""
CHANGED = ("Le message a changé depuis son affichage (une facture réglée, promise ou en "
           "litige entre-temps) : relisez-le avant de l'envoyer.")
NOTHING_TICKED = "Cochez au moins un message."
REASON_NEEDED = "Indiquez pourquoi le message est écarté (le motif est enregistré)."
BAD_FORM = "Le formulaire ne se lit pas : rechargez la page."
EMPTY = "L'objet et le texte du message ne peuvent pas être vides."
TOO_LONG = "L'objet ou le texte du message est trop long."
UNAVAILABLE = "Ce document ne peut pas être préparé pour ces factures."


def fingerprint(subject: str, text: str) -> str:
    """What a message's wording looked like when shown (line ends and edges aside)."""
    cleaned = f"{subject.strip()}\n\n{text.replace(chr(13), '').strip()}"
    return hashlib.sha256(cleaned.encode("utf-8")).hexdigest()


def preview(runtime: Runtime, key: str, actor: str) -> dict[str, Any]:
    """The message as it would go out now: subject, text, their fingerprint, the files
    dropped since the planning (`dropped_now`), or why it cannot be shown (`problem`)."""
    try:
        document, dropped = campaign.preview_message(runtime, key, actor)
    except WordingBroken as broken:
        return {"problem": f"Le modèle du document ne s'applique pas : {broken.french}"}
    except DocumentUnavailable:
        return {"problem": UNAVAILABLE}
    if document is None:
        return {"dropped_now": dropped, "problem": "Plus rien à relancer : chaque facture "
                "a été réglée, promise ou mise en litige depuis. Écartez ce message."}
    return {"subject": document.subject, "text": document.text, "dropped_now": dropped,
            "fingerprint": fingerprint(document.subject, document.text)}


@dataclass
class Decision:
    """What a decision did: counts by outcome (`DONE_WORDS`), the French refusal of each
    message that could not be decided (by key) or of the whole form, its HTTP status, and
    the wording typed (to show it again)."""

    done: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DONE_WORDS, 0))
    refused: dict[str, str] = field(default_factory=dict)
    error: str = ""
    status: int = 409
    typed: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def said(self) -> str:
        """« 2 message(s) envoyé(s); 1 message(s) écarté(s) »."""
        return said(self.done)

    def refuse(self, key: str, message: str, status: int = 409) -> None:
        """One message could not be decided, and why."""
        self.refused[key] = message
        self.status = status


def said(done: dict[str, int]) -> str:
    """What was done, in French."""
    return "; ".join(count(n, *DONE_WORDS[name]) for name, n in done.items() if n)


def decide(runtime: Runtime, actor: str, form: dict[str, str], ticked: list[str]
           ) -> Decision:
    """Carries out the form's `action` (envoyer, ecarter, parti, pas_parti, on `cle`;
    envoyer_selection, ecarter_selection on the keys ticked)."""
    action, key = form.get("action", ""), form.get("cle", "")[:300]
    decision = Decision()
    if action == "envoyer":
        subject, text = form.get("objet", "").strip(), form.get("texte", "")
        decision.typed = {key: {"subject": subject, "text": text}}
        if not subject or not text.strip():
            decision.refuse(key, EMPTY, 422)
        elif len(subject) > MAX_SUBJECT or len(text) > MAX_TEXT:
            decision.refuse(key, TOO_LONG, 422)
        else:
            approve(runtime, actor, key, decision, (subject, text, form.get("empreinte", "")))
    elif action == "ecarter":
        skip(runtime, actor, key, form.get("motif", ""), decision)
    elif action in ("parti", "pas_parti"):
        resolve(runtime, actor, key, action == "parti", decision)
    elif action not in ("envoyer_selection", "ecarter_selection"):
        decision.error, decision.status = BAD_FORM, 422
    elif not ticked:
        decision.error, decision.status = NOTHING_TICKED, 422
    elif action == "ecarter_selection" and not _reason_ok(form.get("motif_selection", "")):
        decision.error, decision.status = REASON_NEEDED, 422
    else:
        for one in ticked:
            if action == "envoyer_selection":
                approve(runtime, actor, one, decision)
            else:
                skip(runtime, actor, one, form.get("motif_selection", ""), decision)
        if decision.refused:
            decision.error = "Certains messages n'ont pas pu être traités : voyez ci-dessous."
    return decision


def _reason_ok(reason: str) -> bool:
    return bool(reason.strip()) and len(reason) <= MAX_REASON


def approve(runtime: Runtime, actor: str, key: str, decision: Decision,
            wording: tuple[str, str, str] | None = None) -> None:
    """Sends one message as planned, or with the wording typed (subject, text, and the
    fingerprint of the preview shown) when the person changed it."""
    subject = text = ""
    try:
        if wording is not None:
            document, _ = campaign.preview_message(runtime, key, actor)
            shown = wording[2]
            if document is not None and fingerprint(document.subject, document.text) != shown:
                decision.refuse(key, CHANGED)
                if fingerprint(wording[0], wording[1]) == shown:  # not edited: show the new one
                    decision.typed.pop(key, None)
                return
            if fingerprint(wording[0], wording[1]) != shown:
                subject, text = wording[0], wording[1].replace("\r\n", "\n")
        state = campaign.approve(runtime, actor, key, subject, text)
    except WordingBroken as broken:
        decision.refuse(key, f"Le modèle du document ne s'applique pas : {broken.french}")
    except DocumentUnavailable:
        decision.refuse(key, UNAVAILABLE)
    except DomainError as refused:
        decision.refuse(key, in_french(refused))
    else:
        decision.done[DONE_OF_STATE.get(state, "encours")] += 1


def skip(runtime: Runtime, actor: str, key: str, reason: str, decision: Decision) -> None:
    """Sets one message aside, with the reason (required)."""
    if not _reason_ok(reason):
        decision.refuse(key, REASON_NEEDED, 422)
        return
    try:
        campaign.skip(runtime, actor, key, reason.strip())
    except DomainError as refused:
        decision.refuse(key, in_french(refused))
    else:
        decision.done["ecartes"] += 1


def resolve(runtime: Runtime, actor: str, key: str, went_out: bool, decision: Decision
            ) -> None:
    """Says whether an « incertain » message went out. Asked only while the message is
    still listed as « incertain »: a second click must not record it on its files again."""
    if not any(row["key"] == key and row["state"] == UNCERTAIN
               for row in campaign.queue(runtime)):
        decision.refuse(key, in_french(DispatchRefused(f"message {key} is not uncertain")))
        return
    try:
        campaign.resolve(runtime, actor, key, went_out)
    except DomainError as refused:
        decision.refuse(key, in_french(refused))
    else:
        decision.done["regles"] += 1
