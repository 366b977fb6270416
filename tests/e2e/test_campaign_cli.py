"""`relance campagne` as a person or a cron job runs it, and `relance serve` running the
day by itself at RELANCE_RUN_AT, on each store, sending to a real SMTP server."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from domain.values import Channel
from tests.builders import free_port
from tests.e2e.campaign_setup import (
    Mailbox,
    Portfolio,
    campagne,
    facts,
    messages,
    relance_env,
    seeded,
)
from tests.e2e.cli_runner import RELANCE, wait_for_log


@pytest.fixture
def portfolio(store_url: str) -> Portfolio:
    """Two debtors owed a first reminder today: one invoice, and two."""
    return seeded(store_url, 2)


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_the_days_run_says_what_became_of_each_debtors_message(portfolio, mailbox):
    run = campagne(portfolio, mailbox)
    assert run.returncode == 0, run.stderr
    out = _plain(run.stdout)
    assert f"Envoi du {portfolio.day:%d/%m/%Y} : 2 messages" in out
    for line, numbers in zip(("Client 0 SARL", "Client 1 SARL"), portfolio.debtors.values(),
                             strict=True):
        row = next(row for row in out.splitlines() if line in row)
        assert "première relance (e-mail)" in row
        assert "envoyé" in row
        assert ", ".join(numbers) in row
    assert "Bilan : envoyé : 2" in out
    assert "reminder_1" not in out
    assert len(mailbox.handler.messages) == 2

    # The report reads the same without sending anything; a second run sends nothing.
    report = campagne(portfolio, mailbox, "rapport")
    assert report.returncode == 0
    assert "Bilan : envoyé : 2" in report.stdout
    again = campagne(portfolio, mailbox)
    assert again.returncode == 0
    assert len(mailbox.handler.messages) == 2
    recorded = facts(portfolio, "ReminderSent").values()
    assert [fact["actor"] for file in recorded for fact in file] == ["relance"] * 3


def test_a_refusing_server_makes_the_run_exit_with_1_and_say_why(portfolio, mailbox):
    mailbox.handler.refuse = True
    run = campagne(portfolio, mailbox)
    assert run.returncode == 1
    assert "échec, nouvel essai au prochain passage" in run.stdout
    assert "451" in run.stdout
    assert "Traceback" not in run.stderr
    assert campagne(portfolio, mailbox, "rapport").returncode == 1


def test_an_uncertain_message_is_listed_and_settled_by_the_person_who_checked(portfolio,
                                                                              mailbox):
    assert campagne(portfolio, mailbox, fault="after_smtp").returncode < 0
    run = campagne(portfolio, mailbox)
    assert run.returncode == 1
    assert "incertain : vérifier la boîte d'envoi" in run.stdout
    (doubt,) = [m for m in messages(portfolio) if m["state"] == "uncertain"]
    assert doubt["key"] in run.stdout
    assert doubt["message_id"] in run.stdout

    listed = campagne(portfolio, mailbox, "incertain")
    assert listed.returncode == 0
    assert "1 message incertain" in listed.stdout
    assert doubt["message_id"] in listed.stdout

    assert campagne(portfolio, mailbox, "incertain", doubt["key"]).returncode == 2
    # Found in the mailbox by its Message-ID: recorded on its files, by the person.
    settled = campagne(portfolio, mailbox, "incertain", doubt["message_id"], "--parti")
    assert settled.returncode == 0, settled.stderr
    assert "est parti" in settled.stdout
    recorded = facts(portfolio, "ReminderSent")
    for number in portfolio.debtors[doubt["account"]]:
        assert [(f["message_id"], f["actor"]) for f in recorded[number]] == [
            (doubt["message_id"], "marie.curie")]

    twice = campagne(portfolio, mailbox, "incertain", doubt["key"], "--pas-parti")
    assert twice.returncode == 1
    assert "n'est pas incertain (état : envoyé)" in twice.stderr
    unknown = campagne(portfolio, mailbox, "incertain", "2026-01-01/411X/nothing", "--parti")
    assert unknown.returncode == 1
    assert "Aucun message" in unknown.stderr
    assert campagne(portfolio, mailbox).returncode == 0
    assert len(mailbox.handler.messages) == 2


def test_the_days_letters_are_printed_in_one_pdf(store_url, mailbox, tmp_path: Path):
    portfolio = seeded(store_url, 2, channel=Channel.LETTER)
    run = campagne(portfolio, mailbox)
    assert run.returncode == 0, run.stderr
    assert "lettre à poster" in run.stdout
    assert mailbox.handler.messages == []
    printed = campagne(portfolio, mailbox, "lettres", str(tmp_path / "lettres.pdf"))
    assert printed.returncode == 0, printed.stderr
    assert "2 lettres du" in printed.stdout
    pdf = PdfReader(io.BytesIO((tmp_path / "lettres.pdf").read_bytes()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "2 lettres à mettre sous pli" in text
    assert "Client 0 SARL" in text
    assert "Client 1 SARL" in text
    assert len(pdf.pages) >= 3


def test_a_day_to_come_is_refused_and_nothing_goes_out(portfolio, mailbox, tmp_path: Path):
    run = campagne(portfolio, mailbox, "--jour", "31/12/2099")
    assert run.returncode == 2
    assert "un envoi ne se fait pas à l'avance" in run.stderr
    assert messages(portfolio) == []
    nothing = campagne(portfolio, mailbox, "lettres", str(tmp_path / "x.pdf"), "--jour",
                       "01/01/2020")
    assert nothing.returncode == 0
    assert "Aucune lettre à poster le 01/01/2020" in nothing.stdout
    assert not (tmp_path / "x.pdf").exists()


def _serve(portfolio: Portfolio, mailbox: Mailbox, log: Path, run_at: str,
           workers: int = 1) -> subprocess.Popen[bytes]:
    """`relance serve` with its default log level, its JSON log written to `log`."""
    env = relance_env(portfolio, mailbox, RELANCE_RUN_AT=run_at, RELANCE_LOG_LEVEL="",
                      RELANCE_LOG_FORMAT="json")
    with log.open("wb") as sink:
        return subprocess.Popen([RELANCE, "serve", "--port", str(free_port()), "--workers",
                                 str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=sink)


def _events(log: Path) -> list[str]:
    return [json.loads(line)["event"] for line in log.read_text().splitlines()
            if line.startswith("{")]



def test_the_server_runs_the_day_by_itself_once(portfolio, mailbox, tmp_path: Path):
    first = _serve(portfolio, mailbox, tmp_path / "first.log", "00:00", workers=2)
    try:
        finished = wait_for_log(tmp_path / "first.log", "daily run finished")
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert finished["request_id"] == "run"
    assert finished["actor"] == "relance"
    assert finished["sent"] == 2
    assert len(mailbox.handler.messages) == 2
    # The main process runs the day; its two web workers do not.
    assert _events(tmp_path / "first.log").count("daily run scheduled") == 1

    # Restarted the same day, it finds the day's run recorded and sends nothing.
    second = _serve(portfolio, mailbox, tmp_path / "second.log", "00:00")
    try:
        wait_for_log(tmp_path / "second.log", "daily run already recorded")
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert len(mailbox.handler.messages) == 2


def test_a_run_hour_that_does_not_read_stops_the_server_at_once(sqlite_url):
    bad = subprocess.run([RELANCE, "serve"], capture_output=True, text=True, timeout=60,
                         env={**relance_env(Portfolio(sqlite_url, None, {}, {}), Mailbox()),
                              "RELANCE_RUN_AT": "25:00"}, check=False)
    assert bad.returncode == 2
    assert "RELANCE_RUN_AT must be a time of day HH:MM (Paris), got '25:00'" in bad.stderr
    assert "Traceback" not in bad.stderr
