"""The pages agents work from: Ma journée, Débiteur, Équipe, Portefeuille."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, CAN_SEE_DASHBOARD, Session
from adapters.parsing import parse_date
from adapters.usecases.owners import assigned_notice
from projections.french import STATUS_LABELS, label
from projections.queries import BUCKETS, NOBODY, PHASE_OF_STATUS, PortfolioFilter
from projections.worklist import day_by_debtor
from web.auth import check_csrf, require_role, require_user
from web.debtors import show_debtor
from web.dependencies import get_runtime
from web.live import live_marks, marks_of, people_names
from web.mail_view import replies_by_message
from web.params import MAX_POSITION, amount_param, whole_param
from web.urls import path_for

router = APIRouter()
PER_PAGE = 50
MAX_PAGE = 100_000
SHOWN = 100
"""Debtors shown at first on Ma journée: nobody works more in a day; the rest is one click
away."""
QUEUE_SHOWN = 200
"""Debtors « à attribuer » listed on the team board; the portfolio has the rest."""
"""Who sees the tableau de bord."""
BUCKET_LABELS = {"not_yet_due": "Non échu", "1-30": "1 à 30 j", "31-60": "31 à 60 j",
                 "61-90": "61 à 90 j", "over_90": "Plus de 90 j"}


LIVE_ACCOUNTS = 200
"""Debtors one live request asks about at most (a page of Ma journée shows `SHOWN`)."""


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
           equipe: bool = False, tout: bool = False) -> Response:
    """Ma journée: the day's debtors for an agent (one's own by default), or for the whole
    team (`equipe`)."""
    return day_page(request, runtime, session, _day(jour, runtime), agent, equipe, tout)


def day_page(request: Request, runtime: Runtime, session: Session, day: date,
             agent: str = "", team: bool = False, everything: bool = False) -> Response:
    """The day's list, one row per debtor: an agent's, or the team's (when asked, and for
    whoever records nothing), with an « Agent » column. The first `SHOWN` rows unless
    `everything`."""
    me = session.user.login
    who = agent or (None if team or session.user.role not in CAN_RECORD else me)
    claims = {claim.account: claim.login for claim in runtime.claims.live()}
    rows, totals = runtime.reads.as_of_position(
        ("day_by_debtor", day, who, everything, me, tuple(sorted(claims.items()))),
        lambda: day_by_debtor(runtime.reads, runtime.files.open_playbook("relance"),
                              runtime.calendar, day, who,
                              first=None if everything else SHOWN, claims=claims, viewer=me))
    names = people_names(runtime)
    marks = {row.account: marks_of(row.contacts, row.claimed_by, None, me, names)
             for row in rows}
    return request.app.state.templates.TemplateResponse(
        request, "worklist.html",
        {"rows": rows, "totals": totals, "day": day, "who": who, "me": me,
         "all": everything, "names": names, "marks": marks,
         "live": day == runtime.today(),
         "replies": replies_by_message(runtime.reads.replies_waiting(agent=who)),
         "agents": [u for u in runtime.accounts.users() if u.role in CAN_RECORD]})


@router.get("/direct/debiteurs", name="live_debtors")
def live_debtors(runtime: Annotated[Runtime, Depends(get_runtime)],
                 session: Annotated[Session, Depends(require_user)],
                 comptes: Annotated[str, Query(max_length=20_000)] = "") -> Response:
    """Today's contacts and « j'appelle » claims of the debtors asked (accounts separated by
    commas), as the pages show them: what `static/live.js` asks every second."""
    accounts = [a for a in dict.fromkeys(comptes.split(",")) if a][:LIVE_ACCOUNTS]
    marks = live_marks(runtime, accounts, session.user.login, people_names(runtime))
    return JSONResponse(
        {"debiteurs": {account: [{"texte": m.text, "moi": m.mine, "genre": m.kind}
                                 for m in found] for account, found in marks.items()}},
        headers={"Cache-Control": "no-store"})


@router.get("/debiteurs/{account:ref}", response_class=HTMLResponse, name="debtor_page")
def debtor_page(request: Request, account: str,
                runtime: Annotated[Runtime, Depends(get_runtime)],
                session: Annotated[Session, Depends(require_user)],
                apres: Annotated[str, Query()] = "",
                fait: Annotated[str, Query(max_length=40)] = "") -> Response:
    """A debtor: its files and totals, identity, people known there, timeline, today's
    contacts, its failing addresses and replies waiting (after a form, once the views show
    what it recorded)."""
    after = whole_param(apres, "apres", high=MAX_POSITION)
    return show_debtor(request, runtime, session, account, after=after, mail_done=fait)


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
         session: Annotated[Session, Depends(require_user)]) -> Response:
    """The team board: who owns which debtors, the debtors « à attribuer », today's
    contacts, absences, claims."""
    day = runtime.today()
    playbook = runtime.files.open_playbook("relance")
    absent = playbook.absent_on(day)
    reads = runtime.reads  # both change only with the case view: asked once between facts
    holdings = reads.as_of_position(("holdings",), reads.holdings)
    unassigned, unassigned_total = reads.as_of_position(
        ("unassigned", QUEUE_SHOWN), lambda: reads.unassigned(QUEUE_SHOWN))
    touches = runtime.reads.touches_on(day)[::-1]
    claims = runtime.claims.live()
    orphan_callbacks = [line for line in runtime.reads.callbacks_due(day)
                        if line.callback_owner in absent]
    replies = replies_by_message(reads.replies_waiting())
    return request.app.state.templates.TemplateResponse(
        request, "team.html", {"holdings": holdings, "touches": touches, "absent": absent,
                               "notices": runtime.reads.notices_expired(day, absent),
                               "callbacks": orphan_callbacks, "claims": claims,
                               "replies": replies, "mail_unattached": reads.count_unattached(),
                               "mail_failing": len(reads.failing_addresses()),
                               "unassigned": unassigned, "unassigned_total": unassigned_total,
                               "can_assign": session.user.role in CAN_MANAGE_TEAM,
                               "names": people_names(runtime), "day": day,
                               "debtor_names": runtime.reads.debtor_names(
                                   {t["account"] for t in touches}
                                   | {c.account for c in claims}),
                               "can_see_dashboard": session.user.role in CAN_SEE_DASHBOARD})


@router.get("/portefeuille", response_class=HTMLResponse, name="portfolio")
def portfolio(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
              session: Annotated[Session, Depends(require_user)],
              statut: Annotated[str, Query(max_length=30)] = "",
              agent: Annotated[str, Query(max_length=100)] = "",
              tranche: Annotated[str, Query(max_length=20)] = "",
              debiteur: Annotated[str, Query(max_length=100)] = "",
              min_: Annotated[str, Query(alias="min")] = "",
              max_: Annotated[str, Query(alias="max")] = "",
              q: Annotated[str, Query(max_length=100)] = "",
              tri: Annotated[str, Query(max_length=20)] = "retard",
              page_: Annotated[str, Query(alias="page")] = "",
              apres: Annotated[str, Query()] = "",
              attribues: Annotated[str, Query()] = "",
              dossiers: Annotated[str, Query()] = "",
              deja: Annotated[str, Query()] = "",
              titulaire: Annotated[str, Query(max_length=100)] = "") -> Response:
    """All files, filtered, searched, sorted and paged; the aging chart and the KPIs; for
    supervisors, the debtors to select and give an owner (after which the page says how
    many debtors and files moved, once the views show it)."""
    fresh = runtime.wait_for_views(whole_param(apres, "apres", high=MAX_POSITION))
    raw = {"statut": statut, "agent": agent, "tranche": tranche, "debiteur": debiteur,
           "min": min_, "max": max_, "q": q, "tri": tri, "page": page_}
    notice = ""
    if attribues:
        debtors = whole_param(attribues, "attribues", high=MAX_PAGE * PER_PAGE) or 0
        moved = whole_param(dossiers, "dossiers", high=MAX_PAGE * PER_PAGE) or 0
        already = whole_param(deja, "deja", high=MAX_PAGE * PER_PAGE) or 0
        notice = assigned_notice(debtors, moved, people_names(runtime).get(titulaire, titulaire),
                                 already)
    return portfolio_page(request, runtime, session, raw, notice=notice, updating=not fresh)


PORTFOLIO_FIELDS = ("statut", "agent", "tranche", "debiteur", "min", "max", "q", "tri", "page")
"""The portfolio's filters, as its address and its assign form carry them."""


