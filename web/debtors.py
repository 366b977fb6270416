"""The debtor's page: who the debtor is, the people known there, and the forms that record
them.

The page itself is routed with the other work pages (`web.work.debtor_page`) and rendered
here. Agents and supervisors change the identity (legal name, SIREN, SIRET, legal form,
registered office, billing address) and add or complete a person (name, function, role,
phone, e-mail); each is a fact on the debtor's record, shown with who recorded it and
when. A field left blank keeps what was known. A form that does not read comes back with
its French problems beside the fields; one that does redirects to the page, which waits
for the views to show it.

« Espace débiteur »: the debtor's links to its own page (why, issued when and by whom,
until when, how often opened, their state) and what it did there. The debtor's owner,
supervisors and admins issue a link (« Créer un lien ») and withdraw one or all of them,
with a reason. The new link's address is shown once, on the page the form leads to: it
rides in a short-lived cookie of that browser, never in an address nor in a log, and
relance keeps only its digest.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Session
from adapters.messages import in_french
from domain.addresses import MAX_LINE, MAX_LINES
from domain.debtors import IDENTITY_FIELDS, ROLES
from domain.errors import DomainError
from domain.phases import ENDED
from domain.portal import TOKEN
from projections.french import label
from projections.portal import one_line_per_answer
from web.auth import check_csrf, cookie_name, require_role, secure_cookies
from web.dependencies import get_runtime
from web.drafts import take_draft
from web.forms import OUTCOMES
from web.live import live_marks, people_names
from web.mail_view import debtor_mail
from web.urls import path_for

router = APIRouter()
log = structlog.get_logger("relance.debtors")
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
NEW_LINK_COOKIE = "relance_lien"
"""Carries a link just issued to the page that shows its address, once."""
NEW_LINK_SECONDS = 300
ACTIVITY_SHOWN = 30
"""What the debtor did on its page, the newest rows the page shows."""
ALL_LINKS = "tous"
"""« Révoquer » for every link of the debtor still working."""
PORTAL_PROBLEMS = {
    "reason": "Indiquez pourquoi le lien est révoqué.",
    "link": "Ce lien n'est pas un lien actif de ce débiteur.",
}


def show_debtor(request: Request, runtime: Runtime, session: Session, account: str, *,
                after: int | None = None, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None, open_form: str = "",
                status_code: int = 200, mail_problem: dict[str, str] | None = None,
                mail_done: str = "", portal_problem: dict[str, str] | None = None
                ) -> Response:
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
    new_link = _new_link(request, runtime, account)
    response = request.app.state.templates.TemplateResponse(
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
         "mail": debtor_mail(runtime, account, mail_problem, mail_done),
         "portal": _portal(runtime, session, debtor.owner, account, day, new_link,
                           portal_problem or {})},
        status_code=status_code)
    if new_link:
        response.delete_cookie(cookie_name(request, NEW_LINK_COOKIE), path="/",
                               secure=secure_cookies(request), httponly=True, samesite="lax")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def may_manage_links(session: Session, owner: dict[str, Any] | None) -> bool:
    """Who issues and withdraws a debtor's links: its owner, supervisors and admins."""
    if session.user.role in CAN_MANAGE_TEAM:
        return True
    return session.user.role in CAN_RECORD and owner is not None \
        and owner.get("owner") == session.user.login


def _portal(runtime: Runtime, session: Session, owner: dict[str, Any] | None, account: str,
            day: Any, new_link: str, problem: dict[str, str]) -> dict[str, Any]:
    """What the page shows of the debtor's own page: its links, what it did there, the
    address of a link just issued, and whether this person manages the links."""
    links = runtime.reads.portal_links(account, day)
    return {"links": links,
            "activity": one_line_per_answer(runtime.reads.portal_activity(account,
                                                                          ACTIVITY_SHOWN)),
            "active": [link for link in links if link["state"] == "actif"],
            "may_manage": may_manage_links(session, owner), "new_link": new_link,
            "problem": problem}


