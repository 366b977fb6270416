"""What any client can send: long paths and ids, huge numbers and bodies, odd invoice
numbers, hostile headers (security review F2, F3, F4, F6, F11, F13, F15), each sent to a
real server on loopback."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import quote, unquote

import httpx
import pytest

from tests.e2e.conftest import API_TOKEN, hidden, log_in
from web.protocol import MAX_HEAD

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
ODD_NUMBERS = ["FA/2026/0042", "FA#12", "FA?12", "FA%12", "FA 12 B", "FA\"'12",
               "<b>FA</b>-12", "ФА-12", "請求-12", 'CD-1"; filename="evil.html']
ODD_ACCOUNTS = ["411/ODD", "411#?%", "411 <i>x</i>"]


def _raw(base: str, head: str) -> str:
    """Sends request headers (and no body) over a socket; the status line answered."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def _healthz_within(base: str, seconds: float) -> bool:
    started = time.monotonic()
    assert httpx.get(base + "/healthz", timeout=60).status_code == 200
    return time.monotonic() - started < seconds


def test_a_long_path_or_request_id_never_freezes_the_server(server):
    # Before: 49 s of frozen server for this path, 13 s for this request id.
    host = server.url.removeprefix("http://")
    path = "/" + "://a:b" * 20_000
    status = _raw(server.url, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n")
    assert status.split(" ")[1] == "414", status                   # longer than httptools takes
    assert _healthz_within(server.url, 5)
    answer = httpx.get(server.url + "/healthz", headers={"X-Request-ID": "://a:b" * 10_000})
    assert answer.status_code == 200
    assert len(answer.headers["x-request-id"]) == 32                # replaced by a fresh id
    assert _healthz_within(server.url, 5)
    kept = httpx.get(server.url + "/healthz", headers={"X-Request-ID": "lot-42.b_7"})
    assert kept.headers["x-request-id"] == "lot-42.b_7"


def test_a_request_head_that_never_ends_is_refused_past_a_mebibyte(server):
    host, port = server.url.removeprefix("http://").split(":")
    head = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nX-Filler: ".encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # Exactly one byte too many: the server has read all of it when it answers, so
        # it closes the connection cleanly, after its answer.
        sock.sendall(head + b"a" * (MAX_HEAD + 1 - len(head)))
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert _healthz_within(server.url, 5)
    # Both lengths at once (a smuggling attempt): refused before the app sees it.
    assert _raw(server.url, f"POST /connexion HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                ).startswith("HTTP/1.1 400 ")


def test_huge_or_odd_numbers_in_an_address_are_a_french_400(server, agent):
    for query in ("min=1e999997", "max=1e300000", "min=NaN", "max=Infinity", "min=-inf",
                  "page=0", "page=" + "9" * 5000, "min=" + "1" * 200):
        answer = agent.get("/portefeuille?" + query, timeout=30)
        assert answer.status_code == 400, query
        assert "La demande est mal formée" in answer.text
    assert _healthz_within(server.url, 5)
    assert agent.get("/portefeuille?min=1 500,00&max=99999").status_code == 200
    assert agent.get("/dossiers/X?apres=" + "9" * 40).status_code == 400
    assert httpx.get(server.url + "/api/files/X?after=" + "9" * 40, headers=AUTH
                     ).status_code == 422


def test_a_body_is_refused_before_it_is_read_when_too_large_or_unauthenticated(server):
    base = server.url
    host = base.removeprefix("http://")
    # 200 MB announced and never sent: answered at once, without reading it.
    assert _raw(base, f"POST /api/invoices HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                      "application/json\r\nContent-Length: 200000000\r\n\r\n") \
        .endswith("401 Unauthorized")
    assert _raw(base, f"POST /api/invoices HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                      f"Bearer {API_TOKEN}\r\nContent-Type: application/json\r\n"
                      "Content-Length: 200000000\r\n\r\n").endswith("413 Request Entity Too Large")
    assert _raw(base, f"POST /connexion HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                      "multipart/form-data; boundary=x\r\nContent-Length: 300000000\r\n\r\n") \
        .endswith("413 Request Entity Too Large")
    assert _raw(base, f"POST /dossiers/X/notes HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\nContent-Length: 300000000\r\n\r\n"
                      ).endswith("303 See Other")                     # to the login page
    streamed = httpx.post(base + "/api/files/X/notes", headers=AUTH,
                          content=(b"x" * 65536 for _ in range(80)))  # 5 MiB, no length
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "too_large"


@pytest.mark.parametrize("number", ODD_NUMBERS)
def test_every_number_registration_accepts_shows_links_searches_and_exports(server, number):
    agent = log_in(server, f"agent.{abs(hash(number)) % 10**6}", "agent")
    account = ODD_ACCOUNTS[len(number) % len(ODD_ACCOUNTS)]
    created = httpx.post(server.url + "/api/invoices", headers=AUTH, json=[{
        "number": number, "debtor_account": account, "debtor_name": "Numéros <Bizarres>",
        "amount": "100.00", "issued_on": "2026-09-01", "due_on": "2026-10-01"}]).json()
    assert created["created"] == 1, created
    head = created["notification_id"]
    file_page = agent.get("/dossiers/" + quote(number, safe="") + f"?apres={head}")
    assert file_page.status_code == 200
    assert _escaped(number) in file_page.text
    found = agent.get("/dossiers", params={"numero": number})
    assert found.status_code == 303
    assert agent.get(found.headers["location"]).status_code == 200
    debtor = agent.get("/debiteurs/" + quote(account, safe=""))
    assert debtor.status_code == 200
    link = "/dossiers/" + quote(number, safe="")
    assert f'href="{link}"' in debtor.text
    for listing in ("/portefeuille?q=" + quote(number), "/portefeuille?tri=numero",
                    "/journee?tout=true"):
        assert agent.get(listing).status_code == 200
    api = httpx.get(server.url + "/api/files/" + quote(number, safe=""), headers=AUTH)
    assert api.status_code == 200
    assert api.json()["case"]["number"] == number
    pdf = agent.get(link + "/documents/reminder_1?format=pdf")
    assert pdf.status_code == 200
    _one_file_name(pdf.headers["content-disposition"], f"{number}-reminder_1.pdf")
    agent.close()
    auditor = log_in(server, f"audit.{abs(hash(number)) % 10**6}", "auditor")
    page = auditor.get(link).text
    export = auditor.post("/exports", data={"csrf": hidden(page), "perimetre": "file",
                                            "cle": number, "format": "json"})
    assert export.status_code == 200
    assert export.json()["files"][0]["number"] == number
    auditor.close()


def _escaped(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _one_file_name(header: str, expected: str) -> None:
    """The header names one file, in both forms, and nothing in it adds a parameter."""
    found = re.fullmatch(r"(inline|attachment); filename=\"[A-Za-z0-9._+-]+\"; "
                         r"filename\*=UTF-8''([A-Za-z0-9%._~-]+)", header)
    assert found, header
    assert unquote(found.group(2)) == expected


def test_pages_are_not_cached_and_carry_a_strict_policy(server, agent):
    answer = agent.get("/journee")
    assert answer.headers["cache-control"] == "no-store"
    policy = answer.headers["content-security-policy"]
    for directive in ("default-src 'self'", "base-uri 'none'", "form-action 'self'",
                      "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in policy
    assert "strict-transport-security" not in answer.headers           # plain HTTP here
    assert "server" not in answer.headers
    evil = httpx.get(server.url + "/journee", headers={"Host": "evil.example"})
    assert evil.status_code == 303
    assert evil.headers["location"].startswith("/connexion?suite=")


def test_behind_a_trusted_https_proxy_cookies_take_the_host_prefix_and_hsts(store_url,
                                                                            server_on):
    base = server_on(store_url, forwarded_allow_ips="127.0.0.1")
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with httpx.Client(base_url=base, headers=proxied) as http:
        page = http.get("/connexion")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert "__Host-relance_connexion=" in page.headers["set-cookie"]
        assert "Secure" in page.headers["set-cookie"]
    untrusted = server_on(store_url)                                   # no proxy trusted
    plain = httpx.get(untrusted + "/connexion", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in plain.headers
    assert "__Host-" not in plain.headers["set-cookie"]


def test_the_api_docs_need_a_login_and_load_nothing_from_elsewhere(server, agent):
    assert httpx.get(server.url + "/docs").status_code == 303
    assert httpx.get(server.url + "/openapi.json").status_code == 401
    docs = agent.get("/docs")
    assert docs.status_code == 200
    assert "https://" not in docs.text
    assert "<script>" not in docs.text                                  # no inline script
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
                  "/static/docs.js"):
        assert agent.get(asset).status_code == 200, asset
    assert "/api/invoices" in agent.get("/openapi.json").json()["paths"]
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}


def test_an_email_field_takes_one_address_on_one_line(server, agent):
    created = httpx.post(server.url + "/api/invoices", headers=AUTH, json=[{
        "number": "MAIL-1", "debtor_account": "411MAIL", "debtor_name": "Courriel SA",
        "amount": "100.00", "issued_on": "2026-09-01", "due_on": "2026-10-01",
        "contact_email": "a@example.fr, pirate@evil.example"}]).json()
    assert created["items"][0]["status"] == "rejected"
    assert "une seule adresse valide" in created["items"][0]["detail"]
    assert httpx.post(server.url + "/api/invoices", headers=AUTH, json=[{
        "number": "MAIL-1", "debtor_account": "411MAIL", "debtor_name": "Courriel SA",
        "amount": "100.00", "issued_on": "2026-09-01", "due_on": "2026-10-01"}]
                      ).json()["created"] == 1
    for email, code in (("jean@acme.example\r\nBcc: tous@evil.example", "invalid_text"),
                        ("jean@acme.example, pirate@evil.example", "invalid_email"),
                        ("pas une adresse", "invalid_email")):
        call = httpx.post(server.url + "/api/files/MAIL-1/calls", headers=AUTH, json={
            "contact_name": "Jean", "contact_email": email, "outcome": "reached"})
        assert call.status_code == 409, email
        assert call.json()["code"] == code
    page = agent.get("/dossiers/MAIL-1").text
    form = agent.post("/dossiers/MAIL-1/appels", data={
        "csrf": hidden(page), "contact_name": "Jean", "outcome": "reached",
        "contact_email": "jean@acme.example\nBcc: tous@evil.example"})
    assert form.status_code == 422
    assert "Le contact contient des caractères non autorisés" in form.text
    two = agent.post("/dossiers/MAIL-1/appels", data={
        "csrf": hidden(page), "contact_name": "Jean", "outcome": "reached",
        "contact_email": "jean@acme.example; pirate@evil.example"})
    assert two.status_code == 422
    assert "une seule adresse valide" in two.text
    history = httpx.get(server.url + "/api/files/MAIL-1", headers=AUTH).json()["history"]
    assert [fact["kind"] for fact in history] == ["InvoiceRegistered"]
