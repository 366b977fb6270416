"""The debtor's page (« espace débiteur »): a link per sending, and what the debtor does
with it.

A link is what a reminder, a letter (as a short address and a QR code) or a call
confirmation gives the debtor: `/p/<token>`, where the token is 32 random bytes. relance
keeps only the token's SHA-256: the record of a link is named by it, so a link is found
from its token in one read, and a stolen database does not give working links.

Its life, each step a fact with who and when:

- `Issued`: for which debtor, why (« relance 1 », « courrier », « confirmation d'appel »,
  « page débiteur »), until which day (Paris) it works;
- `Visited`: the debtor opened its page (each view, with the day and hour: what a lawyer
  calls evidence that the statement was seen);
- `Revoked`: the debtor's owner withdrew it, with the reason; it no longer opens.

What the debtor answers on its page is recorded on each file concerned, by the actor
« débiteur (portail) », with the same rules as an agent's entry: a promise
(`PaymentPromised`), a request for instalments (`PlanRequested`), a dispute
(`DisputeRaised`, with its document), a request for a duplicate (`DuplicateRequested`), a
payment it says it made (`PaymentClaimed`, a payment to check, not a payment); a
download of an invoice is an `InvoiceDownloaded` (« duplicata consulté »). Each answer
waits for a person (`Case.replies_waiting`) like a reply by e-mail, and the daily run
leaves the debtor alone meanwhile.

A link reaches one debtor's files and nothing else: every command below checks that the
files it names belong to the link's debtor and are open.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event

from domain.chain import ChainedAggregate
from domain.engine import Recorded
from domain.errors import DomainError, MissingInformation
from domain.invoice import Invoice
from domain.kinds import Words
from domain.values import (
    PORTAL_ACTOR,
    Contact,
    DuplicateReason,
    Instalment,
    Money,
    PaymentMeans,
    Stamp,
    one_line,
    paris_day,
    reference,
)

PORTAL_NAMESPACE = UUID("8d0c4f8e-5b7a-4c33-a1e2-3f9b6d20c7e1")
DEFAULT_DAYS = 90
"""How long a link works by default: a scenario's reminders and letters span about that."""
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
"""What a token looks like (32 bytes in URL-safe base64): anything else is not looked up."""
PURPOSES = {"reminder": "relance", "letter": "courrier", "call_confirmation":
            "confirmation d'appel", "page": "page débiteur", "demo": "démonstration"}
"""Why a link was issued, as people read it."""
DISPUTE_REASONS = {
    "amount": "montant contesté",
    "not_delivered": "marchandise ou prestation non reçue",
    "defective": "marchandise ou prestation non conforme",
    "already_paid": "facture déjà réglée",
    "not_ordered": "commande non passée",
    "other": "autre motif",
}
"""The reasons a debtor picks from to contest an invoice."""


class PortalRefused(DomainError):
    """A link that does not open (unknown, altered, expired, revoked), or an answer it
    cannot give (a file of another debtor, a closed file). The debtor's page says only
    that the link does not work: nothing about why, or whose it was."""

    code = "portal_refused"


def token_digest(token: str) -> str:
    """The SHA-256 of a token: all relance keeps of it."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_id(token_sha256: str) -> UUID:
    """The record of a link, from its token's digest."""
    return uuid5(PORTAL_NAMESPACE, "link:" + token_sha256)


