"""The web application: built by `create_app()`, wired by the bootstrap in its lifespan."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import structlog
from eventsourcing.persistence import ConnectionPoolClosedError
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.accounts import LoginThrottle
from adapters.bootstrap import bootstrap
from adapters.health import DatabaseProbe
from adapters.logs import bind_context, configure_logging
from adapters.messages import in_french
from adapters.settings import Settings
from domain.errors import DomainError, InvoiceNotFound
from web import api, auth, exports, files, team_settings, work
from web.templating import build_templates

log = structlog.get_logger("relance.web")
STATIC_DIR = Path(__file__).parent / "static"

FRENCH_HTTP = {
    400: "La demande est mal formée ou trop volumineuse : rien n'a été enregistré.",
    413: "La demande est trop volumineuse : rien n'a été enregistré.",
    403: "Cette action n'est pas permise avec votre rôle, ou le formulaire a expiré : "
         "rechargez la page.",
    404: "Page introuvable.",
}

class DatabaseDown(Exception):
    """The probe sees the database down: answer 503 without waiting for it."""


UNAVAILABLE = (DatabaseDown, StoreOperationalError, StoreInterfaceError, psycopg.OperationalError,
               psycopg.InterfaceError, PoolTimeout, sqlite3.OperationalError,
               ConnectionPoolClosedError)
"""The database cannot answer now (down, restarting, locked): 503, try again shortly."""
UNAVAILABLE_FRENCH = ("La base de données ne répond pas pour le moment : rien n'a été "
                      "enregistré. Réessayez dans quelques secondes.")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 422: "invalid_request"}
"""The stable `code` of an API error answered by HTTP status."""

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _unavailable(request: Request) -> Response:
    headers = {"Retry-After": "5"}
    if request.url.path.startswith("/api/") or not hasattr(request.app.state, "templates"):
        return JSONResponse({"code": "unavailable",
                             "detail": "the database is unavailable; nothing was recorded, "
                             "try again shortly"}, status_code=503, headers=headers)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"message": UNAVAILABLE_FRENCH}, status_code=503,
        headers=headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the app; the store is opened when it starts, not at import."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_format, settings.log_level)
        app.state.runtime = bootstrap(settings)
        if settings.projections == "embedded":
            app.state.runtime.start_following()
        app.state.templates = build_templates()
        store = app.state.runtime.store
        app.state.probe = DatabaseProbe(store.conninfo) if store.is_postgres else None
        if app.state.probe is not None:
            app.state.probe.start()
        app.state.login_throttle = LoginThrottle(app.state.runtime.views, app.state.runtime.clock)
        log.info("relance started", store=app.state.runtime.store.description)
        try:
            yield
        finally:
            if app.state.probe is not None:
                app.state.probe.stop()
            app.state.runtime.close()

    app = FastAPI(title="relance", lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(auth.router, include_in_schema=False)  # pages, not the API
    app.include_router(files.router, include_in_schema=False)
    app.include_router(work.router, include_in_schema=False)
    app.include_router(team_settings.router, include_in_schema=False)
    app.include_router(exports.router, include_in_schema=False)
    app.include_router(api.router)

    @app.middleware("http")
    async def context_and_access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request_id = bind_context(actor="anonymous",
                                  request_id=request.headers.get("X-Request-ID"))
        request.state.session = None
        probe = getattr(request.app.state, "probe", None)
        try:
            if probe is not None and not probe.available.is_set() and \
                    not request.url.path.startswith("/static/"):
                raise DatabaseDown
            token = request.cookies.get(auth.COOKIE)
            session = None
            if token and not request.url.path.startswith(("/api/", "/static/")):
                session = await run_in_threadpool(
                    request.app.state.runtime.accounts.session, token)
            request.state.session = session
            if session:
                bind_context(actor=session.user.login, request_id=request_id)
            response = await call_next(request)
        except UNAVAILABLE as error:
            log.warning("database unavailable", error=type(error).__name__,
                        path=request.url.path)
            response = _unavailable(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers["X-Request-ID"] = request_id
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms}"
        route = request.scope.get("route")
        log.info("request", method=request.method, path=request.url.path,
                 route=getattr(route, "name", None), status=response.status_code,
                 duration_ms=elapsed_ms)
        return response

    @app.exception_handler(DomainError)
    def refused(request: Request, error: DomainError) -> Response:
        status = 404 if isinstance(error, InvoiceNotFound) else 409
        log.info("command refused", code=error.code, detail=error.detail)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"code": error.code, "detail": error.detail}, status_code=status)
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": in_french(error)}, status_code=status
        )

    @app.exception_handler(auth.LoginRequired)
    def login_required(request: Request, _: auth.LoginRequired) -> Response:
        return auth.login_redirect(request)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or error.status_code not in FRENCH_HTTP:
            return JSONResponse({"code": HTTP_CODES.get(error.status_code, "error"),
                                 "detail": str(error.detail)}, status_code=error.status_code,
                                headers=error.headers)
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": FRENCH_HTTP[error.status_code]},
            status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    def unreadable(_: Request, error: RequestValidationError) -> Response:
        fields = {".".join(str(part) for part in problem.get("loc", ())[1:]) or "body":
                  str(problem.get("msg", ""))[:200] for problem in error.errors()}
        log.info("request refused", code="invalid_request", fields=sorted(fields))
        return JSONResponse({"code": "invalid_request", "detail": "the request does not read",
                             "fields": fields}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> dict[str, object]:
        runtime = request.app.state.runtime
        return {"status": "ok", "facts": runtime.files.recorder.max_notification_id() or 0}

    return app
