"""Every reminder, letter and call confirmation that goes out gives the debtor a link to
its page, issued for that sending: an e-mail as a link, a printed letter as a short
address beside its QR code. A preview issues none, and a message covering several files
of one debtor issues one."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from io import BytesIO

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from adapters.bootstrap import bootstrap
from adapters.infra.documents import portal_qr_svg
from adapters.infra.outbox import FileOutbox, SmtpOutbox
from adapters.settings import Settings
from adapters.usecases import campaign
from adapters.usecases.debtor_letters import fresh_views
from adapters.usecases.sending import preview, send_by_email
from domain.values import CallOutcome, Channel
from tests.builders import ACME, GLOBEX, JEAN, free_port, register_kwargs
from tests.integration.test_campaign import CountingServer

BASE = "https://paiement.exemple.fr"
LINK = re.compile(re.escape(BASE) + r"/p/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
SHORT = re.compile(r"paiement\.exemple\.fr/p/([A-Za-z0-9_-]{43})")
SENTENCE = "Consultez votre relevé, téléchargez vos factures et répondez-nous en ligne :"


@pytest.fixture
def app(store_url, clock):
    """relance with its debtors' page at BASE, links working 30 days, its read models
    followed live, sending to a real SMTP server on loopback."""
    runtime = bootstrap(Settings(database_url=store_url, portal_url=BASE + "/",
                                 portal_days=30), clock=clock)
    runtime.start_following()
    handler = CountingServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    runtime.outbox = SmtpOutbox(f"smtp://127.0.0.1:{port}", timeout=5)
    runtime.server = handler
    yield runtime
    controller.stop()
    runtime.close()


def issued(runtime) -> list:
    """Every link ever issued, read from the store."""
    notifications = runtime.files.recorder.select_notifications(start=1, limit=1_000_000)
    return [runtime.files.portal_link_by_id(n.originator_id) for n in notifications
            if n.topic.endswith("PortalLink.Issued")]


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def overdue(runtime, *numbers: str, debtor=ACME) -> None:
    """Files 20 days past due, their first reminder sent then: the second is due today."""
    today = runtime.today()
    for number in numbers:
        runtime.files.register_invoice("alice", **register_kwargs(
            number, debtor=debtor, due_on=today - timedelta(days=20),
            issued_on=today - timedelta(days=50)))
    runtime.files.send_reminder("bruno", list(numbers), channel=Channel.EMAIL, level=1,
                                occurred_at=runtime.files.now() - timedelta(days=20))


def test_a_reminder_email_gives_a_link_that_opens_its_debtors_page(app):
    app.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    app.files.register_invoice("alice", **register_kwargs("FA-2026-0099", debtor=GLOBEX))
    sent = send_by_email(app, "FA-2026-0001", "reminder_1", "bruno")
    assert sent.ok
    (message,) = app.server.messages
    text = plain(message)
    (token,) = LINK.findall(text)
    assert f"{SENTENCE} {BASE}/p/{token}" in text
    assert f'<a href="{BASE}/p/{token}">' in message.get_body(("html",)).get_content()
    link = app.files.open_portal_link(token)
    assert (link.account, link.purpose, link.issued_by) == (ACME.account, "reminder", "bruno")
    assert link.expires_on == app.today() + timedelta(days=30)
    assert [x.id for x in issued(app)] == [link.id]
    # The record of what was sent is the digest of the text with that link in it.
    assert app.files.history("FA-2026-0001")[-1].data["document_sha256"] == \
        sent.document.sha256


def test_a_message_covering_two_files_of_a_debtor_issues_one_link(app):
    overdue(app, "FA-2026-0001", "FA-2026-0002")
    sent = send_by_email(app, "FA-2026-0001", "reminder_2", "bruno")
    assert sent.ok
    (message,) = app.server.messages
    assert "FA-2026-0002" in plain(message)
    assert len(set(LINK.findall(plain(message)))) == 1
    (link,) = issued(app)
    assert (link.account, link.purpose) == (ACME.account, "reminder")


def test_a_call_confirmation_gives_a_link_issued_for_it(app):
    app.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    app.files.log_call("bruno", "FA-2026-0001", contact=JEAN, outcome=CallOutcome.REACHED,
                       summary="Virement lundi")
    assert send_by_email(app, "FA-2026-0001", "call_confirmation", "bruno").ok
    (message,) = app.server.messages
    (token,) = LINK.findall(plain(message))
    assert app.files.open_portal_link(token).purpose == "call_confirmation"


def test_a_preview_names_an_example_address_and_issues_no_link(app):
    overdue(app, "FA-2026-0001", "FA-2026-0002")
    for template in ("reminder_1", "reminder_2", "formal_notice"):
        document = preview(app, "FA-2026-0001", template, "bruno")
        assert f"{SENTENCE} {BASE}/p/…" in document.text
        printed = pdf_text(document.pdf())  # the printed letter: a frame for the QR code
        assert f"QR code {SENTENCE} paiement.exemple.fr/p/…" in printed
    fresh_views(app)
    (key,) = campaign.plan(app, app.today())
    shown, _ = campaign.preview_message(app, key)
    assert f"{BASE}/p/…" in shown.text
    assert issued(app) == []
    assert app.server.messages == []


def pdf_text(pdf: bytes) -> str:
    """A PDF's text, its lines joined."""
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages
                    ).replace("\n", " ")


