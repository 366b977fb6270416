"""The daily run sends the scenario's written steps by itself, one message per debtor and
document, through a real SMTP server on loopback, and records each on the files covered."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from adapters.infra.outbox import SmtpOutbox
from adapters.usecases import campaign
from domain.values import PaymentMeans
from tests.builders import eur, free_port, register_kwargs


class CountingServer:
    """An SMTP handler counting every message it accepts (or refusing them all)."""

    def __init__(self) -> None:
        self.refuse = False
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            return "451 4.3.0 Essayez plus tard"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def ids(self) -> list[str]:
        """The Message-ID of each message received, in order."""
        return [str(m["Message-ID"]) for m in self.messages]


@pytest.fixture
def server(views):
    """A real SMTP server on loopback; the runtime's outbox points at it."""
    handler = CountingServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    views.outbox = SmtpOutbox(f"smtp://127.0.0.1:{port}", timeout=5)
    yield handler
    controller.stop()


def _five_invoices(runtime, due_on: date) -> list[str]:
    numbers = [f"FA-2026-00{i}" for i in range(1, 6)]
    for i, number in enumerate(numbers):
        runtime.files.register_invoice("alice", **register_kwargs(
            number, amount=eur(f"{1000 + 100 * i}.00"), issued_on=due_on - timedelta(days=30),
            due_on=due_on))
    return numbers


def test_one_message_covers_a_debtors_five_invoices_and_is_recorded_on_each(views, server):
    numbers = _five_invoices(views, views.today())
    report = campaign.run_campaign(views)
    assert report.count("sent") == 1
    (message,) = server.messages
    assert message["To"] == "jean.dupont@acme.example"
    text = message.get_body(("plain",)).get_content()
    assert all(number in text for number in numbers)
    for number in numbers:
        fact = views.files.history(number)[-1]
        assert fact.kind == "ReminderSent"
        assert fact.actor == "relance"
        assert fact.data["message_id"] == message["Message-ID"]
        assert "Référence v1" in fact.data["scenario_step"]
        assert fact.data["document_sha256"]
    # Asked again the same day, the run finds its message already sent: nothing goes out.
    again = campaign.run_campaign(views)
    assert again.count("sent") == 1
    assert len(server.messages) == 1


def test_a_file_paid_after_the_planning_is_dropped_from_the_message(views, server):
    numbers = _five_invoices(views, views.today())
    (key,) = campaign.plan(views, views.today())
    views.files.receive_payment("alice", numbers[2], amount=eur("1200.00"),
                                received_on=views.today(), means=PaymentMeans.TRANSFER)
    assert campaign.send(views, key) == "sent"
    (message,) = server.messages
    text = message.get_body(("plain",)).get_content()
    assert numbers[2] not in text
    assert numbers[0] in text
    assert views.files.history(numbers[2])[-1].kind == "PaymentReceived"


def test_nothing_goes_out_on_christmas_day(views, server, clock):
    clock.now = clock.now.replace(month=12, day=25)
    _five_invoices(views, views.today())
    report = campaign.run_campaign(views)
    assert server.messages == []
    assert report.counts == {}


def test_a_server_refusing_then_back_sends_the_message_once(views, server):
    _five_invoices(views, views.today())
    server.refuse = True
    first = campaign.run_campaign(views)
    assert first.count("failed") == 1
    assert server.messages == []
    server.refuse = False
    second = campaign.run_campaign(views)
    assert second.count("sent") == 1
    assert len(server.messages) == 1
