"""The debtor's record: who owns it in the team, who it is, the people known there, and
the contacts made with it, day by day.

Every reminder, call, promise, duplicate request and notice stays a fact on the
invoice's file (`domain.invoice`). What belongs to the debtor rather than to one of its
invoices lives here, in one aggregate per debtor account:

- its **owner**: one agent speaks to a debtor, and every open and future file of the
  debtor follows them (a file can still be given to someone else, as an exception, by
  `AgentAssigned` on that file). Reassigning a debtor with 40 files is one fact here,
  not 40;
- its **identity** (legal name, SIREN/SIRET, legal form, addresses) and its **people**
  (name, function, phones, e-mails, role), each change a fact with who and when;
  people merge field by field, so a fact that does not give a phone never erases one;
- its **contacts** by day: a command that chases the debtor (a call, a reminder, a formal
  notice) records one `Contacted` here in the same transaction as its facts on the
  files. A contact on a Paris day when somebody else already contacted the debtor,
  through any entry point, is refused unless it comes with a reason. Because both writes
  are one transaction on the debtor's version, two colleagues calling at the same second
  cannot both pass.

Its events are chained like a file's facts (`relance verify` checks them), and each
names the account, so that the read models need no other event to place it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.addresses import postal_address
from domain.chain import ChainedAggregate
from domain.errors import DomainError
from domain.sealing import subject_of
from domain.values import Contact, clean, email_address, one_line, reference

DEBTOR_NAMESPACE = UUID("6f1d3c1e-6a8b-4f0e-9a59-2f4c0f6a7d21")
KEPT_DAYS = 3
"""Days of contacts the record keeps in memory: the same-day rule needs only today (and a
call recorded today for yesterday); everything stays in its events."""
IDENTITY_FIELDS = ("legal_name", "siren", "siret", "legal_form", "registered_office",
                   "billing_address")
"""What the debtor's identity holds: raison sociale, SIREN, SIRET, forme juridique, siège
social and adresse de facturation."""
ADDRESS_FIELDS = ("registered_office", "billing_address")
"""The identity fields that are postal addresses (`domain.addresses`): several lines,
recorded whole."""
DIGITS = {"siren": 9, "siret": 14}
ROLES = ("accounts_payable", "billing", "decision_maker", "other")
"""What a person does at the debtor, for us: accounts payable (comptabilité
fournisseurs), billing (the contact letters go to by default), decision maker."""
MAX_TEXT = 300


class SameDayContact(DomainError):
    """A contact with a debtor on a day somebody else already contacted it, without a
    reason."""

    code = "same_day_contact"


class InvalidPerson(DomainError):
    """A person at the debtor without a name, or with an unknown role."""

    code = "invalid_person"


class InvalidIdentity(DomainError):
    """An identity field that does not read: an unknown field, a SIREN that is not nine
    digits, a SIRET that is not fourteen or not of the SIREN."""

    code = "invalid_identity"


@lru_cache(maxsize=16_384)
def debtor_id(account: str) -> UUID:
    """The id of a debtor's record, from its account code: one account, one record. Kept
    for the accounts last asked, as `invoice_id`."""
    return uuid5(DEBTOR_NAMESPACE, "debtor:" + account.strip())


@dataclass(frozen=True)
class Contacted:
    """One contact with the debtor: when (Paris day and instant), who, what, on which files,
    and the reason given when it was a second one that day."""

    day: date
    at: datetime
    actor: str
    kinds: tuple[str, ...]
    numbers: tuple[str, ...]
    reason: str = ""


@dataclass
class Person:
    """A person known at the debtor, as its facts built it up, field by field."""

    key: str
    name: str
    function: str = ""
    role: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    recorded_by: str = ""
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class DebtorDetails:
    """What a source (an import line) says of a debtor: identity fields and people, as
    `identity_values` and `person_values` give them."""

    account: str
    identity: dict[str, str] = field(default_factory=dict)
    people: tuple[dict[str, str], ...] = ()


def person_key(name: str) -> str:
    """How a person is recognised among the debtor's people: their name, case-folded."""
    return " ".join(name.split()).casefold()


