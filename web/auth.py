"""Logging in and out, who is asking, and what they may do.

The session is looked up once per request by the middleware (so that every log line
carries the actor); pages depend on `require_user` or `require_role`; every form
carries the session's CSRF token and every POST checks it. The login form, sent before
any session exists, carries a token of its own, bound to a short-lived cookie. Over
HTTPS both cookies take the `__Host-` prefix (Secure, this host only, path /).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.infra.accounts import Role, Session
from projections.french import count
from web.urls import path_for

SESSION_COOKIE = "relance_session"
LOGIN_COOKIE = "relance_connexion"
LOGIN_COOKIE_SECONDS = 3600
MAX_LOGIN = 100
MAX_PASSWORD_FIELD = 1000
"""The login form's password field: longer is refused, never cut."""
FREE_OF_PASSWORD_CHANGE = ("/compte", "/deconnexion", "/static/")
"""Where a person who must choose a new password may still go."""

router = APIRouter()
security = structlog.get_logger("relance.security")


class LoginRequired(Exception):
    """The page needs a logged-in person."""


class PasswordChangeRequired(Exception):
    """The person must choose a new password before anything else."""


def is_https(request: Request) -> bool:
    """True when the client reached us over HTTPS (directly or through a trusted proxy).
    Read from the scope, as `request.url` says it: that builds the whole URL first."""
    return request.scope.get("scheme") == "https"


def cookie_name(request: Request, base: str = SESSION_COOKIE) -> str:
    """A cookie's name: `__Host-` prefixed over HTTPS."""
    return f"__Host-{base}" if is_https(request) else base


def client_address(request: Request) -> str:
    """The client's address (the proxy's view of it only from a trusted proxy)."""
    return request.client.host if request.client else "?"


def current_session(request: Request) -> Session | None:
    """The session found by the middleware for this request, if any."""
    return getattr(request.state, "session", None)


async def require_user(request: Request) -> Session:
    """A logged-in person, or a redirect to the login page (or to « Mon compte » while
    their password must be changed)."""
    session = current_session(request)
    if session is None:
        raise LoginRequired
    if session.must_change and not request.url.path.startswith(FREE_OF_PASSWORD_CHANGE):
        raise PasswordChangeRequired
    return session


def require_role(*roles: Role) -> object:
    """A dependency letting in only the given roles (403 otherwise)."""
    allowed = frozenset(roles)

    async def check(request: Request, session: Annotated[Session, Depends(require_user)]
                    ) -> Session:
        if session.user.role not in allowed:
            security.info("access refused", path=request.url.path, role=session.user.role.value)
            raise HTTPException(403, "your role does not allow this")
        return session

    return check


def check_csrf(session: Session, token: str) -> None:
    """Refuses a form that does not carry the session's CSRF token."""
    if not hmac.compare_digest(session.csrf.encode(), (token or "").encode()):
        security.info("csrf refused")
        raise HTTPException(403, "the form's CSRF token is missing or wrong")


EXPIRED = {"saisie": "Votre session a expiré : reconnectez-vous, votre saisie est conservée.",
           "expiree": "Votre session a expiré : reconnectez-vous."}
"""What the login page says after a form was sent with an expired session."""


@router.get("/connexion", response_class=HTMLResponse, name="login")
def login_page(request: Request, suite: str = "/",
               saisie: bool = False, expiree: bool = False) -> Response:
    """The login form, with its own CSRF token bound to a cookie; after a form sent with
    an expired session, it says so (and whether what was typed is kept)."""
    notice = EXPIRED["saisie"] if saisie else EXPIRED["expiree"] if expiree else ""
    return _login_form(request, suite, "", "", 200, notice=notice)


