"""Sending a document from a file: render it, hand it to the outbox, record the fact.

The fact that a reminder was sent is recorded only once the server accepted the
message, with its Message-ID and the digest of its text. A refusal is recorded as a
failed attempt, with the error, and nothing else.

Each message that goes out gives the debtor a link to its page, issued for it
(`issue_sending_link`: one per message, whatever the number of files it covers); a
preview names an example address instead (`portal_example`) and issues nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from adapters.bootstrap import Runtime
from adapters.infra.documents import (
    Document,
    document_context,
    portal_address,
    portal_example,
)
from adapters.infra.outbox import SendFailed, build_message
from adapters.usecases.attachments import Attachment, invoice_attachment
from adapters.usecases.debtor_letters import check_same_day, covered
from domain.case import Case
from domain.debtors import SameDayContact, person_key
from domain.invoice import Invoice
from domain.values import CallOutcome, Channel, Contact, Debtor
from projections.queries import DebtorView

log = logging.getLogger("relance.sending")

LINK_PURPOSES = {"pre_due": "reminder", "reminder_1": "reminder", "reminder_2": "reminder",
                 "call_confirmation": "call_confirmation"}
"""Why a document's link is issued (`domain.portal.PURPOSES`); any other document is a
letter (a formal notice, a duplicate's cover, a payment plan)."""


def link_purpose(template: str) -> str:
    """The purpose recorded with the link a document gives."""
    return LINK_PURPOSES.get(template, "letter")


def issue_sending_link(runtime: Runtime, actor: str, account: str, template: str) -> str:
    """A new link to the debtor's page for one message about to go out, working for the
    settings' `portal_days`: its address (`<portal_base>/p/<token>`)."""
    token, _ = runtime.files.issue_portal_link(actor, account, purpose=link_purpose(template),
                                               days=runtime.settings.portal_days)
    return portal_address(runtime.settings.portal_base, token)


@dataclass(frozen=True)
class Sent:
    """What happened to a document: sent (with its Message-ID) or refused (with why)."""

    document: Document
    recipient: str
    message_id: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the server accepted the message."""
        return not self.error


def preview(runtime: Runtime, number: str, template: str, actor: str,
            addressee: Contact | None = None, numbers: Sequence[str] | None = None,
            invoices: Sequence[Invoice] = (), wording: tuple[str, str] | None = None,
            portal_link: str = "") -> Document:
    """The document as it would go out today, without sending anything: to `addressee`,
    else to whom it would go by default, with the debtor's postal address for a letter.
    A debtor's document covers its due invoices, or the chosen `numbers` (see
    `debtor_letters.covered`); `invoices` are those already chosen; `wording` (subject,
    text) replaces the template's for this one document. `portal_link` is the link to
    the debtor's page issued for the message going out; without it, the document names
    an example address (`<portal_base>/p/…`)."""
    invoice, *others = invoices or covered(runtime, number, template, numbers)
    if addressee is None:
        addressee = addressee_for(runtime, runtime.files.file(number), template, "")
    context = document_context(invoice, runtime.today(), runtime.law_rates, runtime.creditor,
                               actor, runtime.files.penalty_rate(number), addressee,
                               others=[(o, runtime.files.penalty_rate(o.case.number))
                                       for o in others],
                               postal=postal_lines(runtime, invoice.case.debtor),
                               portal_link=portal_link
                               or portal_example(runtime.settings.portal_base))
    return runtime.documents.render(template, context, wording)


def postal_lines(runtime: Runtime, debtor: Debtor) -> list[str]:
    """The debtor as a letter's address window shows it: its legal name (else the name its
    invoices give), then its billing address, else its registered office. Empty when no
    address is known."""
    record = runtime.files.debtor_record(debtor.account)
    address = record.mailing_address() if record else ""
    if record is None or not address:
        return []
    return [record.identity.get("legal_name") or debtor.name, *address.split("\n")]


def known_contacts(runtime: Runtime, number: str, case: Case | None = None,
                   view: DebtorView | None = None) -> list[Contact]:
    """The people known at the file's debtor who have an e-mail address, one entry per
    address, the billing contact first, then the most recently seen: a document can go to
    any of them. A page that has already read the file and its debtor passes them."""
    case = case or runtime.files.case(number)
    people = _known_people(runtime, case, view)
    first = _default_recipient(case, people)
    listed = [first] if first else []
    listed.extend(Contact(p.name, p.function, p.phone, email)
                  for p in people.values() for email in p.emails)
    seen: set[str] = set()
    known = []
    for person in listed:
        if person.email.casefold() not in seen:
            seen.add(person.email.casefold())
            known.append(person)
    return known


@dataclass
class _Person:
    """A person known at the debtor, merged from its record, the read model and the file."""

    name: str
    function: str = ""
    role: str = ""
    phone: str = ""
    emails: list[str] = field(default_factory=list)

    def add(self, function: str, role: str, phone: str, emails: Sequence[str]) -> None:
        self.function = self.function or function
        self.role = self.role or role
        self.phone = self.phone or phone
        self.emails.extend(e for e in emails if e and e not in self.emails)

    def contact(self) -> Contact | None:
        """The person as an addressee, at their latest address; None without one."""
        if not self.emails:
            return None
        return Contact(self.name, self.function, self.phone, self.emails[0])


def _known_people(runtime: Runtime, case: Case,
                  view: DebtorView | None = None) -> dict[str, _Person]:
    """Everyone known at the file's debtor, by name, merged field by field: its record's
    people (with their roles, at once), the read model's (named on any of its files),
    then the file's billing contact and last person in touch. A page passes the read
    model it waited for (`view`): it holds the record's people already, with their roles."""
    account = case.debtor.account
    people: dict[str, _Person] = {}

    def add(name: str, function: str = "", role: str = "", phone: str = "",
            emails: Sequence[str] = ()) -> None:
        if name.strip():
            known = people.setdefault(person_key(name), _Person(" ".join(name.split())))
            known.add(function, role, phone, emails)

    record = runtime.files.debtor_record(account) if view is None else None
    for person in sorted(record.people.values() if record else [],
                         key=lambda p: p.recorded_at.timestamp() if p.recorded_at else 0,
                         reverse=True):
        add(person.name, person.function, person.role, next(iter(person.phones), ""),
            person.emails)
    for seen in view.people if view else runtime.reads.debtor_people(account):
        add(seen.name.value, seen.function.value if seen.function else "",
            seen.role.value if seen.role else "", seen.phone, [e.value for e in seen.emails])
    for contact in (case.billing_recipient,
                    case.last_touch.contact if case.last_touch else None):
        if contact is not None:
            add(contact.name, contact.function, "", contact.phone,
                [contact.email] if contact.email else [])
    return people


