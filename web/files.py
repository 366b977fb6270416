"""Pages of a file (dossier): find it by invoice number, read its whole history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Session
from adapters.infra.documents import DOCUMENTS, DocumentUnavailable, WordingBroken
from adapters.messages import in_french
from adapters.parsing import parse_instant
from adapters.usecases.attachments import UPLOAD_KINDS, document_lines
from adapters.usecases.debtor_letters import CHASED, due_numbers
from adapters.usecases.fact_forms import (
    BY_KIND,
    CHASES,
    FORMS,
    may_use,
    read,
    record,
    unknown_accounts,
)
from adapters.usecases.sending import (
    UnknownRecipient,
    known_contacts,
    preview,
    send_by_email,
    step_reference,
)
from domain.debtors import SameDayContact
from domain.errors import DomainError, InvoiceNotFound
from domain.kinds import Form as FactForm
from domain.penalties import penalties
from domain.phases import ENDED
from domain.prescription import prescription
from domain.values import paris_day
from projections import french
from projections.case_view import CaseLine, case_row
from projections.history import history_row
from projections.queries import DebtorView
from web import file_view
from web.auth import check_csrf, require_role, require_user
from web.dependencies import get_runtime
from web.downloads import content_disposition
from web.drafts import take_draft
from web.forms import OUTCOMES, CallForm
from web.live import people_names
from web.params import MAX_POSITION, whole_param
from web.urls import path_for
from web.work import PORTFOLIO_FIELDS, day_page, portfolio_page, team

router = APIRouter()
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")
DOCUMENT_TITLES = {name: french.label("document", name) for name in DOCUMENTS}
WHOLE_DEBTOR = ("relance", "mise-en-demeure")
"""Forms of a letter that covers all the debtor's due invoices when « toutes » is ticked."""


@router.get("/", response_class=HTMLResponse, name="home",
            dependencies=[Depends(require_user)])
def home(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """The start page, by role: Ma journée for an agent, the team board for a supervisor
    or an administrator, the portfolio for whoever records nothing (the header's search
    box finds any file from there)."""
    session: Session = request.state.session
    if session.user.role in CAN_MANAGE_TEAM:
        return team(request, runtime, session)
    if session.user.role in CAN_RECORD:
        return day_page(request, runtime, session, runtime.today())
    return portfolio_page(request, runtime, session, dict.fromkeys(PORTFOLIO_FIELDS, ""))


@router.get("/dossiers", name="find_file", dependencies=[Depends(require_user)])
def find_file(request: Request, numero: Annotated[str, Query(max_length=100)] = "") -> Response:
    """Sends the search box to the file's page."""
    number = numero.strip()
    if not number:
        return RedirectResponse(path_for(request, "home"), status_code=303)
    return RedirectResponse(path_for(request, "file_page", number=number), status_code=303)


@router.get("/dossiers/{number:ref}/documents/{template}", response_class=HTMLResponse,
            name="document_preview", dependencies=[Depends(require_user)])
def document_preview(request: Request, number: str, template: str,
                     runtime: Annotated[Runtime, Depends(get_runtime)],
                     format: Annotated[str, Query(pattern="^(html|pdf)$")] = "html",
                     seule: bool = False) -> Response:
    """A document as it would go out today (HTML, or the printable PDF); nothing is sent.
    A debtor's letter covers all its due invoices, unless `seule` (this invoice alone)."""
    session: Session = request.state.session
    try:
        document = preview(runtime, number, template, session.user.name,
                           numbers=[] if seule else None)
    except WordingBroken as error:
        return _wording_broken(request, error)
    except DocumentUnavailable as error:
        raise HTTPException(404, str(error)) from None
    if format == "pdf":
        return Response(document.pdf(), media_type="application/pdf", headers={
            "Content-Disposition": content_disposition(f"{number}-{template}.pdf",
                                                       inline=True)})
    # The letter's own layout is inline CSS; nothing else may load, run, post or navigate.
    return Response(document.html, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": PREVIEW_CSP})


def _wording_broken(request: Request, error: WordingBroken) -> Response:
    """A team wording that does not render: said in French, nothing sent."""
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"message": "Ce document ne peut pas être produit avec le modèle "
                                f"de l'équipe : {error.french} Corrigez-le dans Réglages."},
        status_code=409)


