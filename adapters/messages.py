"""French sentences for the refusals of the case file, keyed by their stable code."""

from __future__ import annotations

from domain.errors import DomainError

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
    "no_open_dispute": "Aucun litige n'est ouvert sur ce dossier.",
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
    "too_much_contention": (
        "Le dossier est modifié en même temps par d'autres : réessayez dans un instant."
    ),
}


def in_french(error: DomainError) -> str:
    """The sentence shown to a person for a refusal."""
    return FRENCH.get(error.code, "L'action a été refusée.")
