"""Logging in and out, who is asking, and what they may do.

The session is looked up once per request by the middleware (so that every log line
carries the actor); pages depend on `require_user` or `require_role`; every form
carries the session's CSRF token and every POST checks it.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.accounts import Role, Session

COOKIE = "relance_session"

router = APIRouter()


class LoginRequired(Exception):
    """The page needs a logged-in person."""


def current_session(request: Request) -> Session | None:
    """The session found by the middleware for this request, if any."""
    return getattr(request.state, "session", None)


async def require_user(request: Request) -> Session:
    """A logged-in person, or a redirect to the login page."""
    session = current_session(request)
    if session is None:
        raise LoginRequired
    return session


def require_role(*roles: Role) -> object:
    """A dependency letting in only the given roles (403 otherwise)."""
    allowed = frozenset(roles)

    async def check(session: Annotated[Session, Depends(require_user)]) -> Session:
        if session.user.role not in allowed:
            raise HTTPException(403, "your role does not allow this")
        return session

    return check


def check_csrf(session: Session, token: str) -> None:
    """Refuses a form that does not carry the session's CSRF token."""
    if not hmac.compare_digest(session.csrf.encode(), (token or "").encode()):
        raise HTTPException(403, "the form's CSRF token is missing or wrong")


@router.get("/connexion", response_class=HTMLResponse, name="login")
def login_page(request: Request, suite: str = "/") -> Response:
    """The login form."""
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(suite), "error": "", "login": ""})


@router.post("/connexion", name="login_submit")
def login(request: Request, login: Annotated[str, Form(max_length=100)] = "",
          password: Annotated[str, Form(max_length=500)] = "",
          suite: Annotated[str, Form(max_length=500)] = "/") -> Response:
    """Checks the password; on success a new session, on failure a French message."""
    runtime = request.app.state.runtime
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else "?"
    keys = (f"login:{login.strip().lower()}", f"ip:{address}")
    if throttle.blocked(*keys):
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(suite), "login": login,
                                    "error": "Trop de tentatives : réessayez dans quelques "
                                             "minutes."}, status_code=429)
    found = runtime.accounts.log_in(login, password)
    if found is None:
        throttle.failed(*keys)
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(suite), "login": login,
                                    "error": "Identifiant ou mot de passe incorrect."},
            status_code=401)
    token, _ = found
    response = RedirectResponse(_safe_next(suite), status_code=303)
    secure = runtime.settings.secure_cookies or request.url.scheme == "https"
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/",
                        max_age=runtime.settings.session_hours * 3600)
    return response


@router.post("/deconnexion", name="logout")
def logout(request: Request, session: Annotated[Session, Depends(require_user)],
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Ends the session."""
    check_csrf(session, csrf)
    request.app.state.runtime.accounts.log_out(request.cookies.get(COOKIE, ""))
    response = RedirectResponse(request.url_for("login"), status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def login_redirect(request: Request) -> Response:
    """Where an anonymous visitor of a page is sent."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{request.url_for('login')}?suite={quote(target)}",
                            status_code=303)


def _safe_next(target: str) -> str:
    # Only paths of this site: never an open redirect.
    return target if target.startswith("/") and not target.startswith("//") else "/"
