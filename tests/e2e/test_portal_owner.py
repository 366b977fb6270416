"""The owner's side of the debtor's page (« espace débiteur »): what the debtor answers
there waits on her day, the debtor's page and the file, once per answer, until she
handles it; instalments asked for, once granted, open the plan's form filled in; she
issues a link (its address shown once), sees it opened and an invoice downloaded, and
withdraws it; an auditor reads all of it and changes nothing."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from domain.portal import PortalRefused
from domain.values import Contact, Instalment, PaymentMeans
from tests.builders import ACME, eur, register_kwargs
from tests.e2e.conftest import PASSWORD, submit_login

PAYER = Contact(name="Claire Martin", function="", phone="", email="claire@acme.example")


def _plain(text: str) -> str:
    return html.unescape(text).replace("\u202f", " ").replace("\xa0", " ")


def _words(page: str) -> str:
    return " ".join(_plain(re.sub(r"<[^>]+>", " ", page)).split())


def _person(server, login: str, name: str, role: str) -> httpx.Client:
    server.app.state.runtime.accounts.add(login, name, role, PASSWORD)
    http = httpx.Client(base_url=server.url, timeout=10, follow_redirects=False)
    assert submit_login(http, login, PASSWORD).status_code == 303
    return http


def _seed(runtime):
    """Amélie owns ACME (two files); a link of ACME's page works."""
    today = runtime.today()
    for number in ("PO-ACME-1", "PO-ACME-2"):
        runtime.files.register_invoice("import", **register_kwargs(
            number, amount=eur("1500.00"), issued_on=today - timedelta(days=70),
            due_on=today - timedelta(days=40)))
    runtime.files.assign_debtors("sophie", [ACME.account], agent="amelie.martin")
    token, recorded = runtime.files.issue_portal_link("amelie.martin", ACME.account,
                                                      purpose="reminder")
    assert runtime.wait_for_views(recorded.notification_id)
    return runtime.files.open_portal_link(token)


def _section(page: str) -> str:
    return page.split('id="espace-debiteur"', 1)[1].split("</section>", 1)[0]


def _hidden(page: str, action: str) -> dict[str, str]:
    form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


def _handle(http: httpx.Client, number: str, version: int, outcome: str) -> httpx.Response:
    page = http.get(f"/dossiers/{number}").text
    action = f"/dossiers/{number}/faits/reponse"
    card = page.split(f'id="reponse-{version}"', 1)[1].split("</article>", 1)[0]
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', card))
    assert f'action="{action}"' in card
    return http.post(action, data={**fields, "outcome": outcome, "details": ""})


def test_a_promise_on_the_debtors_page_waits_once_until_its_owner_handles_it(server):
    runtime = server.app.state.runtime
    link = _seed(runtime)
    recorded = runtime.files.portal_promise(
        link, ["PO-ACME-1", "PO-ACME-2"], promised_by=PAYER,
        promised_on=runtime.today() + timedelta(days=10))
    assert runtime.wait_for_views(recorded.notification_id)
    promised = f"Je paie le {runtime.today() + timedelta(days=10):%d/%m/%Y}."
    amelie = _person(server, "amelie.martin", "Amélie Martin", "agent")

    day = _plain(amelie.get("/journee").text)
    assert "Réponses à traiter (1)" in day                     # one answer, two files
    assert "Promesse sur l'espace débiteur (Claire Martin)" in day
    assert promised in day
    debtor = _plain(amelie.get(f"/debiteurs/{ACME.account}").text)
    assert "Réponses à traiter (1)" in debtor
    assert "Traiter sur PO-ACME-1" in debtor
    assert "Traiter sur PO-ACME-2" in debtor
    assert re.search(r"promesse de paiement pour le \d\d/\d\d/\d{4} sur les factures "
                     r"PO-ACME-1, PO-ACME-2 le", debtor)   # the activity: one line an answer

    versions = {n: runtime.files.case(n).replies_waiting[0] for n in ("PO-ACME-1", "PO-ACME-2")}
    page = amelie.get("/dossiers/PO-ACME-1").text
    card = _plain(page.split(f'id="reponse-{versions["PO-ACME-1"]}"', 1)[1]
                  .split("</article>", 1)[0])
    assert "espace débiteur" in card
    assert promised in card
    assert ".eml" not in card
    assert "Cette réponse attend aussi sur PO-ACME-2" in _words(card)
    assert "déjà enregistrée sur le dossier" in card
    assert re.findall(r'<option value="(\w+)"', card) == ["nothing"]  # nothing to record again

    for number, version in versions.items():
        handled = _handle(amelie, number, version, "nothing")
        assert handled.status_code == 303
    after = amelie.get(handled.headers["location"]).text
    assert "Réponse traitée." in after
    assert "Réponses à traiter" not in _plain(amelie.get("/journee").text)
    assert "Réponses à traiter" not in _plain(amelie.get(f"/debiteurs/{ACME.account}").text)
    assert runtime.reads.replies_waiting(agent="amelie.martin") == []


