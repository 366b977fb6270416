"""The web application: built by `create_app()`, wired by the bootstrap in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
import xstatic.pkg.bootstrap
from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from adapters.bootstrap import bootstrap
from adapters.infra.health import DatabaseProbe
from adapters.infra.logs import configure_logging
from adapters.infra.store import REQUEST_THREADS
from adapters.infra.throttle import LoginThrottle
from adapters.messages import in_french
from adapters.settings import Settings
from domain.errors import DomainError, InvoiceNotFound
from web import (
    accounts,
    api,
    api_debtors,
    attachments,
    auth,
    campaign,
    dashboard,
    debtors,
    docs,
    erasure,
    exports,
    files,
    imports,
    mail,
    owners,
    person_access,
    portal,
    search,
    team_settings,
    work,
)
from web.middleware import RequestContext
from web.templating import build_templates

log = structlog.get_logger("relance.web")
STATIC_DIR = Path(__file__).parent / "static"
BOOTSTRAP_DIR = Path(xstatic.pkg.bootstrap.BASE_DIR)
"""Bootstrap's CSS, as its XStatic package ships it: served from here, never a CDN."""

FRENCH_HTTP = {
    400: "La demande est mal formée ou trop volumineuse : rien n'a été enregistré.",
    413: "La demande est trop volumineuse : rien n'a été enregistré.",
    403: "Cette action n'est pas permise avec votre rôle, ou le formulaire a expiré : "
         "rechargez la page.",
    404: "Page introuvable.",
    405: "Cette page ne s'ouvre pas ainsi (le formulaire a peut-être déjà été envoyé) : "
         "revenez à la page précédente et rechargez-la.",
    401: "Connectez-vous pour ouvrir cette page.",
    429: "Trop de demandes : réessayez dans quelques instants.",
}
"""What a person reads for an HTTP error of a page; any other status reads `FRENCH_ERROR`."""
FRENCH_ERROR = ("Une erreur inattendue est survenue : rien n'a été enregistré. Réessayez ; "
                "si elle revient, signalez-la avec l'heure.")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 422: "invalid_request"}
"""The stable `code` of an API error answered by HTTP status."""


def _warm_up(app: FastAPI) -> None:
    """Compiles every template and reads the team's playbook once at start, so that the
    first person on each page after a start does not wait for it."""
    env = app.state.templates.env
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    app.state.runtime.files.playbook()


def _wants_json(request: Request) -> bool:
    """The API answers errors in JSON; every page, in French HTML."""
    return request.url.path.startswith("/api/") or not hasattr(request.app.state, "templates")