def _login_form(request: Request, suite: str, login: str, error: str, status_code: int,
                headers: dict[str, str] | None = None, notice: str = "") -> Response:
    token = request.cookies.get(cookie_name(request, LOGIN_COOKIE), "")
    if not (20 <= len(token) <= 100):
        token = secrets.token_urlsafe(32)
    response = request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(suite), "error": error, "login": login,
                                "login_csrf": token, "notice": notice},
        status_code=status_code, headers=headers)
    response.set_cookie(cookie_name(request, LOGIN_COOKIE), token, httponly=True,
                        samesite="strict", secure=secure_cookies(request), path="/",
                        max_age=LOGIN_COOKIE_SECONDS)
    return response


@router.post("/connexion", name="login_submit")
async def login(request: Request) -> Response:
    """Checks the password; on success a new session, on failure a French message."""
    form = await request.form(max_fields=10, max_files=0, max_part_size=4096)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    login, password = fields.get("login", ""), fields.get("password", "")
    suite = fields.get("suite", "/")[:500]
    expected = request.cookies.get(cookie_name(request, LOGIN_COOKIE), "")
    if not expected or not hmac.compare_digest(expected.encode(),
                                               fields.get("csrf", "").encode()):
        security.info("login form refused", reason="csrf", client=client_address(request))
        return _login_form(request, suite, login[:MAX_LOGIN], "Le formulaire de connexion a "
                           "expiré : saisissez à nouveau vos identifiants.", 403)
    if len(login) > MAX_LOGIN or len(password) > MAX_PASSWORD_FIELD:
        return _login_form(request, suite, "", "Identifiant ou mot de passe trop long.", 422)
    return await run_in_threadpool(_log_in, request, login, password, suite)


def _log_in(request: Request, login: str, password: str, suite: str) -> Response:
    runtime = request.app.state.runtime
    address = client_address(request)
    attempt = request.app.state.login_throttle.begin(login, address)
    if not attempt.allowed:
        security.warning("login throttled", login=login, client=address,
                         retry_after=attempt.retry_after)
        return _login_form(request, suite, login, "Trop de tentatives : réessayez dans "
                           f"{count(attempt.retry_after, 'seconde')}.", 429,
                           headers={"Retry-After": str(attempt.retry_after)})
    found = runtime.accounts.log_in(login, password, client=address,
                                    agent=request.headers.get("User-Agent", ""))
    if found is None:
        request.app.state.login_throttle.failed(attempt)
        security.warning("login failed", login=login, client=address)
        return _login_form(request, suite, login, "Identifiant ou mot de passe incorrect.",
                           401)
    request.app.state.login_throttle.succeeded(attempt)
    token, session = found
    security.info("login succeeded", login=session.user.login, client=address,
                  session_id=session.id)
    target = path_for(request, "my_account") if session.must_change else _safe_next(suite)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(cookie_name(request), token, httponly=True, samesite="lax",
                        secure=secure_cookies(request), path="/",
                        max_age=runtime.settings.session_hours * 3600)
    response.delete_cookie(cookie_name(request, LOGIN_COOKIE), path="/")
    return response


@router.post("/deconnexion", name="logout")
def logout(request: Request, session: Annotated[Session, Depends(require_user)],
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Ends the session."""
    check_csrf(session, csrf)
    request.app.state.runtime.accounts.log_out(request.cookies.get(cookie_name(request), ""))
    security.info("logged out", session_id=session.id)
    response = RedirectResponse(path_for(request, "login"), status_code=303)
    response.delete_cookie(cookie_name(request), path="/")
    return response


def login_redirect(request: Request) -> Response:
    """Where an anonymous visitor of a page is sent (back to the page afterwards)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    target = raw.decode("latin-1") + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{path_for(request, 'login')}?suite={quote(target, safe='/')}",
                            status_code=303)


def password_change_redirect(request: Request) -> Response:
    """Where a person who must choose a new password is sent."""
    return RedirectResponse(path_for(request, "my_account"), status_code=303)


def secure_cookies(request: Request) -> bool:
    """Whether cookies must be Secure (HTTPS, or the settings say so)."""
    return request.app.state.runtime.settings.secure_cookies or is_https(request)


def _safe_next(target: str) -> str:
    # Only paths of this site: never an open redirect.
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target
