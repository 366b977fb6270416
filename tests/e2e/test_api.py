"""The JSON API an ERP pushes invoices and payments to, over real HTTP."""

from datetime import timedelta
from decimal import Decimal

from tests.e2e.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
INVOICES = [
    {"number": "API-1", "debtor_account": "411API", "debtor_name": "Société API",
     "amount": "1500.00", "issued_on": "2026-10-01", "due_on": "2026-10-31",
     "contact_email": "compta@api.example"},
    {"number": "API-2", "debtor_account": "411API", "debtor_name": "Société API",
     "amount": "-3", "issued_on": "2026-10-01", "due_on": "2026-10-31"},
]


def test_pushed_invoices_get_one_result_each_and_a_second_push_changes_nothing(client):
    first = client.post("/api/invoices", json=INVOICES, headers=AUTH)
    assert first.status_code == 200
    body = first.json()
    assert (body["created"], body["unchanged"], body["rejected"]) == (1, 0, 1)
    assert [i["status"] for i in body["items"]] == ["created", "rejected"]
    assert "strictly positive" in body["items"][1]["detail"]
    again = client.post("/api/invoices", json=INVOICES[:1], headers=AUTH).json()
    assert again["items"][0]["status"] == "unchanged"


def test_pushed_payments_are_recorded_once(client):
    client.post("/api/invoices", json=INVOICES[:1], headers=AUTH)
    payment = [{"number": "API-1", "amount": "500.00", "received_on": "2026-11-02",
                "means": "transfer", "reference": "VIR 9"}]
    assert client.post("/api/payments", json=payment, headers=AUTH).json()["created"] == 1
    assert client.post("/api/payments", json=payment, headers=AUTH).json()["unchanged"] == 1
    unknown = [{**payment[0], "number": "NOPE"}]
    result = client.post("/api/payments", json=unknown, headers=AUTH).json()
    assert result["items"][0]["status"] == "rejected"


def test_the_api_refuses_a_call_without_the_token_and_bad_input_with_a_4xx(client):
    assert client.post("/api/invoices", json=INVOICES).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/api/invoices", json=INVOICES, headers=wrong).status_code == 401
    bad = client.post("/api/invoices", json=[{"number": "X"}], headers=AUTH)
    assert bad.status_code == 422
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers=AUTH).json()["paths"]["/api/invoices"]["post"]


def test_a_command_whose_path_or_body_does_not_read_is_refused_with_the_fields_at_fault(
        client):
    """Path and JSON body are read by the API's own route (`web.routes`), and anything it
    does not take goes to FastAPI's: either way, the same 422 naming each field."""
    client.post("/api/invoices", json=INVOICES[:1], headers=AUTH)
    as_json = {**AUTH, "Content-Type": "application/json"}

    def fields(path: str, **sent: object) -> dict[str, str]:
        answer = client.post(path, **sent)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "invalid_request"
        return answer.json()["fields"]

    note = "/api/files/API-1/notes"
    assert set(fields(note, headers=AUTH, json={"text": "x" * 20_001})) == {"text"}
    assert set(fields(note, headers=AUTH, json={})) == {"text"}
    assert set(fields(note, headers=AUTH, json={"text": 5, "occurred_at": "hier"})) == {
        "text", "occurred_at"}
    assert set(fields(note, headers=AUTH, json=["Vu"])) == {"body"}
    assert set(fields(note, headers=as_json, content=b"null")) == {"body"}
    assert fields(note, headers=as_json, content=b'{"text": ') == {"9": "JSON decode error"}
    plain = {**AUTH, "Content-Type": "text/plain"}
    assert set(fields(note, headers=plain, content=b'{"text": "Vu"}')) == {"body"}
    assert set(fields("/api/files/" + "A" * 101 + "/notes", headers=AUTH,
                      json={"text": "Vu"})) == {"number"}
    assert set(fields("/api/files/API-1/facts/" + "k" * 41, headers=AUTH,
                      json={"values": {}})) == {"kind"}
    assert "0.debtor_name" in fields("/api/invoices", headers=AUTH, json=[{"number": "B"}])
    patch = {**AUTH, "Content-Type": "application/merge-patch+json; charset=utf-8"}
    taken = client.post(note, headers=patch, content=b'{"text": "Vu"}')
    assert taken.status_code == 200, taken.text
    read = client.get("/api/files/API-1", headers=AUTH,
                      params={"after": taken.json()["notification_id"]}).json()
    assert [h["kind"] for h in read["history"]] == ["InvoiceRegistered", "NoteAdded"]