def _default_recipient(case: Case, people: dict[str, _Person]) -> Contact | None:
    """Where a document goes when nobody is chosen: the billing contact (a person in the
    billing role, else the invoice's billing contact, else accounts payable), else the
    last person in touch, else anybody known with an address."""
    def reach(contact: Contact | None) -> Contact | None:
        if contact is None:
            return None
        if contact.email:
            return contact
        known = people.get(person_key(contact.name)) if contact.name.strip() else None
        return known.contact() if known else None

    in_role = {role: [p for p in people.values() if p.role == role and p.emails]
               for role in ("billing", "accounts_payable")}
    candidates = [*(p.contact() for p in in_role["billing"]), reach(case.billing_recipient),
                  *(p.contact() for p in in_role["accounts_payable"]),
                  reach(case.last_touch.contact if case.last_touch else None),
                  *(p.contact() for p in people.values())]
    return next((c for c in candidates if c is not None), None)


def step_reference(runtime: Runtime, number: str, *, template: str = "",
                   call: bool = False) -> str:
    """The scenario step (scenario, version, step) a document or a call made today fulfils,
    when the file's scenario has that step due today; empty otherwise."""
    due = runtime.files.due(number, runtime.today(), runtime.calendar)
    step = due.step
    if step is None:
        return ""
    if call and step.kind in ("call", "plan_offer"):
        return due.reference
    if template and step.template == template and step.kind != "call":
        return due.reference
    return ""


