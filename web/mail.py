"""Courrier: what debtors send back by e-mail, for the team to deal with.

`GET /courrier` lists the messages found for nobody (« courrier non rattaché »), each to
give to a debtor (« Rattacher »: recorded on the debtor's open files) or to set aside with
a reason (« Écarter »); the addresses our messages came back from (« adresses à
corriger »), each to clear once fixed; and the last messages read. Those who record act;
auditors read. `GET /courrier/ID/message.eml` hands a message back as it was received,
as a download, never as a page. The replies waiting for a person are listed on Ma
journée, the team board, the debtor's page and the file's (`web.mail_view`).

Messages are named in addresses by their record's id (32 hexadecimal digits): their key
(a Message-ID) holds `<`, `@`, `/`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_RECORD, Role, Session
from adapters.messages import in_french
from domain.errors import DomainError
from domain.mail import KINDS, STATES, UNATTACHED, IncomingMail, MailRefused
from projections.search import fold, search
from web.auth import check_csrf, require_role, require_user
from web.debtors import show_debtor
from web.dependencies import get_runtime
from web.downloads import content_disposition
from web.live import people_names
from web.mail_view import CLEARED
from web.middleware import UNAVAILABLE
from web.params import MAX_POSITION, whole_param
from web.urls import path_for

router = APIRouter()
log = structlog.get_logger("relance.mail")
CAN_SEE_MAIL = CAN_RECORD | {Role.AUDITOR}
"""Who opens « Courrier »: those who record act on it, auditors read it."""
Reader = Annotated[Session, Depends(require_role(*CAN_SEE_MAIL))]
Recorder = Annotated[Session, Depends(require_role(*CAN_RECORD))]
RECORD = re.compile("[0-9a-f]{32}")
UNATTACHED_SHOWN = 200
RECENT_SHOWN = 50
CANDIDATES = 6
"""Debtors named back when what was typed to attach a message matches several."""
DONE = {
    "rattache": "Message rattaché : il attend sur les dossiers ouverts du débiteur.",
    "ecarte": "Message écarté.",
    "adresse": CLEARED,
}
"""The success message after each action (`?fait=…`): never text from the address."""
NO_LONGER_WAITING = ("Ce message n'est plus dans le courrier non rattaché (rattaché ou écarté "
                     "entre-temps) : rien n'a été enregistré.")


# -- the pages ----------------------------------------------------------------------------

@router.get("/courrier", response_class=HTMLResponse, name="mail")
def mail_page(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
              session: Reader, apres: Annotated[str, Query()] = "",
              fait: Annotated[str, Query(max_length=40)] = "") -> Response:
    """Courrier non rattaché, adresses à corriger, derniers messages reçus; after an
    action, once the views show it, what was done."""
    fresh = runtime.wait_for_views(whole_param(apres, "apres", high=MAX_POSITION))
    return _page(request, runtime, session, done=DONE.get(fait, ""), updating=not fresh)


@router.get("/courrier/{record}/message.eml", name="mail_message",
            dependencies=[Depends(require_user)])
def mail_message(record: str, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """A message as it was received, its bytes unchanged: a download, never shown as a
    page."""
    mail = _mail_or_404(runtime, record)
    digest = mail.received["sha256"]
    content = runtime.blobs.get(digest)
    if content is None:
        raise HTTPException(404, "the message's bytes were not kept")
    if hashlib.sha256(content).hexdigest() != digest:
        log.warning("stored message altered", record=record)
        raise HTTPException(409, "the stored message no longer matches its digest")
    name = f"message-{mail.received_at:%Y%m%d-%H%M%S}-{record[:8]}.eml"
    return Response(content, media_type="message/rfc822", headers={
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.post("/courrier/{record}/rattacher", name="mail_attach")
def attach(request: Request, record: str, runtime: Annotated[Runtime, Depends(get_runtime)],
           session: Recorder, csrf: Annotated[str, Form(max_length=200)] = "",
           debiteur: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Gives an unmatched message to the debtor typed (its account, or its name when one
    debtor has it): recorded on each of its open files."""
    check_csrf(session, csrf)
    mail = _mail_or_404(runtime, record)
    account, problem = find_debtor(runtime, debiteur)
    numbers = runtime.reads.open_numbers(account) if account else []
    if account and not numbers:
        name = runtime.reads.debtor_names([account]).get(account, account)
        problem = (f"{name} n'a aucun dossier ouvert : le message ne peut pas lui être "
                   "rattaché.")
    if problem:
        return _refused(request, runtime, session, record, "debiteur", problem, debiteur)
    try:
        recorded = runtime.files.attach_mail(session.user.login, mail.key, account=account,
                                             numbers=numbers)
    except MailRefused:
        return _refused(request, runtime, session, record, "debiteur", NO_LONGER_WAITING,
                        debiteur)
    except DomainError as error:
        return _refused(request, runtime, session, record, "debiteur", in_french(error),
                        debiteur)
    log.info("mail attached", record=record, account=account, files=len(numbers))
    return _done(request, runtime, recorded.notification_id, "rattache")


