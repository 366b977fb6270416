"""What a debtor answers on its page waits for its owner with the replies by e-mail, once
per answer however many files it names, until handled; the owner reads the debtor's links
and what the debtor did with them (views, downloads, answers)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.values import PORTAL_ACTOR, CallOutcome, Contact, Instalment, PaymentMeans, ReplyOutcome
from projections import french
from tests.builders import ACME, GLOBEX, eur, register_kwargs

PAYER = Contact(name="Claire Martin", function="", phone="", email="claire@acme.example")


@pytest.fixture
def acme(views):
    runtime = views
    files = runtime.files
    for number, debtor in (("FA-2026-0001", ACME), ("FA-2026-0002", ACME),
                           ("FA-2026-0099", GLOBEX)):
        files.register_invoice("alice", **register_kwargs(number, debtor=debtor))
    files.assign_debtors("sophie", [ACME.account, GLOBEX.account], agent="bruno")
    token, _ = files.issue_portal_link("bruno", ACME.account, purpose="reminder", days=30)
    return runtime, files.open_portal_link(token)


def _waiting(runtime, recorded=None, **which):
    if recorded is not None:
        assert runtime.wait_for_views(recorded.notification_id)
    return runtime.reads.replies_waiting(**which)


def test_a_promise_on_two_files_waits_once_for_its_owner_until_handled(acme):
    runtime, link = acme
    recorded = runtime.files.portal_promise(link, ["FA-2026-0001", "FA-2026-0002"],
                                            promised_on=date(2026, 11, 20), promised_by=PAYER)
    rows = _waiting(runtime, recorded, agent="bruno")
    assert sorted(r["number"] for r in rows) == ["FA-2026-0001", "FA-2026-0002"]
    assert len({r["mail"] for r in rows}) == 1                 # one answer, one key
    row = rows[0]
    assert row["sender_name"] == "Claire Martin"
    assert row["sender"] == "claire@acme.example"
    assert row["matched_by"] == "portal"
    assert row["subject"] == "Promesse sur l'espace débiteur (Claire Martin)"
    assert row["text"] == "Je paie le 20/11/2026."
    assert _waiting(runtime, agent="someone.else") == []
    assert runtime.reads.accounts_with_replies() == {ACME.account}

    for number in ("FA-2026-0001", "FA-2026-0002"):
        (version,) = runtime.files.case(number).replies_waiting
        recorded = runtime.files.handle_reply("bruno", number, reply_version=version,
                                              outcome=ReplyOutcome.NOTHING, details="noté")
    assert _waiting(runtime, recorded, agent="bruno") == []

    activity = runtime.reads.portal_activity(ACME.account)
    assert sorted(a["what"] for a in activity) == [
        "promesse de paiement pour le 20/11/2026 sur la facture FA-2026-0001",
        "promesse de paiement pour le 20/11/2026 sur la facture FA-2026-0002"]


def test_instalments_asked_and_a_payment_announced_wait_but_an_agents_promise_does_not(acme):
    runtime, link = acme
    runtime.files.portal_plan_request(
        link, ["FA-2026-0001"], requested_by=PAYER, details="trésorerie tendue",
        instalments=(Instalment(date(2026, 11, 30), Decimal("750.00")),
                     Instalment(date(2026, 12, 31), Decimal("750.00"))))
    runtime.files.portal_payment_claim(
        link, ["FA-2026-0002"], paid_on=date(2026, 10, 30), amount=eur("1500.00"),
        means=PaymentMeans.TRANSFER, claimed_by=Contact(""), reference_text="VIR 4521")
    recorded = runtime.files.log_call(  # an agent's promise: no answer to handle
        "bruno", "FA-2026-0099", outcome=CallOutcome.REACHED, contact=Contact(name="Paul"),
        promised_on=date(2026, 11, 25), promised_amount=eur("1500.00"))
    rows = {r["number"]: r for r in _waiting(runtime, recorded)}
    assert set(rows) == {"FA-2026-0001", "FA-2026-0002"}
    plan = rows["FA-2026-0001"]
    assert plan["subject"] == "Demande d'échéancier (Claire Martin)"
    assert f"- 30/11/2026 : {french.money(Decimal('750.00'))}" in plan["text"]
    claimed = rows["FA-2026-0002"]
    assert claimed["sender_name"] == PORTAL_ACTOR              # nobody named
    assert claimed["subject"] == "Paiement annoncé"
    assert claimed["text"].startswith(
        f"J'ai déjà payé {french.money(Decimal('1500.00'))} le 30/10/2026 (virement)")
    assert rows["FA-2026-0001"]["mail"] != claimed["mail"]


def test_the_owner_reads_links_views_downloads_and_a_revocation(acme, clock):
    runtime, link = acme
    files = runtime.files
    files.record_portal_visit(link)
    clock.advance(minutes=5)
    files.record_portal_visit(link)
    clock.advance(minutes=1)
    files.portal_download(link, "FA-2026-0001", document_sha256="ab" * 32)
    other, _ = files.issue_portal_link("bruno", GLOBEX.account, purpose="letter")
    files.record_portal_visit(files.open_portal_link(other))
    _, recorded = files.issue_portal_link("bruno", ACME.account, purpose="page")
    assert runtime.wait_for_views(recorded.notification_id)

    links = runtime.reads.portal_links(ACME.account, runtime.today())
    assert [(r["purpose_label"], r["visits"], r["state"]) for r in links] == [
        ("page débiteur", 0, "actif"), ("relance", 2, "actif")]
    assert links[1]["last_visit_at"] == clock.now.replace(minute=5)
    assert links[1]["issued_by"] == "bruno"
    assert links[1]["expires_on"] == date(2026, 12, 2)
    activity = runtime.reads.portal_activity(ACME.account)
    assert [a["what"] for a in activity] == [
        "facture FA-2026-0001 téléchargée", "page consultée", "page consultée"]
    assert len(runtime.reads.portal_activity(ACME.account, limit=1)) == 1
    assert [a["what"] for a in runtime.reads.portal_activity(GLOBEX.account)] == [
        "page consultée"]

    recorded = files.revoke_portal_links("sophie", [link.id], reason="mauvais contact")
    assert runtime.wait_for_views(recorded.notification_id)
    revoked = runtime.reads.portal_links(ACME.account, runtime.today())[1]
    assert (revoked["state"], revoked["revoked_by"], revoked["reason"]) == (
        "révoqué", "sophie", "mauvais contact")
    clock.advance(days=91)  # the page link works 90 days
    assert [r["state"] for r in runtime.reads.portal_links(ACME.account, runtime.today())
            ] == ["expiré", "révoqué"]
