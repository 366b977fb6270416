"""A link to the debtor's page reaches one debtor's open files and nothing else; what
the debtor answers there is a fact on each file it names, by « débiteur (portail) », with
the rules an agent's entry has, and it waits for a person like a reply by e-mail."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from domain.errors import PromiseBeforeContact, UnfitOutcome
from domain.portal import PortalRefused, token_digest
from domain.values import (
    PORTAL_ACTOR,
    Contact,
    DuplicateReason,
    Instalment,
    PaymentMeans,
    ReplyOutcome,
    Status,
)
from tests.builders import ACME, GLOBEX, eur, register_kwargs

PAYER = Contact(name="Claire Martin", function="", phone="", email="claire@acme.example")


@pytest.fixture
def acme(runtime):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    files.register_invoice("alice", **register_kwargs("FA-2026-0099", debtor=GLOBEX))
    token, _ = files.issue_portal_link("alice", ACME.account, purpose="reminder", days=30)
    return runtime, token


def test_the_store_keeps_the_digest_of_a_token_never_the_token(acme):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    assert link.account == ACME.account
    assert link.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    stored = b"".join(item.state for item in
                      runtime.files.recorder.select_events(link.id))
    assert token.encode() not in stored
    assert token_digest(token).encode() in stored


def test_an_altered_an_expired_or_a_revoked_link_does_not_open(acme, clock):
    runtime, token = acme
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for wrong in (altered, "", "x" * 43, token + "=", "../" + token[3:]):
        with pytest.raises(PortalRefused):
            runtime.files.open_portal_link(wrong)
    clock.advance(days=30)
    assert runtime.files.open_portal_link(token).account == ACME.account  # its last day
    clock.advance(days=1)
    with pytest.raises(PortalRefused):
        runtime.files.open_portal_link(token)

    fresh, _ = runtime.files.issue_portal_link("alice", ACME.account, purpose="page")
    link = runtime.files.open_portal_link(fresh)
    runtime.files.revoke_portal_links("alice", [link.id], reason="envoyé au mauvais contact")
    with pytest.raises(PortalRefused):
        runtime.files.open_portal_link(fresh)
    with pytest.raises(PortalRefused):  # an answer through a link revoked meanwhile
        runtime.files.portal_promise(link, ["FA-2026-0001"], promised_on=date(2026, 11, 20),
                                     promised_by=PAYER)
    assert [e.kind for e in runtime.files.history("FA-2026-0001")] == ["InvoiceRegistered"]


def test_a_link_answers_only_for_its_debtors_open_files(acme):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    for numbers in (["FA-2026-0099"], ["FA-2026-0001", "FA-2026-0099"], ["FA-2026-7777"]):
        with pytest.raises(PortalRefused):
            runtime.files.portal_promise(link, numbers, promised_on=date(2026, 11, 20),
                                         promised_by=PAYER)
    with pytest.raises(PortalRefused):
        runtime.files.portal_download(link, "FA-2026-0099", document_sha256="ab" * 32)
    runtime.files.close_file("alice", "FA-2026-0002", reason="payé en espèces")
    with pytest.raises(PortalRefused):
        runtime.files.portal_dispute(link, ["FA-2026-0002"], reason="amount", details="x")
    assert [e.kind for e in runtime.files.history("FA-2026-0099")] == ["InvoiceRegistered"]
    assert [e.kind for e in runtime.files.history("FA-2026-0001")] == ["InvoiceRegistered"]


def test_a_promise_on_the_page_follows_an_agents_rules_and_waits_for_its_owner(acme):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    with pytest.raises(PromiseBeforeContact):
        runtime.files.portal_promise(link, ["FA-2026-0001"], promised_on=date(2026, 11, 1),
                                     promised_by=PAYER)
    runtime.files.portal_promise(link, ["FA-2026-0001", "FA-2026-0002"],
                                 promised_on=date(2026, 11, 20), promised_by=PAYER,
                                 means=PaymentMeans.TRANSFER)
    for number in ("FA-2026-0001", "FA-2026-0002"):
        promise = runtime.files.history(number)[-1]
        assert (promise.kind, promise.actor) == ("PaymentPromised", PORTAL_ACTOR)
        case = runtime.files.case(number)
        assert case.status(date(2026, 11, 3)) == Status.PROMISED
        assert case.replies_waiting == (promise.version,)
        assert case.last_touch is None  # the debtor's page is no call of ours
    runtime.files.handle_reply("bruno", "FA-2026-0001", reply_version=2,
                               outcome=ReplyOutcome.NOTHING, details="vu")
    assert runtime.files.case("FA-2026-0001").replies_waiting == ()


def test_instalments_asked_for_wait_until_the_owner_grants_or_refuses_them(acme):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    plan = (Instalment(date(2026, 11, 30), Decimal("750.00")),
            Instalment(date(2026, 12, 31), Decimal("750.00")))
    runtime.files.portal_plan_request(link, ["FA-2026-0001"], instalments=plan,
                                      requested_by=PAYER, details="trésorerie tendue")
    asked = runtime.files.history("FA-2026-0001")[-1]
    assert asked.kind == "PlanRequested"
    assert tuple(asked.data["instalments"]) == plan
    assert runtime.files.case("FA-2026-0001").replies_waiting == (asked.version,)
    runtime.files.handle_reply("bruno", "FA-2026-0001", reply_version=asked.version,
                               outcome=ReplyOutcome.REFUSED, details="trop long")
    assert runtime.files.case("FA-2026-0001").replies_waiting == ()
    assert runtime.files.history("FA-2026-0001")[-1].data["outcome"] == "refused"


def test_a_dispute_pauses_the_files_named_and_keeps_the_debtors_document(acme):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    document = {"sha256": "cd" * 32, "filename": "bon-de-livraison.pdf",
                "media_type": "application/pdf", "size": 2048}
    runtime.files.portal_dispute(link, ["FA-2026-0001"], reason="not_delivered",
                                 details="Livraison jamais reçue", document=document)
    case = runtime.files.case("FA-2026-0001")
    assert case.status(date(2026, 11, 3)) == Status.IN_DISPUTE
    assert [d.filename for d in case.documents] == ["bon-de-livraison.pdf"]
    assert case.documents[0].kind == "debtor_document"
    assert runtime.files.case("FA-2026-0002").dispute_open_since is None


def test_a_payment_the_debtor_announces_is_to_check_not_a_payment(acme):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    before = runtime.files.case("FA-2026-0001").outstanding
    runtime.files.portal_payment_claim(
        link, ["FA-2026-0001"], paid_on=date(2026, 10, 30), amount=eur("1500.00"),
        means=PaymentMeans.TRANSFER, claimed_by=PAYER, reference_text="VIR 4521",
        proof={"sha256": "ef" * 32, "filename": "avis.pdf", "media_type": "application/pdf",
               "size": 1000})
    case = runtime.files.case("FA-2026-0001")
    assert case.outstanding == before == Decimal("1500.00")
    claimed = runtime.files.history("FA-2026-0001")[-1]
    assert claimed.kind == "PaymentClaimed"
    assert claimed.data["proof_sha256"] == "ef" * 32
    assert case.replies_waiting == (claimed.version,)


def test_a_duplicate_request_and_a_download_are_recorded_on_the_file(acme, clock):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    runtime.files.portal_duplicate(
        link, ["FA-2026-0002"], reason=DuplicateReason.MISSING_PO_REFERENCE,
        requested_by=PAYER, po_reference="BC-2026-118")
    asked = runtime.files.history("FA-2026-0002")[-1]
    assert asked.kind == "DuplicateRequested"
    assert "BC-2026-118" in asked.data["details"]
    clock.advance(hours=1)
    runtime.files.portal_download(link, "FA-2026-0002", document_sha256="12" * 32)
    downloaded = runtime.files.history("FA-2026-0002")[-1]
    assert (downloaded.kind, downloaded.actor) == ("InvoiceDownloaded", PORTAL_ACTOR)
    assert downloaded.occurred_at == clock.now
    runtime.files.record_portal_visit(link)
    assert runtime.files.portal_link(token).visits == 1


def test_an_answer_on_the_page_is_handled_only_in_a_way_that_fits_it(acme):
    runtime, token = acme
    link = runtime.files.open_portal_link(token)
    runtime.files.portal_promise(link, ["FA-2026-0001"], promised_on=date(2026, 11, 20),
                                 promised_by=PAYER)
    with pytest.raises(UnfitOutcome):  # the promise is on the file already
        runtime.files.handle_reply("bruno", "FA-2026-0001", reply_version=2,
                                   outcome=ReplyOutcome.PROMISE)
    runtime.files.portal_payment_claim(link, ["FA-2026-0001"], paid_on=date(2026, 11, 1),
                                       amount=eur("10.00"), means=PaymentMeans.CHEQUE,
                                       claimed_by=PAYER)
    with pytest.raises(UnfitOutcome):
        runtime.files.handle_reply("bruno", "FA-2026-0001", reply_version=3,
                                   outcome=ReplyOutcome.PLAN)
    runtime.files.handle_reply("bruno", "FA-2026-0001", reply_version=3,
                               outcome=ReplyOutcome.REFUSED, details="rien reçu")
    assert runtime.files.case("FA-2026-0001").replies_waiting == (2,)