def test_every_command_and_read_through_the_api_with_a_users_token(server, client):
    runtime = server.app.state.runtime
    runtime.accounts.add("script.erp", "ERP", "agent", "mot-de-passe-long")
    token = runtime.accounts.issue_api_token("script.erp")
    auth = {"Authorization": f"Bearer {token}"}
    client.post("/api/invoices", json=INVOICES[:1], headers=auth)
    call = client.post("/api/files/API-1/calls", headers=auth, json={
        "contact_name": "Jean", "outcome": "reached", "summary": "OK vendredi",
        "promised_on": "2099-01-01", "idempotency_key": "c-1"})
    assert call.status_code == 200, call.text
    assert call.json()["facts"] == 2
    note = client.post("/api/files/API-1/notes", headers=auth, json={"text": "Vu"})
    assert note.status_code == 200
    fact = client.post("/api/files/API-1/facts/paiement", headers=auth, json={
        "values": {"amount": "100,00", "received_on": "2026-11-02", "means": "cheque"}})
    assert fact.status_code == 200, fact.text
    bad = client.post("/api/files/API-1/facts/paiement", headers=auth, json={
        "values": {"amount": "-1", "received_on": "x", "means": "cheque"}})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"amount", "received_on"}
    refused = client.post("/api/files/API-1/facts/paiement", headers=auth, json={
        "values": {"amount": "99999", "received_on": "2026-11-02", "means": "cheque"}})
    assert refused.status_code == 409
    assert refused.json()["code"] == "overpayment"
    read = client.get("/api/files/API-1", params={"after": fact.json()["notification_id"]},
                      headers=auth).json()
    assert read["fresh"] is True
    assert [h["kind"] for h in read["history"]][-1] == "PaymentReceived"
    assert client.get("/api/worklist", headers=auth).status_code == 200
    assert client.get("/api/files/NOPE", headers=auth).status_code == 404
    assert runtime.files.history("API-1")[-1].actor == "script.erp"


def test_an_auditors_token_reads_but_cannot_record(server, client):
    runtime = server.app.state.runtime
    runtime.accounts.add("lecteur", "Lecteur", "auditor", "mot-de-passe-long")
    token = runtime.accounts.issue_api_token("lecteur")
    pushed = client.post("/api/invoices", json=INVOICES[:1], headers=AUTH).json()
    auth = {"Authorization": f"Bearer {token}"}
    after = {"after": pushed["notification_id"]}
    assert client.get("/api/files/API-1", params=after, headers=auth).status_code == 200
    assert client.post("/api/files/API-1/notes", headers=auth,
                       json={"text": "x"}).status_code == 403
    assert client.post("/api/invoices", json=INVOICES, headers=auth).status_code == 403


def test_the_api_takes_what_the_call_form_takes_business_time_and_promised_amount(server,
                                                                                  client):
    files = server.app.state.runtime.files
    client.post("/api/invoices", json=INVOICES[:1], headers=AUTH)
    call = client.post("/api/files/API-1/calls", headers=AUTH, json={
        "contact_name": "Jean", "outcome": "reached", "summary": "La moitié vendredi",
        "promised_on": "2099-01-01", "promised_amount": "750.00",
        "occurred_at": "2026-11-01T16:05:00"})
    assert call.status_code == 200, call.text
    logged, promised = files.history("API-1")[-2:]
    assert logged.occurred_at.isoformat() == "2026-11-01T15:05:00+00:00"   # 16:05 in Paris
    assert timedelta(0) <= files.now() - logged.recorded_at < timedelta(minutes=5)  # the clock
    assert promised.data["amount"] == Decimal("750.00")
    note = client.post("/api/files/API-1/notes", headers=AUTH, json={
        "text": "Rappelé hier", "occurred_at": "2026-11-01T18:00:00+01:00"})
    assert note.status_code == 200
    assert files.history("API-1")[-1].occurred_at.isoformat() == "2026-11-01T17:00:00+00:00"
    credit = client.post("/api/files/API-1/facts/avoir", headers=AUTH, json={
        "values": {"amount": "100,00", "issued_on": "01/11/2026", "reference": "AV-1"},
        "occurred_at": "2026-11-01T10:00:00+01:00"})
    assert credit.status_code == 200, credit.text
    assert files.case("API-1").outstanding == Decimal("1400.00")


def test_the_api_refuses_a_call_without_an_outcome_or_saying_nothing(client):
    client.post("/api/invoices", json=INVOICES[:1], headers=AUTH)
    assert client.post("/api/files/API-1/calls", headers=AUTH,
                       json={"summary": "?"}).status_code == 422
    empty = client.post("/api/files/API-1/calls", headers=AUTH, json={"outcome": "reached"})
    assert empty.status_code == 409
    assert empty.json()["code"] == "empty_call"
    later = client.post("/api/files/API-1/calls", headers=AUTH, json={
        "outcome": "voicemail", "occurred_at": "2099-01-01T10:00:00"})
    assert later.status_code == 409
    assert later.json()["code"] == "future_business_time"
