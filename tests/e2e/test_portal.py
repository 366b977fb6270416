"""The debtor's page over real HTTP, on both stores: what a link shows (its debtor's open
invoices, nothing of another), what each answer records, and every way a link or a form
is refused (a token that does not open, a form of another site, a body too large, too
many wrong tokens, another host name)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import quote

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from adapters.infra.store import parse_database_url
from adapters.usecases.evidence import document_problems, walk
from domain.portal import link_id, new_token, token_digest
from domain.values import PORTAL_ACTOR, Status
from projections import french
from tests.builders import ACME, GLOBEX, eur, register_kwargs
from tests.e2e.conftest import Server, _serve, hidden

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
INVOICE_PDF = b"%PDF-1.7\n% facture originale\n%%EOF\n"


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Server]:
    """One server per store for the tests that do not change how the server answers
    (each seeds its own debtors): starting one costs seconds."""
    schema = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('portal') / 'relance.db'}"
    else:
        base = request.getfixturevalue("postgres_base_url")
        schema = "t_" + uuid.uuid4().hex[:16]
        url = f"{base}?schema={schema}"
    served, uv, thread = _serve(url)
    yield served
    uv.should_exit = True
    thread.join(timeout=10)
    if schema:
        with psycopg.connect(parse_database_url(base).conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


@pytest.fixture
def serve(store_url: str) -> Iterator[Callable[..., Server]]:
    """relance served on its own store (with the settings given) until the test ends."""
    running = []

    def start(**options: object) -> Server:
        running.append(_serve(store_url, **options))
        return running[-1][0]

    yield start
    for _, uv, thread in running:
        uv.should_exit = True
        thread.join(timeout=10)


@dataclass
class Site:
    """A served relance with two open invoices of ACME (the first with its own PDF), one
    of Globex, and a link to ACME's page."""

    server: Server
    token: str
    http: httpx.Client
    one: str
    two: str
    other: str
    acme: str


def _seed(server: Server) -> tuple[str, str, str, str, str]:
    runtime = server.app.state.runtime
    today = runtime.today()
    files = runtime.files
    n = uuid.uuid4().hex[:6].upper()
    acme = replace(ACME, account=f"411A{n}")
    one, two, other = f"P/{n}/1", f"P-{n}-2", f"G-{n}-1"
    for number, debtor, amount in ((one, acme, "1200.00"), (two, acme, "800.00"),
                                   (other, replace(GLOBEX, account=f"411G{n}"), "5000.00")):
        files.register_invoice("import", **register_kwargs(
            number, debtor=debtor, amount=eur(amount), issued_on=today - timedelta(days=60),
            due_on=today - timedelta(days=30)))
    digest = runtime.blobs.put(INVOICE_PDF, "application/pdf")
    done = files.attach_document("alice", one, sha256=digest, kind="invoice_pdf",
                                 filename="facture-1.pdf", media_type="application/pdf",
                                 size=len(INVOICE_PDF))
    assert runtime.wait_for_views(done.notification_id, timeout=10)
    token, _ = files.issue_portal_link("alice", acme.account, purpose="reminder")
    return token, one, two, other, acme.account


def _site(server: Server) -> Iterator[Site]:
    token, one, two, other, acme = _seed(server)
    with httpx.Client(base_url=server.url, timeout=20, follow_redirects=False) as http:
        yield Site(server, token, http, one, two, other, acme)


@pytest.fixture
def site(shared: Server) -> Iterator[Site]:
    yield from _site(shared)


@pytest.fixture
def own_site(serve) -> Iterator[Site]:
    """A site on a server of its own (for what leaves the server changed)."""
    yield from _site(serve())


def _kinds(server: Server, number: str) -> list[tuple[str, str]]:
    return [(e.kind, e.actor) for e in server.app.state.runtime.files.history(number)]


def _post(http: httpx.Client, token: str, answer: str, fields: dict[str, object],
          files: dict[str, tuple[str, bytes, str]] | None = None, *,
          numbers: tuple[str, ...], **headers: str) -> httpx.Response:
    page = http.get(f"/p/{token}").text
    data = {"csrf": hidden(page), "factures": list(numbers), **fields}
    return http.post(f"/p/{token}/{answer}", data=data, files=files, headers=headers)


