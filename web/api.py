"""The JSON API: the same commands and reads as the pages, with the same roles.

Scripts authenticate with a bearer token issued to an account (`relance user token
LOGIN`) and act as that account; RELANCE_API_TOKEN is a deployment-wide token acting
as an administrator named "api". Pushing invoices and payments has the import's
validation and idempotency, one result per item; every fact of the file page has its
endpoint, with the same fields and checks; errors come back as a stable code and an
English detail.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, StringConstraints, TypeAdapter

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_RECORD, User
from adapters.usecases.fact_forms import (
    BY_KIND,
    CHASES,
    may_use,
    read,
    record,
    unknown_accounts,
)
from adapters.usecases.import_payments import record_payment_rows
from adapters.usecases.importing import ImportReport, register_rows
from adapters.usecases.sending import step_reference
from domain.values import PARIS, CallOutcome, Contact, Money, PaymentMeans
from projections.worklist import worklist
from web.params import MAX_POSITION
from web.routes import JSONBodyRoute

MAX_ITEMS = 1000
OCCURRED_AT = ("When it happened (business time), if not now: ISO 8601; without a time "
               "zone, Paris time. The recorded time stays the server's clock.")
SAME_DAY_REASON = (
    "Why the debtor is contacted again: a call, a reminder, a formal notice or a pre-due "
    "reminder on a Paris day when somebody else already contacted the debtor is refused "
    "(409, code `same_day_contact`, the detail naming who and when) unless a reason is "
    "given; it is then recorded on each file.")


class Refused(BaseModel):
    """A refusal: a stable code, an English detail, and the fields at fault."""

    code: str
    detail: str
    fields: dict[str, str] = Field(default_factory=dict)


REFUSED: dict[int | str, dict[str, Any]] = {
    status: {"model": Refused, "description": text} for status, text in (
        (401, "No valid bearer token"), (403, "The account's role does not allow this"),
        (404, "No such file or fact kind"), (409, "Refused by the case file's rules"),
        (422, "The request does not read"), (503, "The database cannot answer now"))}
router = APIRouter(prefix="/api", tags=["api"], responses=REFUSED, route_class=JSONBodyRoute)
file_reads = APIRouter(prefix="/api", tags=["api"], responses=REFUSED)
"""A file's read, `/api/files/{number:ref}`: served after the documents' routes, which it
would take (a number may hold a `/`), where the commands are served before them."""
BEARER = HTTPBearer(auto_error=False, description="A token from `relance user token LOGIN`")


def answered(model: BaseModel) -> Response:
    """The answer's model as JSON (written by pydantic's core), answered as it is.

    Given the model itself, FastAPI validates it again against the route's response model
    before writing it, on a second trip to the thread pool for a `def` route: 90 µs of
    CPU, a fifth of what the web costs a command. The model was validated when it was
    built; the route still declares its response model for the API's schema."""
    return Response(model.model_dump_json(), media_type="application/json")


FILE_READ: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
WORKLIST_READ: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[dict[str, Any]])


def answered_as(shape: TypeAdapter[Any], value: Any) -> Response:
    """A read's answer, of the shape its route declares, written by the serializer
    FastAPI would use for it (`TypeAdapter.dump_json`), without the second trip to the
    thread pool (see `answered`)."""
    return Response(shape.dump_json(value), media_type="application/json")


def with_bearer(schema: dict[str, Any]) -> dict[str, Any]:
    """The API's OpenAPI schema, each operation under /api asking for the bearer token.

    The schema says it, not a dependency of each route: the middleware checks the token
    of every request under /api before the body is read, and FastAPI solved such a
    dependency again at every request, at a ninth of the CPU its event loop spends on a
    command."""
    name = BEARER.scheme_name
    schema.setdefault("components", {}).setdefault("securitySchemes", {})[name] = \
        BEARER.model.model_dump(mode="json", by_alias=True, exclude_none=True)
    for path, operations in schema.get("paths", {}).items():
        if path.startswith(router.prefix + "/"):
            for operation in operations.values():
                operation["security"] = [{name: []}]
    return schema


class Caller(NamedTuple):
    """The running relance, and the account a script acts as."""

    runtime: Runtime
    user: User