def portfolio_filter(raw: dict[str, str]) -> PortfolioFilter:
    """The filters typed (address or form) as the queries read them; a bad amount is a
    French 400."""
    return PortfolioFilter(
        status=raw["statut"] if raw["statut"] in PHASE_OF_STATUS else "", agent=raw["agent"],
        bucket=raw["tranche"] if raw["tranche"] in BUCKETS else "", debtor=raw["debiteur"],
        minimum=amount_param(raw["min"], "min"), maximum=amount_param(raw["max"], "max"),
        search=raw["q"], sort=raw["tri"] or "retard")


def portfolio_page(request: Request, runtime: Runtime, session: Session, raw: dict[str, str],
                   *, notice: str = "", error: str = "", updating: bool = False,
                   status_code: int = 200) -> Response:
    """The portfolio for the filters typed, with a confirmation or a French error."""
    day = runtime.today()
    page = whole_param(raw["page"], "page", low=1, high=MAX_PAGE) or 1
    filters = portfolio_filter(raw)
    lines, total = runtime.reads.portfolio(day, filters, page, PER_PAGE)
    agings = runtime.reads.aging(day)
    can_assign = session.user.role in CAN_MANAGE_TEAM
    return request.app.state.templates.TemplateResponse(
        request, "portfolio.html",
        {"lines": lines, "total": total, "page": page, "pages": max(1, -(-total // PER_PAGE)),
         "filters": filters, "raw": raw, "agings": agings,
         "kpis": runtime.reads.kpis(day),
         "statuses": {key: label("status", key) for key in STATUS_LABELS},
         "buckets": BUCKET_LABELS, "day": day,
         "query": {k: v for k, v in raw.items() if v},
         "can_assign": can_assign, "notice": notice, "error": error, "updating": updating,
         "owners": [u.login for u in runtime.accounts.users() if u.role in CAN_RECORD],
         "nobody": NOBODY},
        status_code=status_code)

