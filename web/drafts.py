"""No lost work: a page's form sent after its session expired is kept, the person logs in
again and comes back to the page they were on with the form re-filled, to check and send.

The middleware hands such a POST here before anything else reads it (`keep_expired_form`);
the page the form was on takes its draft back when shown (`take_draft`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.types import Receive

from adapters.infra.drafts import LIFETIME, Drafts, kept_fields
from web import auth
from web.urls import path_for

DRAFT_COOKIE = "relance_saisie"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_BODY = 512 * 1024
"""As a page's form may be (`web.middleware.FORM_BODY`); a bigger one is not kept."""
FORM_OF_A_PAGE = re.compile(r"^(/(?:dossiers|debiteurs)/.+)/(appels|notes|faits/[^/]+|"
                            r"documents/[^/]+)$")
"""A form's action under the page it belongs to (when the browser did not say the page)."""


@dataclass(frozen=True)
class Restored:
    """What a page shows of a kept form: its fields, and which of its forms to open."""

    values: dict[str, str | list[str]]
    open_form: str = ""
    open_document: str = ""


def drafts(request: Request) -> Drafts:
    """The kept forms, opened at first use."""
    state = request.app.state
    if getattr(state, "drafts", None) is None:
        state.drafts = Drafts(state.runtime.views, state.runtime.clock)
    return state.drafts


def page_of(request: Request) -> str:
    """The page a form was sent from: the browser's `Referer` on this site, else the page
    its action belongs to, else the start page."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/") \
            and not referer.path.startswith(("//", path_for(request, "login"))):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    raw = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    found = FORM_OF_A_PAGE.match(raw)
    return found.group(1) if found else "/"


async def _body(receive: Receive) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body", False):
            return body


async def keep_expired_form(request: Request, receive: Receive) -> Response:
    """A page's POST without a live session: its form kept (when it is a plain form of a
    reasonable size), then the login page, saying so, and back to the page afterwards."""
    page = page_of(request)
    kept, token = False, None
    declared = request.headers.get("Content-Length", "")
    # Only a form that says its size, and a page's size at most: nothing else is read.
    if request.headers.get("Content-Type", "").split(";")[0].strip() == FORM_TYPE and \
            declared.isdigit() and int(declared) <= MAX_BODY:
        body = await _body(receive)
        fields = kept_fields(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                             ) if body is not None else None
        if fields:
            stale = request.cookies.get(auth.cookie_name(request), "")
            token = await run_in_threadpool(drafts(request).keep, stale,
                                            unquote(urlsplit(page).path),
                                            request.url.path, fields)
            kept = token is not None
    target = f"{path_for(request, 'login')}?suite={quote(page, safe='/')}" + (
        "&saisie=1" if kept else "&expiree=1")
    response = RedirectResponse(target, status_code=303)
    if token is not None:
        response.set_cookie(auth.cookie_name(request, DRAFT_COOKIE), token, httponly=True,
                            samesite="lax", secure=auth.secure_cookies(request), path="/",
                            max_age=int(LIFETIME.total_seconds()))
    return response


def take_draft(request: Request) -> Restored | None:
    """The form kept for this page and this person, if any (shown once)."""
    token = request.cookies.get(auth.cookie_name(request, DRAFT_COOKIE), "")
    session = auth.current_session(request)
    if not token or session is None:
        return None
    draft = drafts(request).take(token, session.user.login, request.url.path)
    if draft is None:
        return None
    action = draft.action
    form = action.rpartition("/faits/")[2] if "/faits/" in action else \
        "note" if action.endswith("/notes") else ""
    document = action.rpartition("/documents/")[2] if "/documents/" in action else ""
    return Restored(dict(draft.fields), open_form=form, open_document=document)