def new_token() -> str:
    """A new token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


class PortalLink(ChainedAggregate):
    """One link to a debtor's page (see the module's text)."""

    @event("Issued")
    def __init__(self, token_sha256: str, account: str, expires_on: date, purpose: str,
                 actor: str, timestamp: datetime) -> None:
        self.token_sha256 = token_sha256
        self.account = account
        self.expires_on = expires_on
        self.purpose = purpose
        self.issued_at = timestamp
        self.issued_by = actor
        self.revoked_at: datetime | None = None
        self.visits = 0

    @staticmethod
    def create_id(token_sha256: str, **_: Any) -> UUID:
        """The record's id comes from the token's digest."""
        return link_id(token_sha256)

    def works_on(self, day: date) -> bool:
        """True while the link opens: not revoked, and `day` not after its last day."""
        return self.revoked_at is None and day <= self.expires_on

    def revoke(self, *, reason: str, actor: str, timestamp: datetime) -> bool:
        """Withdraws the link; False when it was already withdrawn."""
        if self.revoked_at is not None:
            return False
        self._revoked(reason=one_line(reason or "", "reason"), actor=actor,
                      timestamp=timestamp)
        return True

    def visit(self, *, what: str, timestamp: datetime) -> None:
        """Records a view of the debtor's page through this link."""
        self._visited(what=what, actor=PORTAL_ACTOR, timestamp=timestamp)

    @event("Revoked")
    def _revoked(self, reason: str, actor: str, timestamp: datetime) -> None:  # noqa: ARG002
        self.revoked_at = timestamp

    @event("Visited")
    def _visited(self, what: str, actor: str, timestamp: datetime) -> None:  # noqa: ARG002
        self.visits += 1


