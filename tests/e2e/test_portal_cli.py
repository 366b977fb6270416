"""`relance debiteur espace`: a supervisor lists a debtor's links and what the debtor did
on its page, creates a link (shown once) and withdraws them, from a terminal."""

from __future__ import annotations

import re

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from domain.values import Contact
from tests.builders import ACME, register_kwargs
from tests.e2e.cli_runner import relance

ACME_PERSON = Contact(name="Jean Dupont", function="", phone="", email="jean@acme.example")


def test_a_link_is_created_listed_with_its_visits_and_revoked_from_the_terminal(store_url):
    runtime = bootstrap(Settings(database_url=store_url))
    try:
        runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
        runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0002"))
    finally:
        runtime.close()

    created = relance(store_url, "debiteur", "espace", ACME.account, "--nouveau")
    assert created.returncode == 0, created.stderr
    token = re.search(r"/p/([A-Za-z0-9_-]{43})\s*$", created.stdout, re.M).group(1)
    assert "page débiteur, créé le" in created.stdout
    assert ": actif ; 0 visite" in created.stdout

    runtime = bootstrap(Settings(database_url=store_url))
    try:
        link = runtime.files.open_portal_link(token)
        runtime.files.record_portal_visit(link)
        runtime.files.portal_duplicate(link, ["FA-2026-0001", "FA-2026-0002"],
                                       reason="not_received", requested_by=ACME_PERSON)
    finally:
        runtime.close()

    listed = relance(store_url, "debiteur", "espace", ACME.account)
    assert ": actif ; 1 visite, dernière le" in listed.stdout
    assert "sur les factures FA-2026-0001, FA-2026-0002" in listed.stdout  # one answer
    assert token not in listed.stdout                                     # shown once

    revoked = relance(store_url, "debiteur", "espace", ACME.account,
                      "--revoquer", "envoyé au mauvais destinataire")
    assert "1 lien révoqué." in revoked.stdout
    assert ": révoqué ; 1 visite" in revoked.stdout
