"""The forms of a file: read, checked, and turned into command arguments.

Each field's problem is a French sentence shown beside it; nothing reaches the
application service until every field reads right.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from adapters.messages import in_french
from domain.errors import DomainError
from domain.values import CallOutcome, Contact, Money
from projections.french import label

OUTCOMES = {outcome.value: label("outcome", outcome) for outcome in CallOutcome}


def _date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        day, _, rest = text.partition("/")
        month, _, year = rest.partition("/")
        return date(int(year), int(month), int(day))


class CallForm(BaseModel):
    """Log a call: about which of the debtor's invoices, who, how it went, what was said, a
    promise, a callback, and why the debtor is called again when somebody else already
    contacted it today."""

    csrf: str = Field(default="", max_length=200)
    cle: str = Field(default="", max_length=64)
    contact_name: str = Field(default="", max_length=200)
    contact_function: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=50)
    contact_email: str = Field(default="", max_length=200)
    outcome: str = Field(default="", max_length=20)
    summary: str = Field(default="", max_length=20_000)
    callback_on: str = Field(default="", max_length=20)
    promised_on: str = Field(default="", max_length=20)
    promised_amount: str = Field(default="", max_length=30)
    numeros: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=500)
    """The debtor's invoices the call was about (ticked); none sent: the file's own."""
    numeros_choisis: str = Field(default="", max_length=1)
    """Set when the form offered the debtor's files to tick: then one must be ticked."""
    same_day_reason: str = Field(default="", max_length=2000)
    retour: str = Field(default="", max_length=20)
    """« debiteur »: back to the debtor's page once recorded."""

    def numbers(self, number: str) -> tuple[str | None, list[str]]:
        """The French problem with the invoices ticked, if any, and the invoices the call
        was about: those ticked, else the file's own."""
        ticked = [n for n in dict.fromkeys(n.strip() for n in self.numeros) if n]
        if self.numeros_choisis and not ticked:
            return "Cochez au moins une facture dont il a été question.", [number]
        return None, ticked or [number]

    def parse(self) -> tuple[dict[str, str], dict[str, Any]]:
        """The French problems by field, and the command's arguments when there are none."""
        errors: dict[str, str] = {}
        parsed: dict[str, Any] = {}
        if self.outcome not in OUTCOMES:
            errors["outcome"] = "Choisissez l'issue de l'appel."
        else:
            parsed["outcome"] = CallOutcome(self.outcome)
        try:
            parsed["contact"] = Contact(self.contact_name, self.contact_function,
                                        self.contact_phone, self.contact_email)
        except DomainError as error:
            if error.code == "invalid_email":
                errors["contact_email"] = in_french(error)
            else:
                errors["contact_name"] = ("Le contact contient des caractères non autorisés "
                                          "(chaque champ tient sur une ligne).")
        parsed["summary"] = self.summary
        for name in ("callback_on", "promised_on"):
            try:
                parsed[name] = _date(getattr(self, name))
            except (ValueError, OverflowError):
                errors[name] = "Date invalide : utilisez le format JJ/MM/AAAA."
        parsed["promised_amount"] = None
        if self.promised_amount.strip():
            try:
                parsed["promised_amount"] = Money.parse(self.promised_amount).require_positive()
            except DomainError:
                errors["promised_amount"] = "Montant invalide : par exemple 1 500,00."
        if parsed.get("promised_on") and not self.contact_name.strip():
            errors["contact_name"] = "Une promesse vient d'une personne : indiquez son nom."
        spoken = self.outcome in ("reached", "wrong_person", "refused")
        if spoken and not self.contact_name.strip() and not self.summary.strip():
            errors["summary"] = ("Appel vide : indiquez la personne jointe ou ce qui a été "
                                 "dit.")
        return errors, parsed
