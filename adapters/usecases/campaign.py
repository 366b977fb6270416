"""The daily run: the scenario's written steps go out by themselves, once per debtor.

`run_campaign` does, in order:

1. **Reconcile** what an earlier run left unfinished: a message recorded `Sending` without
   an outcome is sent if the files' facts say so (they are recorded with the message's
   key, once); a letter is simply made again; an e-mail is « incertain » and waits for a
   person who checks the mailbox (`resolve`): it never goes out twice by itself.
2. **Plan**: for each debtor, the automatic and « à valider » steps due today on its files
   (under each file's scenario and version; the minimum gap between two contacts of the
   debtor holds), grouped in one message per document (all its invoices concerned, one
   table). Nothing on a weekend or a French public holiday unless the step says so, and
   nothing to a debtor somebody already contacted today (the same-day rule). Each message
   is recorded before anything goes out, with its deterministic Message-ID.
3. **Send** what is planned or validated (and what failed earlier, again): the files are
   read again first, and a file paid, promised, disputed or put on a plan since the
   planning is dropped from the message. E-mails go through the outbox; letters are
   rendered and kept for the day's print (`letters_pdf`), and a formal notice is recorded
   once posted with its registered-letter number (`mark_posted`). Each message that goes
   out gives the debtor a link to its page, issued for that attempt and recorded with its
   intent to send, in one transaction (one per debtor and message; a message tried again
   gets a new one, the earlier simply stays unused); a message previewed for validation
   names an example address and issues nothing.
4. **Record the run**: what was sent, queued, skipped, failed, as a fact of the team.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape
from io import BytesIO
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from adapters.bootstrap import Runtime
from adapters.infra.documents import PAYMENT_DELAY, Document, portal_address
from adapters.infra.outbox import SendFailed, build_message
from adapters.infra.pdf import html_to_pdf
from adapters.usecases.attachments import Attachment, invoice_attachment
from adapters.usecases.debtor_letters import check_same_day, fresh_views
from adapters.usecases.sending import (
    addressee_for,
    link_purpose,
    postal_lines,
    preview,
)
from domain.debtors import SameDayContact
from domain.dispatch import (
    FAILED,
    PRINTED,
    SENDING,
    SENT,
    SKIPPED,
    TO_SEND,
    TO_VALIDATE,
    UNCERTAIN,
    Dispatch,
    DispatchRefused,
    Run,
    dispatch_id,
    dispatch_key,
    message_id_for,
)
from domain.due import Progress, next_action
from domain.invoice import Invoice
from domain.kinds import CHASING
from domain.portal import PortalLink
from domain.receipts import receipt_id
from domain.scenarios import Scenario, Step
from domain.values import Channel, Contact, start_of_day
from projections.french import count

log = logging.getLogger("relance.campaign")

RUN_ACTOR = "relance"
"""Who records what the run does by itself."""
WRITTEN = (Channel.EMAIL, Channel.LETTER)
"""The channels the run sends; an SMS or a call stays on the worklist."""
FAULT = "RELANCE_RUN_FAULT"
"""For the crash tests only: the point at which the run kills its own process."""

Progress_ = Callable[[int, int | None], None]


@dataclass
class RunReport:
    """What a run did, per message."""

    day: date
    counts: dict[str, int] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)

    def count(self, state: str) -> int:
        """How many messages ended in `state`."""
        return self.counts.get(state, 0)


def _fault(point: str) -> None:
    """Kills the process at `point` when the crash tests ask for it."""
    if os.environ.get(FAULT) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def run_campaign(runtime: Runtime, actor: str = RUN_ACTOR, day: date | None = None,
                 progress: Progress_ | None = None) -> RunReport:
    """Reconciles, plans, sends and records one run of the day (see the module's text)."""
    day = day or runtime.today()
    started = runtime.files.now()
    _fresh(runtime)
    reconcile(runtime)
    plan(runtime, day, actor)  # reads the views once more after the reconciliation
    _fresh(runtime)
    rows = runtime.reads.dispatches(day=day, limit=1_000_000)
    to_send = [r for r in rows if r["state"] in TO_SEND]
    names: dict[str, str | None] = {}  # who signs: each account read once per run
    for done, row in enumerate(to_send, 1):
        send(runtime, row["key"], actor, names)
        if progress is not None:
            progress(done, len(to_send))
    _fresh(runtime)
    report = report_of(runtime, day)
    runtime.files.save(Run(team="equipe", day=day, started_at=started,
                           finished_at=runtime.files.now(), actor=actor,
                           counts=report.counts, note=""))
    log.info("run recorded", extra={"day": day.isoformat(), **report.counts})
    return report


def report_of(runtime: Runtime, day: date) -> RunReport:
    """The messages of a day and their counts by state."""
    lines = runtime.reads.dispatches(day=day, limit=1_000_000)
    counts: dict[str, int] = {}
    for line in lines:
        counts[line["state"]] = counts.get(line["state"], 0) + 1
    return RunReport(day, counts, lines)


# -- 1. reconcile -------------------------------------------------------------------------

def reconcile(runtime: Runtime) -> None:
    """Settles the messages an interrupted run left `Sending`."""
    for row in runtime.reads.dispatches(states=[SENDING], limit=1_000_000):
        dispatch = _load(runtime, row["key"])
        if dispatch is None or dispatch.state != SENDING:
            continue
        now = runtime.files.now()
        if _facts_recorded(runtime, dispatch):
            dispatch.sent(at=now, sha256=dispatch.sha256, attachments=dispatch.attachments)
        elif dispatch.channel == Channel.LETTER.value:
            dispatch.failed(at=now, error="interrompu avant d'être fait : refait")
        else:
            dispatch.uncertain(at=now)
        _save(runtime, dispatch)


def _facts_recorded(runtime: Runtime, dispatch: Dispatch) -> bool:
    try:
        runtime.files.repository.get(receipt_id(_fact_key(dispatch)))
    except AggregateNotFoundError:
        return False
    return True


def _fact_key(dispatch: Dispatch) -> str:
    """The idempotency key of the facts a message records on its files: once."""
    return f"run:{dispatch.key}"


# -- 2. plan ------------------------------------------------------------------------------

@dataclass
class _Due:
    invoice_lines: list[Any]
    steps: dict[str, str]
    step: Step


def plan(runtime: Runtime, day: date, actor: str = RUN_ACTOR) -> list[str]:
    """Records the day's messages not planned yet, from read models up to date; their
    keys."""
    _fresh(runtime)
    reads = runtime.reads
    playbook = runtime.files.open_playbook(actor)
    business = runtime.calendar.is_business_day(day)
    touched = {t["account"] for t in reads.touches_on(day) if t["kind"] in CHASING}
    touched |= reads.accounts_with_replies()  # a reply waits for a person: the run waits too
    candidates = [line for _, line in reads.work_candidates(day, None, None)]
    last = reads.last_touches({line.debtor_account for line in candidates},
                              before=start_of_day(day))
    groups: dict[tuple[str, str], _Due] = {}
    for line in candidates:
        account = line.debtor_account
        if account in touched:
            continue
        scenario = playbook.scenario_for(account)
        due = next_action(line.progress(), scenario, day, runtime.calendar, last.get(account))
        step = due.step
        if step is None or step.run_mode == "manual" or step.channel not in WRITTEN:
            continue
        if not business and not step.any_day:
            continue
        group = groups.setdefault((account, step.template), _Due([], {}, step))
        group.invoice_lines.append(line)
        group.steps[line.number] = due.reference
    planned = []
    for (account, template), group in sorted(groups.items()):
        key = dispatch_key(day, account, template)
        if _load(runtime, key) is not None:
            continue
        lines = sorted(group.invoice_lines, key=lambda line: (line.due_on, line.number))
        first = runtime.files.file(lines[0].number)
        recipient, addressee = _recipient(runtime, first, group.step)
        dispatch = Dispatch(
            key=key, day=day, account=account, debtor_name=lines[0].debtor_name,
            template=template, channel=group.step.channel.value, mode=group.step.run_mode,
            numbers=[line.number for line in lines], steps=group.steps, recipient=recipient,
            message_id=message_id_for(key, _domain(runtime)),
            owner=(reads.debtor_owner(account) or {}).get("owner", ""), actor=actor,
            timestamp=runtime.files.now(), addressee=addressee)
        if _save(runtime, dispatch):
            planned.append(key)
    _fault("after_plan")
    return planned


def _recipient(runtime: Runtime, first: Invoice, step: Step) -> tuple[str, Contact | None]:
    """Where the message goes: the postal address of a letter; the address of an e-mail and
    the person it is written to."""
    if step.channel == Channel.LETTER:
        return "\n".join(postal_lines(runtime, first.case.debtor)), None
    contact = addressee_for(runtime, first, step.template)
    return (contact.email, contact) if contact else ("", None)


def _domain(runtime: Runtime) -> str:
    return runtime.creditor.email.rpartition("@")[2] or "relance.local"


# -- 3. send ------------------------------------------------------------------------------

def send(runtime: Runtime, key: str, actor: str = RUN_ACTOR,
         names: dict[str, str | None] | None = None) -> str:
    """Sends one planned (or validated, or failed) message; its state afterwards (`names`:
    the accounts' names known so far in this run, by login)."""
    dispatch = _load(runtime, key)
    if dispatch is None or dispatch.state not in TO_SEND:
        return dispatch.state if dispatch else ""
    day = runtime.today()
    now = runtime.files.now()
    with runtime.files.reading_once():  # the files, the debtor and the playbook: read once
        scenario = _scenario_of(runtime, dispatch)
        keep, dropped = _still_due(runtime, dispatch, scenario, day)
        if not keep:
            why = "; ".join(f"{n} : {reason}" for n, reason in dropped.items())
            dispatch.skip(actor=actor, at=now, reason=f"plus rien à relancer ({why})")
            _save(runtime, dispatch)
            return SKIPPED
        try:
            check_same_day(runtime, keep, dispatch.template, actor)
        except SameDayContact as refused:
            dispatch.skip(actor=actor, at=now, reason=f"débiteur déjà contacté aujourd'hui "
                                                      f"par {refused.context.get('actor', '')}")
            _save(runtime, dispatch)
            return SKIPPED
        recipient = dispatch.recipient
        if dispatch.channel == Channel.LETTER.value:  # an address completed since planning
            recipient = "\n".join(postal_lines(runtime, keep[0].case.debtor))
        held = _held(runtime, dispatch, recipient)
        if held:
            dispatch.skip(actor=actor, at=now, reason=held)
            _save(runtime, dispatch)
            return SKIPPED
        if not recipient:
            dispatch.skip(actor=actor, at=now, reason=(
                "aucune adresse e-mail connue : à faire à la main"
                if dispatch.channel == Channel.EMAIL.value else
                "aucune adresse postale connue : à compléter sur la fiche du débiteur"))
            _save(runtime, dispatch)
            return SKIPPED
        # The message goes out: its link to the debtor's page, one per attempt, recorded
        # with the intent to send, in one transaction.
        token, link = runtime.files.new_portal_link(
            actor, dispatch.account, purpose=link_purpose(dispatch.template),
            days=runtime.settings.portal_days)
        document = _document(runtime, dispatch, keep, actor, names,
                             portal_address(runtime.settings.portal_base, token))
    attachments = _attachments(runtime, dispatch, scenario, keep, actor)
    dispatch.start_sending(at=now, numbers=[inv.case.number for inv in keep],
                           dropped=dropped, recipient=recipient,
                           sha256=document.sha256,
                           attachments=[a.sha256 for a in attachments])
    if not _save(runtime, dispatch, with_link=link):
        return SENDING  # another run took it: the link was not recorded either
    _fault("after_sending")
    if dispatch.channel == Channel.LETTER.value:
        return _print(runtime, dispatch, document)
    message = build_message(document, runtime.creditor.email, dispatch.recipient,
                            attachments=attachments, message_id=dispatch.message_id,
                            reply_to=runtime.settings.reply_address)
    try:
        runtime.outbox.send(message)
    except SendFailed as error:
        dispatch.failed(at=runtime.files.now(), error=str(error)[:500])
        _save(runtime, dispatch)
        runtime.files.record_sending_failure(
            actor, dispatch.numbers, template=dispatch.template, channel=Channel.EMAIL,
            recipient=dispatch.recipient, error=str(error)[:500])
        log.warning("run message not sent", extra={"key": key, "error": str(error)})
        return FAILED
    _fault("after_smtp")
    _recorded_as_sent(runtime, dispatch, actor, document.sha256, list(dispatch.attachments))
    _fault("after_facts")
    return SENT


def _held(runtime: Runtime, dispatch: Dispatch, recipient: str) -> str:
    """Why the message must not go out now ('' when it may): the debtor wrote back and
    nobody has read it yet, or our e-mails to that address came back."""
    email = recipient if dispatch.channel == Channel.EMAIL.value else ""
    replied, failing = runtime.reads.held_back(dispatch.account, email)
    if replied:
        return "réponse du débiteur à traiter : l'envoi attend qu'une personne l'ait lue"
    if failing:
        return (f"adresse {recipient} en échec ({failing[:120]}) : "
                "à corriger sur la fiche du débiteur")
    return ""


def _recorded_as_sent(runtime: Runtime, dispatch: Dispatch, actor: str, sha256: str,
                      attachments: list[str], facts: bool = True) -> None:
    """Records the message as sent (or printed) and, if `facts`, on every file it covers,
    in one write. When that write could not hold the message's state (a version conflict,
    or facts recorded before under the message's key), the facts are recorded alone and
    the message's state after them (`_sent_after_all`)."""
    dispatch.sent(at=runtime.files.now(), sha256=sha256, attachments=attachments)
    if not facts:
        if not _save(runtime, dispatch):
            _sent_after_all(runtime, dispatch.key, sha256, attachments)
        return
    with runtime.files.recording_with(dispatch) as along:
        _record_facts(runtime, dispatch, actor)
    if not along.written:
        _sent_after_all(runtime, dispatch.key, sha256, attachments)


def _sent_after_all(runtime: Runtime, key: str, sha256: str, attachments: list[str]) -> None:
    """The server took the message (or it was printed) and its facts are recorded, but
    its state could not be written with them: it is written now, on the message as stored.
    It may be still `Sending` (the write met a colleague's fact on a file), or « incertain »
    (a run started meanwhile found it `Sending` and, unable to know, said so): this run
    saw it go out, and says so rather than leave a person to look for it in the mailbox."""
    dispatch = _load(runtime, key)
    if dispatch is not None and dispatch.state in (SENDING, UNCERTAIN):
        dispatch.sent(at=runtime.files.now(), sha256=sha256, attachments=attachments)
        _save(runtime, dispatch)


def _scenario_of(runtime: Runtime, dispatch: Dispatch) -> Scenario:
    """The scenario the message's debtor follows now (read once per message)."""
    return runtime.files.open_playbook(RUN_ACTOR).scenario_for(dispatch.account)


def _still_due(runtime: Runtime, dispatch: Dispatch, scenario: Scenario, day: date
               ) -> tuple[list[Invoice], dict[str, str]]:
    """The message's files still due for its document now, and why the others dropped."""
    keep, dropped = [], {}
    for number in dispatch.planned_numbers:
        invoice = runtime.files.file(number)
        due = next_action(Progress.of(invoice.case, day), scenario, day, runtime.calendar)
        if due.step is not None and due.step.template == dispatch.template:
            keep.append(invoice)
        else:
            dropped[number] = due.why
    return keep, dropped


def _document(runtime: Runtime, dispatch: Dispatch, invoices: list[Invoice],
              actor: str, names: dict[str, str | None] | None = None,
              portal_link: str = "") -> Document:
    """The message's document; `portal_link` is the link issued for it when it goes out
    (else the document names an example address)."""
    first = invoices[0].case.number
    addressee = None
    if dispatch.channel == Channel.EMAIL.value and dispatch.recipient:
        planned = dispatch.addressee
        addressee = planned if planned is not None and planned.email == dispatch.recipient \
            else addressee_for(runtime, invoices[0], dispatch.template, dispatch.recipient)
    wording = None
    if dispatch.wording:  # edited by the person who validated it, for this message only
        wording = (dispatch.wording["subject"], dispatch.wording["text"])
    signature = _signature(runtime, dispatch, actor, {} if names is None else names)
    return preview(runtime, first, dispatch.template, signature, addressee,
                   invoices=invoices, wording=wording, portal_link=portal_link)


def _signature(runtime: Runtime, dispatch: Dispatch, actor: str,
               names: dict[str, str | None]) -> str:
    """Who signs a message: the person who validated it, else the debtor's owner, else
    the team (« Service relances »)."""
    for login in (dispatch.decided_by, dispatch.owner,
                  "" if actor == RUN_ACTOR else actor):
        if login and login not in names:
            user = runtime.accounts.user(login)
            names[login] = user.name if user is not None else None
        if login and names[login] is not None:
            return names[login]  # type: ignore[return-value]
    return "Service relances"


def _attachments(runtime: Runtime, dispatch: Dispatch, scenario: Scenario,
                 invoices: list[Invoice], actor: str) -> list[Attachment]:
    """The invoices themselves, when the step says to attach them (each its PDF, else a
    copy marked as such)."""
    step = next((s for s in scenario.steps if s.template == dispatch.template), None)
    if step is None or not step.attach_invoice:
        return []
    return [invoice_attachment(runtime, inv.case.number, actor) for inv in invoices]


def _print(runtime: Runtime, dispatch: Dispatch, document: Document) -> str:
    """A letter: rendered and kept for the day's print; a reminder letter is recorded now,
    a formal notice once posted with its registered-letter number (`mark_posted`)."""
    pdf = document.pdf()
    blobs = getattr(runtime, "blobs", None)
    digest = blobs.put(pdf, "application/pdf") if blobs is not None else document.sha256
    _recorded_as_sent(runtime, dispatch, RUN_ACTOR, document.sha256, [digest],
                      facts=dispatch.template != "formal_notice")
    return PRINTED


def _record_facts(runtime: Runtime, dispatch: Dispatch, actor: str,
                  registered_letter_number: str = "") -> None:
    """Records the message on every file it covered, once (keyed by the message)."""
    files = runtime.files
    numbers = dispatch.numbers
    step = dispatch.steps.get(numbers[0], "")
    channel = Channel(dispatch.channel)
    proof: dict[str, Any] = dict(document_sha256=dispatch.sha256, scenario_step=step,
                                 idempotency_key=_fact_key(dispatch))
    attached = {"attachments": list(dispatch.attachments)} \
        if channel == Channel.EMAIL and dispatch.attachments else {}
    recipient = dispatch.recipient.replace("\n", ", ")
    message_id = dispatch.message_id if channel == Channel.EMAIL else ""

    def record(**extra: Any) -> None:
        template = dispatch.template
        if template == "pre_due":
            files.remind_before_due(actor, numbers, channel=channel, summary=_subject(dispatch),
                                    recipient=recipient, message_id=message_id, **proof,
                                    **attached, **extra)
        elif template in ("reminder_1", "reminder_2"):
            files.send_reminder(actor, numbers, channel=channel, level=int(template[-1]),
                                recipient=recipient, summary=_subject(dispatch),
                                message_id=message_id, **proof, **attached, **extra)
        elif template == "formal_notice":
            files.send_formal_notice(actor, numbers, recipient=recipient,
                                     registered_letter_number=registered_letter_number,
                                     deadline_on=runtime.today() + PAYMENT_DELAY, **proof,
                                     **extra)
        else:
            files.send_document(actor, numbers, template=template, channel=channel,
                                recipient=recipient, subject=_subject(dispatch),
                                message_id=message_id, document_sha256=dispatch.sha256,
                                idempotency_key=_fact_key(dispatch), **attached, **extra)

    try:
        record()
    except SameDayContact as refused:
        # A colleague's contact came in while the message was leaving: it went out, so it
        # is recorded, saying so.
        record(same_day_reason=f"envoi automatique déjà parti quand "
                               f"{refused.context.get('actor', '')} a contacté le débiteur")


def _subject(dispatch: Dispatch) -> str:
    return f"{dispatch.template} — {dispatch.debtor_name}"


# -- people's decisions -------------------------------------------------------------------

def approve(runtime: Runtime, actor: str, key: str, subject: str = "",
            text: str = "") -> str:
    """Validates a queued message (its wording possibly edited) and sends it now."""
    dispatch = _require(runtime, key)
    dispatch.approve(actor=actor, at=runtime.files.now(), subject=subject, text=text)
    _save(runtime, dispatch, refuse=True)
    return send(runtime, key, actor)


def skip(runtime: Runtime, actor: str, key: str, reason: str) -> None:
    """Sets a message aside, with the reason."""
    dispatch = _require(runtime, key)
    dispatch.skip(actor=actor, at=runtime.files.now(), reason=reason)
    _save(runtime, dispatch, refuse=True)


def resolve(runtime: Runtime, actor: str, key: str, went_out: bool) -> None:
    """A person checked the mailbox for an « incertain » message: it went out (its facts
    are recorded now) or it did not (the next run sends it, same Message-ID)."""
    dispatch = _require(runtime, key)
    if dispatch.state != UNCERTAIN:
        raise DispatchRefused(f"message {key} is {dispatch.state}: only an uncertain one "
                              "is resolved")
    if went_out:
        _record_facts(runtime, dispatch, actor)
    dispatch.resolve(actor=actor, at=runtime.files.now(), went_out=went_out)
    _save(runtime, dispatch, refuse=True)


def mark_posted(runtime: Runtime, actor: str, key: str, registered_letter_number: str) -> None:
    """A printed formal notice was posted: recorded on its files with its number."""
    dispatch = _require(runtime, key)
    if dispatch.state != PRINTED or dispatch.template != "formal_notice" \
            or dispatch.registered_number:
        raise DispatchRefused(f"message {key} is not a printed formal notice to post")
    _record_facts(runtime, dispatch, actor, registered_letter_number)
    dispatch.posted(actor=actor, at=runtime.files.now(), number=registered_letter_number)
    _save(runtime, dispatch, refuse=True)


def preview_message(runtime: Runtime, key: str, actor: str = RUN_ACTOR
                    ) -> tuple[Document | None, dict[str, str]]:
    """The message as it would go out now (with its edited wording, if any), and the
    files that dropped from it since the planning, with why; None when none is left."""
    dispatch = _require(runtime, key)
    keep, dropped = _still_due(runtime, dispatch, _scenario_of(runtime, dispatch),
                               runtime.today())
    if not keep:
        return None, dropped
    return _document(runtime, dispatch, keep, actor), dropped


def queue(runtime: Runtime, owner: str | None = None) -> list[dict[str, Any]]:
    """Messages waiting for a person: to validate, or « incertain »."""
    _fresh(runtime)
    return runtime.reads.dispatches(states=[TO_VALIDATE, UNCERTAIN], owner=owner)


def letters_pdf(runtime: Runtime, day: date) -> bytes:
    """The day's letters as one PDF to print: a cover list, then each debtor's letter."""
    from pypdf import PdfReader, PdfWriter  # only here: the rest of the run needs none

    _fresh(runtime)
    rows = [r for r in runtime.reads.dispatches(day=day) if r["state"] == PRINTED]
    blobs = getattr(runtime, "blobs", None)
    writer = PdfWriter()
    cover = html_to_pdf(_cover_html(day, rows))
    writer.append(PdfReader(BytesIO(cover)))
    for row in rows:
        content = blobs.get(row["attachments"][0]) if blobs and row["attachments"] else None
        if content:
            writer.append(PdfReader(BytesIO(content)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _cover_html(day: date, rows: Sequence[dict[str, Any]]) -> str:
    lines = "".join(
        f"<tr><td>{i}</td><td>{escape(r['debtor_name'])}</td><td>{escape(r['template'])}"
        f"</td><td>{escape(', '.join(r['numbers']))}</td></tr>" for i, r in enumerate(rows, 1))
    return (f"<html><body><h1>Lettres du {day:%d/%m/%Y}</h1><p>{count(len(rows), 'lettre')} à "
            f"mettre sous pli.</p><table><tr><th>#</th><th>Débiteur</th><th>Document</th>"
            f"<th>Factures</th></tr>{lines}</table></body></html>")


# -- the records --------------------------------------------------------------------------

def _load(runtime: Runtime, key: str) -> Dispatch | None:
    try:
        return runtime.files.repository.get(dispatch_id(key))
    except AggregateNotFoundError:
        return None


def _require(runtime: Runtime, key: str) -> Dispatch:
    dispatch = _load(runtime, key)
    if dispatch is None:
        raise DispatchRefused(f"no message {key!r}")
    return dispatch


def _save(runtime: Runtime, dispatch: Dispatch, refuse: bool = False,
          with_link: PortalLink | None = None) -> bool:
    """Saves (with the message's new link to the debtor's page, if any); False when another
    process changed the message meanwhile."""
    try:
        runtime.files.save(dispatch, with_link)
    except RecordConflictError:
        if refuse:
            raise DispatchRefused(f"message {dispatch.key} changed meanwhile: "
                                  "reload the page") from None
        return False
    return True


def _fresh(runtime: Runtime) -> None:
    """The run's read model up to date (a long run's writes may take the runner a while)."""
    fresh_views(runtime, timeout=30)


