"""Giving debtors an owner (supervisors): many at once from the portfolio, one from its
page (« Changer de titulaire »).

Either way it is one command (`adapters.usecases.owners.assign_debtors`): every debtor
chosen moves with its open and future files, except the files given to somebody else as
an exception, in one transaction. The owner is an active account of the team that records
facts; an empty one puts the debtors back « à attribuer ». A form that does not do comes
back with its French error; one that does redirects (post/redirect/get) to a page that
waits for the views and says what moved.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Session
from adapters.messages import in_french
from adapters.usecases.owners import assign_debtors
from domain.errors import DomainError
from web.auth import check_csrf, require_role
from web.dependencies import get_runtime
from web.urls import path_for
from web.work import PORTFOLIO_FIELDS, portfolio_filter, portfolio_page

router = APIRouter()
Supervisor = Annotated[Session, Depends(require_role(*CAN_MANAGE_TEAM))]
MAX_DEBTORS = 10_000
"""Debtors « tous les débiteurs du filtre » gives an owner at once, at most."""
MAX_FIELD = 500
NOTHING_CHOSEN = "Cochez au moins un débiteur, ou « tous les débiteurs du filtre »."
TOO_MANY = (f"Le filtre retient plus de {MAX_DEBTORS:,} débiteurs : affinez-le."
            .replace(",", "\u202f"))
TOO_LONG = "Un champ dépasse 500 caractères : rien n'a été enregistré."


async def _form(request: Request, session: Session) -> tuple[dict[str, str], list[str]]:
    """The form's fields (each cut at `MAX_FIELD`), and the accounts ticked."""
    form = await request.form(max_fields=400, max_files=0)
    check_csrf(session, str(form.get("csrf", "")))
    fields = {key: str(value) for key, value in form.items()}
    ticked = [str(value).strip() for value in form.getlist("compte") if str(value).strip()]
    return fields, list(dict.fromkeys(ticked))


def _owners(runtime: Runtime) -> list[str]:
    """Who may own debtors: the active accounts that record facts."""
    return [user.login for user in runtime.accounts.users() if user.role in CAN_RECORD]


def _assign(runtime: Runtime, actor: str, accounts: list[str], agent: str,
            reason: str) -> dict[str, Any]:
    """Gives the debtors to `agent`; returns the log position (`apres`) and how many
    debtors (`attribues`) and open files (`dossiers`) changed hands, and how many debtors
    already were the agent's (`deja`)."""
    owners = runtime.reads.owners_of(accounts)
    moving = [account for account in accounts if owners.get(account, "") != agent]
    files = runtime.reads.following(moving)
    recorded = assign_debtors(runtime, actor, accounts, agent, reason)
    return {"apres": recorded.notification_id or 0, "attribues": len(moving),
            "dossiers": files, "deja": len(accounts) - len(moving)}


# -- many debtors, from the portfolio -------------------------------------------------------

@router.post("/portefeuille/attribuer", name="assign_portfolio")
async def assign_portfolio(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                           session: Supervisor) -> Response:
    """« Attribuer »: the debtors ticked, or every debtor of the filter, to one owner."""
    fields, ticked = await _form(request, session)
    raw = {name: fields.get(name, "")[:MAX_FIELD] for name in PORTFOLIO_FIELDS}
    agent, reason = fields.get("titulaire", "").strip(), fields.get("motif", "").strip()
    error = ""
    if any(len(value) > MAX_FIELD for value in fields.values()) or \
            any(len(account) > 100 for account in ticked):
        error = TOO_LONG
    elif fields.get("tous"):
        accounts = await run_in_threadpool(runtime.reads.debtor_accounts, runtime.today(),
                                           portfolio_filter(raw), MAX_DEBTORS + 1)
        error = TOO_MANY if len(accounts) > MAX_DEBTORS else ""
    else:
        accounts = ticked
    if not error and not accounts:
        error = NOTHING_CHOSEN
    if not error:
        try:
            done = await run_in_threadpool(_assign, runtime, session.user.login, accounts,
                                           agent, reason)
        except DomainError as refused:
            error = in_french(refused)
        else:
            query = {k: v for k, v in raw.items() if v and k != "page"}
            query |= {**done, "titulaire": agent}
            return RedirectResponse(f"{path_for(request, 'portfolio')}?{urlencode(query)}",
                                    status_code=303)
    return await run_in_threadpool(portfolio_page, request, runtime, session, raw,
                                   error=error, status_code=422)


# -- one debtor, from its page ------------------------------------------------------------

@router.get("/titulaires/{account:ref}", response_class=HTMLResponse, name="debtor_owner")
def debtor_owner(request: Request, account: str,
                 runtime: Annotated[Runtime, Depends(get_runtime)], _: Supervisor) -> Response:
    """« Changer de titulaire »: who owns the debtor, since when and why, its files given
    to others as exceptions, and the form."""
    return _owner_page(request, runtime, account)


@router.post("/titulaires/{account:ref}", name="assign_debtor_owner")
async def assign_debtor_owner(request: Request, account: str,
                              runtime: Annotated[Runtime, Depends(get_runtime)],
                              session: Supervisor) -> Response:
    """Gives one debtor its owner; back to the debtor's page once the views show it."""
    fields, _ = await _form(request, session)
    agent, reason = fields.get("titulaire", "").strip(), fields.get("motif", "").strip()
    values = {"titulaire": agent, "motif": reason[:MAX_FIELD]}
    if any(len(value) > MAX_FIELD for value in fields.values()):
        return await run_in_threadpool(_owner_page, request, runtime, account, TOO_LONG,
                                       values, 422)
    if await run_in_threadpool(runtime.reads.debtor, account, runtime.today()) is None:
        return _owner_page(request, runtime, account)  # its 404
    try:
        done = await run_in_threadpool(_assign, runtime, session.user.login, [account], agent,
                                       reason)
    except DomainError as refused:
        return await run_in_threadpool(_owner_page, request, runtime, account,
                                       in_french(refused), values, 422)
    target = path_for(request, "debtor_page", account=account)
    return RedirectResponse(f"{target}?apres={done['apres']}", status_code=303)


def _owner_page(request: Request, runtime: Runtime, account: str, error: str = "",
                values: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    debtor = runtime.reads.debtor(account, runtime.today())
    if debtor is None:
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": "Aucun débiteur avec ce compte."},
            status_code=404)
    owner = runtime.reads.debtor_owner(account)
    return request.app.state.templates.TemplateResponse(
        request, "owner.html",
        {"debtor": debtor, "owner": owner, "exceptions": runtime.reads.exceptions(account),
         "owners": _owners(runtime), "error": error,
         "values": values or {"titulaire": owner["owner"] if owner else "", "motif": ""}},
        status_code=status_code)
