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
from domain.values import Channel

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


def preview(runtime: Runtime, number: str, template: str, actor: str) -> Document:
    """The document as it would go out today, without sending anything."""
    invoice = runtime.files.file(number)
    context = document_context(invoice, runtime.today(), runtime.law_rates, runtime.creditor,
                               actor, runtime.files.penalty_rate(number))
    return runtime.documents.render(template, context)


def send_by_email(runtime: Runtime, number: str, template: str, actor: str,
                  scenario_step: str = "") -> Sent:
    """Sends a document by email to the file's contact, and records what happened."""
    document = preview(runtime, number, template, actor)
    case = runtime.files.case(number)
    contact = case.last_touch.contact if case.last_touch and case.last_touch.contact else None
    recipient = (contact.email if contact and contact.email else "") \
        or case.billing_recipient.email
    files = runtime.files
    if not recipient:
        files.record_sending_failure(actor, number, template=template, channel=Channel.EMAIL,
                                     recipient="", error="no email address for this debtor")
        return Sent(document, "", error="no email address for this debtor")
    message = build_message(document, runtime.creditor.email, recipient)
    try:
        message_id = runtime.outbox.send(message)
    except SendFailed as error:
        log.warning("document not sent", extra={"template": template, "number": number,
                                                "error": str(error)})
        files.record_sending_failure(actor, number, template=template, channel=Channel.EMAIL,
                                     recipient=recipient, error=str(error))
        return Sent(document, recipient, error=str(error))
    proof = dict(message_id=message_id, document_sha256=document.sha256,
                 scenario_step=scenario_step)
    if template == "pre_due":
        files.remind_before_due(actor, number, channel=Channel.EMAIL, summary=document.subject,
                                contact=contact, **proof)
    elif template in ("reminder_1", "reminder_2"):
        files.send_reminder(actor, number, channel=Channel.EMAIL, level=int(template[-1]),
                            recipient=recipient, summary=document.subject, **proof)
    else:
        files.send_document(actor, number, template=template, channel=Channel.EMAIL,
                            recipient=recipient, subject=document.subject,
                            message_id=message_id, document_sha256=document.sha256)
    return Sent(document, recipient, message_id=message_id)
