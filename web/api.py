"""The JSON API for an ERP: push invoices and payments, read a file back.

Same validation and idempotency as the CSV import, one result per item. Scripts
authenticate with a bearer token (RELANCE_API_TOKEN); without one configured, the
API refuses every call.
"""

from __future__ import annotations

import hmac
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field

from adapters.bootstrap import Runtime
from adapters.importing import ImportReport, record_payment_rows, register_rows
from domain.values import PaymentMeans
from web.files import get_runtime

MAX_ITEMS = 1000

router = APIRouter(prefix="/api", tags=["api"])


def api_actor(request: Request, authorization: Annotated[str, Header()] = "") -> str:
    """The acting script, from its bearer token."""
    expected = request.app.state.runtime.settings.api_token
    if not expected:
        raise HTTPException(503, "the API is disabled: set RELANCE_API_TOKEN")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(401, "a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    return "api"


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


def _results(numbers: list[str], report: ImportReport) -> Results:
    reasons = dict(report.rejected)
    return Results(
        created=report.created, unchanged=report.unchanged, rejected=len(report.rejected),
        items=[ItemResult(index=i, number=n, status=report.outcomes[i],  # type: ignore[arg-type]
                          detail=reasons.get(i, "")) for i, n in enumerate(numbers)])


def _as_row(item: BaseModel) -> dict[str, str]:
    return {k: "" if v is None else str(getattr(v, "value", v))
            for k, v in item.model_dump().items()}


@router.post("/invoices", response_model=Results)
def post_invoices(items: Annotated[list[InvoiceIn], Field(max_length=MAX_ITEMS)],
                  runtime: Annotated[Runtime, Depends(get_runtime)],
                  actor: Annotated[str, Depends(api_actor)]) -> Results:
    """Registers invoices; one already registered is 'unchanged'."""
    report = register_rows(runtime.files, [(i, _as_row(it)) for i, it in enumerate(items)],
                           actor)
    return _results([it.number for it in items], report)


@router.post("/payments", response_model=Results)
def post_payments(items: Annotated[list[PaymentIn], Field(max_length=MAX_ITEMS)],
                  runtime: Annotated[Runtime, Depends(get_runtime)],
                  actor: Annotated[str, Depends(api_actor)]) -> Results:
    """Records payments; one sent again is 'unchanged'."""
    report = record_payment_rows(runtime.files,
                                 [(i, _as_row(it)) for i, it in enumerate(items)], actor)
    return _results([it.number for it in items], report)
