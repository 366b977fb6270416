"""Debtors: who they are, the people known there, and every contact with them.

Listens to the files' facts and to the debtors' records:
- identity: the name and SIREN of the registration (`debtors`), and each field the
  record's `IdentityChanged` sets, with who recorded it and when (`debtor_identity`);
- people, from the record's `PersonRecorded` and from every fact of a file that names a
  person (a call's contact, a promise's author, a duplicate's requester, the invoice's
  billing contact), merged field by field: one row per person and field
  (`debtor_contacts`: name, function, role), one per phone or e-mail address
  (`debtor_contact_means`). A fact that does not give a field writes no row for it, so a
  later call naming « Jean Dupont » without a phone never erases his phone; each row
  says who last gave it and when (for a file's fact, when it happened);
- touches: every fact in which we reached the debtor (when, who, how). The team's
  same-day guard reads them: one call about three invoices is one touch, keyed by its
  action id.
Totals per debtor are summed from the case view when read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.case import TOUCHES
from domain.debtors import person_fields, person_key
from domain.facts import Fact
from domain.invoice import Invoice
from domain.kinds import TOUCHING
from domain.values import PORTAL_ACTOR, Contact, paris_day
from projections.schema import Change, Insert, Table, Type, Upsert

DEBTORS = Table(
    "debtors",
    {"account": Type.TEXT, "name": Type.TEXT, "siren": Type.TEXT, "is_consumer": Type.BOOL},
    key=("account",),
    indexes=(("siren",),),
)

DEBTOR_IDENTITY = Table(
    "debtor_identity",
    {"account": Type.TEXT, "field": Type.TEXT, "value": Type.TEXT,
     "recorded_by": Type.TEXT, "recorded_at": Type.INSTANT},
    key=("account", "field"),
)

DEBTOR_CONTACTS = Table(
    "debtor_contacts",
    {"account": Type.TEXT, "person": Type.TEXT, "field": Type.TEXT, "value": Type.TEXT,
     "recorded_by": Type.TEXT, "recorded_at": Type.INSTANT},
    key=("account", "person", "field"),
)
"""A person's name (as last written; its time is when they were last seen), function and
role."""

DEBTOR_CONTACT_MEANS = Table(
    "debtor_contact_means",
    {"account": Type.TEXT, "person": Type.TEXT, "kind": Type.TEXT, "value": Type.TEXT,
     "recorded_by": Type.TEXT, "recorded_at": Type.INSTANT},
    key=("account", "person", "kind", "value"),
)
"""Each phone and e-mail address of a person: several are fine, none is ever erased."""

DEBTOR_TOUCHES = Table(
    "debtor_touches",
    {"account": Type.TEXT, "touch": Type.TEXT, "occurred_at": Type.INSTANT,
     "actor": Type.TEXT, "kind": Type.TEXT, "channel": Type.TEXT, "outcome": Type.TEXT,
     "contact_name": Type.TEXT, "number": Type.TEXT},
    key=("account", "touch"),
    indexes=(("account", "occurred_at"), ("occurred_at",)),
)

PEOPLE_FIELDS = ("contact", "promised_by", "requested_by", "billing_recipient")
PERSON_FIELDS = ("name", "function", "role")
MEANS = (("phone", "phone"), ("email", "email"))
"""(kind of row, field of the person) for the means of reaching a person."""


class Debtors:
    """The debtors read model."""

    name = "debtors"
    version = 2
    state_based = False
    tables = (DEBTORS, DEBTOR_IDENTITY, DEBTOR_CONTACTS, DEBTOR_CONTACT_MEANS, DEBTOR_TOUCHES)

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
                changes.extend(person_rows(debtor.account, {
                    "name": person.name, "function": person.function, "phone": person.phone,
                    "email": person.email}, fact.actor, fact.occurred_at))
        if fact.kind in TOUCHING and fact.actor != PORTAL_ACTOR:  # the debtor's own page
            changes.append(Insert(DEBTOR_TOUCHES, touch_row(debtor.account, invoice, fact),
                                  ignore_existing=True))
        return changes

    def debtor_changes(self, event: Any) -> list[Change]:
        """What a debtor's record says of its identity and its people."""
        kind = type(event).__name__
        if kind == "IdentityChanged":
            return [Upsert(DEBTOR_IDENTITY, {"account": event.account, "field": name,
                                             "value": value, "recorded_by": event.actor,
                                             "recorded_at": event.timestamp})
                    for name, value in event.changes.items() if value]
        if kind == "PersonRecorded":
            return person_rows(event.account, person_fields(event.person), event.actor,
                               event.timestamp)
        return []


def person_rows(account: str, person: dict[str, str], actor: str,
                at: datetime) -> list[Change]:
    """The rows a mention of a person writes: one per field it gives, none for a blank."""
    name = " ".join(person["name"].split())
    key = person_key(name)
    stamp = {"recorded_by": actor, "recorded_at": at}
    given = {**person, "name": name}
    rows: list[Change] = [
        Upsert(DEBTOR_CONTACTS, {"account": account, "person": key, "field": field,
                                 "value": given[field], **stamp})
        for field in PERSON_FIELDS if given.get(field)]
    rows.extend(Upsert(DEBTOR_CONTACT_MEANS, {"account": account, "person": key, "kind": kind,
                                              "value": given[field], **stamp})
                for kind, field in MEANS if given.get(field))
    return rows


@dataclass(frozen=True)
class Said:
    """A value known of a debtor, with who last gave it and when."""

    value: str
    by: str
    at: datetime

    @property
    def day(self) -> date:
        """The Paris day it was given."""
        return paris_day(self.at)


@dataclass(frozen=True)
class KnownPerson:
    """A person known at a debtor, merged from every fact that named them."""

    name: Said
    """Their name as last written; `by` and `at`: who named them last, and when."""
    function: Said | None = None
    role: Said | None = None
    phones: tuple[Said, ...] = ()
    """The most recently given first."""
    emails: tuple[Said, ...] = ()

    @property
    def phone(self) -> str:
        """The phone given last, or empty."""
        return self.phones[0].value if self.phones else ""

    @property
    def email(self) -> str:
        """The e-mail address given last, or empty."""
        return self.emails[0].value if self.emails else ""


def identity_of(rows: list[dict[str, Any]]) -> dict[str, Said]:
    """A debtor's identity fields from its `debtor_identity` rows."""
    return {row["field"]: Said(row["value"], row["recorded_by"], row["recorded_at"])
            for row in rows}


def people_of(fields: list[dict[str, Any]], means: list[dict[str, Any]]) -> list[KnownPerson]:
    """A debtor's people from their `debtor_contacts` and `debtor_contact_means` rows, the
    most recently seen first."""
    said: dict[str, dict[str, Said]] = {}
    for row in fields:
        said.setdefault(row["person"], {})[row["field"]] = Said(
            row["value"], row["recorded_by"], row["recorded_at"])
    reach: dict[tuple[str, str], list[Said]] = {}
    for row in sorted(means, key=lambda r: r["recorded_at"], reverse=True):
        reach.setdefault((row["person"], row["kind"]), []).append(
            Said(row["value"], row["recorded_by"], row["recorded_at"]))
    people = [KnownPerson(name=known["name"], function=known.get("function"),
                          role=known.get("role"),
                          phones=tuple(reach.get((key, "phone"), ())),
                          emails=tuple(reach.get((key, "email"), ())))
              for key, known in said.items() if "name" in known]
    return sorted(people, key=lambda p: p.name.at, reverse=True)


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
