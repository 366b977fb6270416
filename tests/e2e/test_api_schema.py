"""The /api as its OpenAPI schema promises, under generated input (schemathesis).

At least 1,000 generated requests, with a valid token, against the real server on
each store: no server error, and every response matches the schema (status code,
content type, body).
"""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS

from tests.e2e.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CASES = 1000
CHECKED = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
           "response_schema_conformance")


def test_generated_requests_get_no_server_error_and_match_the_schema(server):
    base = server.url
    seed = [{"number": f"SCH-{i}", "debtor_account": "411SCH", "debtor_name": "Schéma SA",
             "amount": "1200.00", "issued_on": "2026-09-01", "due_on": "2026-10-01"}
            for i in range(3)]
    assert httpx.post(base + "/api/invoices", json=seed, headers=AUTH).status_code == 200
    schema = schemathesis.openapi.from_url(base + "/openapi.json", headers=AUTH)
    checks = [check for check in CHECKS.get_all() if check.__name__ in CHECKED]
    assert len(checks) == len(CHECKED)
    operations = [result.ok() for result in schema.get_all_operations()]
    per_operation = -(-CASES // len(operations))
    calls = 0
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=per_operation, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            nonlocal calls
            if case.path_parameters and "number" in case.path_parameters and calls % 3 == 0:
                case.path_parameters["number"] = "SCH-1"                 # a file that exists
            if case.path_parameters and "account" in case.path_parameters and calls % 3 == 0:
                case.path_parameters["account"] = "411SCH"               # a debtor that exists
            response = case.call(base_url=base, headers=AUTH)
            calls += 1
            case.validate_response(response, checks=checks)

        run()
    assert calls >= CASES
