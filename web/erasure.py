"""Réglages, « Effacements » (supervisors): the people due for erasure under the retention
rule, each debtor confirmed by a click, and the erasure of one person on request
(`adapters.usecases.erasure`, `adapters.usecases.retention`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, Session
from adapters.usecases.erasure import NobodyThere, erase_debtor_texts, erase_person
from adapters.usecases.retention import due_for_erasure
from domain.errors import DomainError
from projections.french import count
from web.auth import check_csrf, require_role
from web.dependencies import get_runtime
from web.urls import path_for

router = APIRouter()
Supervisor = Annotated[Session, Depends(require_role(*CAN_MANAGE_TEAM))]
log = structlog.get_logger("relance.erasure")

RETENTION_REASON = "fin de la durée de conservation (règle du {kind} : {days} jours)"


class ErasureForm(BaseModel):
    """One person to erase at a debtor, or (with no name) every person of a debtor due
    under the retention rule."""

    csrf: str = Field(default="", max_length=200)
    account: str = Field(default="", max_length=100)
    who: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=500)


@router.get("/reglages/effacements", response_class=HTMLResponse, name="erasures",
            dependencies=[Depends(require_role(*CAN_MANAGE_TEAM))])
def erasures(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
             effaces: Annotated[int, Query(ge=0, le=10_000)] = 0,
             compte: Annotated[str, Query(max_length=100)] = "") -> Response:
    """The people due for erasure today, and the form to erase one on request; after an
    erasure, what was done."""
    done = f"{count(effaces, 'personne effacée', 'personnes effacées')} chez le débiteur " \
           f"{compte}." if effaces and compte else ""
    return _page(request, runtime, done=done)


@router.post("/reglages/effacements", name="erase")
def erase(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
          session: Supervisor, form: Annotated[ErasureForm, Form()]) -> Response:
    """Erases one person on request, or every person of a debtor due for erasure."""
    check_csrf(session, form.csrf)
    actor, account = session.user.login, form.account.strip()
    if form.who.strip():
        if not form.reason.strip():
            return _page(request, runtime, form, "Dites pourquoi la personne est effacée.", 422)
        people, reason = [form.who.strip()], form.reason.strip()
    else:
        due = {d.account: d for d in due_for_erasure(runtime, runtime.today())}
        if account not in due:
            return _page(request, runtime, form,
                         f"Le débiteur {account} n'a personne à effacer aujourd'hui.", 422)
        settings = runtime.settings
        consumer = due[account].consumer
        people = list(due[account].people)
        reason = RETENTION_REASON.format(
            kind="particulier" if consumer else "professionnel",
            days=settings.retention_days_consumer if consumer
            else settings.retention_days_business)
    try:
        for who in people:
            erase_person(runtime, actor, account, who, reason)
        if not form.who.strip():  # the end of retention: what was written of them too
            erase_debtor_texts(runtime, actor, account, reason)
    except NobodyThere:
        return _page(request, runtime, form,
                     f"Personne n'est connu sous « {form.who.strip()} » chez le débiteur "
                     f"{account}.", 422)
    except DomainError as error:
        log.warning("erasure refused", account=account, error=str(error))
        return _page(request, runtime, form, "Cet effacement est refusé : vérifiez le compte "
                     "du débiteur et le motif.", 422)
    target = path_for(request, "erasures") + "?" + urlencode({"effaces": len(people),
                                                              "compte": account})
    return RedirectResponse(target, status_code=303)


def _page(request: Request, runtime: Runtime, form: ErasureForm | None = None,
          error: str = "", status_code: int = 200, done: str = "") -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "erasures.html",
        {"due": due_for_erasure(runtime, runtime.today()), "form": form or ErasureForm(),
         "error": error, "done": done, "settings": runtime.settings},
        status_code=status_code)
