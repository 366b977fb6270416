"""What every request goes through: its log context, its session, its headers, one
access log line, and a 503 instead of a traceback when the database cannot answer.

A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` runs each request in an
extra task with memory streams, which cost more than a whole command's own work.
"""

from __future__ import annotations

import sqlite3
import time

import psycopg
import structlog
from eventsourcing.persistence import ConnectionPoolClosedError
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.logs import bind_context
from web import auth

log = structlog.get_logger("relance.web")


class DatabaseDown(Exception):
    """The probe sees the database down: answer 503 without waiting for it."""


UNAVAILABLE = (DatabaseDown, StoreOperationalError, StoreInterfaceError, psycopg.OperationalError,
               psycopg.InterfaceError, PoolTimeout, sqlite3.OperationalError,
               ConnectionPoolClosedError)
"""The database cannot answer now (down, restarting, locked): 503, try again shortly."""
UNAVAILABLE_FRENCH = ("La base de données ne répond pas pour le moment : rien n'a été "
                      "enregistré. Réessayez dans quelques secondes.")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


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


class RequestContext:
    """Binds the request id and the actor for the log, finds the session of the cookie
    (pages only: the API authenticates by token), adds the security headers, the
    request id and `Server-Timing` (time to the answer's first byte), and logs one line."""

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
        request.state.session = None
        answered: dict[str, float | int] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
                answered.update(status=message["status"], ms=elapsed_ms)
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers["X-Request-ID"] = request_id
                headers["Server-Timing"] = f"app;dur={elapsed_ms}"
            await send(message)

        path = request.url.path
        try:
            probe = getattr(request.app.state, "probe", None)
            if probe is not None and not probe.available.is_set() and \
                    not path.startswith("/static/"):
                raise DatabaseDown
            token = request.cookies.get(auth.COOKIE)
            if token and not path.startswith(("/api/", "/static/")):
                session = await run_in_threadpool(request.app.state.runtime.accounts.session,
                                                  token)
                request.state.session = session
                if session:
                    bind_context(actor=session.user.login, request_id=request_id)
            await self.app(scope, receive, send_with_headers)
        except UNAVAILABLE as error:
            if answered:
                raise
            log.warning("database unavailable", error=type(error).__name__, path=path)
            await unavailable(request)(scope, receive, send_with_headers)
        route = scope.get("route")
        log.info("request", method=request.method, path=path,
                 route=getattr(route, "name", None), status=answered.get("status"),
                 duration_ms=answered.get("ms"))
