"""The debtor's page (« espace débiteur »), served without an account.

`GET /p/<token>` shows one debtor, and only it, what it owes the creditor: the open
invoices with their figures, each invoice's PDF, the bank details and the reference to
give, and five answers (« je paie le … », « je demande un échéancier », « je conteste »,
« la facture n'est pas arrivée … », « j'ai déjà payé »), each recorded on the invoices
ticked by `domain.portal` under the actor « débiteur (portail) ».
`GET /p/<token>/factures/<number>.pdf` hands over one of those invoices as an attachment
and records the download.

What keeps it to one debtor:

- a token that does not open (unknown, altered, expired, withdrawn) gets the same plain
  page and status (404) whatever the reason, and counts against the client's address:
  past `WRONG_TOKENS` in `WRONG_WINDOW`, every page of the portal answers 429 to it;
- every form carries a value derived from the token (HMAC-SHA256 keyed by it), which a
  page of another site cannot know, and a POST whose `Origin` names another site is
  refused (403);
- what the debtor sends is a PDF, PNG or JPEG (read from its content) of at most
  `MAX_SENT`, stored by its digest and never shown inline;
- the logs name the link by its record's id, never the token (`link_path` masks it in
  the access log).

On `RELANCE_PORTAL_HOST` only these pages (and the static files) are served, and they
are served nowhere else (`host_refuses`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as ReceivedFile

from adapters.bootstrap import Runtime
from adapters.infra.throttle import LOGIN_FAILURES
from adapters.messages import in_french
from adapters.parsing import parse_amount, parse_date
from adapters.usecases.attachments import (
    DocumentRefused,
    clean_filename,
    invoice_attachment,
    media_type_of,
)
from adapters.usecases.campaign import RUN_ACTOR
from domain.attachments import size_in_french
from domain.errors import DomainError
from domain.penalties import penalties
from domain.portal import DISPUTE_REASONS, PortalLink, PortalRefused
from domain.values import Contact, DuplicateReason, Instalment, Money, PaymentMeans
from projections import french
from projections.storage import ViewStore
from web.auth import client_address
from web.downloads import content_disposition

router = APIRouter()
log = structlog.get_logger("relance.portal")

PREFIX = "/p/"
KIB = 1024
MIB = KIB * KIB
MAX_SENT = 10 * MIB
"""The largest document the debtor may send with a dispute or a payment it made."""
UPLOAD_BODY = 12 * MIB
"""A form with a document: the document and the rest of the form."""
FORM_BODY = 16 * KIB
"""Any other form of the debtor's page."""
UPLOAD_ANSWERS = ("contestation", "paiement")
"""The answers that may carry a document (`UPLOAD_BODY`); the others take `FORM_BODY`."""
WRONG_TOKENS = 10
WRONG_WINDOW = timedelta(minutes=10)
MAX_TEXT = 2000
MAX_LINE = 200
MAX_INSTALMENTS = 24

REFUSED = ("Ce lien ne fonctionne pas. Il a pu expirer ou être remplacé par un lien plus "
           "récent : utilisez celui du dernier message reçu, ou contactez votre "
           "interlocuteur habituel.")
THROTTLED = "Trop de tentatives : réessayez dans quelques minutes."
CSRF_REFUSED = ("Ce formulaire n'a pas pu être vérifié : rechargez la page depuis le lien "
                "reçu, puis envoyez-le à nouveau. Rien n'a été enregistré.")
TOO_LARGE = (f"Le formulaire est trop volumineux (document de {size_in_french(MAX_SENT)} "
             "au plus) : rien n'a été enregistré.")
