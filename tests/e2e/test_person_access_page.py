"""Réglages, « Droit d'accès »: a supervisor or an auditor downloads what is held on a
person; an agent cannot."""

from __future__ import annotations

from domain.values import CallOutcome
from tests.builders import GLOBEX, JEAN, register_kwargs
from tests.e2e.conftest import log_in


def test_a_supervisor_downloads_a_persons_data_and_an_agent_cannot(server, agent):
    files = server.app.state.runtime.files
    files.register_invoice("alice", **register_kwargs("ACC-1"))
    files.register_invoice("alice", **register_kwargs("ACC-2", debtor=GLOBEX))
    files.log_call("alice", "ACC-2", contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Jean Dupont rappellera.")
    server.app.state.runtime.wait_for_views(files.recorder.max_notification_id())
    supervisor = log_in(server, "sophie", "supervisor")
    page = supervisor.get("/reglages/acces-personne")
    assert page.status_code == 200
    assert "Droit d'accès d'une personne" in page.text
    answer = supervisor.get("/reglages/acces-personne", params={
        "email": JEAN.email, "format": "json"})
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    assert [d["name"] for d in answer.json()["debtors"]] == ["ACME SARL", "Globex SA"]
    assert answer.json()["made_by"] == "sophie"
    auditor = log_in(server, "audit", "auditor")
    assert 'href="/reglages/acces-personne"' in auditor.get("/portefeuille").text
    pdf = auditor.get("/reglages/acces-personne", params={
        "nom": "jean dupont", "format": "pdf"})
    assert (pdf.status_code, pdf.content[:4]) == (200, b"%PDF")
    nobody = supervisor.get("/reglages/acces-personne", params={"format": "json"})
    assert nobody.status_code == 422
    assert "Indiquez une adresse e-mail, un téléphone ou un nom." in nobody.text
    assert agent.get("/reglages/acces-personne").status_code == 403
    assert agent.get("/reglages/acces-personne", params={
        "email": JEAN.email, "format": "json"}).status_code == 403