def test_the_page_shows_its_debtors_open_invoices_their_total_and_nothing_else(site):
    s = site
    server, token, http = s.server, s.token, s.http
    page = http.get(f"/p/{token}")
    assert page.status_code == 200
    text = unescape(page.text)
    for shown in ("ACME SARL", s.one, s.two, french.money(Decimal("2000.00")), "Je paie le",
                  "Je demande un échéancier", "Je conteste", "J'ai déjà payé",
                  "Référence à indiquer", server.app.state.runtime.creditor.name):
        assert shown in text, shown
    assert s.other not in text
    assert "Globex" not in text
    assert "/connexion" not in text
    assert "/recherche" not in text
    assert "/dossiers" not in text
    assert set(re.findall(r'href="([^"#]*)"', page.text)) == {
        "/static/vendor/bootstrap/css/bootstrap.min.css", "/static/relance.css",
        f"/p/{token}/factures/{quote(s.one, safe='')}.pdf", f"/p/{token}/factures/{s.two}.pdf"}
    link = server.app.state.runtime.files.portal_link(token)
    assert link.visits == 1


def test_an_invoice_downloads_as_an_attachment_and_the_download_is_recorded(site):
    s = site
    server, token, http = s.server, s.token, s.http
    own = http.get(f"/p/{token}/factures/{quote(s.one, safe='')}.pdf")
    assert own.status_code == 200
    assert own.content == INVOICE_PDF
    assert own.headers["content-disposition"].startswith("attachment;")
    assert own.headers["x-content-type-options"] == "nosniff"
    downloaded = [e for e in server.app.state.runtime.files.history(s.one)
                  if e.kind == "InvoiceDownloaded"]
    assert [e.data["document_sha256"] for e in downloaded] == [
        hashlib.sha256(INVOICE_PDF).hexdigest()]
    assert downloaded[0].actor == PORTAL_ACTOR
    copy = http.get(f"/p/{token}/factures/{s.two}.pdf")
    assert copy.status_code == 200
    assert copy.content.startswith(b"%PDF")
    assert ("InvoiceDownloaded", PORTAL_ACTOR) in _kinds(server, s.two)
    refused = http.get(f"/p/{token}/factures/{s.other}.pdf")
    assert refused.status_code == 404
    assert "Globex" not in refused.text
    assert s.other not in refused.text
    assert http.get(f"/p/{token}/factures/NOPE.pdf").text == refused.text
    assert "InvoiceDownloaded" not in [k for k, _ in _kinds(server, s.other)]


def test_a_link_that_does_not_open_gets_the_same_page_whatever_the_reason(site):
    s = site
    server, token, http = s.server, s.token, s.http
    files = server.app.state.runtime.files
    revoked, _ = files.issue_portal_link("alice", s.acme, purpose="letter")
    files.revoke_portal_links("alice", [link_id(token_digest(revoked))], reason="remplacé")
    real_clock = files._clock
    files._clock = lambda: real_clock() - timedelta(days=100)
    try:
        expired, _ = files.issue_portal_link("alice", s.acme, purpose="reminder",
                                             days=5)
    finally:
        files._clock = real_clock
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    answers = [http.get(f"/p/{bad}") for bad in (revoked, expired, altered, new_token(),
                                                 "abc")]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    assert "Ce lien ne fonctionne pas" in unescape(answers[0].text)
    assert "ACME" not in answers[0].text
    assert "/connexion" not in answers[0].text
    posted = http.post(f"/p/{revoked}/promesse", data={"csrf": "x", "factures": s.one})
    assert posted.status_code == 404
    assert posted.text == answers[0].text
    assert http.get(f"/p/{token}").status_code == 200


def test_a_promise_is_recorded_by_the_debtor_on_the_invoices_ticked(site):
    s = site
    server, token, http = s.server, s.token, s.http
    day = server.app.state.runtime.today() + timedelta(days=7)
    answer = _post(http, token, "promesse", {"date": day.isoformat(), "nom": "Jean Dupont",
                                             "moyen": "transfer"}, numbers=(s.one,))
    assert answer.status_code == 303, answer.text[-600:]
    after = http.get(answer.headers["location"])
    assert "votre date de paiement est enregistrée" in unescape(after.text)
    assert ("PaymentPromised", PORTAL_ACTOR) in _kinds(server, s.one)
    assert "PaymentPromised" not in [k for k, _ in _kinds(server, s.two)]
    late = _post(http, token, "promesse", {"date": "01/01/2020", "nom": "Jean Dupont"},
        numbers=(s.one, s.two))
    assert late.status_code == 422
    assert 'role="alert"' in late.text
    assert "ACME SARL" in late.text