def _new_link(request: Request, runtime: Runtime, account: str) -> str:
    """The address of the link this browser just issued for this debtor ('' when none):
    the cookie is read once, and only for a working link of this debtor."""
    token = request.cookies.get(cookie_name(request, NEW_LINK_COOKIE), "")
    if not token or not TOKEN.match(token):
        return ""
    link = runtime.files.portal_link(token)
    if link is None or link.account != account or not link.works_on(runtime.today()):
        return ""
    return f"{runtime.settings.portal_base}/p/{token}"


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


# -- the debtor's own page (« espace débiteur ») ------------------------------------------

def _manager(runtime: Runtime, session: Session, account: str) -> bool:
    """True when the debtor exists and this person manages its links; 403 when it exists
    and they do not."""
    debtor = runtime.reads.debtor(account, runtime.today())
    if debtor is None:
        return False
    if not may_manage_links(session, debtor.owner):
        raise HTTPException(403, "only the debtor's owner or a supervisor manages its links")
    return True


def _back_to_portal(request: Request, account: str, notification_id: int | None) -> Response:
    target = path_for(request, "debtor_page", account=account)
    return RedirectResponse(f"{target}?apres={notification_id or 0}#espace-debiteur",
                            status_code=303)


@router.post("/debiteurs/{account:ref}/espace/liens", name="issue_portal_link")
def issue_link(request: Request, account: str,
               runtime: Annotated[Runtime, Depends(get_runtime)],
               session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
               csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """« Créer un lien »: a new link to the debtor's page, its address shown once."""
    check_csrf(session, csrf)
    if not _manager(runtime, session, account):
        return show_debtor(request, runtime, session, account)  # its 404 page
    token, recorded = runtime.files.issue_portal_link(
        session.user.login, account, purpose="page", days=runtime.settings.portal_days)
    log.info("portal link issued", account=account, purpose="page")
    response = _back_to_portal(request, account, recorded.notification_id)
    response.set_cookie(cookie_name(request, NEW_LINK_COOKIE), token, httponly=True,
                        samesite="lax", secure=secure_cookies(request), path="/",
                        max_age=NEW_LINK_SECONDS)
    return response


@router.post("/debiteurs/{account:ref}/espace/revoquer", name="revoke_portal_links")
def revoke_links(request: Request, account: str,
                 runtime: Annotated[Runtime, Depends(get_runtime)],
                 session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
                 csrf: Annotated[str, Form(max_length=200)] = "",
                 lien: Annotated[str, Form(max_length=40)] = "",
                 motif: Annotated[str, Form(max_length=500)] = "") -> Response:
    """« Révoquer »: one link of the debtor (`lien`, its record's id) or all its working
    links (`tous`), with the reason."""
    check_csrf(session, csrf)
    if not _manager(runtime, session, account):
        return show_debtor(request, runtime, session, account)
    active = {row["link"]: row for row in runtime.reads.portal_links(account, runtime.today())
              if row["state"] == "actif"}
    chosen = list(active) if lien == ALL_LINKS else [lien] if lien in active else []
    problem = "" if chosen else "link"
    if not problem and not motif.strip():
        problem = "reason"
    if problem:
        return show_debtor(request, runtime, session, account, status_code=422,
                           portal_problem={problem: PORTAL_PROBLEMS[problem],
                                           "motif": motif, "lien": lien})
    try:
        recorded = runtime.files.revoke_portal_links(
            session.user.login, [UUID(hex=link) for link in chosen], reason=motif)
    except DomainError as error:
        return show_debtor(request, runtime, session, account, status_code=422,
                           portal_problem={"reason": in_french(error), "motif": motif,
                                           "lien": lien})
    log.info("portal links revoked", account=account, links=len(chosen))
    return _back_to_portal(request, account, recorded.notification_id)
