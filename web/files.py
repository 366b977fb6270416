"""Pages of a file (dossier): find it by invoice number, read its whole history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from domain.invoice import Invoice
from projections.history import history_row

router = APIRouter()


def get_runtime(request: Request) -> Runtime:
    """The running relance, built by the app's lifespan."""
    return request.app.state.runtime


def get_invoice_or_404(number: str, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Invoice:
    """The file of an invoice number; InvoiceNotFound becomes a 404 page."""
    return runtime.files.file(number)


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
def file_page(request: Request, invoice: Annotated[Invoice, Depends(get_invoice_or_404)],
              runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """A file: its header and its full history, in order."""
    today = runtime.today()
    case = invoice.case
    rows = [history_row(entry) for entry in invoice.entries]
    return request.app.state.templates.TemplateResponse(
        request, "file.html",
        {"case": case, "status": case.status(today), "rows": rows,
         "days_late": case.days_past_due(today)},
    )
