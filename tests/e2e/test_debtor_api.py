"""Debtors through the JSON API and the debtor page: identity, people and owner, each change
shown with who made it and when."""

from __future__ import annotations

import html

from tests.e2e.conftest import API_TOKEN, hidden, log_in

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
INVOICE = {"number": "DEB-1", "debtor_account": "411DEB", "debtor_name": "Débits & Cie",
           "amount": "1500.00", "issued_on": "2026-10-01", "due_on": "2026-10-31",
           "contact_name": "Jean Dupont", "contact_phone": "01 02 03 04 05",
           "billing_street": "Service fournisseurs\n3 quai Perrache",
           "billing_postcode": "69002", "billing_city": "Lyon"}


def test_the_api_reads_and_writes_identity_people_and_owner(server, client):
    runtime = server.app.state.runtime
    pushed = client.post("/api/invoices", json=[INVOICE], headers=AUTH).json()
    debtor = client.get("/api/debtors/411DEB", params={"after": pushed["notification_id"]},
                        headers=AUTH).json()
    assert debtor["identity"]["billing_address"]["lines"] == [
        "Service fournisseurs", "3 quai Perrache", "69002 LYON"]
    assert debtor["totals"] == [{"currency": "EUR", "invoiced": "1500.00",
                                 "outstanding": "1500.00"}]

    changed = client.put("/api/debtors/411DEB/identity", headers=AUTH, json={
        "legal_name": "Débits et Compagnie", "siren": "732829320", "registered_office": {
            "street": ["12 rue de la République"], "postcode": "69001", "city": "Lyon"}})
    assert changed.status_code == 200, changed.text
    identity = changed.json()["identity"]
    assert (identity["legal_name"]["value"], identity["legal_name"]["recorded_by"]) == (
        "Débits et Compagnie", "api")
    assert identity["registered_office"]["postcode"] == "69001"
    assert identity["billing_address"]["city"] == "LYON"             # left out: kept

    added = client.post("/api/debtors/411DEB/people", headers=AUTH, json={
        "name": "Jean Dupont", "function": "Comptable", "role": "billing",
        "email": "jean@debits.example"})
    assert added.status_code == 200, added.text
    (jean,) = added.json()["people"]
    assert [p["value"] for p in jean["phones"]] == ["01 02 03 04 05"]  # the phone survives
    assert (jean["role"]["value"], jean["emails"][0]["value"]) == (
        "billing", "jean@debits.example")

    refused = client.put("/api/debtors/411DEB/identity", headers=AUTH, json={"siren": "12"})
    assert refused.status_code == 422
    assert (refused.json()["code"], list(refused.json()["fields"])) == (
        "invalid_identity", ["siren"])
    nameless = client.post("/api/debtors/411DEB/people", headers=AUTH, json={"name": " "})
    assert (nameless.status_code, nameless.json()["code"]) == (422, "invalid_person")
    assert client.get("/api/debtors/411NOPE", headers=AUTH).status_code == 404

    runtime.accounts.add("bruno.petit", "Bruno", "agent", "mot-de-passe-long")
    owned = client.put("/api/debtors/411DEB/owner", headers=AUTH,
                       json={"agent": "bruno.petit", "reason": "portefeuille Lyon"})
    assert owned.status_code == 200, owned.text
    assert (owned.json()["owner"]["owner"], owned.json()["owner"]["assigned_by"]) == (
        "bruno.petit", "api")


def test_an_address_without_a_french_postcode_line_reads_back_whole(server, client):
    """Five street lines and a country, no postcode: six lines, all read back in `street`
    (the schema's five input lines are not a limit on what was recorded)."""
    pushed = client.post("/api/invoices", json=[{**INVOICE, "number": "DEB-ABROAD",
                                                 "debtor_account": "411ABR"}], headers=AUTH)
    assert pushed.status_code == 200, pushed.text
    street = ["Bâtiment B", "Service comptable", "Zone des Acacias", "Lot 4", "BP 17"]
    changed = client.put("/api/debtors/411ABR/identity", headers=AUTH, json={
        "billing_address": {"street": street, "country": "Luxembourg"}})
    assert changed.status_code == 200, changed.text
    address = changed.json()["identity"]["billing_address"]
    assert address["lines"] == [*street, "LUXEMBOURG"]
    assert (address["street"], address["postcode"]) == ([*street, "LUXEMBOURG"], "")
    assert client.get("/api/debtors/411ABR", headers=AUTH).status_code == 200


