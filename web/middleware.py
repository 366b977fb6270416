"""What every request goes through: its log context, a bound on its body, who is
asking (before the body is read), its headers, one access log line, and a 503 instead
of a traceback when the database cannot answer.

A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` runs each request in an
extra task with memory streams, which cost more than a whole command's own work.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable

import psycopg
import structlog
from eventsourcing.persistence import ConnectionPoolClosedError
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.infra.accounts import User
from adapters.infra.logs import bind_actor, bind_context
from web import auth, portal
from web.drafts import keep_expired_form

log = structlog.get_logger("relance.web")
ACCESS_LOG = logging.getLogger("relance.web")


class DatabaseDown(Exception):
    """The probe sees the database down: answer 503 without waiting for it."""


UNAVAILABLE = (DatabaseDown, StoreOperationalError, StoreInterfaceError, psycopg.OperationalError,
               psycopg.InterfaceError, PoolTimeout, sqlite3.OperationalError,
               ConnectionPoolClosedError)
"""The database cannot answer now (down, restarting, locked): 503, try again shortly."""
UNAVAILABLE_FRENCH = ("La base de données ne répond pas pour le moment : rien n'a été "
                      "enregistré. Réessayez dans quelques secondes.")

CSP = ("default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
       "object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=63072000; includeSubDomains"
KIB = 1024
LOGIN_BODY = 4 * KIB
FORM_BODY = 512 * KIB
"""A page's form: a wording of 50,000 characters or a scenario of 60 steps fits."""
API_BODY = 64 * KIB
BULK_BODY = 4 * KIB * KIB
"""`/api/invoices` and `/api/payments`: 1,000 items of up to ~4 KiB each."""
BULK_PATHS = ("/api/invoices", "/api/payments")
DOCUMENT_BODY = 21 * KIB * KIB
"""A document attached to a file (at most 20 MiB) and the rest of its form."""
DOCUMENT_PREFIXES = ("/dossiers/", "/api/files/")
IMPORT_PATHS = ("/imports",)
"""The import page's upload: files of the accounting software, as large as a document."""
OPEN_POSTS = ("/connexion",)
"""The only POSTs answered without a session or a token, beside the debtor's page's answers
(under `/p/`, which its link's token opens: `web.portal`)."""


class BodyTooLarge(HTTPException):
    """The request's body goes over its route's limit: 413, nothing read further."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")


def body_limit(method: str, path: str) -> int:
    """The largest body a route takes."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return 0
    if path in OPEN_POSTS:
        return LOGIN_BODY
    if portal.is_portal_path(path):
        return portal.body_limit(path)
    if (path.endswith("/documents") and path.startswith(DOCUMENT_PREFIXES)) or \
            path in IMPORT_PATHS:
        return DOCUMENT_BODY
    if path.startswith("/api/"):
        return BULK_BODY if path in BULK_PATHS else API_BODY
    return FORM_BODY


def unavailable(request: Request) -> Response:
    """The 503 answer: JSON for the API, the French error page for people."""
    headers = {"Retry-After": "5"}
    if request.url.path.startswith("/api/") or not hasattr(request.app.state, "templates"):
        return JSONResponse({"code": "unavailable",
                             "detail": "the database is unavailable; nothing was recorded, "
                             "try again shortly"}, status_code=503, headers=headers)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"message": UNAVAILABLE_FRENCH}, status_code=503,
        headers=headers)


def too_large(request: Request) -> Response:
    """The 413 answer, before anything of the body is read."""
    if portal.is_portal_path(request.url.path) and hasattr(request.app.state, "templates"):
        return portal.error_page(request, portal.TOO_LARGE, 413)
    if request.url.path.startswith("/api/") or not hasattr(request.app.state, "templates"):
        return JSONResponse({"code": "too_large", "detail": "the request body is too large"},
                            status_code=413)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"message": "La demande est trop volumineuse : rien n'a été "
                                "enregistré."}, status_code=413)


