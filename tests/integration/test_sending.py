"""Emails go through a real local SMTP server; the record says exactly what happened."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from adapters.infra.outbox import SmtpOutbox
from adapters.usecases.sending import UnknownRecipient, send_by_email
from domain.values import CallOutcome, Contact
from tests.builders import JEAN, free_port, register_kwargs


class Inbox:
    """An SMTP handler that keeps what it accepts, or refuses everything."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            return "554 5.7.1 Message refusé par la politique du serveur"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(
            envelope.content, policy=policy.default)))
        return "250 OK"




@pytest.fixture
def smtp(runtime):
    """A real SMTP server on loopback; the runtime's outbox points at it."""
    def start(refuse: bool = False) -> Inbox:
        inbox = Inbox(refuse)
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        runtime.outbox = SmtpOutbox(f"smtp://127.0.0.1:{port}", timeout=5)
        return inbox

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


def test_a_reminder_is_recorded_once_the_server_accepted_it_with_its_message_id(runtime, smtp):
    inbox = smtp()
    runtime.files.register_invoice("alice", **register_kwargs())
    sent = send_by_email(runtime, "FA-2026-0001", "reminder_1", "bruno",
                         scenario_step="Référence v1 — J : première relance")
    assert sent.ok
    (recipients, message), = inbox.messages
    assert recipients == ["jean.dupont@acme.example"]
    assert message["Subject"] == sent.document.subject
    assert message["Message-ID"] == sent.message_id
    assert "FA-2026-0001" in message.get_body(("plain",)).get_content()
    assert "<html" in message.get_body(("html",)).get_content()
    fact = runtime.files.history("FA-2026-0001")[-1]
    assert fact.kind == "ReminderSent"
    assert fact.data["message_id"] == sent.message_id
    assert fact.data["document_sha256"] == sent.document.sha256
    assert fact.data["scenario_step"] == "Référence v1 — J : première relance"


def test_a_refused_message_is_recorded_as_a_failed_attempt_and_nothing_else(runtime, smtp):
    inbox = smtp(refuse=True)
    runtime.files.register_invoice("alice", **register_kwargs())
    sent = send_by_email(runtime, "FA-2026-0001", "reminder_1", "bruno")
    assert not sent.ok
    assert "554" in sent.error
    assert inbox.messages == []
    kinds = [e.kind for e in runtime.files.history("FA-2026-0001")]
    assert kinds == ["InvoiceRegistered", "SendingFailed"]
    failure = runtime.files.history("FA-2026-0001")[-1]
    assert failure.data["recipient"] == "jean.dupont@acme.example"
    assert "554" in failure.data["error"]


def test_an_unreachable_server_is_a_failed_attempt_too(runtime):
    runtime.outbox = SmtpOutbox(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    runtime.files.register_invoice("alice", **register_kwargs())
    sent = send_by_email(runtime, "FA-2026-0001", "pre_due", "bruno")
    assert not sent.ok
    assert runtime.files.history("FA-2026-0001")[-1].kind == "SendingFailed"


def test_a_call_confirmation_is_recorded_as_a_document_sent(runtime, smtp):
    inbox = smtp()
    runtime.files.register_invoice("alice", **register_kwargs())
    runtime.files.log_call("bruno", "FA-2026-0001", contact=JEAN, outcome=CallOutcome.REACHED,
                           summary="Paiement vendredi")
    sent = send_by_email(runtime, "FA-2026-0001", "call_confirmation", "bruno")
    assert "« Paiement vendredi »" in inbox.messages[0][1].get_body(("plain",)).get_content()
    fact = runtime.files.history("FA-2026-0001")[-1]
    assert (fact.kind, fact.data["template"], fact.data["message_id"]) == (
        "DocumentSent", "call_confirmation", sent.message_id)


def test_a_document_sent_for_the_step_due_records_the_step_and_its_recipient(runtime, smtp):
    smtp()
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        issued_on=today - timedelta(days=20), due_on=today + timedelta(days=5)))
    sent = send_by_email(runtime, "FA-2026-0001", "pre_due", "bruno")
    fact = runtime.files.history("FA-2026-0001")[-1]
    assert fact.kind == "PreDueReminderSent"
    assert fact.data["scenario_step"] == "Référence v1 — J-5 : relance préventive"
    assert fact.data["recipient"] == sent.recipient == "jean.dupont@acme.example"
    send_by_email(runtime, "FA-2026-0001", "reminder_2", "bruno")           # not today's step
    assert runtime.files.history("FA-2026-0001")[-1].data["scenario_step"] == ""


def test_a_call_confirmation_goes_to_the_person_reached_or_a_chosen_known_contact(runtime,
                                                                                   smtp):
    inbox = smtp()
    marie = Contact("Marie Roux", "DAF", "", "marie.roux@acme.example")
    runtime.start_following()
    runtime.files.register_invoice("alice", **register_kwargs())
    runtime.files.log_call("bruno", "FA-2026-0001", contact=marie, outcome=CallOutcome.REACHED,
                           summary="Paiement vendredi")
    runtime.files.log_call("bruno", "FA-2026-0001", contact=JEAN,
                           outcome=CallOutcome.VOICEMAIL)
    send_by_email(runtime, "FA-2026-0001", "call_confirmation", "bruno")
    assert inbox.messages[-1][0] == ["marie.roux@acme.example"]
    assert "Bonjour Marie Roux" in inbox.messages[-1][1].get_body(("plain",)).get_content()
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    send_by_email(runtime, "FA-2026-0001", "call_confirmation", "bruno",
                  recipient="jean.dupont@acme.example")
    assert inbox.messages[-1][0] == ["jean.dupont@acme.example"]
    with pytest.raises(UnknownRecipient):
        send_by_email(runtime, "FA-2026-0001", "call_confirmation", "bruno",
                      recipient="quelquun@ailleurs.example")
    assert len(inbox.messages) == 2