def test_a_dispute_with_a_document_pauses_the_invoices_and_attaches_it(site):
    s = site
    server, token, http = s.server, s.token, s.http
    answer = _post(http, token, "contestation", {"motif": "defective",
                                                 "texte": "Livraison incomplète"},
                   files={"piece": ("bon de livraison.png", PNG, "image/png")},
                       numbers=(s.one, s.two))
    assert answer.status_code == 303, answer.text[-600:]
    runtime = server.app.state.runtime
    digest = hashlib.sha256(PNG).hexdigest()
    for number in (s.one, s.two):
        case = runtime.files.case(number)
        assert case.status(runtime.today()) == Status.IN_DISPUTE
        assert [(d.kind, d.sha256) for d in case.documents if d.sha256 == digest] == [
            ("debtor_document", digest)]
    assert runtime.blobs.get(digest) == PNG
    refused = _post(http, token, "contestation", {"motif": "other", "texte": "x"},
                    files={"piece": ("script.pdf", b"<script>alert(1)</script>", "text/html")},
                        numbers=(s.one, s.two))
    assert refused.status_code == 422
    assert "ni un PDF, ni une image PNG ou JPEG" in unescape(refused.text)


def test_a_payment_claimed_leaves_the_balance_and_keeps_its_proof(site):
    s = site
    server, token, http = s.server, s.token, s.http
    runtime = server.app.state.runtime
    answer = _post(http, token, "paiement", {
        "date": runtime.today().isoformat(), "montant": "1 200,00", "moyen": "transfer",
        "reference": "VIR 123", "nom": "Jean Dupont"}, numbers=(s.one,),
        files={"piece": ("avis.pdf", INVOICE_PDF + b"virement", "application/pdf")})
    assert answer.status_code == 303, answer.text[-600:]
    case = runtime.files.case(s.one)
    assert case.outstanding == Decimal("1200.00")
    assert ("PaymentClaimed", PORTAL_ACTOR) in _kinds(server, s.one)
    assert [d.kind for d in case.documents][-1] == "payment_proof"
    digest, problem = walk(runtime.files)             # `relance verify`: the proof's bytes
    proof = case.documents[-1].sha256                 # are named by the claim and checked
    assert problem is None
    assert ("PaymentClaimed" in {kind for _, _, kind in digest.documents[proof]})
    assert document_problems(runtime.blobs, digest) == []


def test_a_plan_and_a_duplicate_are_recorded_on_the_invoices_ticked(site):
    s = site
    server, token, http = s.server, s.token, s.http
    today = server.app.state.runtime.today()
    plan = "\n".join(f"{(today + timedelta(days=30 * n)):%d/%m/%Y} 1 000,00" for n in (1, 2))
    asked = _post(http, token, "echeancier", {"echeances": plan, "nom": "Jean Dupont"},
        numbers=(s.one, s.two))
    assert asked.status_code == 303, asked.text[-600:]
    duplicate = _post(http, token, "duplicata", {
        "raison": "missing_po_reference", "nom": "Marie Achat",
        "email": "marie@acme.example", "bon_de_commande": "BC-9"}, numbers=(s.two,))
    assert duplicate.status_code == 303, duplicate.text[-600:]
    assert ("PlanRequested", PORTAL_ACTOR) in _kinds(server, s.one)
    assert ("DuplicateRequested", PORTAL_ACTOR) in _kinds(server, s.two)
    other = _post(http, token, "duplicata", {"raison": "other", "nom": "X"}, numbers=(s.other,))
    assert other.status_code == 404
    assert _kinds(server, s.other) == [("InvoiceRegistered", "import")]


