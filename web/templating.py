"""Jinja2 templates (autoescaped) with French formats for amounts and dates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.datastructures import URL

from adapters.infra.accounts import CAN_EXPORT, CAN_MANAGE_TEAM, CAN_RECORD, CAN_SEE_DASHBOARD
from adapters.usecases import fact_forms
from projections import french, history
from web.campaign import waiting_count
from web.live import people_names
from web.mail import unattached_count
from web.urls import path_for

TEMPLATES_DIR = Path(__file__).parent / "templates"


@pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> URL:
    """A page's URL from its route name, relative to the site (see `web.urls`)."""
    return URL(path_for(context["request"], name, **params))


MAY = {"record": CAN_RECORD, "manage_team": CAN_MANAGE_TEAM, "export": CAN_EXPORT,
       "see_dashboard": CAN_SEE_DASHBOARD}


def may(session: Any, what: str) -> bool:
    """Whether the session's role may do `what` ('record', 'manage_team', 'export',
    'see_dashboard')."""
    return session is not None and session.user.role in MAY[what]


@pass_context
def person(context: dict[str, Any], login: str | None) -> str:
    """A person as pages name them: their name, from their login (read once per page);
    a login that is no account (« relance » for the daily run) stays as it is."""
    if not login:
        return ""
    request = context["request"]
    names = getattr(request.state, "people_names", None)
    if names is None:
        names = people_names(request.app.state.runtime)
        names["relance"] = "envoi automatique"
        request.state.people_names = names
    return str(names.get(login, login))


def build_templates() -> Jinja2Templates:
    """The template set, with filters `money`, `day` and `instant`, and a `url_for`
    giving site-relative URLs."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.autoescape = True
    templates.env.globals["url_for"] = url_for
    templates.env.filters["person"] = person
    templates.env.filters["money"] = french.money
    templates.env.filters["day"] = french.day
    templates.env.filters["instant"] = french.instant
    templates.env.filters["percent"] = french.percent
    templates.env.filters["statut"] = french.status
    templates.env.filters["mot"] = lambda value, vocabulary: french.word(vocabulary, value)
    templates.env.filters["fait"] = history.label
    templates.env.globals["options"] = fact_forms.options
    templates.env.globals["may"] = may
    templates.env.globals["waiting_count"] = waiting_count
    templates.env.globals["unattached_count"] = unattached_count
    return templates
