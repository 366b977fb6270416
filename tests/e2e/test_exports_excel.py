"""CSV exports open right in French Excel (read here as Excel reads them), are recorded with
the digest of the bytes handed over, and the API's documentation renders under the CSP."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, timedelta

from domain.values import Debtor, PaymentMeans
from tests.builders import eur, register_kwargs
from tests.e2e.cli_runner import relance
from tests.e2e.conftest import hidden, log_in

FAR = Debtor(account="411LODZ", name="Łódź Café ☕ Ünal")


def _seed(server):
    runtime = server.app.state.runtime
    today = runtime.today()
    files = runtime.files
    files.register_invoice("alice", **register_kwargs(
        "XL-1", debtor=FAR, issued_on=today - timedelta(60), due_on=today - timedelta(30)))
    recorded = files.receive_payment("bruno", "XL-1", amount=eur("250.50"),
                                     received_on=date(2026, 11, 2), means=PaymentMeans.TRANSFER,
                                     reference="VIR → 12")
    assert runtime.wait_for_views(recorded.notification_id)
    return runtime


def _export(http, page_url: str, **fields: str):
    page = http.get(page_url).text
    return http.post("/exports", data={"csrf": hidden(page), "format": "csv", **fields})


def _as_excel_reads(content: bytes, encoding: str) -> list[list[str]]:
    """French Excel: the byte-order mark says UTF-8, else the Windows code page; `;`."""
    if content.startswith(b"\xef\xbb\xbf"):
        text = content[3:].decode("utf-8")
    else:
        text = content.decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_a_csv_export_opens_in_french_excel_with_its_mark_and_is_recorded_by_its_bytes(server):
    runtime = _seed(server)
    auditor = log_in(server, "aude.itrice", "auditor")
    answer = _export(auditor, "/dossiers/XL-1", perimetre="file", cle="XL-1")
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf")                  # UTF-8, says the mark
    assert b"\r\n" in answer.content
    digest = hashlib.sha256(answer.content).hexdigest()
    assert answer.headers["x-relance-export-digest"] == digest
    assert runtime.files.export_record(digest).fmt == "csv"
    header, registered, paid = _as_excel_reads(answer.content, "cp1252")
    assert header[:10] == ["Facture", "Débiteur", "Version", "Fait", "Date de l'événement",
                           "Enregistré le", "Par", "Résumé", "Montant", "Devise"]
    assert registered[1] == "Łódź Café ☕ Ünal"
    assert registered[8:10] == ["1500,00", "EUR"]                      # a number in Excel
    assert paid[8] == "250,50"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", paid[5])          # JJ/MM/AAAA HH:MM
    assert paid[5][:10] == runtime.today().strftime("%d/%m/%Y")        # Paris's day


def test_the_windows_1252_option_replaces_what_it_lacks_and_is_recorded_by_its_bytes(server):
    runtime = _seed(server)
    supervisor = log_in(server, "sophie.chef", "supervisor")
    answer = _export(supervisor, "/dossiers/XL-1", perimetre="file", cle="XL-1",
                     encodage="cp1252")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=windows-1252"
    assert not answer.content.startswith(b"\xef\xbb\xbf")
    answer.content.decode("cp1252")                                     # every byte reads
    digest = hashlib.sha256(answer.content).hexdigest()
    assert answer.headers["x-relance-export-digest"] == digest
    assert runtime.files.export_record(digest) is not None
    _, registered, paid = _as_excel_reads(answer.content, "cp1252")
    assert registered[1] == "Lódz Café ? Ünal"                          # nearest, else ?
    assert "1\xa0500,00\xa0€" in registered[7]                          # amounts as written
    assert "VIR -> 12" in paid[7]

    portfolio = _export(supervisor, "/portefeuille", perimetre="portfolio", encodage="cp1252")
    assert portfolio.status_code == 200
    rows = _as_excel_reads(portfolio.content, "cp1252")
    assert len(rows) == 3
    recorded = runtime.files.export_record(hashlib.sha256(portfolio.content).hexdigest())
    assert recorded is not None                                         # the streamed bytes
    refused = _export(supervisor, "/portefeuille", perimetre="portfolio", encodage="ebcdic")
    assert refused.status_code == 422
    assert "encodage" in refused.text


def test_a_csv_written_by_the_command_line_is_recorded_by_the_digest_of_its_file(
        store_url, tmp_path):
    registered = relance(store_url, "invoice", "register", "--number", "CLI-XL",
                         "--debtor-account", "411CLI", "--debtor-name", "Cli SA",
                         "--amount", "100,00", "--issued", "01/10/2026", "--due", "31/10/2026")
    assert registered.returncode == 0, registered.stderr
    path = tmp_path / "cli.csv"
    made = relance(store_url, "export", "CLI-XL", "--format", "csv", "--out", str(path))
    assert made.returncode == 0, made.stderr
    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    assert hashlib.sha256(content).hexdigest() in made.stderr
    assert _as_excel_reads(content, "cp1252")[1][8] == "100,00"
    assert relance(store_url, "verify").returncode == 0
