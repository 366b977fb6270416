"""Search from every page: debtors, files and people, by a part of a number or a name.

The header's box sends `q` here: the page lists what matches, group by group (an exact
invoice number opens its file at once). While one types, the box's script asks
`/recherche/suggestions` for the same results as a small list to pick from.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from projections.search import MIN_LENGTH, SHOWN, Found, search
from web.auth import require_user
from web.dependencies import get_runtime
from web.urls import path_for

router = APIRouter()
MAX_TYPED = 200
"""Longer than any name or number: more is cut, never refused."""
PAGE_SHOWN = 50
"""Matches per group on the search page (the list under the box shows `SHOWN`)."""


def _found(runtime: Runtime, q: str, shown: int) -> Found:
    return search(runtime.views, q[:MAX_TYPED], runtime.today(), shown)


@router.get("/recherche", response_class=HTMLResponse, name="search",
            dependencies=[Depends(require_user)])
def search_page(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                q: Annotated[str, Query(max_length=10_000)] = "") -> Response:
    """The search page: what matches `q`; the file itself when `q` is its exact number."""
    found = _found(runtime, q, PAGE_SHOWN)
    number = found.exact_file()
    if number is not None:
        return RedirectResponse(path_for(request, "file_page", number=number), status_code=303)
    return request.app.state.templates.TemplateResponse(
        request, "search.html", {"found": found, "q": q[:MAX_TYPED].strip(),
                                 "min_length": MIN_LENGTH})


@router.get("/recherche/suggestions", response_class=HTMLResponse, name="search_suggestions",
            dependencies=[Depends(require_user)])
def suggestions(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                q: Annotated[str, Query(max_length=10_000)] = "") -> Response:
    """The matches as a list of links for the box's script (a fragment, not a page)."""
    return request.app.state.templates.TemplateResponse(
        request, "_search_results.html", {"found": _found(runtime, q, SHOWN), "listbox": True,
                                          "q": q[:MAX_TYPED].strip()})
