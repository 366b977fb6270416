"""A catch-up whose connection the server ends in the middle of a batch applies that
batch again and finishes: the server rolled the batch back whole, nothing is half done.

The server ends the session for real: a trigger on the history table has its own
backend terminated the first time rows arrive (a sequence counts the times, since a
sequence is not rolled back with the transaction).
"""

from __future__ import annotations

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError
from psycopg import sql

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from tests.builders import register_kwargs


@pytest.mark.postgres
def test_a_catch_up_whose_session_the_server_ends_applies_the_batch_again(postgres_url, clock):
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        for n in range(3):
            runtime.files.register_invoice("bruno", **register_kwargs(f"FIN-{n}"))
        head = runtime.files.recorder.max_notification_id()
        schema = runtime.store.schema
        with psycopg.connect(runtime.store.conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(schema, "ended")))
            admin.execute(sql.SQL(
                "CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF nextval('{seq}') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); "
                "END IF; RETURN NULL; END $$").format(
                    fn=sql.Identifier(schema, "end_once"),
                    seq=sql.SQL(f'"{schema}".ended')))
            admin.execute(sql.SQL(
                "CREATE TRIGGER end_once AFTER INSERT ON {} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {}()").format(
                    sql.Identifier(schema, "history"), sql.Identifier(schema, "end_once")))

        assert runtime.follower.catch_up() == head

        with psycopg.connect(runtime.store.conninfo, autocommit=True) as admin:
            times = admin.execute(sql.SQL("SELECT last_value FROM {}").format(
                sql.Identifier(schema, "ended"))).fetchone()[0]
        assert times >= 2, "the session was never ended, or the batch never applied again"
        assert [e["number"] for e in runtime.reads.history("FIN-1")] == ["FIN-1"]
        assert all(runtime.views.position(p.name) == head
                   for p in runtime.follower.projections)
    finally:
        runtime.close()


def test_a_batch_another_runner_applied_first_is_refused_whole(store_url, clock):
    """Two runners on one store (the web process and `relance projections run`): the one
    that comes second to a batch is refused and writes nothing; the views stay as the
    first one left them, each fact once."""
    first = bootstrap(Settings(database_url=store_url), clock=clock)
    second = bootstrap(Settings(database_url=store_url), clock=clock)
    try:
        first.files.register_invoice("bruno", **register_kwargs("FIN-A"))
        first.files.add_note("bruno", "FIN-A", text="Rappeler lundi")
        batch = first.files.recorder.select_notifications(start=1, limit=10)
        second.follower.process(batch)
        with pytest.raises(IntegrityError):
            first.follower.process(batch)
        assert [e["kind"] for e in first.reads.history("FIN-A")] == [
            "InvoiceRegistered", "NoteAdded"]
        assert {first.views.position(p.name) for p in first.follower.projections} == {
            batch[-1].id}
    finally:
        first.close()
        second.close()
