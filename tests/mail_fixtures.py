"""Fixtures for tests that read mail from a real Dovecot IMAP server.

A test module uses them by naming this module as a plugin:
    pytest_plugins = ["tests.mail_fixtures"]
(or by importing both names: `dovecot` needs `dovecot_server`). One server serves the
whole session; `dovecot` hands it over with an empty INBOX. Its main user's password is
not ASCII (logging in goes through SASL PLAIN); a second user, AGENT, has an ASCII one
(IMAP LOGIN). Outside CI the tests are skipped, with one line saying why, when Dovecot is
not installed or does not start; in CI (CI=true) they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.mailserver import AGENT, Dovecot, DovecotUnavailable, start_dovecot

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """A Dovecot IMAP server on loopback for the whole session."""
    try:
        server = start_dovecot(others=dict([AGENT]))
    except DovecotUnavailable as error:
        if IN_CI:
            pytest.fail(str(error), pytrace=False)
        pytest.skip(str(error))
    yield server
    server.stop()


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The session's Dovecot, its INBOX emptied for this test."""
    dovecot_server.clear()
    return dovecot_server
