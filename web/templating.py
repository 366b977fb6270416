"""Jinja2 templates (autoescaped) with French formats for amounts and dates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.datastructures import URL

from projections import french
from web.urls import path_for

TEMPLATES_DIR = Path(__file__).parent / "templates"


@pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> URL:
    """A page's URL from its route name, relative to the site (see `web.urls`)."""
    return URL(path_for(context["request"], name, **params))


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
