"""« Envois »: the daily run's messages, and the queue of those waiting for a person.

- `/envois`: a day's messages debtor by debtor (document, channel, state, invoices, files
  dropped and why, recipient, who decided, reason or error), their counts and the latest
  runs. A supervisor launches the run from here: it runs in the background, one at a time
  in this process, and the page says « envoi en cours… » meanwhile. The day's letters
  print as one PDF; a printed formal notice gets its registered-letter number once posted.
- `/envois/a-valider`: the messages « à valider », each with its preview, its wording
  editable for this message only, sent or set aside one by one or by selection; and the
  « incertain » ones, settled by whoever checked the mailbox.

Every decision goes through `adapters.usecases.campaign`; a refused one comes back with
its French sentence (409, or 422 for a form that does not do), never a 500.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Session
from adapters.messages import in_french
from adapters.parsing import parse_date
from adapters.usecases import campaign
from domain.dispatch import (
    APPROVED,
    FAILED,
    PLANNED,
    PRINTED,
    SENDING,
    SENT,
    SKIPPED,
    STATES,
    TO_VALIDATE,
    UNCERTAIN,
)
from domain.errors import DomainError
from projections.french import count
from web.auth import check_csrf, require_role, require_user
from web.campaign_decisions import DONE_WORDS, Decision, decide, preview, said
from web.dependencies import get_runtime
from web.downloads import content_disposition
from web.middleware import UNAVAILABLE
from web.params import whole_param
from web.urls import path_for

log = structlog.get_logger("relance.web")
router = APIRouter()
Supervisor = Annotated[Session, Depends(require_role(*CAN_MANAGE_TEAM))]
Recorder = Annotated[Session, Depends(require_role(*CAN_RECORD))]
Anyone = Annotated[Session, Depends(require_user)]

COUNTED = ((SENT, "envoyé", "envoyés"), (TO_VALIDATE, "à valider", "à valider"),
           (SKIPPED, "écarté", "écartés"), (FAILED, "en échec", "en échec"),
           (UNCERTAIN, "incertain", "incertains"), (PRINTED, "lettre à poster", "lettres à poster"))
"""The counts at the top of « Envois », in this order."""
WAITING_TO_GO = (PLANNED, APPROVED, SENDING)
WAITING = (TO_VALIDATE, UNCERTAIN)
"""States in which a message waits for a person."""
QUEUE_SHOWN = 100
"""Messages of the queue shown with their preview; the others after these are decided."""
NAV_SHOWN = 99
"""Past this, the navigation bar says « 99+ »."""
MAX_NUMBER = 40
ALREADY_RUNNING = "Un envoi est déjà en cours : attendez qu'il se termine."


# -- the run started from this process ------------------------------------------------------

@dataclass
class Launch:
    """One run started from the page: who, when, how far, and how it ended."""

    actor: str
    started_at: datetime
    done: int = 0
    total: int | None = None
    finished_at: datetime | None = None
    position: int = 0
    failed: bool = False


@dataclass
class Desk:
    """What « Envois » keeps in a web process: the run it started, the navigation count."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    launch: Launch | None = None
    counts: dict[tuple[str | None, int], int] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """True while a run started here has not ended."""
        return self.launch is not None and self.launch.finished_at is None

    def start(self, runtime: Runtime, actor: str) -> bool:
        """Starts the run in the background; False when one is already running here."""
        with self.lock:
            if self.running:
                return False
            self.launch = launch = Launch(actor, runtime.clock())
        threading.Thread(target=self._run, args=(runtime, launch), name="relance-run",
                         daemon=True).start()
        return True

    @staticmethod
    def _run(runtime: Runtime, launch: Launch) -> None:
        def progress(done: int, total: int | None) -> None:
            launch.done, launch.total = done, total

        try:
            campaign.run_campaign(runtime, actor=launch.actor, progress=progress)
            launch.position = runtime.files.recorder.max_notification_id() or 0
        except Exception:  # the page says it stopped, the log says why
            log.exception("run stopped", actor=launch.actor)
            launch.failed = True
        finally:
            launch.finished_at = runtime.clock()


_DESK_CREATED = threading.Lock()


def desk_of(request: Request) -> Desk:
    """This web process's desk (made at its first use)."""
    state = request.app.state
    with _DESK_CREATED:
        if not hasattr(state, "campaign_desk"):
            state.campaign_desk = Desk()
    return state.campaign_desk


