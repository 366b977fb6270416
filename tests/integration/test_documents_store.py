"""Documents on a file, on each store: their bytes kept once by digest in the events' own
database, the fact naming them, the Factur-X PDF kept, the invoice sent with a duplicate,
the dossier carrying them, and `relance verify` noticing one changed behind relance."""

from __future__ import annotations

import hashlib
import io

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from adapters.infra.blobs import BlobRefused
from adapters.infra.export_formats import Scope
from adapters.infra.outbox import SmtpOutbox
from adapters.usecases.attachments import (
    DocumentRefused,
    attach,
    documents_of,
    invoice_attachment,
)
from adapters.usecases.evidence import document_problems, french_finding, walk
from adapters.usecases.exporting import Request, export
from adapters.usecases.facturx import import_facturx
from adapters.usecases.sending import send_by_email
from domain.attachments import MAX_DOCUMENT_SIZE
from domain.terms import PaymentTerms
from projections.history import describe
from tests.builders import free_port, register_kwargs
from tests.e2e.cli_runner import relance
from tests.integration.test_import_facturx import facturx_pdf
from tests.integration.test_sending import Inbox

N = "FA-2026-0001"
PLAN = b"%PDF-1.7\n% echeancier signe par ACME le 12/10/2026\n%%EOF\n"
INVOICE = b"%PDF-1.7\n% facture FA-2026-0001 telle qu'emise\n%%EOF\n"


class RawBlobs:
    """The table of documents, reached around relance, as someone with database access."""

    def __init__(self, runtime) -> None:
        store = runtime.store
        if store.is_postgres:
            import psycopg

            self.conn = psycopg.connect(store.conninfo, autocommit=True)
            self.conn.execute(f'SET search_path TO "{store.schema}"')
            self.p = "%s"
        else:
            import sqlite3

            self.conn = sqlite3.connect(store.sqlite_path, isolation_level=None)
            self.p = "?"

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM document_blobs").fetchone()[0]

    def replace(self, sha256: str, content: bytes) -> None:
        self.conn.execute(f"UPDATE document_blobs SET content = {self.p} WHERE sha256 = "
                          f"{self.p}", (content, sha256))

    def delete(self, sha256: str) -> None:
        self.conn.execute(f"DELETE FROM document_blobs WHERE sha256 = {self.p}", (sha256,))


@pytest.fixture
def raw(runtime):
    blobs = RawBlobs(runtime)
    yield blobs
    blobs.conn.close()


@pytest.fixture
def inbox(runtime):
    """A real SMTP server on loopback; the runtime's outbox points at it."""
    received = Inbox()
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    runtime.outbox = SmtpOutbox(f"smtp://127.0.0.1:{port}", timeout=5)
    yield received
    controller.stop()


def _attachments(message) -> list[tuple[str, str, bytes]]:
    return [(part.get_filename(), part.get_content_type(), part.get_content())
            for part in message.iter_attachments()]


def test_the_same_bytes_are_stored_once_and_come_back_exactly(runtime, raw):
    first = runtime.blobs.put(PLAN, "application/pdf")
    again = runtime.blobs.put(PLAN, "application/pdf")
    assert first == again == hashlib.sha256(PLAN).hexdigest()
    assert raw.count() == 1
    assert runtime.blobs.get(first) == PLAN
    assert runtime.blobs.check(first)
    stored = runtime.blobs.info(first)
    assert (stored.media_type, stored.size) == ("application/pdf", len(PLAN))
    assert runtime.blobs.get("0" * 64) is None
    assert not runtime.blobs.check("0" * 64)


def test_a_document_over_twenty_mebibytes_is_refused_and_nothing_is_stored(runtime, raw):
    with pytest.raises(BlobRefused) as refused:
        runtime.blobs.put(b"%PDF-" + b"0" * MAX_DOCUMENT_SIZE, "application/pdf")
    assert "20 Mo au plus" in refused.value.french
    assert raw.count() == 0


def test_a_document_is_attached_once_by_its_digest_and_listed_on_the_file(runtime):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs())
    attached = attach(runtime, "bruno", N, PLAN, "plan signé.pdf", "application/pdf",
                      "signed_plan", note="reçu par courrier")
    assert attached.recorded
    again = attach(runtime, "sophie", N, PLAN, "copie.pdf", "application/pdf", "other")
    assert not again.recorded
    kinds = [e.kind for e in files.history(N)]
    assert kinds == ["InvoiceRegistered", "DocumentAttached"]
    fact = files.history(N)[-1]
    assert fact.data == {"sha256": hashlib.sha256(PLAN).hexdigest(),
                         "document_kind": "signed_plan", "filename": "plan signé.pdf",
                         "media_type": "application/pdf", "size": len(PLAN),
                         "note": "reçu par courrier"}
    assert PLAN not in repr(fact.data).encode()
    (line,) = documents_of(runtime, N)
    assert (line.kind_label, line.attached_by, line.size_label) == (
        "échéancier signé", "bruno", f"{len(PLAN)} octets")
    assert describe(fact.kind, fact.data).startswith(
        "Échéancier signé — « plan signé.pdf » — ")


def test_bytes_that_are_not_what_they_claim_are_not_attached(runtime, raw):
    runtime.files.register_invoice("alice", **register_kwargs())
    with pytest.raises(DocumentRefused):
        attach(runtime, "bruno", N, b"MZ\x90\x00 not a pdf", "facture.pdf", "application/pdf",
               "invoice_pdf")
    assert raw.count() == 0
    assert [e.kind for e in runtime.files.history(N)] == ["InvoiceRegistered"]


