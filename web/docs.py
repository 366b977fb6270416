"""The API's documentation, for logged-in people: the OpenAPI schema and Swagger UI.

Swagger UI's script and stylesheet come from a package (fastapi-offline ships them),
served from this site, and start from a script file of ours: the pages' CSP allows no
inline script and no other origin. The schema is given to a session or to a bearer
token (scripts that generate their client from it).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from web.auth import LoginRequired, current_session
from web.middleware import CSP, bearer_user

ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_CSP = CSP.replace("default-src 'self'", "default-src 'self'; img-src 'self' data:; "
                       "style-src 'self' 'unsafe-inline'")
"""Swagger UI sets inline styles and draws icons from data: URLs; scripts stay ours."""
PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>API relance</title>
<link rel="icon" href="{root}/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css">
</head><body><div id="swagger-ui" data-schema="{root}/openapi.json"></div>
<script src="{root}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{root}/static/docs.js"></script></body></html>
"""


def mount(app: FastAPI) -> None:
    """Adds /docs, its assets and /openapi.json to the app."""
    app.mount("/docs/assets", StaticFiles(directory=str(ASSETS)), name="docs_assets")

    @app.get("/docs", include_in_schema=False, name="docs")
    def docs_page(request: Request) -> Response:
        if current_session(request) is None:
            raise LoginRequired
        root = request.scope.get("root_path", "")
        return HTMLResponse(PAGE.format(root=root),
                            headers={"Content-Security-Policy": DOCS_CSP})

    @app.get("/openapi.json", include_in_schema=False, name="openapi")
    async def schema(request: Request) -> Response:
        if current_session(request) is None and await bearer_user(request) is None:
            return JSONResponse({"code": "unauthorized", "detail": "log in, or send a bearer "
                                 "token"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse(request.app.openapi())