# Declared after every longer route of a file: `{number:ref}` takes any text, `/` included.
@router.get("/dossiers/{number:ref}", response_class=HTMLResponse, name="file_page",
            dependencies=[Depends(require_user)])
def file_page(request: Request, number: str, runtime: Annotated[Runtime, Depends(get_runtime)],
              apres: Annotated[str, Query()] = "",
              tel_quel: Annotated[str, Query(max_length=40)] = "",
              fait: Annotated[str, Query(max_length=40)] = "",
              suite: Annotated[str, Query(max_length=40)] = "") -> Response:
    """A file for the agent about to call: its header (debtor, person to call, amounts,
    next action, today's contacts), the debtor's replies waiting, the call form, the
    history newest first by month, the other actions, then the penalties and documents.

    `apres` is the log position of a write just made: the page waits (briefly) until the
    views show it, and says so if they are still catching up; `fait` names the action just
    done, said in French at the top (`DONE`) with the next file of the day; `suite`, the
    form a reply just handled calls for (`file_view.AFTER_REPLY`), opened.
    """
    if tel_quel:
        return _file_as_it_stood(request, runtime, number, tel_quel)
    kept = take_draft(request)  # a form sent once the session had expired: shown re-filled
    if kept is not None:
        return _file_page(request, runtime, number, None, values=kept.values,
                          open_form=kept.open_form, open_document=kept.open_document,
                          draft_kept=True)
    then = suite if suite in file_view.NEXT_AFTER_REPLY else ""
    return _file_page(request, runtime, number,
                      whole_param(apres, "apres", high=MAX_POSITION), done=fait,
                      open_form="" if then == "appel" else then, then=then)


def _show_fact(request: Request, number: str, notification_id: int | None,
               done: str = "", then: str = "") -> Response:
    """After a POST: back to the file, which waits until the views show the new fact and
    says what was done (a key of `DONE` or `FAILED`), and opens the form it calls for
    (`then`, a key of `file_view.NEXT_AFTER_REPLY`)."""
    target = path_for(request, "file_page", number=number)
    return RedirectResponse(f"{target}?apres={notification_id or 0}"
                            + (f"&fait={done}" if done else "")
                            + (f"&suite={then}#{'appel' if then == 'appel' else 'form-' + then}"
                               if then else ""), status_code=303)


def _file_as_it_stood(request: Request, runtime: Runtime, number: str, text: str) -> Response:
    """The file as we knew it at an instant: its facts recorded by then, read-only."""
    try:
        instant = parse_instant(text)
    except ValueError:
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": "Date et heure invalides : par exemple "
                                    "01/12/2026 12:21 (heure de Paris)."},
            status_code=422)
    invoice = runtime.files.file_as_recorded(number, instant)
    if invoice is None:
        return request.app.state.templates.TemplateResponse(
            request, "error.html",
            {"message": f"Aucun fait n'était encore enregistré le {text.strip()}."},
            status_code=404)
    day = paris_day(instant)
    line = CaseLine(case_row(invoice.id.hex, invoice.case, invoice.version,
                             invoice.modified_on), day)
    return request.app.state.templates.TemplateResponse(
        request, "file.html",
        {"case": line,
         "months": file_view.by_month([history_row(e) for e in invoice.entries], day),
         "updating": False,
         "owed": penalties(invoice.case, day, runtime.law_rates,
                           runtime.files.penalty_rate(number)),
         "prescription": prescription(invoice.case), "errors": {}, "values": {},
         "form_key": "", "outcomes": OUTCOMES, "fact_forms": (), "open_form": "",
         "documents": {}, "can_record": False, "as_of": instant, "as_of_typed": text.strip(),
         "attached": document_lines(invoice.case), "names": people_names(runtime)})