def waiting_count(request: Request) -> int | None:
    """Messages waiting for the person asking (all of them for a supervisor), for the
    navigation bar; asked again only when the run's read model moves. None for whoever
    does not validate, or while the database does not answer (the page still shows)."""
    session = getattr(request.state, "session", None)
    if session is None or session.user.role not in CAN_RECORD:
        return None
    runtime: Runtime = request.app.state.runtime
    owner = None if session.user.role in CAN_MANAGE_TEAM else session.user.login
    desk = desk_of(request)
    try:
        position = (runtime.follower.positions().get("dispatches", 0) if runtime.following
                    else runtime.views.position("dispatches"))
        found = desk.counts.get((owner, position))
        if found is None:
            found = len(runtime.reads.dispatches(states=WAITING, owner=owner,
                                                 limit=NAV_SHOWN + 1))
            with desk.lock:
                if len(desk.counts) > 256:
                    desk.counts.clear()
                desk.counts[(owner, position)] = found
    except UNAVAILABLE:
        return None
    return found


# -- Envois du jour -----------------------------------------------------------------------

def _day(text: str, runtime: Runtime) -> date | None:
    try:
        return parse_date(text) if text.strip() else runtime.today()
    except ValueError:
        return None


@router.get("/envois", response_class=HTMLResponse, name="dispatches")
def dispatches_page(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                    session: Anyone, jour: Annotated[str, Query(max_length=10)] = "",
                    deja: Annotated[str, Query(max_length=1)] = "") -> Response:
    """« Envois du jour »: the day's messages per debtor, their counts, the latest runs."""
    day = _day(jour, runtime)
    if day is None:
        return _dispatches(request, runtime, session, runtime.today(),
                           "Date illisible : écrivez-la JJ/MM/AAAA.", 422)
    return _dispatches(request, runtime, session, day, ALREADY_RUNNING if deja else "")


def _dispatches(request: Request, runtime: Runtime, session: Session, day: date,
                error: str = "", status_code: int = 200) -> Response:
    desk = desk_of(request)
    launch = desk.launch
    if launch is not None and launch.finished_at is not None:
        runtime.wait_for_views(launch.position)  # its run's record shows once it ends
    # What a person just decided (a number posted, a message sent) shows at once.
    runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    rows = runtime.reads.dispatches(day=day, limit=5000)
    groups: dict[str, dict[str, Any]] = {}
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
        group = groups.setdefault(row["account"], {"account": row["account"],
                                                   "name": row["debtor_name"], "rows": []})
        if row["state"] == PRINTED and row["template"] == "formal_notice":
            row["posted"] = row["registered_number"] or None
        group["rows"].append(row)
    return request.app.state.templates.TemplateResponse(
        request, "campaign.html",
        {"day": day, "groups": list(groups.values()), "counts": counts, "counted": COUNTED,
         "waiting_to_go": sum(counts.get(state, 0) for state in WAITING_TO_GO),
         "states": STATES, "runs": [_said(run) for run in runtime.reads.runs(limit=10)],
         "launch": launch,
         "running": desk.running, "can_launch": session.user.role in CAN_MANAGE_TEAM,
         "can_record": session.user.role in CAN_RECORD, "error": error,
         "today": runtime.today()},
        status_code=status_code)


def _said(run: dict[str, Any]) -> dict[str, Any]:
    """A run's row, with its counts in words (« 3 envoyés, 1 à valider »)."""
    counts = run["counts"]
    words = [count(counts[state], one, many) for state, one, many in COUNTED
             if counts.get(state)]
    return run | {"said": ", ".join(words) or "rien à envoyer"}


@router.post("/envois/lancer", name="dispatches_launch")
async def launch_run(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                     session: Supervisor) -> Response:
    """« Lancer l'envoi maintenant »: the day's run, in the background."""
    form = await request.form(max_fields=5, max_files=0)
    check_csrf(session, str(form.get("csrf", "")))
    started = desk_of(request).start(runtime, session.user.login)
    target = path_for(request, "dispatches")
    return RedirectResponse(target if started else f"{target}?deja=1", status_code=303)


@router.get("/envois/{jour}/lettres.pdf", name="letters_pdf")
def letters(request: Request, jour: str, runtime: Annotated[Runtime, Depends(get_runtime)],
            _: Anyone) -> Response:
    """The day's letters as one PDF to print: a cover list, then each letter."""
    day = _day(jour, runtime) if jour.strip() else None
    if day is None or not runtime.reads.dispatches(day=day, states=[PRINTED], limit=1):
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"message": "Aucune lettre à imprimer ce jour-là."},
            status_code=404)
    return Response(campaign.letters_pdf(runtime, day), media_type="application/pdf",
                    headers={"Content-Disposition":
                             content_disposition(f"lettres-{day.isoformat()}.pdf")})


