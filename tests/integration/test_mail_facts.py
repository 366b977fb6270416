"""What comes back by e-mail is recorded where the team looks: a reply waits on the files
our message covered until somebody handles it, an automatic answer is kept without
bothering anyone, a bounce marks the address, and a message found for nobody waits in
« courrier non rattaché » until a person attaches it or sets it aside."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import NoReplyWaiting
from domain.mail import (
    ATTACHED,
    AUTO_REPLY,
    BOUNCE,
    DISCARDED,
    REPLY,
    UNATTACHED,
    Arrival,
    Destination,
    MailRefused,
)
from domain.values import Channel, ReplyOutcome
from tests.builders import register_kwargs

SHA = "ab" * 32


def _arrival(kind: str = REPLY, message_id: str = "<r1@acme.example>", **extra) -> Arrival:
    values = dict(message_id=message_id, sha256=SHA, size=1200, kind=kind,
                  sender="jean.dupont@acme.example", sender_name="Jean Dupont",
                  subject="Re: Relance facture FA-2026-0001", sent_at=None,
                  text="Bonjour, le virement part vendredi.", answers="<relance.1@x>")
    values.update(extra)
    return Arrival(**values)


@pytest.fixture
def two_files(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    recorded = files.send_reminder("relance", ["FA-2026-0001", "FA-2026-0002"],
                                   channel=Channel.EMAIL, level=1,
                                   recipient="jean.dupont@acme.example",
                                   message_id="<relance.1@x>")
    views.wait_for_views(recorded.notification_id)
    return views


def test_a_reply_waits_on_each_file_our_message_covered_until_somebody_handles_it(two_files):
    runtime = two_files
    assert runtime.reads.sent_files(["<relance.1@x>"]) == {
        "411ACME": ("FA-2026-0001", "FA-2026-0002")}
    recorded = runtime.files.receive_mail("courrier", _arrival(), Destination(
        "411ACME", ("FA-2026-0001", "FA-2026-0002"), "thread"))
    runtime.wait_for_views(recorded.notification_id)

    waiting = runtime.reads.replies_waiting()
    assert [(r["number"], r["sender"], r["text"]) for r in waiting] == [
        ("FA-2026-0001", "jean.dupont@acme.example", "Bonjour, le virement part vendredi."),
        ("FA-2026-0002", "jean.dupont@acme.example", "Bonjour, le virement part vendredi.")]
    assert runtime.reads.accounts_with_replies() == {"411ACME"}
    case = runtime.files.case("FA-2026-0001")
    assert case.replies_waiting == (waiting[0]["version"],)
    assert case.last_touch is not None
    assert case.last_touch.channel == "email"

    handled = runtime.files.handle_reply("alice", "FA-2026-0001",
                                         reply_version=waiting[0]["version"],
                                         outcome=ReplyOutcome.PROMISE, details="vendredi")
    runtime.wait_for_views(handled.notification_id)
    assert [r["number"] for r in runtime.reads.replies_waiting()] == ["FA-2026-0002"]
    with pytest.raises(NoReplyWaiting):
        runtime.files.handle_reply("alice", "FA-2026-0001",
                                   reply_version=waiting[0]["version"],
                                   outcome=ReplyOutcome.NOTHING)


def test_the_same_message_read_twice_is_recorded_once(two_files):
    runtime = two_files
    where = Destination("411ACME", ("FA-2026-0001",), "thread")
    first = runtime.files.receive_mail("courrier", _arrival(), where)
    again = runtime.files.receive_mail("courrier", _arrival(), where)
    assert first is not None
    assert again is None
    runtime.wait_for_views(first.notification_id)
    kinds = [e.kind for e in runtime.files.history("FA-2026-0001")]
    assert kinds.count("ReplyReceived") == 1
    assert len(runtime.reads.incoming()) == 1


def test_an_automatic_answer_is_kept_but_neither_waits_nor_counts_as_a_contact(two_files):
    runtime = two_files
    before = runtime.files.case("FA-2026-0001").last_touch
    recorded = runtime.files.receive_mail(
        "courrier", _arrival(AUTO_REPLY, subject="Réponse automatique : absent"),
        Destination("411ACME", ("FA-2026-0001",), "thread"))
    runtime.wait_for_views(recorded.notification_id)
    case = runtime.files.case("FA-2026-0001")
    assert case.replies_waiting == ()
    assert case.last_touch == before
    assert runtime.reads.replies_waiting() == []
    assert [e.kind for e in runtime.files.history("FA-2026-0001")][-1] == "AutoReplyReceived"


def test_a_bounce_marks_the_address_until_somebody_clears_it(two_files):
    runtime = two_files
    recorded = runtime.files.receive_mail(
        "courrier", _arrival(BOUNCE, message_id="<dsn1@mx.acme.example>",
                             sender="mailer-daemon@mx.acme.example", sender_name="",
                             failed_recipient="jean.dupont@acme.example",
                             diagnostic="550 5.1.1 user unknown"),
        Destination("411ACME", ("FA-2026-0001", "FA-2026-0002"), "thread"))
    runtime.wait_for_views(recorded.notification_id)
    failing = runtime.reads.failing_addresses()
    assert [(f["account"], f["email"], f["diagnostic"], f["debtor_name"]) for f in failing] == [
        ("411ACME", "jean.dupont@acme.example", "550 5.1.1 user unknown", "ACME SARL")]
    assert runtime.reads.held_back("411ACME", "Jean.Dupont@acme.example") == (
        False, "550 5.1.1 user unknown")
    facts = [e for e in runtime.files.history("FA-2026-0002") if e.kind == "DeliveryFailed"]
    assert facts
    assert facts[0].data["recipient"] == "jean.dupont@acme.example"

    cleared = runtime.files.clear_failing_address("sophie", "411ACME",
                                                  email="jean.dupont@acme.example",
                                                  reason="adresse vérifiée par téléphone")
    runtime.wait_for_views(cleared.notification_id)
    assert runtime.reads.failing_addresses() == []


def test_a_message_found_for_nobody_waits_until_a_person_attaches_it_or_sets_it_aside(views):
    runtime = views
    runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    stranger = _arrival(message_id="<x1@ailleurs.example>", sender="paul@ailleurs.example")
    spam = _arrival(message_id="<x2@pub.example>", sender="promo@pub.example")
    for arrival in (stranger, spam):
        runtime.files.receive_mail("courrier", arrival, Destination())
    runtime.refresh_views()
    assert {r["key"] for r in runtime.reads.incoming(UNATTACHED)} == {stranger.key, spam.key}
    assert runtime.files.case("FA-2026-0001").replies_waiting == ()

    recorded = runtime.files.attach_mail("sophie", stranger.key, account="411ACME",
                                         numbers=runtime.reads.open_numbers("411ACME"))
    runtime.wait_for_views(recorded.notification_id)
    runtime.files.discard_mail("sophie", spam.key, reason="publicité")
    runtime.refresh_views()
    states = {r["key"]: r["state"] for r in runtime.reads.incoming()}
    assert states == {stranger.key: ATTACHED, spam.key: DISCARDED}
    (reply,) = [e for e in runtime.files.history("FA-2026-0001") if e.kind == "ReplyReceived"]
    assert reply.data["matched_by"] == "person"
    assert reply.actor == "sophie"
    with pytest.raises(MailRefused):
        runtime.files.discard_mail("sophie", stranger.key, reason="trop tard")


def test_a_message_dated_in_the_future_is_recorded_as_received_now(two_files):
    runtime = two_files
    future = runtime.clock() + timedelta(days=3)
    recorded = runtime.files.receive_mail(
        "courrier", _arrival(sent_at=future), Destination("411ACME", ("FA-2026-0001",),
                                                           "thread"))
    runtime.wait_for_views(recorded.notification_id)
    (reply,) = [e for e in runtime.files.history("FA-2026-0001") if e.kind == "ReplyReceived"]
    assert reply.occurred_at == runtime.clock()