def _file_page(request: Request, runtime: Runtime, number: str, apres: int | None,
               errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
               status_code: int = 200, open_form: str = "",
               open_document: str = "", done: str = "", draft_kept: bool = False,
               then: str = "") -> Response:
    """The file page; its file, its debtor's record and the playbook are read once."""
    fresh = runtime.wait_for_views(apres)
    with runtime.files.reading_once():
        return _file_page_read(request, runtime, number, fresh, errors, values, status_code,
                               open_form, open_document, done, draft_kept, then)


def _file_page_read(request: Request, runtime: Runtime, number: str, fresh: bool,
                    errors: dict[str, str] | None, values: dict[str, Any] | None,
                    status_code: int, open_form: str, open_document: str, done: str,
                    draft_kept: bool, then: str = "") -> Response:
    today = runtime.today()
    line = runtime.reads.case(number, today)
    if line is None:
        fresh = runtime.wait_for_views(runtime.files.recorder.max_notification_id())
        line = runtime.reads.case(number, today)
    if line is None:
        raise InvoiceNotFound(f"no file for invoice {number}", number=number)
    session: Session = request.state.session
    can_record = session.user.role in CAN_RECORD
    # The law's figures need every payment's date: they are computed from the file's facts.
    folded = runtime.files.case(number)
    debtor = runtime.reads.debtor_at_hand(line.debtor_account, line.debtor_name, today)
    live = runtime.claims.live()
    claims = {claim.account: claim for claim in live}
    open_files, due_others = _debtors_files(line, debtor)
    person = file_view.person_to_call(folded, debtor)
    if then and values is None and open_form == then:
        values = file_view.after_reply(runtime.files.history(number), then)
    call_typed = not open_form and not open_document and "_attachment" not in (errors or {})
    call_values = values if values is not None and call_typed else {
        "contact_name": person.name, "contact_function": person.function,
        "contact_phone": person.phone, "contact_email": person.email}
    return request.app.state.templates.TemplateResponse(
        request, "file.html",
        {"case": line, "months": file_view.by_month(runtime.reads.history(number), today),
         "updating": not fresh,
         "owed": penalties(folded, today, runtime.law_rates,
                           runtime.files.penalty_rate(number, case=folded)),
         "prescription": prescription(folded), "errors": errors or {},
         "values": values or {}, "call_values": call_values,
         "call_errors": (errors or {}) if call_typed else {},
         "form_key": uuid.uuid4().hex, "outcomes": OUTCOMES,
         "fact_forms": [f for f in FORMS if f.slug != file_view.REPLY_FORM
                        and may_use(f, session.user.role, runtime.settings.agents_may_close)],
         "replies": file_view.replies_waiting(runtime, number, folded),
         "reply_outcomes": file_view.reply_outcomes(),
         "then": file_view.NEXT_AFTER_REPLY.get(then, "") if done else "",
         "open_form": open_form, "documents": DOCUMENT_TITLES,
         "open_document": open_document, "call_files": open_files,
         "due_others": due_others, "whole_debtor": WHOLE_DEBTOR, "same_day_forms": CHASES,
         "debtor_owner": debtor.owner,
         "contacts": known_contacts(runtime, number, folded, debtor) if can_record else [],
         "person": person, "next_step": file_view.next_step(runtime, line, today,
                                          len(folded.replies_waiting)),
         "others_today": file_view.others_today(debtor, session.user.login),
         "claim": claims.get(line.debtor_account),
         "next_file": file_view.next_file(runtime, session, line.debtor_account, today, live)
         if can_record else None,
         "done": file_view.DONE.get(done, ""), "failed": file_view.FAILED.get(done, ""),
         "names": people_names(runtime),
         "attached": document_lines(folded), "attachment_kinds": UPLOAD_KINDS,
         "can_record": can_record, "draft_kept": draft_kept},
        status_code=status_code,
    )


