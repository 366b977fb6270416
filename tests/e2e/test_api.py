"""The JSON API an ERP pushes invoices and payments to, over real HTTP."""

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
    assert client.get("/openapi.json").json()["paths"]["/api/invoices"]["post"]