def test_a_facturx_import_keeps_its_pdf_and_importing_it_again_adds_nothing(runtime):
    pdf = facturx_pdf("FX-2026-010")
    report = import_facturx(runtime.files, pdf, "import", PaymentTerms.parse("30"),
                            blobs=runtime.blobs, filename="FX-2026-010.pdf")
    assert report.created == 1
    (document,) = runtime.files.case("FX-2026-010").documents
    assert (document.kind, document.filename, document.media_type) == (
        "invoice_pdf", "FX-2026-010.pdf", "application/pdf")
    assert runtime.blobs.get(document.sha256) == pdf
    head = runtime.files.recorder.max_notification_id()
    again = import_facturx(runtime.files, pdf, "import", PaymentTerms.parse("30"),
                           blobs=runtime.blobs, filename="FX-2026-010.pdf")
    assert (again.created, again.unchanged) == (0, 1)
    assert runtime.files.recorder.max_notification_id() == head


def test_the_duplicates_email_carries_the_invoice_pdf_of_the_file(runtime, inbox):
    runtime.files.register_invoice("alice", **register_kwargs())
    pdf = attach(runtime, "bruno", N, INVOICE, "FA-2026-0001.pdf", "application/pdf",
                 "invoice_pdf").document
    sent = send_by_email(runtime, N, "duplicate_cover", "bruno")
    assert sent.ok
    (_, message), = inbox.messages
    assert "ci-joint le duplicata" in message.get_body(("plain",)).get_content()
    assert _attachments(message) == [("FA-2026-0001.pdf", "application/pdf", INVOICE)]
    fact = runtime.files.history(N)[-1]
    assert (fact.kind, fact.data["template"]) == ("DocumentSent", "duplicate_cover")
    assert list(fact.data["attachments"]) == [pdf.sha256]
    assert "1 pièce jointe" in describe(fact.kind, fact.data)


def test_without_an_invoice_pdf_the_duplicate_carries_a_copy_marked_as_such_once(runtime,
                                                                               inbox):
    runtime.files.register_invoice("alice", **register_kwargs())
    send_by_email(runtime, N, "duplicate_cover", "bruno")
    send_by_email(runtime, N, "duplicate_cover", "bruno")
    first, second = (_attachments(message) for _, message in inbox.messages)
    assert first == second
    ((name, media_type, content),) = first
    assert (name, media_type) == ("copie-facture-FA-2026-0001.pdf", "application/pdf")
    text = " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())
    assert "COPIE — établie par relance d'après les données enregistrées ; ne remplace pas " \
           "la facture originale" in text
    for shown in ("FA-2026-0001", "ACME SARL", "1 500,00", "01/09/2026", "01/10/2026"):
        assert shown in text
    copies = [d for d in runtime.files.case(N).documents if d.kind == "invoice_copy"]
    assert [d.sha256 for d in copies] == [hashlib.sha256(content).hexdigest()]
    sent = [e for e in runtime.files.history(N) if e.kind == "DocumentSent"]
    assert [list(e.data["attachments"]) for e in sent] == [[copies[0].sha256]] * 2
    attached = invoice_attachment(runtime, N, "bruno")
    assert attached.sha256 == copies[0].sha256


def test_verify_names_a_document_changed_or_removed_behind_relance(runtime, raw, store_url):
    runtime.files.register_invoice("alice", **register_kwargs())
    plan = attach(runtime, "bruno", N, PLAN, "plan.pdf", "application/pdf",
                  "signed_plan").document
    assert document_problems(runtime.blobs, walk(runtime.files)[0]) == []
    assert relance(store_url, "verify").returncode == 0

    raw.replace(plan.sha256, PLAN.replace(b"12/10", b"12/11"))
    (problem,) = document_problems(runtime.blobs, walk(runtime.files)[0])
    assert (problem.number, problem.version) == (N, 2)
    told = relance(store_url, "verify")
    assert told.returncode == 1
    assert (f"Document altéré : {N}, entrée n° 2 (Document joint) : son document (SHA-256 "
            f"{plan.sha256}) a été modifié : son contenu ne correspond plus à son "
            "empreinte") in " ".join(told.stderr.split())

    raw.delete(plan.sha256)
    (problem,) = document_problems(runtime.blobs, walk(runtime.files)[0])
    assert french_finding(str(problem)) == (
        f"{N}, entrée n° 2 (Document joint) : son document (SHA-256 {plan.sha256}) n'est "
        "plus dans la base")


def test_the_pdf_dossier_embeds_the_files_documents_and_lists_their_digests(runtime):
    runtime.files.register_invoice("alice", **register_kwargs())
    plan = attach(runtime, "bruno", N, PLAN, "plan.pdf", "application/pdf",
                  "signed_plan").document
    out = io.BytesIO()
    export(runtime, Request(Scope("file", N), "pdf", "maitre.avocat"), out)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert reader.attachments[f"{plan.sha256[:12]}-plan.pdf"] == [PLAN]
    assert "relance-export.json" in reader.attachments
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Pièces du dossier" in text
    assert "échéancier signé — plan.pdf" in text
    assert plan.sha256[:32] in text.replace(" ", "")


def test_documents_sent_before_attachments_existed_still_load_with_none(files):
    from tests.integration.test_storage_contract import _load_fixture

    _load_fixture(files)
    sent = [e for e in files.history("GOLD-1")
            if e.kind in ("DocumentSent", "ReminderSent", "PreDueReminderSent")]
    assert len(sent) >= 3
    assert all(tuple(e.data["attachments"]) == () for e in sent)
    assert walk(files)[1] is None