DONE = {
    "promesse": "Merci : votre date de paiement est enregistrée et transmise à votre "
                "interlocuteur.",
    "echeancier": "Merci : votre demande d'échéancier est transmise ; elle vous sera "
                  "confirmée ou refusée.",
    "contestation": "Votre contestation est enregistrée : les relances de ces factures sont "
                    "suspendues le temps de l'examiner.",
    "duplicata": "Votre demande est enregistrée : la facture vous sera adressée à nouveau.",
    "paiement": "Merci : votre paiement est signalé ; il sera rapproché de nos encaissements.",
}
"""What the page says after each answer was recorded."""
MEANS = {m.value: french.word("means", m.value) for m in PaymentMeans}
DUPLICATE_REASONS = {
    DuplicateReason.NOT_RECEIVED.value: "La facture n'est pas arrivée",
    DuplicateReason.WRONG_RECIPIENT.value: "Elle a été envoyée à la mauvaise personne",
    DuplicateReason.MISSING_PO_REFERENCE.value: "Il manque le numéro de bon de commande",
    DuplicateReason.OTHER.value: "Autre raison",
}


class Unreadable(ValueError):
    """A field the debtor typed that does not read: the French sentence to show."""


# -- who may ask ---------------------------------------------------------------------------

def is_portal_path(path: str) -> bool:
    """True for the debtor's pages."""
    return path == "/p" or path.startswith(PREFIX)


def request_host(host_header: str) -> str:
    """The host name of a `Host` header, without its port, lowercase."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_refuses(portal_host: str, host_header: str, path: str) -> bool:
    """True when the path is not served on that host: with a portal host set, only the
    debtors' pages and the static files are served on it, and the debtors' pages
    nowhere else. Without one, everything is served everywhere."""
    if not portal_host:
        return False
    if request_host(host_header) == portal_host:
        return not (is_portal_path(path) or path.startswith("/static/"))
    return is_portal_path(path)


def link_path(path: str) -> str:
    """A path as the access log keeps it: the token of a debtor's page hidden."""
    if not path.startswith(PREFIX):
        return path
    _, _, rest = path[len(PREFIX):].partition("/")
    return PREFIX + "<hidden>" + ("/" + rest if rest else "")


def body_limit(path: str) -> int:
    """The largest body a POST of the debtor's page takes."""
    return UPLOAD_BODY if path.rstrip("/").rsplit("/", 1)[-1] in UPLOAD_ANSWERS \
        else FORM_BODY


class PortalThrottle:
    """Counts the wrong tokens of each client address in the login throttle's table
    (under keys `portal:<address>`, pruned with it): past `limit` in `window`, the
    address gets 429 on every page of the portal until the oldest ones age out."""

    def __init__(self, views: ViewStore, clock: Callable[[], datetime], *,
                 limit: int = WRONG_TOKENS, window: timedelta = WRONG_WINDOW) -> None:
        self.views = views
        self.clock = clock
        self.limit = limit
        self.window = window
        views.create_tables([LOGIN_FAILURES])

    def blocked(self, address: str) -> bool:
        """True while the address has tried too many wrong tokens."""
        rows = self.views.rows(
            "SELECT id FROM {login_failures} WHERE key = :key AND failed_at > :since",
            {"key": self._key(address), "since": self.clock() - self.window}, {})
        return len(rows) >= self.limit

    def wrong(self, address: str) -> None:
        """Counts a wrong token of the address."""
        self.views.execute("INSERT INTO {login_failures} (id, key, failed_at) "
                           "VALUES (:id, :key, :at)",
                           {"id": "portal:" + secrets.token_hex(16), "key": self._key(address),
                            "at": self.clock()})

    @staticmethod
    def _key(address: str) -> str:
        return f"portal:{address[:100]}"


class Refused(Exception):
    """The answer to give instead of the page: the refusal (404), too many tries (429),
    a form that does not check (403)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def form_token(token: str) -> str:
    """The value each form of a link's page carries: known only to who holds the token."""
    return hmac.new(token.encode(), b"relance portal form", hashlib.sha256).hexdigest()


