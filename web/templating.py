"""Jinja2 templates (autoescaped) with French formats for amounts and dates."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.datastructures import URL
from starlette.types import ASGIApp

from projections import french

TEMPLATES_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=20_000)
def _path_for(app: ASGIApp, name: str, params: tuple[tuple[str, str], ...]) -> str:
    return str(app.url_path_for(name, **dict(params)))  # type: ignore[attr-defined]


@pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> URL:
    """A page's URL from its route name, relative to the site.

    Starlette's own walks every route of the app for each link; a worklist or a
    portfolio page has two links a row, and that walk was most of its rendering time.
    The same links come back page after page, so each is looked up once.
    """
    request = context["request"]
    path = _path_for(request.app, name, tuple(sorted((k, str(v)) for k, v in params.items())))
    return URL(request.scope.get("root_path", "") + path)


def build_templates() -> Jinja2Templates:
    """The template set, with filters `money`, `day` and `instant`, and a `url_for`
    giving site-relative URLs."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.autoescape = True
    templates.env.globals["url_for"] = url_for
    templates.env.filters["money"] = french.money
    templates.env.filters["day"] = french.day
    templates.env.filters["instant"] = french.instant
    templates.env.filters["percent"] = french.percent
    templates.env.filters["statut"] = french.status
    return templates