def caller(request: Request) -> Caller:
    """Who calls, from the bearer token the middleware checked before the body was read
    (it answered 401 to a request without a live token).

    The API's routes read it here, in their own thread, rather than through FastAPI
    dependencies: FastAPI solves those one by one at each request, on the event loop,
    and two cost a command 0.036 ms of the 0.95 its web process spends on it (with two
    web processes, flat out)."""
    user = request.state.api_user
    if user is None:
        raise HTTPException(401, "a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    return Caller(request.app.state.runtime, user)


def recorder(request: Request) -> Caller:
    """`caller`, if the account is allowed to record facts (403 otherwise)."""
    found = caller(request)
    if found.user.role not in CAN_RECORD:
        raise HTTPException(403, "this account's role cannot record facts")
    return found


class InvoiceIn(BaseModel):
    """An invoice pushed by an ERP."""

    number: str = Field(max_length=100)
    debtor_account: str = Field(max_length=100)
    debtor_name: str = Field(max_length=300)
    siren: str = Field(default="", max_length=20)
    amount: Decimal = Field(description="Amount including tax, e.g. \"1500.00\"")
    currency: str = Field(default="EUR", max_length=3)
    issued_on: date
    due_on: date
    po_reference: str = Field(default="", max_length=100)
    contact_name: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=50)
    contact_function: str = Field(default="", max_length=200)
    contact_role: Literal["", "billing", "accounts_payable", "decision_maker", "other"] = Field(
        default="", description="With a function or a role, the contact is also recorded "
        "among the debtor's people (see /api/debtors)")
    siret: str = Field(default="", max_length=30)
    legal_form: str = Field(default="", max_length=100)
    billing_street: str = Field(default="", max_length=500,
                                description="The debtor's billing address: the lines above "
                                "the postcode, one per line")
    billing_postcode: str = Field(default="", max_length=10)
    billing_city: str = Field(default="", max_length=100)
    billing_country: str = Field(default="", max_length=60, description="Empty for France")
    office_street: str = Field(default="", max_length=500,
                               description="The debtor's registered office (siège social)")
    office_postcode: str = Field(default="", max_length=10)
    office_city: str = Field(default="", max_length=100)
    office_country: str = Field(default="", max_length=60)


class PaymentIn(BaseModel):
    """A payment pushed by an ERP."""

    number: str = Field(max_length=100)
    amount: Decimal
    received_on: date
    means: PaymentMeans = PaymentMeans.TRANSFER
    reference: str = Field(default="", max_length=200)


class ItemResult(BaseModel):
    """What happened to one item."""

    index: int
    number: str
    status: Literal["created", "unchanged", "rejected"]
    detail: str = ""


class Results(BaseModel):
    """One result per item, in order, and the counts."""

    created: int
    unchanged: int
    rejected: int
    items: list[ItemResult]
    notification_id: int | None = None
    """The log position to wait for (GET /api/files/N?after=...) before reading."""


def _results(numbers: list[str], report: ImportReport, head: int | None) -> Response:
    reasons = report.details()  # refused, in discrepancy with the record, or to confirm
    return answered(Results(
        created=report.created, unchanged=report.unchanged, rejected=len(reasons),
        notification_id=head,
        items=[ItemResult(index=i, number=n, status=report.outcomes[i],  # type: ignore[arg-type]
                          detail=reasons.get(i, "")) for i, n in enumerate(numbers)]))


def _as_row(item: BaseModel) -> dict[str, str]:
    return {k: "" if v is None else str(getattr(v, "value", v))
            for k, v in item.model_dump().items()}


@router.post("/invoices", response_model=Results)
def post_invoices(items: Annotated[list[InvoiceIn], Field(max_length=MAX_ITEMS)],
                  request: Request) -> Response:
    """Registers invoices; one already registered is 'unchanged'."""
    runtime, user = recorder(request)
    actor = user.login
    report = register_rows(runtime.files, [(i, _as_row(it)) for i, it in enumerate(items)],
                           actor)
    return _results([it.number for it in items], report,
                    runtime.files.recorder.max_notification_id())


@router.post("/payments", response_model=Results)
def post_payments(items: Annotated[list[PaymentIn], Field(max_length=MAX_ITEMS)],
                  request: Request) -> Response:
    """Records payments; one sent again is 'unchanged'."""
    runtime, user = recorder(request)
    actor = user.login
    report = record_payment_rows(runtime.files,
                                 [(i, _as_row(it)) for i, it in enumerate(items)], actor)
    return _results([it.number for it in items], report,
                    runtime.files.recorder.max_notification_id())


class Recorded(BaseModel):
    """What a command recorded, and the log position to wait for before reading."""

    facts: int
    notification_id: int | None
    replayed: bool


class CallIn(BaseModel):
    """A call, as the file page's call form takes it."""

    contact_name: str = Field(default="", max_length=200)
    contact_function: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=50)
    contact_email: str = Field(default="", max_length=200)
    outcome: CallOutcome = Field(description="How the call went: always to be chosen")
    summary: str = Field(default="", max_length=20_000)
    callback_on: date | None = None
    promised_on: date | None = None
    promised_amount: Decimal | None = Field(
        default=None, description="Part of the balance promised (the whole balance if none)")
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT)
    also_about: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=50)
    """Other invoices of the same debtor the call was about: recorded on each, at once."""
    same_day_reason: str = Field(default="", max_length=2000, description=SAME_DAY_REASON)
    idempotency_key: str | None = Field(default=None, max_length=100)


class FactIn(BaseModel):
    """Any other fact: the same fields as its form on the file page, as text."""

    values: dict[str, str] = Field(default_factory=dict, max_length=20)
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT)
    also_about: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=50, description=(
            "Other invoices of the same debtor a reminder, a formal notice or a pre-due "
            "reminder covers: recorded on each, at once (other facts: leave empty)."))
    same_day_reason: str = Field(default="", max_length=2000, description=SAME_DAY_REASON)
    idempotency_key: str | None = Field(default=None, max_length=100)