class DebtorRecord(ChainedAggregate):
    """A debtor's owner, identity, people and contacts (see the module's doc)."""

    @event("Opened")
    def __init__(self, account: str, actor: str, timestamp: datetime) -> None:
        self.account = account
        self.owner = ""
        self.owner_since: datetime | None = None
        self.identity: dict[str, str] = {}
        self.identity_by: dict[str, tuple[str, datetime]] = {}
        self.people: dict[str, Person] = {}
        self.contacts: list[Contacted] = []
        self.failing: dict[str, str] = {}
        """Addresses our messages came back from (« adresse à corriger »), with the
        diagnostic: the daily run does not write to them."""

    @staticmethod
    def create_id(account: str, **_: Any) -> UUID:
        """The record's id comes from the account code."""
        return debtor_id(account)

    @classmethod
    def open(cls, account: str, actor: str, timestamp: datetime) -> DebtorRecord:
        """A new record for a debtor account."""
        return cls(account=reference(account, "debtor_account"), actor=actor,
                   timestamp=timestamp)

    # -- commands -----------------------------------------------------------------------

    def assign_owner(self, agent: str, *, actor: str, timestamp: datetime,
                     reason: str = "") -> bool:
        """Gives the debtor (and every file of it that is not an exception) to `agent`;
        an empty agent leaves it « à attribuer ». False when it already was so."""
        agent = one_line(agent or "", "agent")
        if agent == self.owner:
            return False
        self._owner_assigned(account=self.account, agent=agent, previous=self.owner, actor=actor,
                             timestamp=timestamp, reason=clean(reason or "", "reason"))
        return True

    def change_identity(self, changes: dict[str, str], *, actor: str,
                        timestamp: datetime) -> bool:
        """Records the identity fields given (blank ones are not erased); False when nothing
        changes."""
        given = identity_values(changes)
        new = {name: value for name, value in given.items()
               if value and self.identity.get(name, "") != value}
        siren = new.get("siren") or self.identity.get("siren", "")
        siret = new.get("siret") or self.identity.get("siret", "")
        if siren and siret and not siret.startswith(siren) and {"siren", "siret"} & set(new):
            raise InvalidIdentity(f"SIRET {siret} is not an establishment of SIREN {siren}",
                                  field="siret")
        if not new:
            return False
        self._identity_changed(account=self.account, changes=new, actor=actor,
                               timestamp=timestamp)
        return True

    def record_person(self, *, name: str, function: str = "", role: str = "",
                      phone: str = "", email: str = "", actor: str,
                      timestamp: datetime) -> bool:
        """Records a person, or what is new about them: a field left blank keeps what was
        known; a new phone or e-mail is added beside the earlier ones. False when nothing
        is new."""
        data = person_values(name=name, function=function, role=role, phone=phone,
                             email=email)
        known = self.people.get(person_key(data["name"]))
        if known is not None and all(
                not data[k] or data[k] == getattr(known, k) for k in ("function", "role")) \
                and (not data["phone"] or data["phone"] in known.phones) \
                and (not data["email"] or data["email"] in known.emails) \
                and data["name"] == known.name:
            return False
        self._person_recorded(account=self.account, person=sealed_person(self.account, data),
                              actor=actor, timestamp=timestamp)
        return True

    def contact(self, *, day: date, at: datetime, actor: str, kinds: tuple[str, ...],
                numbers: tuple[str, ...], recorded_at: datetime,
                reason: str = "") -> Contacted | None:
        """Records a contact made on `day`; refused when somebody else already contacted
        the debtor that day and no reason is given (one person speaks to a debtor in a
        day; the same person may call again or confirm in writing). Returns the other
        person's contact it follows, if any."""
        reason = clean(reason or "", "same_day_reason")
        today = self.contacts_on(day)
        earlier = [c for c in today if c.actor != actor]
        if any(c.actor == actor for c in today):
            earlier = []  # this person already speaks to the debtor today
        if earlier and not reason:
            first = earlier[0]
            raise SameDayContact(
                f"{first.actor} already contacted debtor {self.account} on {day.isoformat()} "
                f"at {first.at.isoformat()}; give a reason to contact it again",
                account=self.account, actor=first.actor, at=first.at, day=day,
                numbers=first.numbers)
        self._contacted(account=self.account, day=day, at=at, actor=actor, kinds=list(kinds),
                        numbers=list(numbers), reason=reason if earlier else "",
                        timestamp=recorded_at)
        return earlier[-1] if earlier else None

    def mark_failing(self, email: str, *, diagnostic: str, actor: str,
                     timestamp: datetime) -> bool:
        """Marks an address our message came back from; False when it already was."""
        address = email.strip().lower()
        if not address or address in getattr(self, "failing", {}):
            return False
        self._address_failed(account=self.account, email=address,
                             diagnostic=clean(diagnostic[:1000], "diagnostic"), actor=actor,
                             timestamp=timestamp)
        return True

    def clear_failing(self, email: str, *, reason: str, actor: str,
                      timestamp: datetime) -> bool:
        """Takes an address off « adresse à corriger » (fixed, or checked); False when it
        was not on it."""
        address = email.strip().lower()
        if address not in getattr(self, "failing", {}):
            return False
        self._address_cleared(account=self.account, email=address,
                              reason=one_line(reason or "", "reason"), actor=actor,
                              timestamp=timestamp)
        return True

    def erase_person(self, subject: str, *, reason: str, actor: str,
                     timestamp: datetime) -> bool:
        """Records that a person's data is erased (their key is destroyed by the caller):
        the fact names their subject, who erased and why, never what was erased. False
        when it was already recorded."""
        if subject in getattr(self, "erased", {}):
            return False
        reason = one_line(reason or "", "reason")
        if not reason:
            raise InvalidPerson("an erasure needs its reason", field="reason")
        self._person_erased(account=self.account, subject=subject, reason=reason, actor=actor,
                            timestamp=timestamp)
        return True

    # -- reading ------------------------------------------------------------------------

    def contacts_on(self, day: date) -> list[Contacted]:
        """The contacts made on a Paris day, in the order they were recorded."""
        return [c for c in self.contacts if c.day == day]

    def mailing_address(self) -> str:
        """Where letters go: the billing address, else the registered office (empty when
        neither is known)."""
        return self.identity.get("billing_address") or self.identity.get(
            "registered_office", "")

    # -- events -------------------------------------------------------------------------

    @event("OwnerAssigned")
    def _owner_assigned(self, account: str, agent: str, previous: str, actor: str,
                        timestamp: datetime, reason: str) -> None:
        self.owner = agent
        self.owner_since = timestamp

    @event("IdentityChanged")
    def _identity_changed(self, account: str, changes: dict[str, str], actor: str,
                          timestamp: datetime) -> None:
        for name, value in changes.items():
            self.identity[name] = value
            self.identity_by[name] = (actor, timestamp)

    @event("PersonRecorded")
    def _person_recorded(self, account: str, person: dict[str, str], actor: str,
                         timestamp: datetime) -> None:
        person = person_fields(person)
        key = person_key(person["name"])
        known = self.people.setdefault(key, Person(key=key, name=person["name"]))
        merge_person(known, person)
        known.recorded_by = actor
        known.recorded_at = timestamp

    @event("PersonErased")
    def _person_erased(self, account: str, subject: str, reason: str, actor: str,
                       timestamp: datetime) -> None:
        self.erased = {**getattr(self, "erased", {}), subject: (actor, timestamp, reason)}
        self.people = {key: person for key, person in self.people.items()
                       if subject_of(account, person.name) != subject}

    @event("AddressFailed")
    def _address_failed(self, account: str, email: str, diagnostic: str, actor: str,
                        timestamp: datetime) -> None:
        self.failing = {**getattr(self, "failing", {}), email: diagnostic}

    @event("AddressCleared")
    def _address_cleared(self, account: str, email: str, reason: str, actor: str,
                         timestamp: datetime) -> None:
        self.failing = {k: v for k, v in getattr(self, "failing", {}).items() if k != email}

    @event("Contacted")
    def _contacted(self, account: str, day: date, at: datetime, actor: str, kinds: list[str],
                   numbers: list[str], reason: str, timestamp: datetime) -> None:
        newest = max([day, *(c.day for c in self.contacts)])
        self.contacts = [c for c in self.contacts if (newest - c.day).days < KEPT_DAYS]
        self.contacts.append(Contacted(day=day, at=at, actor=actor, kinds=tuple(kinds),
                                       numbers=tuple(numbers), reason=reason))


