"""« Mon compte » (one's password and sessions) and, in Réglages, the team's accounts
and API tokens. Every change is a security event in the log (who, whom, what)."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import (
    CAN_MANAGE_USERS,
    MAX_PASSWORD,
    TOKEN_DAYS,
    AccountError,
    Role,
    Session,
)
from projections.french import word
from web.auth import check_csrf, cookie_name, require_role, require_user
from web.dependencies import get_runtime
from web.urls import path_for

router = APIRouter()
security = structlog.get_logger("relance.security")
Manager = Annotated[Session, Depends(require_role(*CAN_MANAGE_USERS))]
FIELD = 1000
"""No field of these forms is longer: a longer value is refused, never cut."""


async def _form(request: Request, session: Session) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form(max_fields=10, max_files=0)).items()}
    check_csrf(session, form.get("csrf", ""))
    if any(len(v) > FIELD for v in form.values()):
        raise AccountError("a field is too long", "Un champ est trop long.")
    return form


# -- Mon compte ---------------------------------------------------------------------------

@router.get("/compte", response_class=HTMLResponse, name="my_account")
def my_account(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
               session: Annotated[Session, Depends(require_user)]) -> Response:
    """One's password, and the sessions open under one's name."""
    return _my_account(request, runtime, session)


def _my_account(request: Request, runtime: Runtime, session: Session, error: str = "",
                done: str = "", status_code: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "account.html",
        {"sessions": runtime.accounts.sessions_of(session.user.login), "current": session.id,
         "must_change": session.must_change, "error": error, "done": done,
         "max_password": MAX_PASSWORD, "role": word("role", session.user.role)},
        status_code=status_code)


@router.post("/compte/mot-de-passe", name="change_password")
async def change_password(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                          session: Annotated[Session, Depends(require_user)]) -> Response:
    """Changes one's password; one's other sessions end."""
    try:
        form = await _form(request, session)
        if form.get("new", "") != form.get("again", ""):
            raise AccountError("the two new passwords differ",
                               "Les deux saisies du nouveau mot de passe diffèrent.")
        await run_in_threadpool(runtime.accounts.change_password, session.user.login,
                                form.get("current", ""), form.get("new", ""))
    except AccountError as error:
        security.info("password change refused", reason=str(error))
        return await run_in_threadpool(_my_account, request, runtime, session, error.french,
                                       "", 422)
    ended = await run_in_threadpool(runtime.accounts.end_other_sessions, session.user.login,
                                    request.cookies.get(cookie_name(request), ""))
    security.info("password changed", login=session.user.login, ended=ended)
    return RedirectResponse(path_for(request, "my_account") + "?fait=mot-de-passe",
                            status_code=303)


@router.post("/compte/sessions", name="end_sessions")
async def end_sessions(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                       session: Annotated[Session, Depends(require_user)]) -> Response:
    """Ends one of one's other sessions, or all of them."""
    form = await _form(request, session)
    login = session.user.login
    if form.get("session") == "autres":
        ended = await run_in_threadpool(runtime.accounts.end_other_sessions, login,
                                        request.cookies.get(cookie_name(request), ""))
    else:
        ended = int(await run_in_threadpool(runtime.accounts.end_session, login,
                                            form.get("session", "")))
    security.info("sessions ended", login=login, ended=ended)
    return RedirectResponse(path_for(request, "my_account"), status_code=303)


# -- Réglages : comptes et jetons -----------------------------------------------------------

@router.get("/reglages/comptes", response_class=HTMLResponse, name="accounts")
def accounts_page(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                  session: Manager) -> Response:
    """The team's accounts and their API tokens."""
    return _accounts(request, runtime, session)


def _accounts(request: Request, runtime: Runtime, session: Session, error: str = "",
              shown: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "accounts.html",
        {"users": runtime.accounts.users(), "tokens": runtime.accounts.api_tokens(),
         "now": runtime.clock(), "roles": {role: word("role", role) for role in Role},
         "error": error, "shown": shown or {},
         "is_admin": session.user.role is Role.ADMIN, "token_days": TOKEN_DAYS},
        status_code=status_code)


@router.post("/reglages/comptes/{action}", name="accounts_change")
async def accounts_change(request: Request, action: str,
                          runtime: Annotated[Runtime, Depends(get_runtime)],
                          session: Manager) -> Response:
    """Creates, disables or re-roles an account, resets a password (administrators),
    issues or revokes an API token."""
    accounts, actor = runtime.accounts, session.user.login
    admin = session.user.role is Role.ADMIN
    try:
        form = await _form(request, session)
        login = form.get("login", "").strip().lower()
        if action == "creer":
            role = _role(form.get("role", ""))
            if role is Role.ADMIN and not admin:
                raise HTTPException(403, "only an administrator creates administrators")
            await run_in_threadpool(accounts.add, login, form.get("name", ""), role,
                                    form.get("password", ""))
            security.info("account created", login=login, role=role.value, by=actor)
        elif action == "desactiver":
            target = await run_in_threadpool(accounts.user, login)
            if target is None or target.login == actor:
                raise AccountError("no such account, or one's own",
                                   "Choisissez un autre compte actif que le vôtre.")
            if target.role is Role.ADMIN and not admin:
                raise HTTPException(403, "only an administrator disables administrators")
            await run_in_threadpool(accounts.disable, target.login)
            security.info("account disabled", login=target.login, by=actor)
        elif action == "role":
            if not admin:
                raise HTTPException(403, "only an administrator changes roles")
            if login == actor:
                raise AccountError("one's own role", "Votre propre rôle ne se change pas ici.")
            role = _role(form.get("role", ""))
            await run_in_threadpool(accounts.set_role, login, role)
            security.info("role changed", login=login, role=role.value, by=actor)
        elif action == "reinitialiser":
            if not admin:
                raise HTTPException(403, "only an administrator resets passwords")
            temporary = await run_in_threadpool(accounts.reset_password, login)
            security.info("password reset", login=login, by=actor)
            return await run_in_threadpool(
                _accounts, request, runtime, session, "",
                {"what": f"Mot de passe provisoire de {login} (à transmettre de vive voix ; "
                         "il devra être changé à la connexion)", "value": temporary})
        elif action == "jeton":
            days = form.get("days", "").strip()
            if days and not (days.isdigit() and len(days) <= 4):
                raise AccountError("days is not a number", "La durée est un nombre de jours.")
            token = await run_in_threadpool(lambda: accounts.issue_api_token(
                login, name=form.get("name", ""), days=int(days or TOKEN_DAYS)))
            issued = await run_in_threadpool(accounts.api_token, token)
            security.info("api token issued", login=login, token_id=issued.id, name=issued.name,
                          expires_at=str(issued.expires_at), by=actor)
            return await run_in_threadpool(
                _accounts, request, runtime, session, "",
                {"what": f"Jeton « {issued.name} » de {login} (affiché une seule fois)",
                 "value": token})
        elif action == "revoquer":
            revoked = await run_in_threadpool(accounts.revoke_api_token, form.get("token", ""))
            if revoked is None:
                raise AccountError("no such live token", "Ce jeton n'existe pas ou est déjà "
                                   "révoqué.")
            security.info("api token revoked", login=revoked.login, token_id=revoked.id, by=actor)
        else:
            raise HTTPException(404, "no such action")
    except AccountError as error:
        return await run_in_threadpool(_accounts, request, runtime, session, error.french,
                                       None, 422)
    return RedirectResponse(path_for(request, "accounts"), status_code=303)


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise AccountError(f"no role {text!r}", "Choisissez un rôle.") from None
