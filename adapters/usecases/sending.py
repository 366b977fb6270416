"""Sending a document from a file: render it, hand it to the outbox, record the fact.

The fact that a reminder was sent is recorded only once the server accepted the
message, with its Message-ID and the digest of its text. A refusal is recorded as a
failed attempt, with the error, and nothing else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.bootstrap import Runtime
from adapters.infra.documents import Document, document_context
from adapters.infra.outbox import SendFailed, build_message
from domain.values import CallOutcome, Channel, Contact

log = logging.getLogger("relance.sending")


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
            addressee: Contact | None = None) -> Document:
    """The document as it would go out today, without sending anything."""
    invoice = runtime.files.file(number)
    context = document_context(invoice, runtime.today(), runtime.law_rates, runtime.creditor,
                               actor, runtime.files.penalty_rate(number), addressee)
    return runtime.documents.render(template, context)


def known_contacts(runtime: Runtime, number: str) -> list[Contact]:
    """The people known at the file's debtor who have an email address, most recently seen
    first: a document can go to any of them."""
    case = runtime.files.case(number)
    debtor = runtime.reads.debtor(case.debtor.account, runtime.today())
    people = [Contact(row["name"], row["function"], row["phone"], row["email"])
              for row in (debtor.contacts if debtor else [])]
    people.append(case.billing_recipient)
    seen: set[str] = set()
    known = []
    for person in people:
        if person.email and person.email.casefold() not in seen:
            seen.add(person.email.casefold())
            known.append(person)
    return known


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
                  scenario_step: str | None = None, recipient: str = "") -> Sent:
    """Sends a document by email and records what happened, with the scenario step it
    fulfils (found from the scenario when not given) and the address it went to.

    The address is `recipient` when given (one of the debtor's known contacts); else, for
    a call's confirmation, the person reached by that call; else the last person in touch,
    else the billing contact."""
    files = runtime.files
    case = files.case(number)
    addressee = _addressee(runtime, number, template, recipient)
    document = preview(runtime, number, template, actor, addressee)
    to = addressee.email if addressee else ""
    if not to:
        error = ("no email address for the person reached by the call"
                 if template == "call_confirmation" else "no email address for this debtor")
        files.record_sending_failure(actor, number, template=template, channel=Channel.EMAIL,
                                     recipient="", error=error)
        return Sent(document, "", error=error)
    message = build_message(document, runtime.creditor.email, to)
    try:
        message_id = runtime.outbox.send(message)
    except SendFailed as error:
        log.warning("document not sent", extra={"template": template, "number": number,
                                                "error": str(error)})
        files.record_sending_failure(actor, number, template=template, channel=Channel.EMAIL,
                                     recipient=to, error=str(error))
        return Sent(document, to, error=str(error))
    step = step_reference(runtime, number, template=template) if scenario_step is None \
        else scenario_step
    proof = dict(message_id=message_id, document_sha256=document.sha256, scenario_step=step)
    if template == "pre_due":
        contact = case.last_touch.contact if case.last_touch else None
        files.remind_before_due(actor, number, channel=Channel.EMAIL, summary=document.subject,
                                contact=contact, recipient=to, **proof)
    elif template in ("reminder_1", "reminder_2"):
        files.send_reminder(actor, number, channel=Channel.EMAIL, level=int(template[-1]),
                            recipient=to, summary=document.subject, **proof)
    else:
        files.send_document(actor, number, template=template, channel=Channel.EMAIL,
                            recipient=to, subject=document.subject,
                            message_id=message_id, document_sha256=document.sha256)
    return Sent(document, to, message_id=message_id)


class UnknownRecipient(ValueError):
    """An address that is none of the debtor's known contacts."""


def _addressee(runtime: Runtime, number: str, template: str, recipient: str) -> Contact | None:
    case = runtime.files.case(number)
    if recipient:
        chosen = next((p for p in known_contacts(runtime, number)
                       if p.email.casefold() == recipient.strip().casefold()), None)
        if chosen is None:
            raise UnknownRecipient(f"{recipient!r} is not a known contact of this debtor")
        return chosen
    if template == "call_confirmation":
        reached = [e for e in runtime.files.file(number).entries if e.is_effective
                   and e.kind == "CallLogged" and e.data["outcome"] == CallOutcome.REACHED.value]
        return reached[-1].data["contact"] if reached else None
    touched = case.last_touch.contact if case.last_touch else None
    if touched is not None and touched.email:
        return touched
    return case.billing_recipient if case.billing_recipient.email else touched