@router.post("/courrier/{record}/ecarter", name="mail_discard")
def discard(request: Request, record: str, runtime: Annotated[Runtime, Depends(get_runtime)],
            session: Recorder, csrf: Annotated[str, Form(max_length=200)] = "",
            motif: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Sets an unmatched message aside, with the reason (required)."""
    check_csrf(session, csrf)
    mail = _mail_or_404(runtime, record)
    if not motif.strip():
        return _refused(request, runtime, session, record, "motif", "Indiquez pourquoi ce "
                        "message est écarté (publicité, pas pour nous…).", motif)
    try:
        recorded = runtime.files.discard_mail(session.user.login, mail.key, reason=motif)
    except MailRefused:
        return _refused(request, runtime, session, record, "motif", NO_LONGER_WAITING, motif)
    except DomainError as error:
        return _refused(request, runtime, session, record, "motif", in_french(error), motif)
    log.info("mail discarded", record=record)
    return _done(request, runtime, recorded.notification_id, "ecarte")


@router.post("/courrier/adresse-corrigee", name="failing_address_cleared")
def clear_address(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                  session: Recorder, csrf: Annotated[str, Form(max_length=200)] = "",
                  compte: Annotated[str, Form(max_length=200)] = "",
                  adresse: Annotated[str, Form(max_length=300)] = "",
                  motif: Annotated[str, Form(max_length=2000)] = "",
                  retour: Annotated[str, Form(max_length=20)] = "") -> Response:
    """Takes an address off « adresses à corriger » (fixed, or checked), with an optional
    reason; back to the debtor's page (`retour=debiteur`) or to « Courrier »."""
    check_csrf(session, csrf)
    to_debtor = retour == "debiteur"
    if not runtime.reads.debtor_names([compte]):
        if to_debtor:
            return show_debtor(request, runtime, session, compte)  # its French 404
        raise HTTPException(404, "no such debtor")
    try:
        recorded = runtime.files.clear_failing_address(session.user.login, compte,
                                                       email=adresse, reason=motif)
    except DomainError as error:
        problem = {"address": adresse, "message": in_french(error), "reason": motif}
        if to_debtor:
            return show_debtor(request, runtime, session, compte, status_code=422,
                               mail_problem=problem)
        return _page(request, runtime, session, failing_problem=problem, status_code=422)
    log.info("failing address cleared", account=compte)
    if to_debtor:
        runtime.wait_for_views(recorded.notification_id)
        target = path_for(request, "debtor_page", account=compte)
        return RedirectResponse(f"{target}?apres={recorded.notification_id or 0}"
                                "&fait=adresse", status_code=303)
    return _done(request, runtime, recorded.notification_id, "adresse")


# -- what the routes share ----------------------------------------------------------------

def find_debtor(runtime: Runtime, typed: str) -> tuple[str, str]:
    """The debtor typed to attach a message to (its account, or a name only one debtor
    matches, as the search box finds it), or the French problem."""
    typed = " ".join(typed.split())
    if not typed:
        return "", "Indiquez le débiteur : son compte ou son nom."
    if runtime.reads.debtor_names([typed]):
        return typed, ""
    found = search(runtime.views, typed, runtime.today(), CANDIDATES).debtors
    exact = [d for d in found if fold(d.name) == fold(typed) or fold(d.account) == fold(typed)]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0].account, ""
    if not found:
        return "", f"Aucun débiteur ne correspond à « {typed} » : indiquez son compte."
    named = ", ".join(f"{d.name} ({d.account})" for d in found[:CANDIDATES - 1])
    more = " …" if len(found) >= CANDIDATES else ""
    return "", (f"Plusieurs débiteurs correspondent à « {typed} » : {named}{more}. "
                "Indiquez son compte.")


