"""The JSON API of debtors: who they are, the people known there, and who owns them.

`GET /api/debtors/{account}` reads a debtor from the read models (identity fields with who
recorded them and when, people, owner, totals by currency); `PUT .../identity` and
`POST .../people` record on the debtor's record what the debtor page's forms record (a
field left out or blank keeps what was known); `PUT .../owner` gives the debtor to an
active account of the team (supervisors and administrators). Every write answers the
debtor as the views show it once they have caught up with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM
from adapters.usecases.owners import NotAnActiveAgent, assign_debtors
from domain.addresses import InvalidAddress, address_parts, address_text
from domain.debtors import ADDRESS_FIELDS, InvalidIdentity, InvalidPerson
from domain.errors import DomainError, InvalidEmail, InvalidText
from projections.debtors import KnownPerson, Said
from projections.queries import DebtorView
from web.api import REFUSED, Refused, answered, caller, recorder
from web.params import MAX_POSITION
from web.routes import JSONBodyRoute

router = APIRouter(prefix="/api/debtors", tags=["debtors"], responses=REFUSED,
                   route_class=JSONBodyRoute)
Account = Annotated[str, Path(max_length=100, description="The debtor's account code")]
Line = Annotated[str, StringConstraints(max_length=100)]
INPUT_ERRORS = (InvalidIdentity, InvalidPerson, InvalidAddress, InvalidText, InvalidEmail,
                NotAnActiveAgent)
"""Refusals of what was sent (422), as opposed to refusals of the record's rules (409)."""


class Stamped(BaseModel):
    """A value known of the debtor, with who last gave it and when."""

    value: str
    recorded_by: str
    recorded_at: datetime


class Address(BaseModel):
    """A postal address: the lines above the postcode (a department, a building, the
    number and street, a lieu-dit or BP), the postcode, the city and the country (empty for
    France)."""

    street: list[Line] = Field(default_factory=list, max_length=5)
    postcode: str = Field(default="", max_length=10)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="", max_length=60)


class StampedAddress(BaseModel):
    """A postal address known of the debtor: its parts, its lines as a window envelope
    shows them, and who recorded it and when. Its parts are read back from the lines,
    which a person may have typed in any order: an address without a French postcode line
    keeps all its lines (up to six) in `street`."""

    street: list[str]
    postcode: str
    city: str
    country: str
    lines: list[str]
    recorded_by: str
    recorded_at: datetime


class Identity(BaseModel):
    """The identity fields the debtor's record sets; null when never recorded."""

    legal_name: Stamped | None = None
    siren: Stamped | None = None
    siret: Stamped | None = None
    legal_form: Stamped | None = None
    registered_office: StampedAddress | None = None
    billing_address: StampedAddress | None = None


class Person(BaseModel):
    """A person known at the debtor, merged from every fact that named them."""

    name: Stamped
    """Their name, who named them last and when (when they were last seen)."""
    function: Stamped | None = None
    role: Stamped | None = None
    phones: list[Stamped]
    """The most recently given first."""
    emails: list[Stamped]


class Owner(BaseModel):
    """Who owns the debtor (an empty owner: « à attribuer »), given by whom, when, why."""

    owner: str
    assigned_by: str
    assigned_at: datetime
    reason: str


class Total(BaseModel):
    """What the debtor was invoiced and still owes in one currency (amounts in two
    currencies are never added)."""

    currency: str
    invoiced: str = Field(description='A decimal amount, e.g. "1500.00"')
    outstanding: str = Field(description='A decimal amount, e.g. "1500.00"')


class Debtor(BaseModel):
    """A debtor as the read models show it."""

    account: str
    name: str
    """The name its invoices give."""
    siren: str
    """The SIREN its invoices give (the identity's own is in `identity`)."""
    identity: Identity
    people: list[Person]
    """The most recently seen first."""
    owner: Owner | None
    totals: list[Total]
    file_count: int
    fresh: bool
    """False when the views had not caught up with the write (or `after`) in time."""


class IdentityIn(BaseModel):
    """Identity fields to record; a field left out, null or blank keeps what was known."""

    legal_name: str | None = Field(default=None, max_length=300)
    siren: str | None = Field(default=None, max_length=30)
    siret: str | None = Field(default=None, max_length=30)
    legal_form: str | None = Field(default=None, max_length=100)
    registered_office: Address | None = None
    billing_address: Address | None = None


class PersonIn(BaseModel):
    """A person to add, or what is new about a person known by that name: a field left
    blank keeps what was known; a new phone or e-mail is added beside the others."""

    name: str = Field(max_length=200)
    function: str = Field(default="", max_length=200)
    role: Literal["", "billing", "accounts_payable", "decision_maker", "other"] = ""
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)


class OwnerIn(BaseModel):
    """The agent who owns the debtor from now on (a login; empty: « à attribuer »)."""

    agent: str = Field(max_length=100)
    reason: str = Field(default="", max_length=1000)


