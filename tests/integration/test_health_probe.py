"""The database probe behind the web's immediate 503s: one failed check on a busy
machine does not turn the whole web away; two in a row do, and one success brings it
back."""

from __future__ import annotations

import psycopg
import pytest

from adapters.infra.health import DatabaseProbe
from adapters.infra.store import parse_database_url
from tests.builders import free_port


@pytest.mark.postgres
def test_the_database_is_unavailable_after_two_failed_checks_and_back_after_one(
    postgres_base_url,
):
    conninfo = parse_database_url(postgres_base_url).conninfo
    probe = DatabaseProbe(conninfo)
    try:
        probe.check_once()
        assert probe.available.is_set()
        # The server ends the probe's session and nothing answers where it reconnects.
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)",
                          (probe._connection.info.backend_pid,))
        probe.conninfo = psycopg.conninfo.make_conninfo(conninfo, port=free_port())
        probe.check_once()
        assert probe.available.is_set()  # one failure: maybe a slow connection, not down
        probe.check_once()
        assert not probe.available.is_set()  # two in a row: the web answers 503 at once
        probe.check_once()
        assert not probe.available.is_set()
        probe.conninfo = conninfo
        probe.check_once()
        assert probe.available.is_set()  # back at the first success
    finally:
        probe.stop()