def test_instalments_granted_open_the_plan_form_filled_and_a_payment_announced_is_to_check(
        server):
    runtime = server.app.state.runtime
    link = _seed(runtime)
    first, second = runtime.today() + timedelta(days=15), runtime.today() + timedelta(days=45)
    runtime.files.portal_plan_request(
        link, ["PO-ACME-1"], requested_by=PAYER, details="trésorerie tendue",
        instalments=(Instalment(first, Decimal("750.00")), Instalment(second, Decimal("750.00"))))
    recorded = runtime.files.portal_payment_claim(
        link, ["PO-ACME-2"], paid_on=runtime.today(), amount=eur("1500.00"),
        means=PaymentMeans.TRANSFER, claimed_by=PAYER, reference_text="VIR 4521")
    assert runtime.wait_for_views(recorded.notification_id)
    amelie = _person(server, "amelie.martin", "Amélie Martin", "agent")

    (claim,) = runtime.files.case("PO-ACME-2").replies_waiting
    page = amelie.get("/dossiers/PO-ACME-2").text
    card = _plain(page.split(f'id="reponse-{claim}"', 1)[1].split("</article>", 1)[0])
    assert "un paiement à vérifier, pas un paiement" in card
    assert "J'ai déjà payé 1 500,00 € le" in card
    assert "(virement) VIR 4521" in card              # the means in French
    assert re.findall(r'<option value="(\w+)"', card) == ["nothing", "refused"]

    (asked,) = runtime.files.case("PO-ACME-1").replies_waiting
    page = amelie.get("/dossiers/PO-ACME-1").text
    card = _plain(page.split(f'id="reponse-{asked}"', 1)[1].split("</article>", 1)[0])
    assert "Demande d'échéancier (Claire Martin)" in card
    assert re.findall(r'<option value="(\w+)"', card) == ["nothing", "plan", "refused"]
    assert "Échéancier accordé" in card
    assert "Demande refusée" in card
    handled = _handle(amelie, "PO-ACME-1", asked, "plan")
    assert handled.status_code == 303
    assert handled.headers["location"].endswith("&fait=reponse&suite=echeancier#form-echeancier")
    after = amelie.get(handled.headers["location"].split("#")[0]).text
    assert "Enregistrez maintenant l'échéancier accordé" in _plain(after)
    assert re.search(r'<details class="list-group-item" name="autre" id="form-echeancier" open>',
                     after)
    form = after.split('id="form-echeancier"', 1)[1].split("</form>", 1)[0]
    plan = html.unescape(form.split('name="plan"', 1)[1].split(">", 1)[1].split("</textarea>")[0])
    assert plan == f"{first:%d/%m/%Y} 750,00\n{second:%d/%m/%Y} 750,00"
    assert 'value="Claire Martin"' in form
    assert runtime.files.case("PO-ACME-1").replies_waiting == ()


