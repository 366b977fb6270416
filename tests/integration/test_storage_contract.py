"""Facts written by the first event versions keep loading, and their chain still holds."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from adapters.usecases.evidence import walk
from domain.receipts import receipt_id
from domain.values import Status

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stored_events_v1.json"


def _load_fixture(files) -> None:
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))["events"]
    files.recorder.insert_events([
        StoredEvent(originator_id=UUID(r["originator_id"]),
                    originator_version=r["originator_version"],
                    topic=r["topic"], state=r["state"].encode("utf-8"))
        for r in rows
    ])


def test_every_kind_of_fact_stored_by_the_first_version_still_loads(files):
    _load_fixture(files)
    history = files.history("GOLD-1")
    assert len(history) == 27
    assert {e.kind for e in history} >= {
        "InvoiceRegistered", "AgentAssigned", "PreDueReminderSent", "ReminderSent",
        "CallLogged", "DuplicateRequested", "DuplicateSent", "PaymentPromised",
        "DisputeRaised", "DisputeResolved", "DiscountOffered", "DueDateRescheduled",
        "CallbackScheduled", "PaymentReceived", "FactCorrected", "PaymentPlanAgreed",
        "NoteAdded", "FactRetracted", "FormalNoticeSent", "HandedOver", "WrittenOff",
        "CaseReopened", "CaseClosed", "DebtAcknowledged", "DocumentSent", "SendingFailed"}
    case = files.case("GOLD-1")
    assert case.outstanding == Decimal("900.00")
    assert case.due_on == date(2026, 10, 15)
    assert case.status(date(2026, 11, 2)) is Status.CLOSED
    assert history[16].retracted_by == 18
    assert history[13].data["received_on"] == date(2026, 10, 23)


def test_the_chain_of_the_first_version_verifies_from_the_stored_form(files):
    _load_fixture(files)
    assert walk(files)[1] is None


def test_a_receipt_of_the_first_version_still_answers_its_key(files):
    _load_fixture(files)
    again = files.add_note("alice", "GOLD-1", text="Receipt test", idempotency_key="golden-key",
                           occurred_at=files.history("GOLD-1")[-1].occurred_at)
    assert again.replayed
    assert files.repository.get(receipt_id("golden-key")).command == "add_note"


def test_an_edited_stored_fact_breaks_the_chain_at_that_fact(runtime):
    _load_fixture(runtime.files)
    file_id = UUID(json.loads(FIXTURE.read_text(encoding="utf-8"))["events"][0]["originator_id"])
    edit = ("UPDATE {table} SET state = replace(state, '500.00', '50.00') "
            "WHERE originator_id = {p} AND originator_version = 14")
    store = runtime.store
    if store.is_postgres:
        import psycopg
        from psycopg import sql

        table = sql.Identifier(store.schema, runtime.files.recorder.events_table_name)
        with psycopg.connect(store.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL(edit.replace("state = replace(state,", "state = convert_to("
                                              "replace(convert_from(state, 'UTF8'),")
                                 .replace("'50.00')", "'50.00'), 'UTF8')")
                                 .replace("{p}", "%s")).format(table=table), (file_id,))
    else:
        import sqlite3

        with sqlite3.connect(store.sqlite_path) as conn:
            conn.execute(edit.format(table=runtime.files.recorder.events_table_name, p="?")
                         .replace("replace(state,", "CAST(replace(CAST(state AS TEXT),")
                         .replace("'50.00')", "'50.00') AS BLOB)"),
                         (file_id.hex,))
    problem = walk(runtime.files)[1]
    assert problem is not None
    assert (problem.number, problem.version) == ("GOLD-1", 14)


def test_the_playbook_of_the_first_version_still_loads(files):
    _load_fixture(files)
    playbook = files.open_playbook("anyone")
    assert [r.scenario.version for r in playbook.revisions["reference"]] == [1, 2]
    assert playbook.revisions["reference"][1].reason == "Révision de test"
    assert playbook.scenario_for("411ACME").name == "tpe"
    assert playbook.penalty_rates == {"411ACME": Decimal("12")}
    assert playbook.absent_on(date(2026, 12, 31)) == {"bruno"}
    assert files.case("GOLD-1").penalty_rate == Decimal("11.5")


def test_the_first_versions_facts_pass_the_store_check_and_export_verifiably(runtime,
                                                                           tmp_path):
    import io

    from adapters.infra.export_formats import Scope, verify_export
    from adapters.usecases.exporting import Request, export

    _load_fixture(runtime.files)
    digest, problem = walk(runtime.files)
    assert problem is None
    assert digest.facts == 27
    out = io.StringIO()
    export(runtime, Request(Scope("file", "GOLD-1"), "json", "auditeur"), out)
    path = tmp_path / "gold.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    problem, held = verify_export(path)
    assert problem is None
    assert held.facts == 27
