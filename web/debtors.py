"""The debtor's page: who the debtor is, the people known there, and the forms that record
them.

The page itself is routed with the other work pages (`web.work.debtor_page`) and rendered
here. Agents and supervisors change the identity (legal name, SIREN, SIRET, legal form,
registered office, billing address) and add or complete a person (name, function, role,
phone, e-mail); each is a fact on the debtor's record, shown with who recorded it and
when. A field left blank keeps what was known. A form that does not read comes back with
its French problems beside the fields; one that does redirects to the page, which waits
for the views to show it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_RECORD, Session
from adapters.messages import in_french
from domain.addresses import MAX_LINE, MAX_LINES
from domain.debtors import IDENTITY_FIELDS, ROLES
from domain.errors import DomainError
from domain.phases import ENDED
from projections.french import label
from web.auth import check_csrf, require_role
from web.dependencies import get_runtime
from web.drafts import take_draft
from web.forms import OUTCOMES
from web.live import live_marks, people_names
from web.mail_view import debtor_mail
from web.urls import path_for

router = APIRouter()
IDENTITY_LABELS = {name: label("identity", name) for name in IDENTITY_FIELDS}
ROLE_LABELS = {role: label("person_role", role) for role in ROLES}
PROBLEMS = {
    "siren": "Le SIREN a 9 chiffres.",
    "siret": "Le SIRET a 14 chiffres, dont les 9 premiers sont le SIREN.",
    "registered_office": f"Une adresse tient en {MAX_LINES} lignes de {MAX_LINE} caractères "
                         "au plus.",
    "billing_address": f"Une adresse tient en {MAX_LINES} lignes de {MAX_LINE} caractères "
                       "au plus.",
    "name": "Indiquez le nom de la personne.",
    "role": "Choisissez un rôle dans la liste.",
}
"""The French problem of a field, when its refusal names it."""


def show_debtor(request: Request, runtime: Runtime, session: Session, account: str, *,
                after: int | None = None, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None, open_form: str = "",
                status_code: int = 200, mail_problem: dict[str, str] | None = None,
                mail_done: str = "") -> Response:
    """The debtor's page: files and totals, identity, people, timeline, today's contacts,
    its failing addresses and replies waiting, and (for those who record) the identity and
    person forms."""
    fresh = runtime.wait_for_views(after)
    day = runtime.today()
    debtor = runtime.reads.debtor(account, day)
    if debtor is None:
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": "Aucun débiteur avec ce compte."},
            status_code=404)
    others = [t for t in debtor.touched_today if t["actor"] != session.user.login]
    identity = {name: said.value for name, said in debtor.identity.items()}
    open_files = [f for f in debtor.files if f.phase not in ENDED]
    names = people_names(runtime)
    kept = take_draft(request) if values is None else None  # sent once the session expired
    call_kept = kept.values if kept is not None and "outcome" in kept.values else None
    return request.app.state.templates.TemplateResponse(
        request, "debtor.html",
        {"debtor": debtor, "others_today": others, "claim": runtime.claims.of(account),
         "names": names, "marks": live_marks(runtime, [account], session.user.login,
                                             names)[account],
         "timeline": runtime.reads.debtor_history(account),
         "can_record": session.user.role in CAN_RECORD, "updating": not fresh,
         "identity_labels": IDENTITY_LABELS, "role_labels": ROLE_LABELS,
         "errors": errors or {}, "open_form": open_form,
         "values": values if values is not None and open_form == "identity" else identity,
         "person": values if values is not None and open_form == "person" else {},
         # one call about all its open files (any can be unticked), from the debtor's page
         "call_files": open_files, "outcomes": OUTCOMES, "form_key": uuid.uuid4().hex,
         "call_values": call_kept or {}, "draft_kept": call_kept is not None,
         "mail": debtor_mail(runtime, account, mail_problem, mail_done)},
        status_code=status_code)


class IdentityForm(BaseModel):
    """Change the debtor's identity: every field is optional, a blank keeps what was known."""

    csrf: str = Field(default="", max_length=200)
    legal_name: str = Field(default="", max_length=300)
    siren: str = Field(default="", max_length=30)
    siret: str = Field(default="", max_length=30)
    legal_form: str = Field(default="", max_length=100)
    registered_office: str = Field(default="", max_length=1000)
    billing_address: str = Field(default="", max_length=1000)

    def changes(self) -> dict[str, str]:
        """The identity fields, as typed."""
        return {name: getattr(self, name) for name in IDENTITY_FIELDS}


class PersonForm(BaseModel):
    """Add a person at the debtor, or complete what is known of them (by their name)."""

    csrf: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=200)
    function: str = Field(default="", max_length=200)
    role: str = Field(default="", max_length=30)
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)


def _problem(error: DomainError) -> dict[str, str]:
    """A refusal as the French problem shown beside its field."""
    field = str(error.context.get("field", ""))
    return {field or "_form": PROBLEMS.get(field) or in_french(error)}


def _back_to_page(request: Request, account: str, notification_id: int | None) -> Response:
    target = path_for(request, "debtor_page", account=account)
    return RedirectResponse(f"{target}?apres={notification_id or 0}", status_code=303)


@router.post("/debiteurs/{account:ref}/identite", name="change_debtor_identity")
def change_identity(request: Request, account: str,
                    runtime: Annotated[Runtime, Depends(get_runtime)],
                    session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
                    form: Annotated[IdentityForm, Form()]) -> Response:
    """Records the identity fields typed; those left blank keep what was known."""
    check_csrf(session, form.csrf)
    if runtime.reads.debtor(account, runtime.today()) is None:
        return show_debtor(request, runtime, session, account)  # its 404 page
    try:
        recorded = runtime.files.change_debtor_identity(session.user.login, account,
                                                        changes=form.changes())
    except DomainError as error:
        return show_debtor(request, runtime, session, account, errors=_problem(error),
                           values=form.changes(), open_form="identity", status_code=422)
    return _back_to_page(request, account, recorded.notification_id)


@router.post("/debiteurs/{account:ref}/personnes", name="record_debtor_person")
def record_person(request: Request, account: str,
                  runtime: Annotated[Runtime, Depends(get_runtime)],
                  session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
                  form: Annotated[PersonForm, Form()]) -> Response:
    """Adds a person, or completes them: a blank field never erases what was known."""
    check_csrf(session, form.csrf)
    if runtime.reads.debtor(account, runtime.today()) is None:
        return show_debtor(request, runtime, session, account)
    values: dict[str, Any] = form.model_dump(exclude={"csrf"})
    try:
        recorded = runtime.files.record_debtor_person(session.user.login, account, **values)
    except DomainError as error:
        return show_debtor(request, runtime, session, account, errors=_problem(error),
                           values=values, open_form="person", status_code=422)
    return _back_to_page(request, account, recorded.notification_id)