class PortalCommands:
    """The links and the debtor's answers (mixed into `domain.service.CaseFiles`)."""

    # -- links ----------------------------------------------------------------------------

    def issue_portal_link(self, actor: str, account: str, *, purpose: str,
                          days: int = DEFAULT_DAYS) -> tuple[str, Recorded]:
        """A new link to the debtor's page, working `days` days from today (Paris): the
        token, which is shown once and never kept, and what was recorded."""
        token, link = self.new_portal_link(actor, account, purpose=purpose, days=days)
        recorded: Recorded = self._execute(  # type: ignore[attr-defined]
            "issue_portal_link", actor, None, None,
            {"account": link.account, "purpose": purpose}, lambda _: [link])
        return token, recorded

    def new_portal_link(self, actor: str, account: str, *, purpose: str,
                        days: int = DEFAULT_DAYS) -> tuple[str, PortalLink]:
        """Like `issue_portal_link`, but not saved: the caller saves the link with what
        gives it (the daily run, with the message's intent to send, in one transaction)."""
        account = reference(account, "debtor_account")
        if purpose not in PURPOSES:
            raise MissingInformation(f"unknown purpose {purpose!r}", field="purpose")
        token = new_token()
        now = self._now()  # type: ignore[attr-defined]
        expires_on = paris_day(now) + timedelta(days=max(1, int(days)))
        return token, PortalLink(token_sha256=token_digest(token), account=account,
                                 expires_on=expires_on, purpose=purpose, actor=actor,
                                 timestamp=now)

    def portal_link(self, token: str) -> PortalLink | None:
        """The link a token opens, whatever its state; None for a token never issued (or
        not shaped like one: it is not even looked up)."""
        if not TOKEN.match(token or ""):
            return None
        return self.portal_link_by_id(link_id(token_digest(token)))

    def portal_link_by_id(self, record: UUID) -> PortalLink | None:
        """A link by its record's id."""
        try:
            return self.repository.get(record)  # type: ignore[attr-defined,no-any-return]
        except AggregateNotFoundError:
            return None

    def open_portal_link(self, token: str) -> PortalLink:
        """The link a token opens today, or `PortalRefused` (the same for every reason)."""
        link = self.portal_link(token)
        if link is None or not link.works_on(paris_day(self._now())):  # type: ignore[attr-defined]
            raise PortalRefused("this link does not open")
        return link

    def revoke_portal_links(self, actor: str, links: Sequence[UUID], *,
                            reason: str) -> Recorded:
        """Withdraws links (one, or every link of a debtor as the caller lists them)."""
        reason = one_line(reason or "", "reason")
        if not reason:
            raise MissingInformation("a link is withdrawn with a reason", field="reason")

        def decide(stamp: Stamp) -> list[Any]:
            changed = []
            for record in links:
                link = self.portal_link_by_id(record)
                if link is not None and link.revoke(reason=reason, actor=stamp.actor,
                                                    timestamp=stamp.recorded_at):
                    changed.append(link)
            return changed

        return self._execute(  # type: ignore[attr-defined,no-any-return]
            "revoke_portal_links", actor, None, None,
            {"links": [r.hex for r in links], "reason": reason}, decide)

    def record_portal_visit(self, link: PortalLink, *, what: str = "page") -> Recorded:
        """Records a view of the debtor's page through a link."""

        def decide(stamp: Stamp) -> list[Any]:
            current = self.portal_link_by_id(link.id)
            assert current is not None
            current.visit(what=one_line(what[:200], "what"), timestamp=stamp.recorded_at)
            return [current]

        return self._execute(  # type: ignore[attr-defined,no-any-return]
            "record_portal_visit", PORTAL_ACTOR, None, None, {"link": link.id.hex}, decide)

    # -- what the debtor answers ---------------------------------------------------------

    def portal_download(self, link: PortalLink, number: str, *,
                        document_sha256: str) -> Recorded:
        """« Duplicata consulté »: the debtor downloaded the invoice's PDF."""
        return self._portal("portal_download", link, [number], {"sha": document_sha256},
                            lambda inv, s: inv.record_download(
                                s, document_sha256=document_sha256, link=link.id.hex))

    def portal_promise(self, link: PortalLink, numbers: Sequence[str], *, promised_on: date,
                       promised_by: Contact, means: PaymentMeans | None = None) -> Recorded:
        """« Je paie le … »: a promise to pay the balance of each file by a date, with the
        same rules as an agent's promise."""
        return self._portal("portal_promise", link, numbers,
                            {"promised_on": promised_on, "by": promised_by, "means": means},
                            lambda inv, s: inv.promise_payment(
                                s, promised_on=promised_on, promised_by=promised_by,
                                means=means))

    def portal_plan_request(self, link: PortalLink, numbers: Sequence[str], *,
                            instalments: Sequence[Instalment], requested_by: Contact,
                            details: str = "") -> Recorded:
        """« Je demande un échéancier »: the instalments the debtor proposes, for the
        owner to accept or refuse. The instalments cover what the files named owe in
        all; each file records the whole proposal."""
        plan = tuple(instalments)
        return self._portal("portal_plan_request", link, numbers,
                            {"instalments": plan, "by": requested_by, "details": details},
                            lambda inv, s: inv.request_plan(
                                s, instalments=plan, requested_by=requested_by,
                                details=details))

    def portal_dispute(self, link: PortalLink, numbers: Sequence[str], *, reason: str,
                       details: str, document: dict[str, Any] | None = None) -> Recorded:
        """« Je conteste »: a dispute on each file named (collection pauses), with the
        document the debtor sent, attached to each. `document`: sha256, filename,
        media_type, size."""
        if reason not in DISPUTE_REASONS:
            raise MissingInformation(f"unknown dispute reason {reason!r}", field="reason")
        words = DISPUTE_REASONS[reason]

        def dispute(invoice: Invoice, stamp: Stamp) -> None:
            if invoice.case.dispute_open_since is None:
                invoice.raise_dispute(stamp, reason=words, details=details)
            if document:
                invoice.attach_document(stamp, kind="debtor_document", **document,
                                        note="envoyé par le débiteur avec sa contestation")

        return self._portal("portal_dispute", link, numbers,
                            {"reason": reason, "details": details, "document": document},
                            dispute)

    def portal_duplicate(self, link: PortalLink, numbers: Sequence[str], *,
                         reason: DuplicateReason, requested_by: Contact,
                         po_reference: str = "", details: str = "") -> Recorded:
        """« La facture n'est pas arrivée / mauvais destinataire / il manque le bon de
        commande »: a duplicate request, with whom to send it to and the order number."""
        said = "; ".join(part for part in (
            f"envoyer à {requested_by.name} <{requested_by.email}>" if requested_by.email
            else "", f"bon de commande : {po_reference}" if po_reference else "",
            details) if part)
        return self._portal("portal_duplicate", link, numbers,
                            {"reason": reason, "by": requested_by, "po": po_reference,
                             "details": details},
                            lambda inv, s: inv.request_duplicate(
                                s, reason=reason, details=said, requested_by=requested_by))

    def portal_payment_claim(self, link: PortalLink, numbers: Sequence[str], *,
                             paid_on: date, amount: Money, means: PaymentMeans,
                             claimed_by: Contact, reference_text: str = "",
                             proof: dict[str, Any] | None = None) -> Recorded:
        """« J'ai déjà payé »: a payment the debtor says it made, to check (the balance
        does not change), with its proof attached to each file."""

        def claim(invoice: Invoice, stamp: Stamp) -> None:
            if proof:
                invoice.attach_document(stamp, kind="payment_proof", **proof,
                                        note="justificatif envoyé par le débiteur")
            invoice.claim_payment(stamp, paid_on=paid_on, amount=amount, means=means,
                                  reference_text=reference_text, claimed_by=claimed_by,
                                  proof_sha256=(proof or {}).get("sha256", ""))

        return self._portal("portal_payment_claim", link, numbers,
                            {"paid_on": paid_on, "amount": amount, "means": means,
                             "by": claimed_by, "reference": reference_text,
                             "proof": proof}, claim)

    # -- within a command -----------------------------------------------------------------

    def _portal(self, command: str, link: PortalLink, numbers: Sequence[str],
                args: dict[str, Any], act: Any) -> Recorded:
        """Runs an answer of the debtor on the files named, after checking that the link
        still works and that every file is one of its debtor's open files."""
        listed = list(dict.fromkeys(reference(n, "number") for n in numbers))
        if not listed:
            raise MissingInformation("the answer names no invoice", field="numbers")

        def decide(stamp: Stamp) -> list[Any]:
            current = self.portal_link_by_id(link.id)
            if current is None or not current.works_on(paris_day(stamp.recorded_at)):
                raise PortalRefused("this link does not open")
            invoices = []
            for number in listed:
                try:
                    invoice = self._to_decide_on(number)  # type: ignore[attr-defined]
                except DomainError:
                    raise PortalRefused("no such invoice for this link") from None
                if invoice.case.debtor.account != current.account or invoice.case.is_closed:
                    raise PortalRefused("no such invoice for this link")
                act(invoice, stamp)
                invoices.append(invoice)
            return invoices

        return self._execute(  # type: ignore[attr-defined,no-any-return]
            command, PORTAL_ACTOR, None, None,
            {**args, "link": link.id.hex, "numbers": listed}, decide)