def _debtors_files(line: CaseLine, debtor: DebtorView | None
                   ) -> tuple[list[CaseLine], list[str]]:
    """The debtor's open files for the call form (this one first, all ticked), and its other
    invoices that its letters claim today (`debtor_letters.CHASED`), oldest due first."""
    others = sorted((f for f in (debtor.files if debtor else []) if f.number != line.number),
                    key=lambda f: (f.due_on, f.number))
    return ([line, *(f for f in others if f.phase not in ENDED)],
            [f.number for f in others if f.status in CHASED])


@router.post("/dossiers/{number:ref}/j-appelle", name="claim_file")
def claim_file(request: Request, number: str, runtime: Annotated[Runtime, Depends(get_runtime)],
               session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
               csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """« J'appelle » from the file: tells the team its debtor is being called, for 15
    minutes, and comes back to the file."""
    check_csrf(session, csrf)
    line = runtime.reads.case(number, runtime.today())
    if line is None:
        raise InvoiceNotFound(f"no file for invoice {number}", number=number)
    runtime.claims.claim(line.debtor_account, session.user.login)
    return RedirectResponse(path_for(request, "file_page", number=number), status_code=303)


@router.post("/dossiers/{number:ref}/appels", name="log_call")
def log_call(request: Request, number: str, runtime: Annotated[Runtime, Depends(get_runtime)],
             session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
             form: Annotated[CallForm, Form()]) -> Response:
    """Logs one call about the debtor's invoices ticked (this one if none were offered), with
    its promise and callback. A second contact with the debtor today, after somebody
    else's, is refused with who and when until its reason is given."""
    check_csrf(session, form.csrf)
    values = form.model_dump()
    errors, parsed = form.parse()
    problem, numbers = form.numbers(number)
    if problem:
        errors["numeros"] = problem
    if errors:
        return _file_page(request, runtime, number, None, errors=errors, values=values,
                          status_code=422)
    try:
        recorded = runtime.files.log_call(
            session.user.login, numbers, **parsed,
            scenario_step=step_reference(runtime, number, call=True),
            idempotency_key=f"form:{form.cle}" if form.cle else None,
            same_day_reason=form.same_day_reason)
    except SameDayContact as error:
        return _file_page(request, runtime, number, None,
                          errors={"same_day_reason": in_french(error, runtime.today())},
                          values=values, status_code=422)
    except DomainError as error:
        field = {"promise_before_contact": "promised_on", "callback_in_the_past": "callback_on",
                 "invalid_amount": "promised_amount"}.get(error.code, "summary")
        return _file_page(request, runtime, number, None, errors={field: in_french(error)},
                          values=values, status_code=422)
    if form.retour == "debiteur":
        target = path_for(request, "debtor_page", account=runtime.files.case(number).debtor.account)
        return RedirectResponse(f"{target}?apres={recorded.notification_id or 0}",
                                status_code=303)
    return _show_fact(request, number, recorded.notification_id, "appel")


@router.post("/dossiers/{number:ref}/faits/{kind}", name="record_fact")
async def record_fact(request: Request, number: str, kind: str,
                      runtime: Annotated[Runtime, Depends(get_runtime)],
                      session: Annotated[Session, Depends(require_role(*CAN_RECORD))]
                      ) -> Response:
    """Records any fact of the file from its form (see adapters/usecases/fact_forms.py)."""
    form = BY_KIND.get(kind)
    if form is None:
        raise HTTPException(404, "no such form")
    if not may_use(form, session.user.role, runtime.settings.agents_may_close):
        raise HTTPException(403, "writing off, closing or handing over a file is for "
                                 "supervisors")
    received = await request.form(max_fields=50, max_files=0)
    values = {k: str(v)[:20_000] for k, v in received.items()}
    check_csrf(session, values.get("csrf", ""))
    return await run_in_threadpool(_record_fact, request, runtime, session, number, form,
                                   values)


def _record_fact(request: Request, runtime: Runtime, session: Session, number: str,
                 form: FactForm, values: dict[str, str]) -> Response:
    errors, parsed = read(form, values)
    errors.update(unknown_accounts(form, parsed, runtime.accounts.is_recorder))
    if errors:
        return _file_page(request, runtime, number, None, errors=errors, values=values,
                          status_code=422, open_form=form.slug)
    key = values.get("cle")
    also = due_numbers(runtime, number) if form.slug in WHOLE_DEBTOR and values.get("toutes") \
        else []
    try:
        recorded = record(runtime.files, session.user.login, number, form, parsed,
                          f"form:{key}" if key else None, also_about=also,
                          same_day_reason=values.get("same_day_reason", ""))
    except SameDayContact as error:
        return _file_page(request, runtime, number, None,
                          errors={"_form": in_french(error, runtime.today()), "_same_day": "1"},
                          values=values, status_code=422, open_form=form.slug)
    except DomainError as error:
        if isinstance(error, InvoiceNotFound):
            raise
        return _file_page(request, runtime, number, None,
                          errors={"_form": in_french(error)}, values=values,
                          status_code=422, open_form=form.slug)
    then = file_view.AFTER_REPLY.get(parsed.get("outcome") or "", "") \
        if form.slug == file_view.REPLY_FORM else ""
    return _show_fact(request, number, recorded.notification_id, form.slug, then)


@router.post("/dossiers/{number:ref}/documents/{template}", name="document_send")
def document_send(request: Request, number: str, template: str,
                  runtime: Annotated[Runtime, Depends(get_runtime)],
                  session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
                  csrf: Annotated[str, Form(max_length=200)] = "",
                  destinataire: Annotated[str, Form(max_length=200)] = "",
                  seule: Annotated[str, Form(max_length=1)] = "",
                  motif: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Sends a document by email, to the usual person or a chosen known contact, for all
    the debtor's due invoices (a debtor's letter) unless `seule`; the file then shows it
    sent, or the failed attempt. A reminder that would be a second contact with the debtor
    today, after somebody else's, is refused with who and when until `motif` says why."""
    check_csrf(session, csrf)
    try:
        sent = send_by_email(runtime, number, template, session.user.login, recipient=destinataire,
                      numbers=[] if seule else None, same_day_reason=motif)
    except SameDayContact as error:
        return _file_page(request, runtime, number, None,
                          errors={"_document": in_french(error, runtime.today())},
                          values={"motif": motif, "seule": seule, "destinataire": destinataire},
                          status_code=422, open_document=template)
    except WordingBroken as error:
        return _wording_broken(request, error)
    except UnknownRecipient:
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": "Ce destinataire n'est pas un contact connu de "
                                    "ce débiteur."}, status_code=422)
    except DocumentUnavailable as error:
        raise HTTPException(404, str(error)) from None
    head = runtime.files.recorder.max_notification_id() or 0
    return _show_fact(request, number, head, "envoi" if sent.ok else "envoi-echec")


@router.post("/dossiers/{number:ref}/notes", name="add_note")
def add_note(request: Request, number: str, runtime: Annotated[Runtime, Depends(get_runtime)],
             session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
             text: Annotated[str, Form(max_length=20_000)] = "",
             csrf: Annotated[str, Form(max_length=200)] = "",
             cle: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Adds a note; a form sent twice records it once."""
    check_csrf(session, csrf)
    try:
        recorded = runtime.files.add_note(session.user.login, number, text=text,
                                          idempotency_key=f"form:{cle}" if cle else None)
    except DomainError as error:
        if isinstance(error, InvoiceNotFound):
            raise
        return _file_page(request, runtime, number, None, errors={"text": in_french(error)},
                          values={"text": text}, status_code=422, open_form="note")
    return _show_fact(request, number, recorded.notification_id, "note")