def test_the_owner_issues_a_link_sees_it_used_and_revokes_it(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    amelie = _person(server, "amelie.martin", "Amélie Martin", "agent")
    page = amelie.get(f"/debiteurs/{ACME.account}").text
    section = _words(_section(page))
    assert "relance" in section
    assert "par Amélie Martin" in section
    assert "actif" in section
    assert "Le débiteur n'a encore rien consulté." in section

    action = f"/debiteurs/{ACME.account}/espace/liens"
    assert amelie.post(action, data={"csrf": ""}).status_code == 403
    issued = amelie.post(action, data=_hidden(page, action))
    assert issued.status_code == 303
    assert "/p/" not in issued.headers["location"]             # never in an address
    shown = amelie.get(issued.headers["location"].split("#")[0]).text
    found = re.search(r'value="(http[^"]+/p/([A-Za-z0-9_-]{43}))"', shown)
    assert found, _section(shown)
    assert found.group(1) == f"{runtime.settings.portal_base}/p/{found.group(2)}"
    assert "copiez-le maintenant" in _plain(shown)
    again = amelie.get(f"/debiteurs/{ACME.account}").text
    assert found.group(2) not in again                         # shown once

    link = runtime.files.open_portal_link(found.group(2))
    runtime.files.record_portal_visit(link)
    runtime.files.record_portal_visit(link)
    recorded = runtime.files.portal_download(link, "PO-ACME-1", document_sha256="ab" * 32)
    assert runtime.wait_for_views(recorded.notification_id)
    page = amelie.get(f"/debiteurs/{ACME.account}").text
    row = _words(page.split(f'data-lien="{link.id.hex}"', 1)[1].split("</tr>", 1)[0])
    assert row.startswith("> page débiteur")
    assert " 2 " in f" {row} "                                  # two visits
    assert f"{runtime.today() + timedelta(days=runtime.settings.portal_days):%d/%m/%Y}" in row
    activity = _words(page.split("Activité récente", 1)[1].split("</ul>", 1)[0])
    assert re.search(r"facture PO-ACME-1 téléchargée le \d\d/\d\d/\d{4} à \d\d:\d\d", activity)
    assert re.search(r"page consultée le \d\d/\d\d/\d{4} à \d\d:\d\d", activity)

    revoke = f"/debiteurs/{ACME.account}/espace/revoquer"
    fields = {"csrf": _hidden(page, action)["csrf"], "lien": link.id.hex}
    refused = amelie.post(revoke, data={**fields, "motif": " "})
    assert refused.status_code == 422
    assert "Indiquez pourquoi le lien est révoqué." in _plain(refused.text)
    runtime.files.open_portal_link(found.group(2))              # still works
    done = amelie.post(revoke, data={**fields, "motif": "adressé au mauvais contact"})
    assert done.status_code == 303
    with pytest.raises(PortalRefused):
        runtime.files.open_portal_link(found.group(2))
    page = amelie.get(done.headers["location"].split("#")[0]).text
    row = _words(page.split(f'data-lien="{link.id.hex}"', 1)[1].split("</tr>", 1)[0])
    assert "révoqué" in row
    assert "adressé au mauvais contact" in row

    everything = amelie.post(revoke, data={**fields, "lien": "tous", "motif": "fin du litige"})
    assert everything.status_code == 303
    page = _words(_section(amelie.get(everything.headers["location"].split("#")[0]).text))
    assert "actif" not in page
    assert "Révoquer" not in page
    assert all(r["state"] == "révoqué"
               for r in runtime.reads.portal_links(ACME.account, runtime.today()))


def test_an_auditor_and_another_agent_read_the_section_without_its_forms(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    (row,) = runtime.reads.portal_links(ACME.account, runtime.today())
    for login, role in (("alain.audit", "auditor"), ("bruno.agent", "agent")):
        http = _person(server, login, login.title(), role)
        page = http.get(f"/debiteurs/{ACME.account}").text
        section = _section(page)
        assert "Espace débiteur" in page
        assert "relance" in _words(section)
        assert "Créer un lien" not in section
        assert "Révoquer" not in section
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        token = csrf.group(1) if csrf else ""
        assert http.post(f"/debiteurs/{ACME.account}/espace/liens",
                         data={"csrf": token}).status_code == 403
        assert http.post(f"/debiteurs/{ACME.account}/espace/revoquer",
                         data={"csrf": token, "lien": row["link"], "motif": "x"}
                         ).status_code == 403
    assert runtime.reads.portal_links(ACME.account, runtime.today())[0]["state"] == "actif"