def test_the_owner_must_be_an_active_agent_and_only_supervisors_give_debtors(server, client):
    runtime = server.app.state.runtime
    client.post("/api/invoices", json=[INVOICE], headers=AUTH)
    runtime.accounts.add("parti", "Parti", "agent", "mot-de-passe-long")
    runtime.accounts.disable("parti")
    for agent in ("parti", "inconnu"):
        refused = client.put("/api/debtors/411DEB/owner", headers=AUTH, json={"agent": agent})
        assert refused.status_code == 422
        assert refused.json()["code"] == "not_an_active_agent"
        assert refused.json()["fields"] == {"agent": refused.json()["detail"]}
    assert runtime.files.debtor_record("411DEB") is None or \
        runtime.files.debtor_record("411DEB").owner == ""
    runtime.accounts.add("agent.api", "Agent", "agent", "mot-de-passe-long")
    agent = {"Authorization": f"Bearer {runtime.accounts.issue_api_token('agent.api')}"}
    mine = client.put("/api/debtors/411DEB/owner", headers=agent, json={"agent": "agent.api"})
    assert mine.status_code == 403
    assert client.post("/api/debtors/411DEB/people", headers=agent,
                       json={"name": "Marie Roux"}).status_code == 200   # agents record people


def test_the_debtor_page_changes_identity_and_completes_a_person(server, agent):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("import", number="DEB-2", **_invoice())
    runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    page = agent.get("/debiteurs/411PAGE")
    assert "Modifier l'identité" in page.text
    assert "Jean Dupont" in page.text                                   # from the invoice
    csrf = hidden(page.text)

    moved = agent.post("/debiteurs/411PAGE/identite", data={
        "csrf": csrf, "legal_name": "Page SARL", "siret": "73282932000074",
        "billing_address": "BP 42\r\n69002 Lyon Cedex 02"})
    assert moved.status_code == 303
    assert "apres=" in moved.headers["location"]
    shown = agent.get(moved.headers["location"]).text
    assert "Page SARL" in shown
    assert "BP 42<br>69002 Lyon Cedex 02" in shown
    assert f"par Agent.Test le {runtime.today():%d/%m/%Y}" in shown

    completed = agent.post("/debiteurs/411PAGE/personnes", data={
        "csrf": csrf, "name": "Jean Dupont", "function": "DAF", "role": "decision_maker"})
    shown = agent.get(completed.headers["location"]).text
    assert "01 02 03 04 05" in shown                                    # kept: not given here
    assert "DAF" in shown
    assert "décideur" in shown.lower()

    hostile = agent.post("/debiteurs/411PAGE/personnes", data={
        "csrf": csrf, "name": "<script>alert(1)</script>"})
    shown = agent.get(hostile.headers["location"]).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "<script>alert(1)" not in shown

    bad = agent.post("/debiteurs/411PAGE/personnes", data={
        "csrf": csrf, "name": "Marie Roux", "email": "pas-une-adresse"})
    assert bad.status_code == 422
    assert "L'adresse e-mail doit être une seule adresse valide" in html.unescape(bad.text)
    assert 'value="Marie Roux"' in bad.text                              # what was typed stays
    siren = agent.post("/debiteurs/411PAGE/identite", data={"csrf": csrf, "siren": "123"})
    assert siren.status_code == 422
    assert "Le SIREN a 9 chiffres." in siren.text
    assert agent.post("/debiteurs/411PAGE/identite",
                      data={"csrf": "faux", "siren": "732829320"}).status_code == 403


def test_an_auditor_reads_the_debtor_page_without_its_forms(server):
    runtime = server.app.state.runtime
    runtime.files.register_invoice("import", number="DEB-3", **_invoice())
    runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    auditor = log_in(server, "audit.test", "auditor")
    page = auditor.get("/debiteurs/411PAGE")
    assert page.status_code == 200
    assert "Personnes connues" in page.text
    assert "Modifier l'identité" not in page.text
    refused = auditor.post("/debiteurs/411PAGE/personnes",
                           data={"csrf": hidden(page.text), "name": "X"})
    assert refused.status_code == 403
    auditor.close()


def _invoice() -> dict:
    from datetime import date
    from decimal import Decimal

    from domain.values import Contact, Debtor, Money

    return dict(debtor=Debtor("411PAGE", "Page SARL"), amount=Money(Decimal("900.00")),
                issued_on=date(2026, 9, 1), due_on=date(2026, 10, 1),
                billing_recipient=Contact("Jean Dupont", phone="01 02 03 04 05"))
