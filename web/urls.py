"""Paths of the site: invoice numbers and debtor accounts as one path segment each, and
redirects that never depend on the `Host` header.

French invoice numbers often hold a `/` (`FA/2026/0042`), and a number may hold any
character registration accepts (`#`, `?`, `%`, spaces, quotes, non-Latin letters).
Route parameters declared `{number:ref}` match everything up to the route's own suffix,
and links put the value in the path percent-encoded, `/` included, so the server reads
back exactly what was registered.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp


class ReferenceConvertor(Convertor[str]):
    """An invoice number or a debtor account: any text, `/` included."""

    regex = ".+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return quote(str(value), safe="")


register_url_convertor("ref", ReferenceConvertor())


@lru_cache(maxsize=20_000)
def _path_for(app: ASGIApp, name: str, params: tuple[tuple[str, str], ...]) -> str:
    return str(app.url_path_for(name, **dict(params)))  # type: ignore[attr-defined]


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """A page's path from its route name, relative to the site (never an absolute URL
    built from the `Host` header the client sent).

    Starlette's own `url_for` walks every route of the app for each link; a worklist
    has two links a row, and the same links come back page after page, so each is
    looked up once.
    """
    path = _path_for(request.app, name, tuple(sorted((k, str(v)) for k, v in params.items())))
    return request.scope.get("root_path", "") + path