def unauthenticated(request: Request) -> Response:
    """A request that needs a session or a token and carries neither."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"code": "unauthorized", "detail": "a valid bearer token is "
                             "required"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return auth.login_redirect(request)


class RequestContext:
    """Binds the request id and the actor for the log; finds the session of the cookie
    (pages) or the account of the bearer token (API) and refuses, before reading any
    body, a request that needs one and has none (a page's form is kept first, see
    `web.drafts`), then a body over its route's limit;
    adds the security headers, the request id and `Server-Timing` (time to the answer's
    first byte), and logs one line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        request_id = bind_context(actor="anonymous",
                                  request_id=request.headers.get("X-Request-ID"))
        request.state.request_id = request_id
        request.state.session = None
        request.state.api_user = None
        answered: dict[str, float | int] = {}
        # The path read from the scope: `request.url` builds a whole URL and splits it
        # again (0.01 ms a request), only to escape `?`, `#` and `\` in it, which no check
        # here looks for.
        path, https = scope["path"], auth.is_https(request)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
                answered.update(status=message["status"], ms=elapsed_ms)
                message["headers"] = _with_headers(
                    message.get("headers", ()), static=path.startswith("/static/"),
                    https=https, request_id=request_id, elapsed_ms=elapsed_ms)
            await send(message)

        try:
            await self._handle(scope, request, receive, send_with_headers)
        except UNAVAILABLE as error:
            if answered:
                raise
            log.warning("database unavailable", error=type(error).__name__, path=path)
            await unavailable(request)(scope, receive, send_with_headers)
        if ACCESS_LOG.isEnabledFor(logging.INFO):  # its fields are not gathered for nothing
            route = scope.get("route")
            log.info("request", method=request.method, path=portal.link_path(path),
                     route=getattr(route, "name", None), status=answered.get("status"),
                     duration_ms=answered.get("ms"), client=auth.client_address(request),
                     **_portal_link(request))

    async def _handle(self, scope: Scope, request: Request, receive: Receive,
                      send: Send) -> None:
        path, method = scope["path"], request.method
        runtime = getattr(request.app.state, "runtime", None)
        if runtime is not None and portal.host_refuses(
                runtime.settings.portal_host, request.headers.get("Host", ""), path):
            await _not_here(request)(scope, receive, send)
            return
        probe = getattr(request.app.state, "probe", None)
        if probe is not None and not probe.available.is_set() and \
                not path.startswith("/static/"):
            raise DatabaseDown
        if path.startswith("/api/"):
            user = await _api_user(request)
            if user is None:
                await unauthenticated(request)(scope, receive, send)
                return
            request.state.api_user = user
        elif portal.is_portal_path(path):
            pass  # the debtor's page: its link's token opens it, never a session
        elif not path.startswith("/static/"):
            token = request.cookies.get(auth.cookie_name(request))
            if token:
                session = await run_in_threadpool(request.app.state.runtime.accounts.session,
                                                  token)
                request.state.session = session
                if session:
                    bind_actor(session.user.login)
            if method == "POST" and request.state.session is None and path not in OPEN_POSTS:
                # An expired session must not lose what was typed: kept, then the login.
                await (await keep_expired_form(request, receive))(scope, receive, send)
                return
        limit = body_limit(method, path)
        declared = request.headers.get("Content-Length", "")
        if (declared.isdigit() and int(declared) > limit) or \
                (limit == 0 and declared not in ("", "0")):
            await too_large(request)(scope, receive, send)
            return
        await self.app(scope, _bounded(receive, limit), send)


def _with_headers(headers: Iterable[tuple[bytes, bytes]], *, static: bool, https: bool,
                  request_id: str, elapsed_ms: float) -> list[tuple[bytes, bytes]]:
    """An answer's headers with the security headers (those it does not set itself),
    `Cache-Control: no-store` but on static files, HSTS over HTTPS, the request id and
    `Server-Timing`. Header names of an ASGI answer are lower case; these are put in one
    pass rather than each looked for in the list again (Starlette's `MutableHeaders`)."""
    replaced = _REPLACED_HTTPS if https else _REPLACED
    kept = [(name, value) for name, value in headers if name not in replaced]
    present = {name for name, _ in kept}
    kept.extend(header for header in _DEFAULTS if header[0] not in present)
    if not static and b"cache-control" not in present:
        kept.append(_NO_STORE)
    if https:
        kept.append(_HSTS)
    kept.append((b"x-request-id", request_id.encode("latin-1")))
    kept.append((b"server-timing", f"app;dur={elapsed_ms}".encode("latin-1")))
    return kept


_DEFAULTS = tuple((name.lower().encode("latin-1"), value.encode("latin-1"))
                  for name, value in SECURITY_HEADERS.items())
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", HSTS.encode("latin-1"))
_REPLACED = frozenset({b"x-request-id", b"server-timing"})
_REPLACED_HTTPS = _REPLACED | {b"strict-transport-security"}


def _not_here(request: Request) -> Response:
    """A path not served on the host asked (see `web.portal.host_refuses`): 404, on the
    staff's error page for a debtor's page asked elsewhere than its host, on the portal's
    own layout for anything else asked on the portal's host."""
    if not hasattr(request.app.state, "templates"):
        return Response("Not Found", status_code=404, media_type="text/plain")
    if portal.is_portal_path(request.url.path):
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": "Page introuvable."}, status_code=404)
    return portal.error_page(request, "Page introuvable.", 404)


def _portal_link(request: Request) -> dict[str, str]:
    """The debtor's link a request opened, by its record's id, for the access log."""
    link = getattr(request.state, "portal_link", None)
    return {"portal_link": link} if link else {}


async def _api_user(request: Request) -> User | None:
    """The account of the request's bearer token, if it is a live one."""
    user = await bearer_user(request)
    if user is not None:
        bind_actor(user.login)
    return user


async def bearer_user(request: Request) -> User | None:
    """The account a request's `Authorization: Bearer` token acts for, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    tokens, token = request.app.state.runtime.bearer_tokens, token.strip()
    return tokens.deployment(token) or await run_in_threadpool(tokens.accounts.api_user, token)


def _bounded(receive: Receive, limit: int) -> Receive:
    """`receive`, counting the body's bytes as they come: past the limit, a 413."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return bounded

