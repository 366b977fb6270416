"""Debtors: who they are, the people known there, and every contact with them.

Listens to the registration (identity), to facts that name a person at the debtor
(contacts: name, function, phone, email, last seen) and to every fact in which we
reached the debtor (touches: when, who, how). The team's same-day guard reads the
touches: one call about three invoices is one touch, keyed by its action id.
Totals per debtor are summed from the case view when read.
"""

from __future__ import annotations

from typing import Any

from domain.case import TOUCHES
from domain.facts import Fact
from domain.invoice import Invoice
from domain.kinds import TOUCHING
from domain.values import Contact
from projections.schema import Change, Insert, Table, Type, Upsert

DEBTORS = Table(
    "debtors",
    {"account": Type.TEXT, "name": Type.TEXT, "siren": Type.TEXT, "is_consumer": Type.BOOL},
    key=("account",),
    indexes=(("siren",),),
)

DEBTOR_CONTACTS = Table(
    "debtor_contacts",
    {"account": Type.TEXT, "person": Type.TEXT, "name": Type.TEXT, "function": Type.TEXT,
     "phone": Type.TEXT, "email": Type.TEXT, "last_seen": Type.INSTANT},
    key=("account", "person"),
)

DEBTOR_TOUCHES = Table(
    "debtor_touches",
    {"account": Type.TEXT, "touch": Type.TEXT, "occurred_at": Type.INSTANT,
     "actor": Type.TEXT, "kind": Type.TEXT, "channel": Type.TEXT, "outcome": Type.TEXT,
     "contact_name": Type.TEXT, "number": Type.TEXT},
    key=("account", "touch"),
    indexes=(("account", "occurred_at"), ("occurred_at",)),
)

PEOPLE_FIELDS = ("contact", "promised_by", "requested_by", "billing_recipient")


class Debtors:
    """The debtors read model."""

    name = "debtors"
    version = 1
    state_based = False
    tables = (DEBTORS, DEBTOR_CONTACTS, DEBTOR_TOUCHES)

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """Identity on registration; people named in the fact; a touch if we reached them."""
        debtor = invoice.case.debtor
        data = fact.data()
        changes: list[Change] = []
        if fact.kind == "InvoiceRegistered":
            changes.append(Upsert(DEBTORS, {"account": debtor.account, "name": debtor.name,
                                            "siren": debtor.siren,
                                            "is_consumer": debtor.is_consumer}))
        for field in PEOPLE_FIELDS:
            person = data.get(field)
            if isinstance(person, Contact) and person.name.strip():
                changes.append(Upsert(DEBTOR_CONTACTS, contact_row(debtor.account, person,
                                                                   fact)))
        if fact.kind in TOUCHING:
            changes.append(Insert(DEBTOR_TOUCHES, touch_row(debtor.account, invoice, fact),
                                  ignore_existing=True))
        return changes


def contact_row(account: str, person: Contact, fact: Fact) -> dict[str, Any]:
    """A person known at the debtor, as last seen in a fact."""
    return {"account": account, "person": person.name.strip().casefold(),
            "name": person.name.strip(), "function": person.function, "phone": person.phone,
            "email": person.email, "last_seen": fact.occurred_at}


def touch_row(account: str, invoice: Invoice, fact: Fact) -> dict[str, Any]:
    """One contact with the debtor; the copies of one call share their action id."""
    data = fact.data()
    person = next((data[f] for f in PEOPLE_FIELDS if isinstance(data.get(f), Contact)), None)
    return {
        "account": account,
        "touch": data.get("action_id") or f"{invoice.id.hex}:{fact.originator_version}",
        "occurred_at": fact.occurred_at, "actor": fact.actor, "kind": fact.kind,
        "channel": data.get("channel") or TOUCHES[fact.kind].channel or "",
        "outcome": data.get("outcome", ""),
        "contact_name": person.name if person else "",
        "number": invoice.case.number,
    }