def _letter(app, key: str) -> bytes:
    dispatch = campaign._load(app, key)
    assert dispatch.state == "printed"
    return app.blobs.get(dispatch.attachments[0])


def _qr_drawn(pdf: bytes, url: str) -> bool:
    """True when the PDF draws the QR code of `url`: the lines of segno's SVG path, as
    WeasyPrint draws them (each `hN` a move then a line, in the SVG's own units)."""
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', portal_qr_svg(url)).group(1)
    x = y = 0.0
    ops = []
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            ops.append(f"{x:g} {y:g} m\n{x + float(a):g} {y:g} l")
            x += float(a)
    drawn = b"".join(page.get_contents().get_data() for page in PdfReader(BytesIO(pdf)).pages)
    return "\n".join(ops).encode() in drawn


def test_a_letter_prints_the_short_address_beside_its_qr_code(app):
    overdue(app, "FA-2026-0001", "FA-2026-0002")
    app.files.change_debtor_identity("alice", ACME.account, changes={
        "billing_address": "12 rue des Lilas\n69003 LYON"})
    report = campaign.run_campaign(app)
    (line,) = report.lines
    assert (line["template"], line["channel"], line["state"]) == ("reminder_2", "letter",
                                                                   "printed")
    pdf = _letter(app, line["key"])
    text = pdf_text(pdf)
    (token,) = SHORT.findall(text)
    assert "https://" not in text  # the short form
    link = app.files.open_portal_link(token)
    assert (link.account, link.purpose, link.issued_by) == (ACME.account, "reminder",
                                                            "relance")
    assert _qr_drawn(pdf, f"{BASE}/p/{token}")
    assert not _qr_drawn(pdf, f"{BASE}/p/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}")
    assert len(issued(app)) == 1  # one letter covering both files
    # Asked again the same day, the run finds its letter made: no new link.
    campaign.run_campaign(app)
    assert len(issued(app)) == 1


def test_a_formal_notice_validated_with_its_wording_edited_gives_a_letter_link(app):
    today, now = app.today(), app.files.now()
    app.files.register_invoice("alice", **register_kwargs(
        "FA-2026-0001", due_on=today - timedelta(days=30),
        issued_on=today - timedelta(days=60)))
    app.files.change_debtor_identity("alice", ACME.account, changes={
        "billing_address": "12 rue des Lilas\n69003 LYON"})
    app.files.send_reminder("bruno", "FA-2026-0001", channel=Channel.EMAIL, level=1,
                            occurred_at=now - timedelta(days=30))
    app.files.log_call("bruno", "FA-2026-0001", contact=JEAN, outcome=CallOutcome.VOICEMAIL,
                       occurred_at=now - timedelta(days=22))
    app.files.send_reminder("bruno", "FA-2026-0001", channel=Channel.LETTER, level=2,
                            occurred_at=now - timedelta(days=10))
    app.files.log_call("bruno", "FA-2026-0001", contact=JEAN, outcome=CallOutcome.VOICEMAIL,
                       occurred_at=now - timedelta(days=5))
    fresh_views(app)
    (key,) = campaign.plan(app, app.today())
    assert campaign._load(app, key).template == "formal_notice"
    shown, _ = campaign.preview_message(app, key)
    example = f"{BASE}/p/…"
    edited = shown.text.replace("Veuillez agréer", "Nous vous prions d'agréer")
    assert example in edited
    assert issued(app) == []
    assert campaign.approve(app, "sophie", key, subject=shown.subject, text=edited) == \
        "printed"
    (link,) = issued(app)
    assert (link.purpose, link.issued_by) == ("letter", "sophie")
    text = pdf_text(_letter(app, key))
    assert "Nous vous prions d'agréer" in text
    (token,) = SHORT.findall(text)
    assert "/p/…" not in text
    assert app.files.portal_link(token).id == link.id


