"""No internal name reaches a person: the pages, a letter, the lawyer's PDF dossier and the
command line show every fact, channel, outcome, reason and status in French."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

from pypdf import PdfReader

from domain.kinds import KINDS
from domain.values import (
    CallOutcome,
    Channel,
    DuplicateReason,
    HandoverTarget,
    Instalment,
    PaymentMeans,
)
from tests.builders import JEAN, eur, register_kwargs
from tests.e2e.cli_runner import relance
from tests.e2e.conftest import hidden, log_in

INTERNAL = re.compile(
    r"\b(" + "|".join([kind.name for kind in KINDS] + [
        "reached", "voicemail", "wrong_person", "no_answer", "transfer", "bill_of_exchange",
        "direct_debit", "not_received", "wrong_recipient", "missing_po_reference",
        "commissaire_de_justice", "lawyer", "agency", "pre_due", "reminder_1", "reminder_2",
        "formal_notice", "call_confirmation", "duplicate_cover", "payment_plan",
        "in_dispute", "in_payment_plan", "formal_notice_sent", "promise_broken",
        "not_yet_due", "written_off", "handed_over", "overdue", "email", "letter",
        "supervisor", "auditor"]) + r")\b")


class _Text(HTMLParser):
    """The text a person reads on a page (no tags, attributes or scripts)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _seen(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _story(files, today) -> None:
    files.register_invoice("alice", **register_kwargs(
        "FR-1", issued_on=today - timedelta(days=60), due_on=today - timedelta(days=20)))
    files.register_invoice("alice", **register_kwargs(
        "FR-2", issued_on=today - timedelta(days=60), due_on=today - timedelta(days=20)))
    files.assign("sophie", ["FR-1", "FR-2"], agent="agent.fr")
    files.remind_before_due("agent.fr", "FR-1", channel=Channel.EMAIL, summary="Livraison ok",
                            contact=JEAN, expected_means=PaymentMeans.BILL_OF_EXCHANGE)
    files.send_reminder("agent.fr", "FR-1", channel=Channel.LETTER, level=1, recipient="ACME")
    files.log_call("agent.fr", ["FR-1", "FR-2"], contact=JEAN, outcome=CallOutcome.VOICEMAIL,
                   summary="Message laissé")
    files.log_call("agent.fr", "FR-1", contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Paiement la semaine prochaine", promised_on=today + timedelta(5))
    files.request_duplicate("agent.fr", "FR-1", reason=DuplicateReason.MISSING_PO_REFERENCE,
                            requested_by=JEAN)
    files.send_duplicate("agent.fr", "FR-1", channel=Channel.EMAIL, recipient=JEAN.email)
    files.record_sending_failure("agent.fr", "FR-1", template="reminder_2",
                                 channel=Channel.EMAIL, recipient=JEAN.email, error="refusé")
    files.receive_payment("agent.fr", "FR-1", amount=eur("100.00"), received_on=today,
                          means=PaymentMeans.DIRECT_DEBIT)
    files.correct("agent.fr", "FR-1", target_version=11, reason="Prélèvement de 150",
                  changes={"amount": Decimal("150.00")})
    files.raise_dispute("agent.fr", "FR-2", reason="Palette abîmée")
    files.resolve_dispute("agent.fr", "FR-2", outcome="Avoir partiel")
    files.agree_payment_plan("agent.fr", "FR-2", instalments=[
        Instalment(today + timedelta(days=30), Decimal("1500.00"))], signed=True, contact=JEAN)
    files.hand_over("sophie", "FR-1", to=HandoverTarget.COMMISSAIRE_DE_JUSTICE)


def test_pages_letters_the_pdf_dossier_and_the_terminal_speak_french(server, store_url):
    runtime = server.app.state.runtime
    _story(runtime.files, runtime.today())
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    agent = log_in(server, "agent.fr", "agent")
    pages = {path: agent.get(path) for path in (
        "/dossiers/FR-1", "/dossiers/FR-2", "/debiteurs/411ACME", "/equipe",
        "/journee?tout=true", "/portefeuille", "/dossiers/FR-2/documents/payment_plan",
        "/dossiers/FR-1/documents/formal_notice", "/compte")}
    for path, page in pages.items():
        assert page.status_code == 200, path
        leaked = INTERNAL.findall(_seen(page.text))
        assert leaked == [], (path, leaked)
    auditor = log_in(server, "auditeur.fr", "auditor")
    dossier = auditor.post("/exports", data={
        "csrf": hidden(auditor.get("/dossiers/FR-1").text), "perimetre": "debtor",
        "cle": "411ACME", "format": "pdf"})
    assert dossier.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(dossier.content)).pages)
    assert "Prélèvement" in text or "prélèvement" in text
    assert INTERNAL.findall(text) == []
    agent.close()
    auditor.close()
    shown = relance(store_url, "case", "show", "FR-1")
    assert shown.returncode == 0, shown.stderr
    assert INTERNAL.findall(shown.stdout) == []
    assert "montant : 150,00" in shown.stdout.replace("\u202f", " ").replace("\xa0", " ")
