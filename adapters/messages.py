"""French sentences for the refusals of the case file, keyed by their stable code."""

from __future__ import annotations

from datetime import date

from domain.errors import DomainError
from domain.values import PARIS

FRENCH: dict[str, str] = {
    "already_registered": "Cette facture a déjà un dossier.",
    "invoice_not_found": "Aucun dossier pour ce numéro de facture.",
    "file_closed": "Le dossier est clos : rouvrez-le avant d'enregistrer cette action.",
    "file_not_closed": "Le dossier n'est pas clos.",
    "invalid_amount": "Le montant doit être positif, d'au plus 100 milliards, avec au plus "
                      "deux décimales.",
    "currency_mismatch": "La devise ne correspond pas à celle de la facture.",
    "overpayment": (
        "Le paiement dépasse le solde restant dû : cochez « trop-perçu » s'il est voulu."
    ),
    "promise_before_contact": "La date promise est antérieure au contact dont elle vient.",
    "future_business_time": "La date indiquée est dans le futur.",
    "invalid_time": "La date et l'heure sont invalides.",
    "invalid_text": "Le texte contient des caractères de contrôle ou des retours à la ligne "
                    "non autorisés.",
    "invalid_invoice": "Les données de la facture sont incohérentes.",
    "invalid_email": "L'adresse e-mail doit être une seule adresse valide (ex. : "
                     "nom@societe.fr).",
    "invalid_reference": "Un numéro de facture ou un compte client contient au moins une "
                         "lettre ou un chiffre, sur une seule ligne.",
    "missing_information": "Une information obligatoire est manquante.",
    "callback_in_the_past": "Cette date est antérieure au jour de l'action.",
    "invalid_channel": "Ce canal ne convient pas à cette action.",
    "unknown_fact": "L'entrée visée n'existe pas dans ce dossier.",
    "fact_already_retracted": "Cette entrée a déjà été annulée.",
    "uncorrectable_field": "Ce champ ne peut pas être corrigé ainsi.",
    "different_debtors": "Ces factures n'appartiennent pas au même débiteur.",
    "not_an_active_agent": "Choisissez un compte actif de l'équipe (agent ou superviseur).",
    "same_day_contact": "Ce débiteur a déjà été contacté aujourd'hui par quelqu'un d'autre : "
                        "indiquez le motif du second contact.",
    "no_open_dispute": "Aucun litige n'est ouvert sur ce dossier.",
    "no_reply_waiting": "Cette réponse du débiteur n'attend plus : elle a déjà été traitée.",
    "unfit_outcome": "Cette suite ne convient pas à cette réponse : une promesse, une "
                     "contestation ou une demande de duplicata faite sur l'espace débiteur "
                     "est déjà au dossier (choisissez « rien à faire ») ; un échéancier "
                     "demandé est accordé ou refusé.",
    "mail_refused": "Ce message n'est plus en attente : il a déjà été rattaché ou écarté.",
    "dispute_already_open": "Un litige est déjà ouvert sur ce dossier.",
    "invalid_payment_plan": "L'échéancier est incohérent avec le solde dû.",
    "idempotency_key_reused": "Cette demande a déjà été utilisée pour une autre action.",
    "invalid_scenario": (
        "Le scénario est incohérent : au moins une étape, dans l'ordre des dates, "
        "d'un type connu, et un écart minimal positif."
    ),
    "unknown_scenario": "Aucun scénario de ce nom.",
    "empty_call": "Appel vide : indiquez la personne jointe ou ce qui a été dit.",
    "exceeds_outstanding": "Le montant dépasse le solde restant dû de la facture.",
    "rate_missing": "Aucun taux publié ne couvre cette période : ajoutez-le à la table des "
                    "taux.",
    "invalid_person": "Une personne du débiteur a un nom, et un rôle parmi ceux proposés.",
    "invalid_identity": "Le SIREN a 9 chiffres, le SIRET 14 (les 9 premiers sont le SIREN) ; "
                        "les autres champs tiennent sur une ligne de 300 caractères au plus.",
    "invalid_address": "Une adresse postale tient en 6 lignes de 100 caractères au plus.",
    "invalid_document": "Ce document ne peut pas être joint : nature inconnue, nom vide ou "
                        "trop long, ou taille impossible.",
    "dispatch_refused": "Ce message n'est plus en attente : il a été envoyé, écarté ou "
                        "modifié entre-temps. Rechargez la page.",
    "too_much_contention": (
        "Le dossier est modifié en même temps par d'autres : réessayez dans un instant."
    ),
}


def in_french(error: DomainError, today: date | None = None) -> str:
    """The sentence shown to a person for a refusal (`today`: the Paris day it is shown
    on, when the sentence names a day)."""
    if error.code == "same_day_contact" and "actor" in error.context:
        return same_day_in_french(error, today)
    return FRENCH.get(error.code, "L'action a été refusée.")


def same_day_in_french(error: DomainError, today: date | None = None) -> str:
    """« Déjà contacté aujourd'hui par alice à 10:05 — indiquez le motif du second
    contact. »: who spoke to the debtor that day, and when (Paris time)."""
    day, at = error.context["day"], error.context["at"]
    when = "aujourd'hui" if today is None or day == today else f"le {day:%d/%m/%Y}"
    return (f"Déjà contacté {when} par {error.context['actor']} à "
            f"{at.astimezone(PARIS):%H:%M} — indiquez le motif du second contact.")
