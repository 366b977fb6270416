"""Documents on a file through the real app: attached from the file page and the API,
downloaded byte for byte, refused in French when they are not what they claim."""

from __future__ import annotations

import hashlib
from html import unescape

import httpx
import pytest

from adapters.infra.accounts import Role
from tests.builders import register_kwargs
from tests.e2e.cli_runner import relance
from tests.e2e.conftest import API_TOKEN, PASSWORD, hidden, log_in
from tests.integration.test_import_facturx import facturx_pdf

N = "FA/2026/0042"
PATH = "/dossiers/FA%2F2026%2F0042"
API = "/api/files/FA%2F2026%2F0042/documents"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
RECEIPT = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
"""A photographed delivery note, as a PNG."""
PLAN = b"%PDF-1.7\n% echeancier signe\n" + b"0" * 300_000 + b"\n%%EOF\n"


@pytest.fixture
def file_page(server, agent):
    server.app.state.runtime.files.register_invoice("alice", **register_kwargs(N))
    return agent.get(PATH)


def _upload(http: httpx.Client, page: str, content: bytes, name: str, kind: str,
            note: str = "") -> httpx.Response:
    return http.post(f"{PATH}/documents", data={"csrf": hidden(page), "nature": kind,
                                                "note": note},
                     files={"fichier": (name, content, "application/octet-stream")})


def test_a_document_attached_on_the_file_page_is_listed_and_downloads_as_it_was(
        server, agent, file_page):
    assert "Documents du dossier" in file_page.text
    answer = _upload(agent, file_page.text, RECEIPT, "BL signé 12-10.png", "delivery_receipt",
                     note="Livré complet")
    assert answer.status_code == 303, answer.text[-800:]
    page = agent.get(answer.headers["location"]).text
    digest = hashlib.sha256(RECEIPT).hexdigest()
    row = page.split(f'id="piece-{digest[:12]}"', 1)[1].split("</tr>", 1)[0]
    for shown in ("Bon de livraison signé", "BL signé 12-10.png", "Livré complet", "10 Ko",
                  "agent.test", f"/dossiers/FA%2F2026%2F0042/documents/{digest}"):
        assert shown in row
    download = agent.get(f"{PATH}/documents/{digest}")
    assert download.status_code == 200
    assert download.content == RECEIPT
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "BL%20sign%C3%A9%2012-10.png" in download.headers["content-disposition"]
    history = agent.get(PATH).text
    assert "Document joint" in history
    assert "Bon de livraison signé" in history


def test_a_file_that_is_not_a_pdf_but_named_so_is_refused_in_french(server, agent, file_page):
    answer = _upload(agent, file_page.text, b"MZ\x90\x00\x03 un executable", "facture.pdf",
                     "invoice_pdf", note="à vérifier")
    assert answer.status_code == 422
    assert "Ce fichier n'est ni un PDF, ni une image PNG ou JPEG" in unescape(answer.text)
    assert 'value="à vérifier"' in answer.text
    png_named_pdf = _upload(agent, file_page.text, RECEIPT, "facture.pdf", "invoice_pdf")
    assert png_named_pdf.status_code == 422
    assert "Ce fichier est un PNG mais son nom le dit PDF" in unescape(png_named_pdf.text)
    assert [e.kind for e in server.app.state.runtime.files.history(N)] == ["InvoiceRegistered"]


def test_a_document_over_twenty_megabytes_is_refused_in_french(server, agent, file_page):
    huge = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024)
    answer = _upload(agent, file_page.text, huge, "scan.pdf", "signed_plan")
    assert answer.status_code == 422
    assert "Le document dépasse la taille permise (20 Mo au plus)" in unescape(answer.text)
    assert [e.kind for e in server.app.state.runtime.files.history(N)] == ["InvoiceRegistered"]


def test_the_upload_needs_the_forms_csrf_token_and_a_role_that_records(server, agent,
                                                                      file_page):
    forged = agent.post(f"{PATH}/documents", data={"csrf": "x", "nature": "other"},
                        files={"fichier": ("a.pdf", PLAN, "application/pdf")})
    assert forged.status_code == 403
    runtime = server.app.state.runtime
    auditor = log_in(server, "audit.doc", "auditor")
    page = auditor.get(PATH).text
    assert 'name="fichier"' not in page
    assert auditor.post(f"{PATH}/documents", data={"nature": "other"},
                        files={"fichier": ("a.pdf", PLAN, "application/pdf")}
                        ).status_code == 403
    auditor.close()
    assert [e.kind for e in runtime.files.history(N)] == ["InvoiceRegistered"]


def test_a_letters_preview_still_answers_beside_the_documents(server, agent, file_page):
    assert agent.get(f"{PATH}/documents/reminder_1").status_code == 200
    assert agent.get(f"{PATH}/documents/{'0' * 64}").status_code == 404


