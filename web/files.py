"""Pages of a file (dossier): find it by invoice number, read its whole history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from domain.errors import InvoiceNotFound
from domain.penalties import penalties
from domain.prescription import prescription

router = APIRouter()


def get_runtime(request: Request) -> Runtime:
    """The running relance, built by the app's lifespan."""
    return request.app.state.runtime


@router.get("/", response_class=HTMLResponse, name="home")
def home(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """The start page: find a file by its invoice number."""
    head = runtime.files.recorder.max_notification_id() or 0
    return request.app.state.templates.TemplateResponse(
        request, "home.html", {"facts": head, "store": runtime.store.description}
    )


@router.get("/dossiers", name="find_file")
def find_file(request: Request, numero: Annotated[str, Query(max_length=100)] = "") -> Response:
    """Sends the search box to the file's page."""
    number = numero.strip()
    if not number:
        return RedirectResponse(request.url_for("home"), status_code=303)
    return RedirectResponse(request.url_for("file_page", number=number), status_code=303)


@router.get("/dossiers/{number}", response_class=HTMLResponse, name="file_page")
def file_page(request: Request, number: str, runtime: Annotated[Runtime, Depends(get_runtime)],
              apres: Annotated[int | None, Query(ge=0)] = None) -> Response:
    """A file from the read models: its header and full history, in order.

    `apres` is the log position of a write just made: the page waits (briefly) until the
    views show it, and says so if they are still catching up.
    """
    fresh = runtime.wait_for_views(apres)
    today = runtime.today()
    line = runtime.reads.case(number, today)
    if line is None:
        fresh = runtime.wait_for_views(runtime.files.recorder.max_notification_id())
        line = runtime.reads.case(number, today)
    if line is None:
        raise InvoiceNotFound(f"no file for invoice {number}", number=number)
    # The law's figures need every payment's date: they are computed from the file's facts.
    folded = runtime.files.case(number)
    return request.app.state.templates.TemplateResponse(
        request, "file.html",
        {"case": line, "rows": runtime.reads.history(number), "updating": not fresh,
         "owed": penalties(folded, today, runtime.law_rates,
                           runtime.files.penalty_rate(number)),
         "prescription": prescription(folded)},
    )
