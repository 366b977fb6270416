"""The pages agents work from: Ma journée, Débiteur, Équipe, Portefeuille."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_RECORD, Session
from adapters.parsing import parse_date
from projections.french import STATUS_LABELS, label
from projections.queries import BUCKETS, PHASE_OF_STATUS, PortfolioFilter
from projections.worklist import worklist_page
from web.auth import check_csrf, require_role, require_user
from web.dependencies import get_runtime
from web.params import amount_param, whole_param
from web.urls import path_for

router = APIRouter()
PER_PAGE = 50
MAX_PAGE = 100_000
SHOWN = 100
"""Worklist items shown at first: nobody works more in a day; the rest is one click away."""
BUCKET_LABELS = {"not_yet_due": "Non échu", "1-30": "1 à 30 j", "31-60": "31 à 60 j",
                 "61-90": "61 à 90 j", "over_90": "Plus de 90 j"}


def _day(text: str, runtime: Runtime) -> date:
    try:
        return parse_date(text) if text else runtime.today()
    except ValueError:
        return runtime.today()


@router.get("/journee", response_class=HTMLResponse, name="my_day")
def my_day(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
           session: Annotated[Session, Depends(require_user)],
           jour: Annotated[str, Query(max_length=10)] = "",
           agent: Annotated[str, Query(max_length=100)] = "",
           tout: bool = False) -> Response:
    """Ma journée: the day's work for an agent (the team's for a supervisor who asks)."""
    day = _day(jour, runtime)
    who = agent or (session.user.login if session.user.role in CAN_RECORD else "")
    items, total = runtime.reads.as_of_position(
        ("worklist", day, who, tout),
        lambda: worklist_page(runtime.reads, runtime.files.open_playbook("relance"),
                              runtime.calendar, day, who or None,
                              first=None if tout else SHOWN))
    return request.app.state.templates.TemplateResponse(
        request, "worklist.html", {"items": items, "day": day,
                                   "who": who, "total": total, "all": tout,
                                   "agents": [u.login for u in runtime.accounts.users()]})


@router.get("/debiteurs/{account:ref}", response_class=HTMLResponse, name="debtor_page")
def debtor_page(request: Request, account: str,
                runtime: Annotated[Runtime, Depends(get_runtime)],
                session: Annotated[Session, Depends(require_user)]) -> Response:
    """A debtor: its files and totals, people known there, timeline, and today's contacts."""
    day = runtime.today()
    debtor = runtime.reads.debtor(account, day)
    if debtor is None:
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": "Aucun débiteur avec ce compte."},
            status_code=404)
    others = [t for t in debtor.touched_today if t["actor"] != session.user.login]
    return request.app.state.templates.TemplateResponse(
        request, "debtor.html",
        {"debtor": debtor, "others_today": others, "claim": runtime.claims.of(account),
         "timeline": runtime.reads.debtor_history(account),
         "can_record": session.user.role in CAN_RECORD})


@router.post("/debiteurs/{account:ref}/j-appelle", name="claim_debtor")
def claim_debtor(request: Request, account: str,
                 runtime: Annotated[Runtime, Depends(get_runtime)],
                 session: Annotated[Session, Depends(require_role(*CAN_RECORD))],
                 csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """« J'appelle » : tells the team this debtor is being called, for 15 minutes."""
    check_csrf(session, csrf)
    runtime.claims.claim(account, session.user.login)
    return RedirectResponse(path_for(request, "debtor_page", account=account), status_code=303)


@router.get("/equipe", response_class=HTMLResponse, name="team")
def team(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
         _: Annotated[Session, Depends(require_user)]) -> Response:
    """The team board: who holds which debtors, today's contacts, absences, claims."""
    day = runtime.today()
    playbook = runtime.files.open_playbook("relance")
    absent = playbook.absent_on(day)
    holdings = runtime.reads.holdings()
    touches = runtime.reads.touches_on(day)[::-1]
    orphan_callbacks = [line for line in runtime.reads.callbacks_due(day)
                        if line.callback_owner in absent]
    return request.app.state.templates.TemplateResponse(
        request, "team.html", {"holdings": holdings, "touches": touches, "absent": absent,
                               "notices": runtime.reads.notices_expired(day, absent),
                               "callbacks": orphan_callbacks, "claims": runtime.claims.live(),
                               "day": day})


@router.get("/portefeuille", response_class=HTMLResponse, name="portfolio")
def portfolio(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
              _: Annotated[Session, Depends(require_user)],
              statut: Annotated[str, Query(max_length=30)] = "",
              agent: Annotated[str, Query(max_length=100)] = "",
              tranche: Annotated[str, Query(max_length=20)] = "",
              debiteur: Annotated[str, Query(max_length=100)] = "",
              min_: Annotated[str, Query(alias="min")] = "",
              max_: Annotated[str, Query(alias="max")] = "",
              q: Annotated[str, Query(max_length=100)] = "",
              tri: Annotated[str, Query(max_length=20)] = "retard",
              page_: Annotated[str, Query(alias="page")] = "") -> Response:
    """All files, filtered, searched, sorted and paged; the aging chart and the KPIs."""
    day = runtime.today()
    page = whole_param(page_, "page", low=1, high=MAX_PAGE) or 1
    filters = PortfolioFilter(status=statut if statut in PHASE_OF_STATUS else "",
                              agent=agent, bucket=tranche if tranche in BUCKETS else "",
                              debtor=debiteur, minimum=amount_param(min_, "min"),
                              maximum=amount_param(max_, "max"), search=q, sort=tri)
    lines, total = runtime.reads.portfolio(day, filters, page, PER_PAGE)
    agings = runtime.reads.aging(day)
    return request.app.state.templates.TemplateResponse(
        request, "portfolio.html",
        {"lines": lines, "total": total, "page": page, "pages": max(1, -(-total // PER_PAGE)),
         "filters": filters, "raw": {"min": min_, "max": max_}, "agings": agings,
         "kpis": runtime.reads.kpis(day),
         "statuses": {key: label("status", key) for key in STATUS_LABELS},
         "buckets": BUCKET_LABELS, "day": day, "query": dict(request.query_params)})

