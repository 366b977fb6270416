"""The daily run sends the scenario's written steps by itself, one message per debtor and
document, through a real SMTP server on loopback, and records each on the files covered."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from adapters.bootstrap import bootstrap
from adapters.infra.outbox import SmtpOutbox
from adapters.settings import Settings
from adapters.usecases import campaign
from adapters.usecases.debtor_letters import fresh_views
from adapters.usecases.evidence import walk
from domain.values import Channel, Contact, Debtor, PaymentMeans
from tests.builders import ACME, GLOBEX, eur, free_port, register_kwargs

ACME_ACCOUNT = ACME.account
BETA = GLOBEX
BETA_CONTACT = Contact(name="Léa Martin", function="Comptable", email="lea.martin@globex.example")
GAMMA = Debtor(account="411GAMM", name="Gamma SAS")
GAMMA_CONTACT = Contact(name="Paul Roux", function="Trésorier", email="paul.roux@gamma.example")


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


def test_a_colleagues_fact_while_the_message_is_at_the_server_stays_and_the_message_is_sent_once(
        views, server, store_url, clock):
    """A colleague's process records on a file of the message while the server takes it:
    the run's write of the message with its facts meets that fact; the facts are written
    again alone, then the message is marked sent, and the colleague's fact stays."""
    numbers = _five_invoices(views, views.today())
    colleague = bootstrap(Settings(database_url=store_url), clock=clock)
    accept = server.handle_DATA

    async def noted_then_accepted(smtp, session, envelope):
        colleague.files.add_note("bruno", numbers[0], text="Le client rappelle demain")
        return await accept(smtp, session, envelope)

    server.handle_DATA = noted_then_accepted
    try:
        (key,) = campaign.plan(views, views.today())
        assert campaign.send(views, key) == "sent"
    finally:
        colleague.close()
    assert len(server.messages) == 1
    for number in numbers:
        kinds = [fact.kind for fact in views.files.history(number)]
        assert kinds.count("ReminderSent") == 1
    assert views.files.history(numbers[0])[-2].kind == "NoteAdded"
    fresh_views(views)
    assert campaign.report_of(views, views.today()).counts == {"sent": 1}


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