def _stamp(said: Said) -> Stamped:
    return Stamped(value=said.value, recorded_by=said.by, recorded_at=said.at)


def _stamped(said: Said | None) -> Stamped | None:
    return None if said is None else _stamp(said)


def _address(said: Said | None) -> StampedAddress | None:
    if said is None:
        return None
    parts = address_parts(said.value)
    return StampedAddress(street=list(parts.street), postcode=parts.postcode, city=parts.city,
                          country=parts.country, lines=said.value.split("\n"),
                          recorded_by=said.by, recorded_at=said.at)


def _person(person: KnownPerson) -> Person:
    return Person(name=_stamp(person.name), function=_stamped(person.function),
                  role=_stamped(person.role), phones=[_stamp(p) for p in person.phones],
                  emails=[_stamp(e) for e in person.emails])


def _debtor(view: DebtorView, fresh: bool) -> Debtor:
    said = view.identity
    identity = Identity(**{name: _address(said.get(name)) if name in ADDRESS_FIELDS
                           else _stamped(said.get(name)) for name in Identity.model_fields})
    return Debtor(
        account=view.account, name=view.name, siren=view.siren, identity=identity,
        people=[_person(p) for p in view.people],
        owner=Owner(**view.owner) if view.owner else None,
        totals=[Total(currency=currency, invoiced=str(amount),
                      outstanding=str(view.outstanding.get(currency, 0)))
                for currency, amount in view.invoiced.items()],
        file_count=view.file_count, fresh=fresh)


def _read(runtime: Runtime, account: str, after: int | None) -> Debtor:
    """The debtor once the views show `after`; 404 when no invoice names it."""
    fresh = runtime.wait_for_views(after)
    view = runtime.reads.debtor(account, runtime.today())
    if view is None:  # registered a moment ago, perhaps: wait for the views once
        fresh = runtime.wait_for_views(runtime.files.recorder.max_notification_id())
        view = runtime.reads.debtor(account, runtime.today())
    if view is None:
        raise HTTPException(404, f"no debtor with account {account!r}")
    return _debtor(view, fresh)


def _refused(error: DomainError) -> JSONResponse:
    """What was sent does not read: 422, with the field at fault."""
    field = str(error.context.get("field", "")) or "body"
    return JSONResponse(Refused(code=error.code, detail=error.detail,
                                fields={field: error.detail}).model_dump(), status_code=422)


@router.get("/{account:ref}", response_model=Debtor)
def get_debtor(account: Account, request: Request,
               after: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None) -> Response:
    """A debtor: identity (each field with who recorded it and when), people, owner,
    totals by currency (waits for `after`, a position a write answered)."""
    return answered(_read(caller(request).runtime, account, after))


@router.put("/{account:ref}/identity", response_model=Debtor)
def put_identity(account: Account, identity: IdentityIn, request: Request) -> Response:
    """Records identity fields; those left out or blank keep what was known. An address
    is recorded whole: a new one replaces the old."""
    runtime, user = recorder(request)
    _read(runtime, account, None)
    changes = {name: value for name, value in identity.model_dump(
        exclude={*ADDRESS_FIELDS}).items() if value}
    for name in ADDRESS_FIELDS:
        given: Address | None = getattr(identity, name)
        try:
            text = address_text(given.street, given.postcode, given.city, given.country,
                                field=name) if given else ""
        except INPUT_ERRORS as error:
            return _refused(error)
        if text:
            changes[name] = text
    try:
        recorded = runtime.files.change_debtor_identity(user.login, account, changes=changes)
    except INPUT_ERRORS as error:
        return _refused(error)
    return answered(_read(runtime, account, recorded.notification_id))


@router.post("/{account:ref}/people", response_model=Debtor)
def post_person(account: Account, person: PersonIn, request: Request) -> Response:
    """Adds a person at the debtor, or completes one known by that name."""
    runtime, user = recorder(request)
    _read(runtime, account, None)
    try:
        recorded = runtime.files.record_debtor_person(user.login, account,
                                                      **person.model_dump())
    except INPUT_ERRORS as error:
        return _refused(error)
    return answered(_read(runtime, account, recorded.notification_id))


@router.put("/{account:ref}/owner", response_model=Debtor)
def put_owner(account: Account, owner: OwnerIn, request: Request) -> Response:
    """Gives the debtor, and every open and future file of it that is not an exception, to
    an active agent or supervisor of the team (empty: « à attribuer »). Supervisors and
    administrators only."""
    runtime, user = caller(request)
    if user.role not in CAN_MANAGE_TEAM:
        raise HTTPException(403, "only supervisors and administrators assign debtors")
    _read(runtime, account, None)
    try:
        recorded = assign_debtors(runtime, user.login, [account], owner.agent, owner.reason)
    except INPUT_ERRORS as error:
        return _refused(error)
    return answered(_read(runtime, account, recorded.notification_id))