def test_a_form_without_its_link_value_or_from_another_site_is_refused(site):
    s = site
    server, token, http = s.server, s.token, s.http
    day = (server.app.state.runtime.today() + timedelta(days=3)).isoformat()
    fields = {"factures": s.one, "date": day, "nom": "Jean"}
    for data in (fields, {**fields, "csrf": "0" * 64}):
        refused = http.post(f"/p/{token}/promesse", data=data)
        assert refused.status_code == 403
        assert "Rien n'a été enregistré" in unescape(refused.text)
    foreign = _post(http, token, "promesse", {"date": day, "nom": "Jean"},
                    Origin="https://attaquant.example", numbers=(s.one, s.two))
    assert foreign.status_code == 403
    assert "PaymentPromised" not in [k for k, _ in _kinds(server, s.one)]


def test_a_body_too_large_is_refused_before_it_is_read(site):
    s = site
    server, token, http = s.server, s.token, s.http
    huge = _post(http, token, "contestation", {"motif": "other", "texte": "x"},
                 files={"piece": ("scan.pdf", b"%PDF-" + b"0" * (13 * 1024 * 1024),
                                  "application/pdf")}, numbers=(s.one, s.two))
    assert huge.status_code == 413
    assert "trop volumineux" in unescape(huge.text)
    long_form = _post(http, token, "promesse", {"nom": "x" * 20_000, "date": "01/01/2030"},
        numbers=(s.one, s.two))
    assert long_form.status_code == 413
    assert _kinds(server, s.one)[-1][0] == "DocumentAttached"


FIELDS = ("date", "nom", "moyen", "echeances", "texte", "motif", "raison", "email",
          "bon_de_commande", "montant", "reference")


def test_no_form_of_the_page_answers_500_whatever_is_typed(site):
    s = site
    _server, token, http = s.server, s.token, s.http
    csrf = hidden(http.get(f"/p/{token}").text)
    texts = st.one_of(st.text(max_size=60), st.sampled_from(
        ["", "15/01/2030", "2030-01-15", "1 000,00", "-5", "transfer", "defective",
         "not_received", "a@b.example", "15/01/2030 100,00\n16/01/2030 abc", "1e999"]))

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(answer=st.sampled_from(["promesse", "echeancier", "contestation", "duplicata",
                                   "paiement"]),
           fields=st.fixed_dictionaries({}, optional={f: texts for f in FIELDS}),
           numbers=st.lists(st.sampled_from([s.one, s.two, s.other, "", "x" * 150]), max_size=3))
    def post(answer: str, fields: dict[str, str], numbers: list[str]) -> None:
        sent = http.post(f"/p/{token}/{answer}",
                         data={"csrf": csrf, "factures": numbers, **fields})
        assert sent.status_code in (303, 404, 422), (sent.status_code, sent.text[-300:])

    post()


def test_too_many_wrong_tokens_from_one_address_answer_429(own_site):
    token, http = own_site.token, own_site.http
    assert [http.get(f"/p/{new_token()}").status_code for _ in range(10)] == [404] * 10
    blocked = http.get(f"/p/{new_token()}")
    assert blocked.status_code == 429
    assert "Trop de tentatives" in unescape(blocked.text)
    assert http.get(f"/p/{token}").status_code == 429


def test_on_its_own_host_name_only_the_debtors_pages_are_served(serve):
    server = serve(portal_host="paiement.exemple.fr")
    token, _, two, _, _ = _seed(server)
    portal = {"Host": "paiement.exemple.fr"}
    with httpx.Client(base_url=server.url, timeout=20) as http:
        assert http.get(f"/p/{token}", headers=portal).status_code == 200
        assert http.get("/static/relance.css", headers=portal).status_code == 200
        for path in ("/", "/connexion", "/healthz", f"/dossiers/{two}"):
            answer = http.get(path, headers=portal, follow_redirects=False)
            assert answer.status_code == 404, path
            assert "/connexion" not in answer.text
        assert http.get(f"/p/{token}").status_code == 404
        assert http.get("/connexion").status_code == 200


def test_the_logs_name_the_link_never_its_token(site, caplog):
    s = site
    _server, token, http = s.server, s.token, s.http
    caplog.clear()
    http.get(f"/p/{token}")
    http.get(f"/p/{token}/factures/{s.two}.pdf")
    http.get(f"/p/{token[:-1]}x")
    link = link_id(token_digest(token)).hex
    lines = "\n".join(str(record.msg) for record in caplog.records
                      if record.name.startswith("relance"))
    assert token not in lines
    assert token[:-1] not in lines
    assert "/p/<hidden>/factures/" in lines
    assert link in lines