def test_sixty_days_the_scenario_sends_on_its_days_and_stops_when_paid(views, server, clock):
    """Reference scenario: D-5 pre-due e-mail, D first reminder, D+8 call (people), D+20
    second reminder by letter, D+25 call, D+30 formal notice by letter « à valider »."""
    clock.now = clock.now.replace(month=11, day=10)
    due = date(2026, 11, 20)  # a Friday; D-5 is a Sunday
    acme = _five_invoices(views, due)
    views.files.change_debtor_identity("alice", ACME_ACCOUNT, changes={
        "billing_address": "12 rue des Lilas\n69003 LYON"})
    views.files.register_invoice("alice", **register_kwargs(
        "FB-2026-001", debtor=BETA, billing_recipient=BETA_CONTACT, due_on=due,
        issued_on=due - timedelta(days=30)))
    views.files.register_invoice("alice", **register_kwargs(
        "FC-2026-001", debtor=GAMMA, billing_recipient=GAMMA_CONTACT,
        due_on=date(2026, 12, 25), issued_on=date(2026, 11, 25)))
    sent_on: dict[date, list[tuple[str, str]]] = {}
    for _ in range(60):
        day = views.today()
        if day == date(2026, 11, 25):
            views.files.receive_payment("alice", "FB-2026-001", amount=eur("1500.00"),
                                        received_on=day, means=PaymentMeans.TRANSFER)
        before = len(server.messages)
        campaign.run_campaign(views)
        for message in server.messages[before:]:
            sent_on.setdefault(day, []).append((message["To"], str(message["Subject"])))
        if day == date(2026, 12, 21):  # the formal notice waits for a person
            (queued,) = campaign.queue(views)
            assert queued["account"] == ACME_ACCOUNT
            assert queued["template"] == "formal_notice"
            assert campaign.approve(views, "sophie", queued["key"]) == "printed"
        clock.advance(days=1)
    acme_days = sorted(d for d, sent in sent_on.items()
                       if any(to == "jean.dupont@acme.example" for to, _ in sent))
    # Pre-due on Monday 16 (not Sunday 15), first reminder on its day; the rest by letter.
    assert acme_days == [date(2026, 11, 16), date(2026, 11, 20)]
    beta_days = sorted(d for d, sent in sent_on.items()
                       if any(to == BETA_CONTACT.email for to, _ in sent))
    assert beta_days == [date(2026, 11, 16), date(2026, 11, 20)]  # paid on 25: no more
    gamma_days = sorted(d for d, sent in sent_on.items()
                        if any(to == GAMMA_CONTACT.email for to, _ in sent))
    # Pre-due on 20 December, first reminder not on Christmas day but the next working day.
    assert gamma_days == [date(2026, 12, 21), date(2026, 12, 28)]
    assert date(2026, 12, 25) not in sent_on
    kinds = [e.kind for e in views.files.history(acme[0])]
    assert kinds.count("PreDueReminderSent") == 1
    assert kinds.count("ReminderSent") == 2  # the first by e-mail, the second by letter
    letter = [e for e in views.files.history(acme[0]) if e.kind == "ReminderSent"][-1]
    assert letter.data["channel"] == "letter"
    assert letter.occurred_at.date() == date(2026, 12, 10)
    beta_kinds = [e.kind for e in views.files.history("FB-2026-001")]
    assert beta_kinds[-1] == "PaymentReceived"
    notices = [r for r in views.reads.dispatches(states=["printed"])
               if r["template"] == "formal_notice"]
    assert [r["account"] for r in notices] == [ACME_ACCOUNT]
    assert notices[0]["recipient"] == "ACME SARL\n12 rue des Lilas\n69003 LYON"
    campaign.mark_posted(views, "sophie", notices[0]["key"], "1A 234 567 8901 2")
    notice = views.files.history(acme[4])[-1]
    assert notice.kind == "FormalNoticeSent"
    assert notice.data["registered_letter_number"] == "1A 234 567 8901 2"
    # Every message and run is chained like the files: the store verifies.
    assert walk(views.files)[1] is None


def test_a_step_that_attaches_the_invoice_sends_five_invoices_in_one_message(views, server):
    reference = views.files.open_playbook("alice").scenario("reference")
    steps = tuple(replace(s, attach_invoice=True) if s.template == "reminder_1" else s
                  for s in reference.steps)
    views.files.set_scenario("sophie", replace(reference, steps=steps),
                             reason="la facture jointe à la première relance")
    numbers = _five_invoices(views, views.today())
    report = campaign.run_campaign(views)
    assert report.count("sent") == 1
    (message,) = server.messages
    attached = [part for part in message.iter_attachments()]
    assert len(attached) == 5
    assert all(part.get_content_type() == "application/pdf" for part in attached)
    assert sorted(part.get_filename() for part in attached) == sorted(
        part.get_filename() for part in attached if any(n in part.get_filename()
                                                        for n in numbers))
    # No invoice PDF was imported: each is a copy marked as such, kept on its file, and
    # the fact recording the e-mail names its digest.
    for number in numbers:
        (copy,) = views.files.case(number).documents
        fact = views.files.history(number)[-1]
        assert fact.kind == "ReminderSent"
        assert fact.data["attachments"] == [d.sha256 for file in numbers
                                            for d in views.files.case(file).documents]
        assert copy.sha256 in fact.data["attachments"]


def test_a_letter_without_a_postal_address_is_set_aside_with_why(views, server):
    today = views.today()
    views.files.register_invoice("alice", **register_kwargs(
        due_on=today - timedelta(days=20), issued_on=today - timedelta(days=50)))
    views.files.send_reminder("bruno", "FA-2026-0001", channel=Channel.EMAIL, level=1,
                              occurred_at=views.files.now() - timedelta(days=20))
    report = campaign.run_campaign(views)
    (line,) = report.lines
    assert (line["template"], line["channel"], line["state"]) == ("reminder_2", "letter",
                                                                   "skipped")
    assert line["reason"] == "aucune adresse postale connue : à compléter sur la fiche du " \
                             "débiteur"
    assert views.files.history("FA-2026-0001")[-1].kind == "ReminderSent"  # the first only
