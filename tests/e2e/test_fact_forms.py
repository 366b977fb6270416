"""Every fact of the case file has a form on the file page: good input, bad input."""

from decimal import Decimal

import pytest

from tests.builders import register_kwargs
from tests.e2e.conftest import log_in

TODAY_PLACEHOLDER = "{today}"
GOOD = {
    "relance": {"channel": "email", "level": "1", "summary": "Première relance"},
    "preventive": {"channel": "call", "summary": "Livraison conforme", "means": "transfer"},
    "duplicata-demande": {"reason": "not_received", "contact": "Jean"},
    "duplicata-envoi": {"channel": "email", "recipient": "compta@acme.example"},
    "litige": {"reason": "Palette abîmée", "amount": "300,00"},
    "echeancier": {"plan": "{today} 750,00\n31/12/2099 750,00", "signed": "on"},
    "paiement": {"amount": "500,00", "received_on": "{today}", "means": "cheque"},
    "escompte": {"discount": "30,00", "pay_by": "31/12/2099"},
    "echeance": {"new_due_on": "31/12/2099", "reason": "Accord commercial"},
    "mise-en-demeure": {"letter": "1A 123", "deadline_on": "31/12/2099"},
    "reconnaissance": {"document": "Courrier signé"},
    "transmission": {"to": "lawyer", "recipient": "Me Lefort"},
    "attribution": {"agent": "agent.test"},
    "rappel": {"callback_on": "31/12/2099", "owner": "agent.test"},
    "perte": {"reason": "Insolvable"},
    "cloture": {"reason": "Avoir"},
}
BAD = {
    "paiement": ({"amount": "-5", "received_on": "{today}", "means": "cheque"}, "amount",
                 "Montant invalide"),
    "echeance": ({"new_due_on": "demain", "reason": "x"}, "new_due_on", "Date invalide"),
    "relance": ({"channel": "pigeon", "level": "1"}, "channel", "Choisissez une valeur"),
    "echeancier": ({"plan": "n'importe quoi"}, "plan", "Une échéance par ligne"),
}


def _hidden(page: str, name: str, kind: str) -> str:
    if name == "cle":
        marker = 'name="cle" value="'
        return page.split(marker, 1)[1].split('"', 1)[0].split("-", 1)[0] + "-" + kind
    return page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def _post(server, agent, kind, data):
    runtime = server.app.state.runtime
    number = f"FF-{kind}"
    runtime.files.register_invoice("alice", **register_kwargs(number))
    page = agent.get(f"/dossiers/{number}").text
    today = runtime.today().strftime("%d/%m/%Y")
    form = {k: v.replace("{today}", today) for k, v in data.items()}
    form.update(csrf=_hidden(page, "csrf", kind), cle=_hidden(page, "cle", kind))
    return runtime, number, agent.post(f"/dossiers/{number}/faits/{kind}", data=form)


SUPERVISED = {"transmission", "perte", "cloture"}


@pytest.mark.parametrize("kind", sorted(set(GOOD) - SUPERVISED))
def test_each_fact_form_records_its_fact(server, agent, kind):
    runtime, number, answer = _post(server, agent, kind, GOOD[kind])
    assert answer.status_code == 303, answer.text[-600:]
    assert len(runtime.files.history(number)) == 2
    assert runtime.files.history(number)[-1].actor == "agent.test"


@pytest.mark.parametrize("kind", sorted(SUPERVISED))
def test_writing_off_closing_and_handing_over_are_for_supervisors(server, agent, kind):
    runtime, number, refused = _post(server, agent, kind, GOOD[kind])
    assert refused.status_code == 403
    assert "pas permise avec votre rôle" in refused.text
    assert len(runtime.files.history(number)) == 1
    chef = log_in(server, f"chef.{kind}", "supervisor")
    page = chef.get(f"/dossiers/{number}").text
    form = {**GOOD[kind], "csrf": _hidden(page, "csrf", kind), "cle": _hidden(page, "cle", kind)}
    assert chef.post(f"/dossiers/{number}/faits/{kind}", data=form).status_code == 303
    assert runtime.files.history(number)[-1].actor == f"chef.{kind}"
    chef.close()


@pytest.mark.parametrize(("kind", "field"), [("attribution", "agent"), ("rappel", "owner")])
def test_a_file_goes_only_to_an_active_account_of_the_team(server, agent, kind, field):
    runtime, number, answer = _post(server, agent, kind, {**GOOD[kind], field: "ghost.user<x>"})
    assert answer.status_code == 422
    assert "Choisissez un compte actif de l&#39;équipe" in answer.text
    assert len(runtime.files.history(number)) == 1


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_comes_back_beside_the_field_and_records_nothing(server, agent, kind):
    data, _, message = BAD[kind]
    runtime, number, answer = _post(server, agent, kind, data)
    assert answer.status_code == 422
    assert message in answer.text
    assert len(runtime.files.history(number)) == 1


def test_a_refusal_of_the_domain_is_shown_in_french(server, agent):
    runtime, number, answer = _post(server, agent, "paiement", {
        "amount": "9 999,00", "received_on": "{today}", "means": "cheque"})
    assert answer.status_code == 422
    assert "Le paiement dépasse le solde restant dû" in answer.text
    assert runtime.files.case(number).paid == Decimal("0.00")


def test_a_correction_is_typed_like_the_value_it_corrects(server, agent):
    runtime, number, answer = _post(server, agent, "paiement", {
        "amount": "500,00", "received_on": "{today}", "means": "cheque"})
    assert answer.status_code == 303
    page = agent.get(f"/dossiers/{number}").text
    fix = agent.post(f"/dossiers/{number}/faits/correction", data={
        "target": "2", "field": "amount", "value": "400,00", "reason": "Chèque de 400",
        "csrf": _hidden(page, "csrf", "correction"), "cle": _hidden(page, "cle", "correction")})
    assert fix.status_code == 303
    assert runtime.files.case(number).paid == Decimal("400.00")