def test_the_api_attaches_lists_and_hands_back_a_document(server, client):
    server.app.state.runtime.files.register_invoice("alice", **register_kwargs(N))
    posted = client.post(API, headers=AUTH, data={"kind": "signed_plan", "note": "signé"},
                         files={"file": ("plan.pdf", PLAN, "application/pdf")})
    assert posted.status_code == 200, posted.text
    body = posted.json()
    digest = hashlib.sha256(PLAN).hexdigest()
    assert body["recorded"] is True
    assert body["document"]["sha256"] == digest
    assert (body["document"]["kind"], body["document"]["kind_label"]) == (
        "signed_plan", "échéancier signé")
    again = client.post(API, headers=AUTH, data={"kind": "signed_plan"},
                        files={"file": ("plan.pdf", PLAN, "application/pdf")})
    assert again.json()["recorded"] is False
    listed = client.get(API, headers=AUTH).json()
    assert [(d["sha256"], d["filename"], d["size"], d["attached_by"]) for d in listed] == [
        (digest, "plan.pdf", len(PLAN), "api")]
    download = client.get(f"{API}/{digest}", headers=AUTH)
    assert download.status_code == 200
    assert download.content == PLAN
    assert download.headers["content-type"] == "application/pdf"
    refused = client.post(API, headers=AUTH, data={"kind": "invoice_pdf"},
                          files={"file": ("facture.pdf", b"GIF89a...", "application/pdf")})
    assert refused.status_code == 422
    assert refused.json()["code"] == "unsupported_media_type"
    assert client.get(f"{API}/{'1' * 64}", headers=AUTH).json()["code"] == "not_found"
    assert client.get("/api/files/INCONNU/documents", headers=AUTH).status_code == 404


def test_an_auditors_token_reads_documents_but_attaches_none(server, client):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("alice", **register_kwargs(N))
    runtime.accounts.add("audit.api", "Audit", Role.AUDITOR, PASSWORD)
    token = {"Authorization": f"Bearer {runtime.accounts.issue_api_token('audit.api')}"}
    assert client.get(API, headers=token).status_code == 200
    refused = client.post(API, headers=token, data={"kind": "other"},
                          files={"file": ("plan.pdf", PLAN, "application/pdf")})
    assert refused.status_code == 403


def test_the_documents_api_is_in_the_openapi_schema(server, client):
    schema = client.get("/openapi.json", headers=AUTH).json()
    paths = schema["paths"]
    assert set(paths["/api/files/{number}/documents"]) == {"get", "post"}
    download = paths["/api/files/{number}/documents/{sha256}"]["get"]
    assert set(download["responses"]["200"]["content"]) == {
        "application/pdf", "image/png", "image/jpeg"}
    upload = paths["/api/files/{number}/documents"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert not any(path.startswith("/dossiers") for path in paths)


def test_the_facturx_import_command_keeps_the_pdf_on_the_file_once(runtime, store_url,
                                                                  tmp_path):
    pdf = facturx_pdf("FX-CLI-1")
    path = tmp_path / "FX-CLI-1 facture.pdf"
    path.write_bytes(pdf)
    told = relance(store_url, "import", "facturx", str(path))
    assert told.returncode == 0, told.stderr
    (document,) = runtime.files.case("FX-CLI-1").documents
    assert (document.kind, document.filename) == ("invoice_pdf", "FX-CLI-1 facture.pdf")
    assert runtime.blobs.get(document.sha256) == pdf
    again = relance(store_url, "import", "facturx", str(path))
    assert "Ce fichier a déjà été importé : rien de nouveau." in again.stdout
    assert len(runtime.files.case("FX-CLI-1").documents) == 1


def test_an_agent_attaches_a_scan_in_chromium_and_finds_it_on_the_file(
        server, browser, tmp_path):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("alice", **register_kwargs(N))
    runtime.accounts.add("amelie.martin", "Amélie Martin", Role.AGENT, PASSWORD)
    scan = tmp_path / "accusé LRAR.pdf"
    scan.write_bytes(PLAN)
    page = browser.new_page()
    page.goto(f"{server.url}{PATH}")
    page.fill("#login", "amelie.martin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{PATH}")
    page.click("#autre-action > summary")                   # the menu of other actions
    page.click("#form-joindre > summary")
    form = page.locator("form#joindre")
    form.locator("input[name=fichier]").set_input_files(str(scan))
    form.locator("select[name=nature]").select_option("registered_receipt")
    form.locator("input[name=note]").fill("AR signé le 14/10")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**{PATH}?apres=*")
    listed = page.locator("table.attachments").inner_text()
    for shown in ("Accusé de réception de recommandé", "accusé LRAR.pdf", "AR signé le 14/10",
                  "amelie.martin"):
        assert shown in listed
    with page.expect_download() as download:
        page.locator("table.attachments a", has_text="Télécharger").click()
    saved = tmp_path / "téléchargé.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PLAN
    assert download.value.suggested_filename == "accusé LRAR.pdf"