def identity_values(changes: dict[str, str]) -> dict[str, str]:
    """The identity fields given, as they are recorded (checked, trimmed; blank ones stay
    blank): what a form, an import line or the API sends is refused here before anything
    is recorded."""
    unknown = set(changes) - set(IDENTITY_FIELDS)
    if unknown:
        raise InvalidIdentity(f"unknown identity fields {sorted(unknown)}",
                              field=sorted(unknown)[0])
    values = {}
    for name, value in changes.items():
        if name in ADDRESS_FIELDS:
            values[name] = postal_address(value or "", name)
            continue
        text = " ".join(one_line(value or "", name).split())
        if name in DIGITS:
            text = text.replace(" ", "").replace(".", "")
            if text and not (text.isascii() and text.isdigit() and len(text) == DIGITS[name]):
                raise InvalidIdentity(f"{name} must be {DIGITS[name]} digits", field=name)
        elif len(text) > MAX_TEXT:
            raise InvalidIdentity(f"{name} is over {MAX_TEXT} characters", field=name)
        values[name] = text
    return values


def person_values(*, name: str, function: str = "", role: str = "", phone: str = "",
                  email: str = "") -> dict[str, str]:
    """A person as recorded (checked, trimmed): a name is needed, a role is one of
    `ROLES`, an e-mail field holds one address."""
    name = " ".join(one_line(name or "", "name").split())
    if not name:
        raise InvalidPerson("a person at the debtor needs a name", field="name")
    if role and role not in ROLES:
        raise InvalidPerson(f"unknown role {role!r}", field="role")
    values = {"name": name, "function": " ".join(one_line(function or "", "function").split()),
              "role": role or "", "phone": " ".join(one_line(phone or "", "phone").split()),
              "email": email_address(email.strip()) if email and email.strip() else ""}
    if any(len(value) > MAX_TEXT for value in values.values()):
        raise InvalidPerson(f"a field of {name[:40]!r} is over {MAX_TEXT} characters",
                            field=next(k for k, v in values.items() if len(v) > MAX_TEXT))
    return values