class NoteIn(BaseModel):
    """A note on a file."""

    text: str = Field(max_length=20_000)
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT)
    idempotency_key: str | None = Field(default=None, max_length=100)


def _business_time(value: datetime | None) -> datetime | None:
    """When it happened, as given; a time without a zone is Paris time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=PARIS)


def _recorded(result: Any) -> Response:
    return answered(Recorded(facts=len(result.facts), notification_id=result.notification_id,
                             replayed=result.replayed))


@router.post("/files/{number:ref}/calls", response_model=Recorded,
)
def post_call(number: Annotated[str, Path(max_length=100)], call: CallIn,
              request: Request) -> Response:
    """Logs a call on a file and the other invoices it was about (with its promise,
    atomically, if any). A second contact with the debtor that day, after somebody else's,
    needs `same_day_reason` (else 409 `same_day_contact`)."""
    runtime, user = recorder(request)
    actor = user.login
    contact = Contact(call.contact_name, call.contact_function, call.contact_phone,
                      call.contact_email)
    amount = None if call.promised_amount is None else Money(call.promised_amount)
    return _recorded(runtime.files.log_call(
        actor, [number, *call.also_about], contact=contact, outcome=call.outcome,
        summary=call.summary, callback_on=call.callback_on, promised_on=call.promised_on,
        promised_amount=amount, scenario_step=step_reference(runtime, number, call=True),
        occurred_at=_business_time(call.occurred_at), idempotency_key=call.idempotency_key,
        same_day_reason=call.same_day_reason))


@router.post("/files/{number:ref}/notes", response_model=Recorded,
)
def post_note(number: Annotated[str, Path(max_length=100)], note: NoteIn,
              request: Request) -> Response:
    """Adds a note."""
    runtime, user = recorder(request)
    return _recorded(runtime.files.add_note(user.login, number, text=note.text,
                                            occurred_at=_business_time(note.occurred_at),
                                            idempotency_key=note.idempotency_key))


@router.post("/files/{number:ref}/facts/{kind}", response_model=Recorded)
def post_fact(number: Annotated[str, Path(max_length=100)],
              kind: Annotated[str, Path(max_length=40)], fact: FactIn,
              request: Request) -> Response:
    """Records any fact of the file page's forms (kinds: see the file page). Writing off,
    closing and handing over are for supervisors and administrators. A reminder, a formal
    notice or a pre-due reminder may cover other invoices of the debtor (`also_about`) and
    needs `same_day_reason` when somebody else contacted the debtor that day (else 409
    `same_day_contact`)."""
    runtime, user = recorder(request)
    form = BY_KIND.get(kind)
    if form is None:
        raise HTTPException(404, f"no fact kind {kind!r}; kinds: {', '.join(BY_KIND)}")
    if not may_use(form, user.role, runtime.settings.agents_may_close):
        raise HTTPException(403, f"{kind} is for supervisors and administrators")
    actor = user.login
    errors, parsed = read(form, fact.values)
    errors.update(unknown_accounts(form, parsed, runtime.accounts.is_recorder))
    if fact.also_about and kind not in CHASES:
        errors["also_about"] = ("Seules une relance, une mise en demeure ou une relance "
                                "préventive portent sur plusieurs factures.")
    if errors:
        return JSONResponse(Refused(code="invalid_fields", detail="some fields do not read",
                                    fields=errors).model_dump(), status_code=422)
    return _recorded(record(runtime.files, actor, number, form, parsed, fact.idempotency_key,
                            _business_time(fact.occurred_at), also_about=fact.also_about,
                            same_day_reason=fact.same_day_reason))


@file_reads.get("/files/{number:ref}", response_model=dict[str, Any])
def get_file(number: Annotated[str, Path(max_length=100)], request: Request,
             after: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None
             ) -> Response:
    """A file from the read models: its case view and its history (waits for `after`)."""
    runtime = caller(request).runtime
    fresh = runtime.wait_for_views(after)
    line = runtime.reads.case(number, runtime.today())
    if line is None:
        raise HTTPException(404, f"no file for invoice {number}")
    return answered_as(FILE_READ, {
        "fresh": fresh, "status": line.status.value, "days_late": line.days_late,
        "case": jsonable_encoder(line.row),
        "history": jsonable_encoder(runtime.reads.history(number))})


@router.get("/worklist", response_model=list[dict[str, Any]])
def get_worklist(request: Request, day: date | None = None,
                 agent: Annotated[str, Query(max_length=100)] = "") -> Response:
    """The day's worklist, for an agent or the team, with the reasons."""
    runtime = caller(request).runtime
    items = worklist(runtime.reads, runtime.files.open_playbook("relance"), runtime.calendar,
                     day or runtime.today(), agent or None)
    return answered_as(WORKLIST_READ, [
        {"number": i.number, "debtor": i.debtor_name, "kind": i.kind, "action": i.action,
         "why": i.why, "outstanding": str(i.outstanding), "days_late": i.days_late}
        for i in items])