def unattached_count(request: Request) -> int | None:
    """How many messages wait in « courrier non rattaché », for the navigation bar: asked
    again only when the mail read model moves (no query per page while it stands). None
    for an anonymous visitor, or while the database does not answer."""
    session = getattr(request.state, "session", None)
    if session is None or session.user.role not in CAN_SEE_MAIL:
        return None
    runtime: Runtime = request.app.state.runtime
    try:
        position = (runtime.follower.positions().get("mail", 0) if runtime.following
                    else runtime.views.position("mail"))
        with _COUNTED:
            counted: tuple[int, int] | None = getattr(request.app.state, "unattached", None)
        if counted is None or counted[0] != position:
            counted = (position, runtime.reads.count_unattached())
            with _COUNTED:
                request.app.state.unattached = counted
    except UNAVAILABLE:
        return None
    return counted[1]


_COUNTED = threading.Lock()
"""Guards each app's last count (`app.state.unattached`: position, count)."""


def _mail_or_404(runtime: Runtime, record: str) -> IncomingMail:
    """The message named in the address, or the French « Page introuvable »."""
    mail = runtime.files.mail_by_id(UUID(hex=record)) if RECORD.fullmatch(record) else None
    if mail is None:
        raise HTTPException(404, "no such message")
    return mail


def _done(request: Request, runtime: Runtime, notification_id: int | None,
          done: str) -> Response:
    """Back to « Courrier » once the views show the change, saying what was done."""
    runtime.wait_for_views(notification_id)
    return RedirectResponse(f"{path_for(request, 'mail')}?apres={notification_id or 0}"
                            f"&fait={done}", status_code=303)


def _refused(request: Request, runtime: Runtime, session: Session, record: str, field: str,
             message: str, typed: str) -> Response:
    """The page again, the refusal beside the message's form, what was typed kept."""
    return _page(request, runtime, session, problem={
        "record": record, "field": field, "message": message, "typed": typed},
        status_code=422)


def _page(request: Request, runtime: Runtime, session: Session, *, done: str = "",
          updating: bool = False, problem: dict[str, str] | None = None,
          failing_problem: dict[str, str] | None = None, status_code: int = 200
          ) -> Response:
    reads = runtime.reads
    unattached = reads.incoming(UNATTACHED, UNATTACHED_SHOWN)
    recent = reads.incoming(None, RECENT_SHOWN)
    failing = reads.failing_addresses()
    return request.app.state.templates.TemplateResponse(
        request, "mail.html",
        {"unattached": unattached, "unattached_total": reads.count_unattached()
         if len(unattached) >= UNATTACHED_SHOWN else len(unattached),
         "failing": failing, "recent": recent,
         "debtor_names": reads.debtor_names({r["account"] for r in recent if r["account"]}),
         "kinds": KINDS, "states": STATES, "names": people_names(runtime),
         "can_act": session.user.role in CAN_RECORD, "done": done, "updating": updating,
         "problem": problem or {}, "failing_problem": failing_problem or {},
         "problem_listed": bool(problem) and any(r["id"] == problem["record"]
                                                 for r in unattached)},
        status_code=status_code)