def _open(request: Request, runtime: Runtime, token: str) -> PortalLink:
    """The link a token opens for this client, or `Refused` (429 past too many wrong
    tokens from its address, 404 for any token that does not open)."""
    throttle: PortalThrottle = request.app.state.portal_throttle
    address = client_address(request)
    if throttle.blocked(address):
        log.warning("portal throttled", client=address)
        raise Refused(429)
    try:
        link = runtime.files.open_portal_link(token)
    except PortalRefused:
        throttle.wrong(address)
        known = runtime.files.portal_link(token)
        log.info("portal link refused", client=address,
                 link=known.id.hex if known is not None else None)
        raise Refused(404) from None
    request.state.portal_link = link.id.hex
    return link


def _check_form(request: Request, token: str, sent: str) -> None:
    """Refuses (403) a form without the link's value, or sent from another site."""
    if not hmac.compare_digest(form_token(token).encode(), (sent or "").encode()):
        log.info("portal form refused", reason="csrf", link=request.state.portal_link)
        raise Refused(403)
    origin = request.headers.get("Origin", "")
    if origin and origin != "null":
        settings = request.app.state.runtime.settings
        allowed = {request_host(request.headers.get("Host", "")), settings.portal_host,
                   request_host(urlsplit(settings.portal_base).netloc)} - {""}
        if request_host(urlsplit(origin).netloc) not in allowed:
            log.info("portal form refused", reason="origin", link=request.state.portal_link)
            raise Refused(403)


def refusal(request: Request, status: int) -> Response:
    """The page of a refusal: the same for every reason of a status, naming nothing."""
    message = {404: REFUSED, 429: THROTTLED, 403: CSRF_REFUSED}.get(status, REFUSED)
    headers = {"Retry-After": str(int(WRONG_WINDOW.total_seconds()))} if status == 429 else {}
    return request.app.state.templates.TemplateResponse(
        request, "portal_refused.html", {"message": message}, status_code=status,
        headers={**headers, "Referrer-Policy": "no-referrer"})


def error_page(request: Request, message: str, status: int,
               headers: dict[str, str] | None = None) -> Response:
    """Any other error on the debtor's pages (too large, malformed, unexpected), on the
    portal's own layout: no way into the staff's pages."""
    return request.app.state.templates.TemplateResponse(
        request, "portal_refused.html", {"message": message}, status_code=status,
        headers=dict(headers or {}))


# -- the page ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """An open invoice as the debtor's page shows it."""

    number: str
    issued_on: date
    due_on: date
    amount: Decimal
    paid: Decimal
    credited: Decimal
    outstanding: Decimal
    currency: str
    interest: Decimal
    indemnity: Decimal
    disputed: bool
    po_reference: str


def statement(runtime: Runtime, link: PortalLink) -> tuple[str, list[Line]]:
    """The debtor's name and its open invoices, oldest due first: each read from its
    facts and checked to be the link's debtor's and open."""
    today = runtime.today()
    lines, name = [], ""
    with runtime.files.reading_once():
        for number in runtime.reads.open_numbers(link.account):
            try:
                case = runtime.files.case(number)
            except DomainError:
                continue
            if case.debtor.account != link.account or case.is_closed:
                continue
            name = name or case.debtor.name
            owed = penalties(case, today, runtime.law_rates,
                             runtime.files.penalty_rate(number, case=case))
            lines.append(Line(case.number, case.issued_on, case.due_on, case.amount, case.paid,
                              case.credited, case.outstanding, case.currency, owed.interest,
                              owed.indemnity, case.dispute_open_since is not None,
                              case.po_reference))
        if not name:
            record = runtime.files.debtor_record(link.account)
            name = (record.identity.get("legal_name") or "") if record is not None else ""
    return name, lines


def totals(lines: list[Line]) -> list[dict[str, Any]]:
    """What the open invoices come to, by currency (never added across currencies)."""
    by: dict[str, dict[str, Any]] = {}
    for line in lines:
        total = by.setdefault(line.currency, {"currency": line.currency,
                                              "outstanding": Decimal("0.00"),
                                              "interest": Decimal("0.00")})
        total["outstanding"] += line.outstanding
        total["interest"] += line.interest
    return list(by.values())


