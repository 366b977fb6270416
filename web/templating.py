"""Jinja2 templates (autoescaped) with French formats for amounts and dates."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from projections import french

TEMPLATES_DIR = Path(__file__).parent / "templates"


def build_templates() -> Jinja2Templates:
    """The template set, with filters `money`, `day` and `instant`."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.autoescape = True
    templates.env.filters["money"] = french.money
    templates.env.filters["day"] = french.day
    templates.env.filters["instant"] = french.instant
    templates.env.filters["percent"] = french.percent
    templates.env.filters["statut"] = french.status
    return templates