def test_a_team_template_without_the_link_still_gives_one(store_url, clock, tmp_path):
    (tmp_path / "reminder_1.txt.j2").write_text(
        '{% set subject = "Rappel " ~ invoice.number %}Bonjour, un petit rappel.\n',
        encoding="utf-8")
    runtime = bootstrap(Settings(database_url=store_url, portal_url=BASE,
                                 templates_dir=str(tmp_path)), clock=clock)
    outbox = tmp_path / "outbox"
    runtime.outbox = FileOutbox(outbox)
    try:
        runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
        assert send_by_email(runtime, "FA-2026-0001", "reminder_1", "bruno").ok
        (sent,) = outbox.iterdir()
        message = message_from_bytes(sent.read_bytes(), policy=policy.default)
        text = plain(message)
        assert text.startswith("Bonjour, un petit rappel.")
        (token,) = LINK.findall(text)
        assert text.endswith(f"{SENTENCE} {BASE}/p/{token}\n")
        assert runtime.files.open_portal_link(token).account == ACME.account
    finally:
        runtime.close()


def test_a_run_message_refused_then_sent_issues_one_link_per_attempt(app):
    app.files.register_invoice("alice", **register_kwargs("FA-2026-0001",
                                                          due_on=app.today()))
    app.files.register_invoice("alice", **register_kwargs("FA-2026-0002",
                                                          due_on=app.today()))
    app.server.refuse = True
    assert campaign.run_campaign(app).count("failed") == 1
    assert len(issued(app)) == 1
    app.server.refuse = False
    assert campaign.run_campaign(app).count("sent") == 1
    (message,) = app.server.messages
    (token,) = LINK.findall(plain(message))
    links = issued(app)
    assert len(links) == 2
    assert app.files.open_portal_link(token).id == links[-1].id
    # Done: later runs the same day send nothing and issue nothing.
    campaign.run_campaign(app)
    assert len(issued(app)) == 2


def test_a_message_another_run_took_meanwhile_leaves_no_link_of_its_own(app, store_url,
                                                                        clock, monkeypatch):
    app.files.register_invoice("alice", **register_kwargs("FA-2026-0001",
                                                          due_on=app.today()))
    (key,) = campaign.plan(app, app.today())
    other = bootstrap(Settings(database_url=store_url, portal_url=BASE + "/",
                               portal_days=30), clock=clock)
    other.outbox = app.outbox
    taken: dict[str, str] = {}
    attachments = campaign._attachments

    def another_run_sends_it_first(*args):
        # While this run makes the message ready, another run sends it.
        if not taken:
            taken["by the other run"] = ""
            taken["by the other run"] = campaign.send(other, key)
        return attachments(*args)

    monkeypatch.setattr(campaign, "_attachments", another_run_sends_it_first)
    try:
        assert campaign.send(app, key) == "sending"
    finally:
        other.close()
    assert taken == {"by the other run": "sent"}
    (message,) = app.server.messages
    (token,) = LINK.findall(plain(message))
    (link,) = issued(app)
    assert app.files.open_portal_link(token).id == link.id


def test_a_dispute_on_the_debtors_page_stops_the_run_for_those_files(app, clock):
    overdue(app, "FA-2026-0001", "FA-2026-0002")
    overdue(app, "FA-2026-0099", debtor=GLOBEX)
    fresh_views(app)
    due = {campaign._load(app, key).account for key in campaign.plan(app, app.today())}
    assert due == {ACME.account, GLOBEX.account}
    token, _ = app.files.issue_portal_link("bruno", ACME.account, purpose="page")
    link = app.files.open_portal_link(token)
    app.files.portal_dispute(link, ["FA-2026-0001", "FA-2026-0002"], reason="not_delivered",
                             details="Rien reçu", document={
                                 "sha256": "cd" * 32, "filename": "photo.png",
                                 "media_type": "image/png", "size": 10})
    clock.advance(days=1)
    fresh_views(app)
    planned = [campaign._load(app, key) for key in campaign.plan(app, app.today())]
    assert [d.account for d in planned] == [GLOBEX.account]  # Globex is chased, not ACME