def _page(request: Request, runtime: Runtime, token: str, link: PortalLink, *,
          done: str = "", error: str = "", open_form: str = "",
          values: dict[str, Any] | None = None, status: int = 200) -> Response:
    name, lines = statement(runtime, link)
    indemnity = sum((line.indemnity for line in lines), Decimal("0.00"))
    base = request.scope.get("root_path", "") + PREFIX + token
    return request.app.state.templates.TemplateResponse(
        request, "portal.html",
        {"base": base, "csrf": form_token(token), "creditor": runtime.creditor,
         "pdf": {line.number: f"{base}/factures/{quote(line.number, safe='')}.pdf"
                 for line in lines},
         "debtor_name": name, "lines": lines, "totals": totals(lines),
         "indemnity": indemnity, "penalties_shown": any(
             line.interest or line.indemnity for line in lines),
         "today": runtime.today(), "done": DONE.get(done, ""), "error": error,
         "open_form": open_form, "values": values or {}, "means": MEANS,
         "dispute_reasons": DISPUTE_REASONS, "duplicate_reasons": DUPLICATE_REASONS,
         "max_sent": size_in_french(MAX_SENT)},
        status_code=status, headers={"Referrer-Policy": "same-origin"})


@router.get("/p/{token}", name="portal_page")
def portal_page(request: Request, token: str, fait: str = "", apres: int | None = None
                ) -> Response:
    """The debtor's page; each view is recorded on the link."""
    runtime: Runtime = request.app.state.runtime
    try:
        link = _open(request, runtime, token)
    except Refused as refused:
        return refusal(request, refused.status)
    if apres is not None:  # never wait for a fact that was not written
        runtime.wait_for_views(min(apres, runtime.files.recorder.max_notification_id() or 0))
    runtime.files.record_portal_visit(link, what="page")
    log.info("portal page", link=link.id.hex)
    return _page(request, runtime, token, link, done=fait)


