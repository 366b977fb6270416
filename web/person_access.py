"""Réglages, « Droit d'accès » (supervisors and auditors): what relance holds on one person,
downloaded as JSON or PDF (`adapters.usecases.person_access`)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_EXPORT, Session
from adapters.usecases.person_access import NobodyAsked, Who, person_data, person_pdf
from web.auth import require_role
from web.dependencies import get_runtime
from web.downloads import content_disposition

router = APIRouter()
Reader = Annotated[Session, Depends(require_role(*CAN_EXPORT))]
Field = Annotated[str, Query(max_length=200)]


@router.get("/reglages/acces-personne", response_class=HTMLResponse, name="person_access")
def person_access(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                  session: Reader, email: Field = "", telephone: Field = "", nom: Field = "",
                  format: Annotated[str, Query(pattern="^(|json|pdf)$")] = "") -> Response:
    """The form; given a person and a format, the answer to download."""
    who = Who(email=email, phone=telephone, name=nom)
    if not format:
        return _page(request, who)
    try:
        data = person_data(runtime, who, session.user.login)
    except NobodyAsked:
        return _page(request, who, "Indiquez une adresse e-mail, un téléphone ou un nom.", 422)
    stem = "acces-" + "".join(c if c.isalnum() else "-" for c in (email or telephone or nom))
    if format == "pdf":
        return Response(person_pdf(data), media_type="application/pdf", headers={
            "Content-Disposition": content_disposition(stem[:80] + ".pdf")})
    return Response(json.dumps(data, ensure_ascii=False, indent=1),
                    media_type="application/json", headers={
                        "Content-Disposition": content_disposition(stem[:80] + ".json")})


def _page(request: Request, who: Who, error: str = "", status_code: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "person_access.html", {"who": who, "error": error}, status_code=status_code)
