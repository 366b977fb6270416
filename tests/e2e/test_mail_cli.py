"""`relance courrier` as a person (or a mail server's delivery) runs it: messages read from
the mailbox or given as files land on the files, and the unmatched ones are listed."""

from __future__ import annotations

import os
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from tests.builders import free_port, register_kwargs
from tests.e2e.cli_runner import RELANCE, relance, wait_for_log

pytest_plugins = ["tests.mail_fixtures"]


@pytest.fixture
def store(store_url: str) -> str:
    """A store with one file of ACME, whose billing contact is jean.dupont@acme.example."""
    runtime = bootstrap(Settings(database_url=store_url))
    try:
        runtime.files.register_invoice("alice", **register_kwargs("FA-2026-0001"))
    finally:
        runtime.close()
    return store_url


def _mail(sender: str, subject: str, text: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "relance@creancier.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(text)
    return bytes(message)


def test_messages_given_as_files_or_on_standard_input_are_recorded_once(store, tmp_path: Path):
    reply = tmp_path / "reponse.eml"
    reply.write_bytes(_mail("jean.dupont@acme.example", "Votre relance",
                            "Le virement part demain.", "<r1@acme.example>"))
    done = relance(store, "courrier", "lire", str(reply))
    assert done.returncode == 0, done.stderr
    assert "Réponse — rattaché au dossier : 411ACME (FA-2026-0001)" in done.stdout
    assert "1 message enregistré sur 1 lu" in done.stdout

    again = relance(store, "courrier", "lire", "-", stdin=reply.read_text())
    assert "Réponse — déjà lu" in again.stdout
    assert "0 message enregistré sur 1 lu" in again.stdout

    shown = relance(store, "case", "show", "FA-2026-0001")
    assert "Réponse du débiteur" in shown.stdout
    assert "Le virement part demain." in shown.stdout


def test_the_mailbox_is_read_and_the_unmatched_messages_are_listed(store, dovecot):
    dovecot.append(_mail("paul@ailleurs.example", "Partenariat", "Bonjour",
                         "<p1@ailleurs.example>"))
    dovecot.append(_mail("jean.dupont@acme.example", "Facture", "Réglée hier.",
                         "<r2@acme.example>"))
    done = relance(store, "courrier", "relever", "--url", dovecot.url)
    assert done.returncode == 0, done.stderr
    assert "2 messages enregistrés sur 2 lus" in done.stdout
    assert dovecot.password not in done.stdout + done.stderr

    listed = relance(store, "courrier", "non-rattache")
    assert "paul@ailleurs.example" in listed.stdout
    assert "Partenariat" in listed.stdout
    assert "jean.dupont" not in listed.stdout

    assert "Aucun nouveau message." in relance(store, "courrier", "relever", "--url",
                                               dovecot.url).stdout


def test_an_unreachable_mailbox_says_so_in_one_line_without_the_password(store):
    done = relance(store, "courrier", "relever", "--url",
                   "imap://relance:motdepasse-secret@127.0.0.1:1/INBOX")
    assert done.returncode == 2
    assert "Boîte injoignable" in done.stderr
    assert "motdepasse-secret" not in done.stderr


def test_the_server_reads_the_mailbox_by_itself(store, dovecot, tmp_path: Path):
    dovecot.append(_mail("jean.dupont@acme.example", "Facture", "Réglée hier.",
                         "<r3@acme.example>"))
    log = tmp_path / "serve.log"
    env = {**os.environ, "RELANCE_DATABASE_URL": store, "RELANCE_INBOX_URL": dovecot.url,
           "RELANCE_INBOX_EVERY": "1", "RELANCE_LOG_FORMAT": "json", "RELANCE_LOG_LEVEL": ""}
    with log.open("wb") as sink:
        server = subprocess.Popen([RELANCE, "serve", "--port", str(free_port())], env=env,
                                  stdout=subprocess.DEVNULL, stderr=sink)
    try:
        done = wait_for_log(log, "repeated job done")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (done["job"], done["recorded"], done["actor"]) == ("mailbox", 1, "courrier")
    assert dovecot.password not in log.read_text()
    shown = relance(store, "case", "show", "FA-2026-0001")
    assert "Réglée hier." in shown.stdout