@router.get("/p/{token}/factures/{number:ref}.pdf", name="portal_invoice")
def portal_invoice(request: Request, token: str, number: str) -> Response:
    """One of the link's debtor's open invoices, as a download (its own PDF when the file
    has one, else the copy relance lays out); the download is recorded on the file."""
    runtime: Runtime = request.app.state.runtime
    try:
        link = _open(request, runtime, token)
    except Refused as refused:
        return refusal(request, refused.status)
    try:
        case = runtime.files.case(number)
    except DomainError:
        case = None
    if case is None or case.debtor.account != link.account or case.is_closed:
        log.info("portal invoice refused", link=link.id.hex)
        return refusal(request, 404)
    document = invoice_attachment(runtime, number, RUN_ACTOR)
    try:
        runtime.files.portal_download(link, number, document_sha256=document.sha256)
    except PortalRefused:
        return refusal(request, 404)
    log.info("portal invoice downloaded", link=link.id.hex, sha256=document.sha256)
    return Response(document.content, media_type=document.media_type, headers={
        "Content-Disposition": content_disposition(document.filename),
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


# -- the answers ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Sent:
    """A document the debtor sent with its answer, as read from the form."""

    content: bytes
    filename: str


async def _read(request: Request, with_file: bool) -> tuple[dict[str, Any], Sent | None]:
    """The form's fields (texts, the invoices ticked as a list) and its document."""
    async with request.form(max_files=1 if with_file else 0, max_fields=80,
                            max_part_size=64 * KIB) as form:
        fields = _fields(form)
        received = form.get("piece") if with_file else None
        sent = None
        if isinstance(received, ReceivedFile) and (received.filename or received.size):
            sent = Sent(await received.read(MAX_SENT + 1), received.filename or "")
    return fields, sent


def _fields(form: FormData) -> dict[str, Any]:
    fields: dict[str, Any] = {k: v[:MAX_TEXT * 2] for k, v in form.items()
                              if isinstance(v, str)}
    fields["factures"] = [v[:200] for v in form.getlist("factures") if isinstance(v, str)][:200]
    return fields


def _answer(what: str, act: Callable[[Runtime, PortalLink, list[str], dict[str, Any],
                                       dict[str, Any] | None], Any]) -> Callable[..., Any]:
    """A route recording one answer: the link opened, the form checked, the answer read
    and recorded, then back to the page (303) with what was done; a refusal of the
    domain or a field that does not read shows the page again with a French message."""
    with_file = what in UPLOAD_ANSWERS

    async def route(request: Request, token: str) -> Response:
        fields, sent = await _read(request, with_file)
        return await run_in_threadpool(_record, request, token, fields, sent)

    def _record(request: Request, token: str, fields: dict[str, Any],
                sent: Sent | None) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            link = _open(request, runtime, token)
            _check_form(request, token, fields.get("csrf", ""))
        except Refused as refused:
            return refusal(request, refused.status)
        numbers = fields["factures"]
        try:
            if not numbers:
                raise Unreadable("Cochez au moins une facture concernée.")
            document = _store(runtime, sent) if sent is not None else None
            recorded = act(runtime, link, numbers, fields, document)
        except PortalRefused:
            log.info("portal answer refused", link=link.id.hex, answer=what)
            return refusal(request, 404)
        except (Unreadable, DocumentRefused) as unreadable:
            message = unreadable.french if isinstance(unreadable, DocumentRefused) \
                else str(unreadable)
            return _page(request, runtime, token, link, error=message, open_form=what,
                         values=fields, status=422)
        except DomainError as error:
            log.info("portal answer refused", link=link.id.hex, answer=what, code=error.code)
            return _page(request, runtime, token, link, error=in_french(error, runtime.today()),
                         open_form=what, values=fields, status=422)
        log.info("portal answer", link=link.id.hex, answer=what, invoices=len(numbers))
        after = f"&apres={recorded.notification_id}" if recorded.notification_id else ""
        return RedirectResponse(f"{request.scope.get('root_path', '')}{PREFIX}{token}"
                                f"?fait={what}{after}#reponse", status_code=303)

    route.__name__ = f"portal_{what}"
    route.__doc__ = f"Records the answer « {what} » of the debtor's page."
    return route


def _store(runtime: Runtime, sent: Sent) -> dict[str, Any]:
    """Stores what the debtor sent, by its digest: the document as the facts name it."""
    if len(sent.content) > MAX_SENT:
        raise Unreadable(f"Le document dépasse la taille permise ({size_in_french(MAX_SENT)} "
                         "au plus) : rien n'a été enregistré.")
    media_type = media_type_of(sent.content, sent.filename)
    digest = runtime.blobs.put(sent.content, media_type)
    return {"sha256": digest, "filename": clean_filename(sent.filename, media_type),
            "media_type": media_type, "size": len(sent.content)}


def _text(fields: dict[str, Any], name: str, limit: int = MAX_LINE, *,
          required: str = "") -> str:
    value = str(fields.get(name, "")).strip()
    if len(value) > limit:
        raise Unreadable(f"Un champ dépasse {limit} caractères : raccourcissez-le.")
    if required and not value:
        raise Unreadable(required)
    return value


def _day(fields: dict[str, Any], name: str) -> date:
    text = _text(fields, name, 30, required="Indiquez la date (JJ/MM/AAAA).")
    try:
        return parse_date(text)
    except ValueError:
        raise Unreadable("La date ne se lit pas : écrivez-la JJ/MM/AAAA.") from None


def _amount(text: str) -> Decimal:
    try:
        value = parse_amount(text)
    except ValueError:
        raise Unreadable(f"Le montant « {text[:30]} » ne se lit pas : écrivez-le par "
                         "exemple 1 250,00.") from None
    if value <= 0:
        raise Unreadable("Le montant doit être positif.")
    return value


def _choice(fields: dict[str, Any], name: str, choices: Collection[str], missing: str) -> str:
    """One of a list's values, or `missing` as the French refusal."""
    value = _text(fields, name, 40)
    if value not in choices:
        raise Unreadable(missing)
    return value


def _means(fields: dict[str, Any], *, required: bool) -> PaymentMeans | None:
    if not required and not _text(fields, "moyen", 40):
        return None
    return PaymentMeans(_choice(fields, "moyen", MEANS, "Choisissez le moyen de paiement."))


def _person(fields: dict[str, Any], *, email: bool = False) -> Contact:
    name = _text(fields, "nom", required="Indiquez votre nom.")
    return Contact(name=name, email=_text(fields, "email") if email else "")


def _instalments(fields: dict[str, Any]) -> list[Instalment]:
    text = _text(fields, "echeances", MAX_TEXT,
                 required="Indiquez les échéances proposées, une par ligne : date et montant.")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_INSTALMENTS:
        raise Unreadable(f"Au plus {MAX_INSTALMENTS} échéances.")
    plan = []
    for line in lines:
        day_text, _, amount_text = line.partition(" ")
        try:
            day = parse_date(day_text)
        except ValueError:
            raise Unreadable(f"La ligne « {line[:40]} » ne se lit pas : écrivez par exemple "
                             "« 15/01/2027 500,00 ».") from None
        plan.append(Instalment(day, _amount(amount_text.replace("€", "").strip())))
    return plan


def _promise(runtime: Runtime, link: PortalLink, numbers: list[str], fields: dict[str, Any],
             _: dict[str, Any] | None) -> Any:
    return runtime.files.portal_promise(link, numbers, promised_on=_day(fields, "date"),
                                        promised_by=_person(fields),
                                        means=_means(fields, required=False))


def _plan(runtime: Runtime, link: PortalLink, numbers: list[str], fields: dict[str, Any],
          _: dict[str, Any] | None) -> Any:
    return runtime.files.portal_plan_request(
        link, numbers, instalments=_instalments(fields), requested_by=_person(fields),
        details=_text(fields, "texte", MAX_TEXT))


def _dispute(runtime: Runtime, link: PortalLink, numbers: list[str], fields: dict[str, Any],
             document: dict[str, Any] | None) -> Any:
    reason = _choice(fields, "motif", DISPUTE_REASONS, "Choisissez le motif de la contestation.")
    return runtime.files.portal_dispute(
        link, numbers, reason=reason, document=document,
        details=_text(fields, "texte", MAX_TEXT, required="Expliquez ce que vous contestez."))


def _duplicate(runtime: Runtime, link: PortalLink, numbers: list[str], fields: dict[str, Any],
               _: dict[str, Any] | None) -> Any:
    reason = _choice(fields, "raison", DUPLICATE_REASONS,
                     "Choisissez ce qui ne va pas avec la facture.")
    return runtime.files.portal_duplicate(
        link, numbers, reason=DuplicateReason(reason), requested_by=_person(fields, email=True),
        po_reference=_text(fields, "bon_de_commande", 100),
        details=_text(fields, "texte", MAX_TEXT))


def _payment(runtime: Runtime, link: PortalLink, numbers: list[str], fields: dict[str, Any],
             document: dict[str, Any] | None) -> Any:
    means = _means(fields, required=True)
    assert means is not None
    amount = _amount(_text(fields, "montant", 40, required="Indiquez le montant payé."))
    return runtime.files.portal_payment_claim(
        link, numbers, paid_on=_day(fields, "date"), amount=Money(amount), means=means,
        claimed_by=_person(fields), reference_text=_text(fields, "reference"), proof=document)


for _what, _act in (("promesse", _promise), ("echeancier", _plan),
                    ("contestation", _dispute), ("duplicata", _duplicate),
                    ("paiement", _payment)):
    router.add_api_route(f"/p/{{token}}/{_what}", _answer(_what, _act), methods=["POST"],
                         name=f"portal_{_what}", include_in_schema=False)