def sealed_person(account: str, data: dict[str, str]) -> dict[str, Any]:
    """A person as a `PersonRecorded` fact holds them: their role in clear, the rest a
    contact sealed under their key (domain/sealing.py)."""
    contact = Contact(name=data["name"], function=data["function"], phone=data["phone"],
                      email=data["email"])
    return {"role": data["role"], "contact": contact.sealed_for(subject_of(account,
                                                                           data["name"]))}


def person_fields(person: dict[str, Any]) -> dict[str, str]:
    """What a `PersonRecorded` fact says of the person, field by field: sealed (with
    « donnée effacée » for the name once erased), or in clear as before sealing."""
    contact = person.get("contact")
    if isinstance(contact, Contact):
        return {**contact.plain(), "role": person.get("role", "")}
    return dict(person)


def merge_person(known: Person, person: dict[str, str]) -> None:
    """Merges what a fact says of a person into what was known, field by field: blanks
    keep what was known, a new phone or e-mail is added first."""
    known.name = person["name"] or known.name
    for name in ("function", "role"):
        if person.get(name):
            setattr(known, name, person[name])
    if person.get("phone") and person["phone"] not in known.phones:
        known.phones.insert(0, person["phone"])
    if person.get("email") and person["email"] not in known.emails:
        known.emails.insert(0, person["email"])
