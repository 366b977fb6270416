"""An access request (RGPD art. 15): everything held on one person, across debtors, as JSON
and PDF, from the command line."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from pypdf import PdfReader

from adapters.usecases.person_access import Who, person_data, person_pdf
from domain.values import CallOutcome, Contact
from tests.builders import ACME, GLOBEX, JEAN, register_kwargs
from tests.e2e.test_cli import relance

LEA = Contact(name="Léa Martin", function="Trésorière", email="lea.martin@globex.example")


def _seed(views) -> None:
    """Jean Dupont keeps the books of ACME and of Globex (same e-mail); Léa works at Globex."""
    files = views.files
    files.register_invoice("alice", **register_kwargs("FA-1"))
    files.register_invoice("alice", **register_kwargs("FA-2", debtor=GLOBEX,
                                                      billing_recipient=LEA))
    files.log_call("alice", "FA-1", contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Jean Dupont confirme le paiement sous huitaine.")
    files.log_call("alice", "FA-2", contact=replace(JEAN, phone="+33 1 02 03 04 05"),
                   outcome=CallOutcome.REACHED, summary="Voit avec Léa pour Globex.")
    files.add_note("alice", "FA-2", text="Léa Martin absente jusqu'à lundi.")
    assert views.wait_for_views(files.recorder.max_notification_id())


def test_an_access_request_gives_the_persons_data_at_both_debtors_and_nobody_elses(views):
    _seed(views)
    data = person_data(views, Who(email="JEAN.DUPONT@acme.example"), "dpo")
    assert [d["account"] for d in data["debtors"]] == [ACME.account, GLOBEX.account]
    acme, globex = data["debtors"]
    assert acme["person"]["name"]["value"] == "Jean Dupont"
    assert [e["value"] for e in acme["person"]["emails"]] == ["jean.dupont@acme.example"]
    assert [f["kind"] for f in acme["facts"]] == ["InvoiceRegistered", "CallLogged"]
    assert [f["kind"] for f in globex["facts"]] == ["CallLogged"]     # the note names Léa
    shown = json.dumps(data, ensure_ascii=False)
    assert "Léa" not in json.dumps([d["person"] for d in data["debtors"]], ensure_ascii=False)
    assert "lea.martin@globex.example" not in shown

    by_phone = person_data(views, Who(phone="01.02.03.04.05"), "dpo")
    assert [d["account"] for d in by_phone["debtors"]] == [ACME.account, GLOBEX.account]
    by_name = person_data(views, Who(name="  léa   MARTIN "), "dpo")
    assert [d["account"] for d in by_name["debtors"]] == [GLOBEX.account]
    assert [f["kind"] for f in by_name["debtors"][0]["facts"]] == [  # her full name
        "InvoiceRegistered", "NoteAdded"]
    assert person_data(views, Who(email="personne@nulle.part"), "dpo")["debtors"] == []

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(
        person_pdf(data))).pages)
    assert "Jean Dupont" in text
    assert f"compte {ACME.account}" in text
    assert f"compte {GLOBEX.account}" in text
    assert "Appel" in text


def test_the_command_writes_json_and_pdf(views, store_url, tmp_path):
    _seed(views)
    views.close()
    answer, pdf = tmp_path / "jean.json", tmp_path / "jean.pdf"
    done = relance(store_url, "personne", "exporter", "--email", "jean.dupont@acme.example",
                   "--out", str(answer), "--pdf", str(pdf))
    assert done.returncode == 0, done.stderr
    assert "Personne connue chez 2 débiteurs, nommée dans 3 faits." in done.stderr
    data = json.loads(answer.read_text(encoding="utf-8"))
    assert len(data["debtors"]) == 2
    assert pdf.read_bytes().startswith(b"%PDF")
    nobody = relance(store_url, "personne", "exporter")
    assert nobody.returncode == 2
    assert "--email, --telephone ou --nom" in nobody.stderr