def _error_page(request: Request, message: str, status_code: int,
                headers: Mapping[str, str] | None = None) -> Response:
    """The French error page (with the headers the error carries, e.g. `Allow`); on the
    debtor's pages, the portal's own, which leads nowhere else."""
    if portal.is_portal_path(request.url.path):
        if status_code == 404:
            return portal.refusal(request, 404)
        return portal.error_page(request, message, status_code, dict(headers or {}))
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"message": message}, status_code=status_code,
        headers=dict(headers or {}))


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the app; the store is opened when it starts, not at import."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_format, settings.log_level or "INFO")
        to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        app.state.runtime = bootstrap(settings)
        if settings.projections == "embedded":
            app.state.runtime.start_following()
        app.state.templates = build_templates()
        store = app.state.runtime.store
        app.state.probe = DatabaseProbe(store.conninfo) if store.is_postgres else None
        if app.state.probe is not None:
            app.state.probe.start()
        app.state.login_throttle = LoginThrottle(app.state.runtime.views, app.state.runtime.clock)
        app.state.portal_throttle = portal.PortalThrottle(app.state.runtime.views,
                                                          app.state.runtime.clock)
        _warm_up(app)
        log.info("relance started", store=app.state.runtime.store.description)
        try:
            yield
        finally:
            if app.state.probe is not None:
                app.state.probe.stop()
            app.state.runtime.close()

    app = FastAPI(title="relance", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # made once, at the first request for it
            app.openapi_schema = api.with_bearer(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        # First of the routes: FastAPI walks them in order at each request, and the
        # included routers' ones at some cost each (115 µs of CPU to reach the last one).
        # Load balancers ask for this one every few seconds. Answered on the event loop,
        # as it is: nothing to wait for, nothing to validate.
        return JSONResponse({"status": "ok"})

    # The API's routers next: scripts post in bursts, and each request walks the routes
    # before its own (a note walked the attachments' first: 0.025 ms of CPU). A file's
    # read comes after the attachments': `/api/files/{number:ref}` would take
    # `/api/files/N/documents` (a number may hold a `/`), and so would the file pages'.
    app.include_router(api.router)
    app.include_router(attachments.router)
    app.include_router(api.file_reads)
    app.include_router(api_debtors.router)
    app.mount("/static/vendor/bootstrap", StaticFiles(directory=str(BOOTSTRAP_DIR)),
              name="bootstrap")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    docs.mount(app)
    app.include_router(portal.router, include_in_schema=False)  # the debtor's page
    app.include_router(auth.router, include_in_schema=False)  # pages, not the API
    app.include_router(accounts.router, include_in_schema=False)
    app.include_router(files.router, include_in_schema=False)
    app.include_router(work.router, include_in_schema=False)
    app.include_router(dashboard.router, include_in_schema=False)
    app.include_router(debtors.router, include_in_schema=False)
    app.include_router(owners.router, include_in_schema=False)
    app.include_router(person_access.router, include_in_schema=False)
    app.include_router(erasure.router, include_in_schema=False)
    app.include_router(team_settings.router, include_in_schema=False)
    app.include_router(campaign.router, include_in_schema=False)
    app.include_router(exports.router, include_in_schema=False)
    app.include_router(imports.router, include_in_schema=False)
    app.include_router(search.router, include_in_schema=False)
    app.include_router(mail.router, include_in_schema=False)

    app.add_middleware(RequestContext)
    # Outermost: the client's address and scheme, from the trusted proxies only.
    app.add_middleware(ProxyHeadersMiddleware,  # type: ignore[arg-type]
                       trusted_hosts=settings.forwarded_allow_ips)

    @app.exception_handler(DomainError)
    def refused(request: Request, error: DomainError) -> Response:
        status = 404 if isinstance(error, InvoiceNotFound) else 409
        log.info("command refused", code=error.code, detail=error.detail)
        if portal.is_portal_path(request.url.path):
            return _error_page(request, in_french(error), 404 if isinstance(
                error, portal.PortalRefused) else status)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"code": error.code, "detail": error.detail}, status_code=status)
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": in_french(error)}, status_code=status
        )

    @app.exception_handler(auth.LoginRequired)
    def login_required(request: Request, _: auth.LoginRequired) -> Response:
        return auth.login_redirect(request)

    @app.exception_handler(auth.PasswordChangeRequired)
    def password_change_required(request: Request, _: auth.PasswordChangeRequired) -> Response:
        return auth.password_change_redirect(request)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"code": HTTP_CODES.get(error.status_code, "error"),
                                 "detail": str(error.detail)}, status_code=error.status_code,
                                headers=error.headers)
        return _error_page(request, FRENCH_HTTP.get(error.status_code, FRENCH_ERROR),
                           error.status_code, error.headers)

    @app.exception_handler(Exception)
    def unexpected(request: Request, error: Exception) -> Response:
        # Logged here with its traceback; the server logs it again as it re-raises.
        log.exception("unexpected error", error=type(error).__name__)
        if _wants_json(request):
            return JSONResponse({"code": "error", "detail": "unexpected error; nothing was "
                                 "recorded"}, status_code=500)
        return _error_page(request, FRENCH_ERROR, 500)

    @app.exception_handler(RequestValidationError)
    def unreadable(request: Request, error: RequestValidationError) -> Response:
        fields = {".".join(str(part) for part in problem.get("loc", ())[1:]) or "body":
                  str(problem.get("msg", ""))[:200] for problem in error.errors()}
        log.info("request refused", code="invalid_request", fields=sorted(fields))
        if not _wants_json(request):
            return _error_page(request, "Certains champs ne se lisent pas (trop longs ou mal "
                               "formés) : rien n'a été enregistré.", 422)
        return JSONResponse({"code": "invalid_request", "detail": "the request does not read",
                             "fields": fields}, status_code=422)

    return app