def send_by_email(runtime: Runtime, number: str, template: str, actor: str,
                  scenario_step: str | None = None, recipient: str = "",
                  numbers: Sequence[str] | None = None, same_day_reason: str = "",
                  attachments: Sequence[Attachment] = ()) -> Sent:
    """Sends a document by email and records what happened, with the scenario step it
    fulfils (found from the scenario when not given) and the address it went to, on every
    file it covers at once (a debtor's document: its due invoices, or the chosen
    `numbers`). A reminder that would be a second contact with the debtor today, by
    someone else, is refused before it goes out (`SameDayContact`) unless
    `same_day_reason` says why.

    The address is `recipient` when given (one of the debtor's known contacts); else, for
    a call's confirmation, the person reached by that call; else the billing contact (see
    `_default_recipient`).

    `attachments` go with the message, and the fact recorded names their digests; a
    duplicate's cover letter carries the invoice too (`attachments.invoice_attachment`).
    The message gives a link to the debtor's page issued for it (`issue_sending_link`),
    once the document is made and has somebody to go to."""
    files = runtime.files
    file = files.file(number)
    case = file.case
    invoices = covered(runtime, number, template, numbers)
    listed = [inv.case.number for inv in invoices]
    check_same_day(runtime, invoices, template, actor, same_day_reason)
    addressee = addressee_for(runtime, file, template, recipient)
    # Made once without a link: a document that cannot be produced issues none.
    document = preview(runtime, number, template, actor, addressee, invoices=invoices)
    to = addressee.email if addressee else ""
    if not to:
        error = ("no email address for the person reached by the call"
                 if template == "call_confirmation" else "no email address for this debtor")
        files.record_sending_failure(actor, listed, template=template, channel=Channel.EMAIL,
                                     recipient="", error=error)
        return Sent(document, "", error=error)
    link = issue_sending_link(runtime, actor, case.debtor.account, template)
    document = preview(runtime, number, template, actor, addressee, invoices=invoices,
                       portal_link=link)
    if template == "duplicate_cover":
        attachments = (*attachments, invoice_attachment(runtime, number, actor))
    message = build_message(document, runtime.creditor.email, to, attachments,
                            reply_to=runtime.settings.reply_address)
    try:
        message_id = runtime.outbox.send(message)
    except SendFailed as error:
        log.warning("document not sent", extra={"template": template, "number": number,
                                                "error": str(error)})
        files.record_sending_failure(actor, listed, template=template, channel=Channel.EMAIL,
                                     recipient=to, error=str(error))
        return Sent(document, to, error=str(error))
    step = step_reference(runtime, number, template=template) if scenario_step is None \
        else scenario_step
    digests = [a.sha256 for a in attachments]
    proof = dict(message_id=message_id, document_sha256=document.sha256, scenario_step=step,
                 attachments=digests)
    if template == "pre_due":
        contact = case.last_touch.contact if case.last_touch else None
        record = partial(files.remind_before_due, actor, listed, channel=Channel.EMAIL,
                         summary=document.subject, contact=contact, recipient=to, **proof)
    elif template in ("reminder_1", "reminder_2"):
        record = partial(files.send_reminder, actor, listed, channel=Channel.EMAIL,
                         level=int(template[-1]), recipient=to, summary=document.subject,
                         **proof)
    else:
        record = partial(files.send_document, actor, listed, template=template,
                         channel=Channel.EMAIL, recipient=to, subject=document.subject,
                         message_id=message_id, document_sha256=document.sha256,
                         attachments=digests)
    try:
        record(**({"same_day_reason": same_day_reason} if same_day_reason else {}))
    except SameDayContact as refused:
        # A colleague's contact came in while the message was leaving: it went out, so it
        # is recorded, saying so.
        record(same_day_reason=f"message déjà parti quand {refused.context['actor']} a "
                               f"contacté le débiteur")
    return Sent(document, to, message_id=message_id)


class UnknownRecipient(ValueError):
    """An address that is none of the debtor's known contacts."""


def addressee_for(runtime: Runtime, file: Invoice, template: str,
                  recipient: str = "") -> Contact | None:
    """Who the document goes to: `recipient` (a known contact), else for a call's
    confirmation the person reached, else the billing contact. The file is read once by
    the caller."""
    case = file.case
    if recipient:
        chosen = next((p for p in known_contacts(runtime, case.number, case)
                       if p.email.casefold() == recipient.strip().casefold()), None)
        if chosen is None:
            raise UnknownRecipient(f"{recipient!r} is not a known contact of this debtor")
        return chosen
    people = _known_people(runtime, case)
    if template == "call_confirmation":
        reached = [e for e in file.entries if e.is_effective
                   and e.kind == "CallLogged" and e.data["outcome"] == CallOutcome.REACHED.value]
        person: Contact = reached[-1].data["contact"] if reached else Contact()
        if person.email:
            return person
        known = people.get(person_key(person.name)) if person.name.strip() else None
        if known is not None and known.emails:  # their address, known from elsewhere
            return Contact(person.name, person.function or known.function,
                           person.phone or known.phone, known.emails[0])
    return _default_recipient(case, people)