@router.post("/envois/poste", name="dispatch_posted")
async def posted(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                 session: Recorder) -> Response:
    """« N° de recommandé »: a printed formal notice was posted; recorded on its files."""
    form = {k: str(v) for k, v in (await request.form(max_fields=10, max_files=0)).items()}
    check_csrf(session, form.get("csrf", ""))
    day = _day(form.get("jour", ""), runtime) or runtime.today()
    number = form.get("numero", "").strip()
    if not number or len(number) > MAX_NUMBER or "\n" in number:
        return await run_in_threadpool(
            _dispatches, request, runtime, session, day, "Le numéro de recommandé tient sur "
            f"une ligne de {MAX_NUMBER} caractères au plus.", 422)
    try:
        await run_in_threadpool(campaign.mark_posted, runtime, session.user.login,
                                form.get("cle", "")[:300], number)
    except DomainError as refused:
        return await run_in_threadpool(_dispatches, request, runtime, session, day,
                                       in_french(refused), 409)
    return RedirectResponse(f"{path_for(request, 'dispatches')}?jour={day:%d/%m/%Y}",
                            status_code=303)


# -- À valider ----------------------------------------------------------------------------

@router.get("/envois/a-valider", response_class=HTMLResponse, name="dispatch_queue")
def queue_page(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
               session: Recorder, tous: Annotated[str, Query(max_length=1)] = "") -> Response:
    """« À valider »: the messages waiting for a person, with their previews (an agent's
    own debtors' unless `tous`), and what the last decision did."""
    done = {name: whole_param(request.query_params.get(name, "")[:10], name, high=100_000)
            or 0 for name in DONE_WORDS}
    return _queue(request, runtime, session, everyone=bool(tous), notice=said(done))


def _queue(request: Request, runtime: Runtime, session: Session, *, everyone: bool = False,
           notice: str = "", decision: Decision | None = None) -> Response:
    supervisor = session.user.role in CAN_MANAGE_TEAM
    owner = None if everyone or supervisor else session.user.login
    rows = campaign.queue(runtime, owner)
    shown = rows[:QUEUE_SHOWN]
    decision = decision or Decision()
    for row in shown:
        if row["state"] == TO_VALIDATE:
            row.update(preview(runtime, row["key"], session.user.login))
        row.update(decision.typed.get(row["key"], {}))
    # A refusal about a message no longer listed (sent or set aside meanwhile) shows on top.
    keys = {row["key"] for row in shown}
    gone = [text for key, text in decision.refused.items() if key not in keys]
    return request.app.state.templates.TemplateResponse(
        request, "campaign_queue.html",
        {"rows": shown, "more": max(0, len(rows) - QUEUE_SHOWN),
         "mine": owner is not None, "supervisor": supervisor, "everyone": everyone,
         "notice": decision.said or notice, "states": STATES,
         "error": " ".join(dict.fromkeys([decision.error, *gone])).strip(),
         "errors": decision.refused},
        status_code=decision.status if decision.refused or decision.error else 200)


@router.post("/envois/a-valider", name="dispatch_decide")
async def decide_queue(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                       session: Recorder) -> Response:
    """Sends, sets aside or settles one message, or the ones ticked; back to the queue,
    or the queue again with the French refusal."""
    raw = await request.form(max_fields=QUEUE_SHOWN + 20, max_files=0)
    check_csrf(session, str(raw.get("csrf", "")))
    form = {k: str(v) for k, v in raw.items()}
    ticked = list(dict.fromkeys(str(v)[:300] for v in raw.getlist("choix") if str(v).strip()))
    everyone = bool(form.get("tous"))
    decision = await run_in_threadpool(decide, runtime, session.user.login, form, ticked)
    if decision.refused or decision.error:
        return await run_in_threadpool(_queue, request, runtime, session, everyone=everyone,
                                       decision=decision)
    query = {k: n for k, n in decision.done.items() if n} | ({"tous": 1} if everyone else {})
    target = path_for(request, "dispatch_queue")
    return RedirectResponse(f"{target}?{urlencode(query)}" if query else target,
                            status_code=303)