def portal_summary(w: Words, kind: str, data: dict[str, Any]) -> tuple[str, str]:
    """What a portal answer says, as its owner reads it in the list of answers to handle:
    a subject and a text, written with the read side's French (`domain.kinds.Words`)."""
    by = data.get("promised_by") or data.get("requested_by") or data.get("claimed_by")
    who = f" ({by.name})" if by is not None and getattr(by, "name", "") else ""
    if kind == "PaymentPromised":
        return (f"Promesse sur l'espace débiteur{who}",
                f"Je paie le {w.day(data['promised_on'])}.")
    if kind == "PlanRequested":
        lines = [f"- {w.day(i.due_on)} : {w.money(i.amount)}" for i in data["instalments"]]
        return (f"Demande d'échéancier{who}",
                "\n".join(["Je demande un échéancier :", *lines, data.get("details", "")]))
    if kind == "DisputeRaised":
        return ("Contestation sur l'espace débiteur", f"{data['reason']} : {data['details']}")
    if kind == "DuplicateRequested":
        return (f"Demande de duplicata{who}", data.get("details", ""))
    if kind == "PaymentClaimed":
        return (f"Paiement annoncé{who}",
                f"J'ai déjà payé {w.money(data['amount'], data['currency'])} le "
                f"{w.day(data['paid_on'])} ({w.word('means', data['means'])}) "
                f"{data.get('reference', '')}".strip())
    return (kind, "")
