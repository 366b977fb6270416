"""The daily run killed at any moment never sends a debtor's message twice, nor loses it.

`relance campagne` runs as a separate process on each store, sending through a real SMTP
server on loopback that counts what it accepts, by Message-ID. Eight debtors have one to
five invoices each falling due today, so one first reminder is due to each. The run is
killed (SIGKILL) at each of its named points, then at random moments; it is run again;
the messages it cannot know about are « incertain » until a person looks in the mailbox
(here: the server's list) and says so with `relance campagne incertain`. It is also run
twice at once, and the server refuses, then is down, then comes back. At the end,
whatever the moments of the kills: each message was received exactly once, each file
records it once with the Message-ID the server received, and every message received is
recorded on its files.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter

import pytest

from tests.e2e.campaign_setup import (
    Mailbox,
    Portfolio,
    campagne,
    facts,
    messages,
    relance_env,
    seeded,
)
from tests.e2e.cli_runner import RELANCE

FAULT_POINTS = ("after_plan", "after_sending", "after_smtp", "after_facts")
"""Where the run kills itself when RELANCE_RUN_FAULT names the point."""
KILLED = -signal.SIGKILL


@pytest.fixture
def portfolio(store_url: str) -> Portfolio:
    """Eight debtors, each owed a first reminder today."""
    return seeded(store_url, 8)


def killed_after(portfolio: Portfolio, mailbox: Mailbox, delay: float) -> int:
    """`relance campagne`, killed by SIGKILL after `delay` seconds (unless it ended
    before); its exit code."""
    process = subprocess.Popen([RELANCE, "campagne"], env=relance_env(portfolio, mailbox),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    return process.wait(timeout=30)


def check_the_mailbox(portfolio: Portfolio, mailbox: Mailbox) -> int:
    """What a person does for each « incertain » message: looks for its Message-ID in the
    mailbox and says whether it went out. How many there were."""
    received = mailbox.received()
    uncertain = [m for m in messages(portfolio) if m["state"] == "uncertain"]
    for message in uncertain:
        went_out = "--parti" if received[message["message_id"]] else "--pas-parti"
        answer = campagne(portfolio, mailbox, "incertain", message["key"], went_out)
        assert answer.returncode == 0, answer.stderr
        assert "Noté" in answer.stdout
    return len(uncertain)


# -- what must hold, whatever the moment of the kills -----------------------------------------

def assert_nothing_received_twice(portfolio: Portfolio, mailbox: Mailbox,
                                  planned: bool = True) -> None:
    """No message arrived twice, nor anything but the run's messages: a message sent
    arrived once; one whose sending was begun (« en cours », « incertain ») at most once;
    one planned or failed, not at all. `planned`: every debtor has its message."""
    received = mailbox.received()
    rows = messages(portfolio)
    accounts = sorted(m["account"] for m in rows)
    assert accounts == sorted(portfolio.debtors) if planned else set(accounts) <= set(
        portfolio.debtors)
    allowed = {"sent": {1}, "sending": {0, 1}, "uncertain": {0, 1}, "planned": {0},
               "failed": {0}}
    for message in rows:
        assert received[message["message_id"]] in allowed[message["state"]], message
    assert set(received) <= {m["message_id"] for m in rows}


def assert_each_message_received_once_and_recorded(portfolio: Portfolio,
                                                   mailbox: Mailbox) -> None:
    """Every due message arrived exactly once, at its debtor's address, listing its
    invoices; each file records it once, with the Message-ID the server received."""
    received = mailbox.received()
    rows = {m["account"]: m for m in messages(portfolio)}
    assert sorted(rows) == sorted(portfolio.debtors)
    assert all(m["state"] == "sent" for m in rows.values()), rows
    assert set(received) == {m["message_id"] for m in rows.values()}
    assert set(received.values()) == {1}
    by_id = {str(m["Message-ID"]): m for m in mailbox.handler.messages}
    recorded = facts(portfolio, "ReminderSent")
    for account, numbers in portfolio.debtors.items():
        message_id = rows[account]["message_id"]
        email = by_id[message_id]
        assert email["To"] == portfolio.emails[account]
        text = email.get_body(("plain",)).get_content()
        assert all(number in text for number in numbers)
        for number in numbers:
            assert [f["message_id"] for f in recorded[number]] == [message_id], number


# -- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_run_killed_at_each_of_its_points_sends_each_message_once(portfolio, mailbox, point):
    dying = campagne(portfolio, mailbox, fault=point)
    assert dying.returncode == KILLED

    again = campagne(portfolio, mailbox)
    assert again.returncode in (0, 1), again.stderr
    assert_nothing_received_twice(portfolio, mailbox)
    received = mailbox.received()
    states = Counter(m["state"] for m in messages(portfolio))
    assert set(states) <= {"sent", "uncertain"}
    uncertain = [m for m in messages(portfolio) if m["state"] == "uncertain"]
    if point == "after_sending":  # killed before the server had it: it did not go out
        assert [received[m["message_id"]] for m in uncertain] == [0]
    elif point == "after_smtp":  # killed once the server had it, before the record
        assert [received[m["message_id"]] for m in uncertain] == [1]
    else:  # before the message was begun, or once its facts were recorded: no doubt
        assert uncertain == []
    assert again.returncode == (1 if uncertain else 0)
    if uncertain:
        assert "incertain" in again.stdout
        assert uncertain[0]["key"] in again.stdout

    assert check_the_mailbox(portfolio, mailbox) == len(uncertain)
    last = campagne(portfolio, mailbox)
    assert last.returncode == 0, last.stdout + last.stderr
    assert_each_message_received_once_and_recorded(portfolio, mailbox)


def test_twenty_runs_killed_at_random_moments_send_each_message_once(store_url, mailbox):
    # Enough debtors for each killed run to find messages still to send.
    portfolio = seeded(store_url, 24)
    mailbox.handler.delay = 0.1
    started = time.monotonic()
    quiet = campagne(portfolio, mailbox, "rapport")  # how long relance takes to start here
    assert quiet.returncode == 0, quiet.stderr
    start_up = time.monotonic() - started
    rng = random.Random(20261201)
    codes = [killed_after(portfolio, mailbox, start_up + rng.uniform(-0.3, 0.5))
             for _ in range(20)]
    assert KILLED in codes
    assert_nothing_received_twice(portfolio, mailbox, planned=False)

    for _ in range(3):  # until a run gets to its end
        ended = campagne(portfolio, mailbox)
        if ended.returncode != KILLED:
            break
    assert ended.returncode in (0, 1), ended.stderr
    assert_nothing_received_twice(portfolio, mailbox)
    assert {m["state"] for m in messages(portfolio)} <= {"sent", "uncertain"}
    check_the_mailbox(portfolio, mailbox)
    last = campagne(portfolio, mailbox)
    assert last.returncode == 0, last.stdout + last.stderr
    assert_each_message_received_once_and_recorded(portfolio, mailbox)


def test_a_server_refusing_then_down_then_back_sends_each_message_once(portfolio, mailbox):
    mailbox.handler.refuse = True
    refused = campagne(portfolio, mailbox)
    assert refused.returncode == 1
    assert "échec" in refused.stdout
    assert "451" in refused.stdout
    mailbox.stop()
    down = campagne(portfolio, mailbox)
    assert down.returncode == 1
    assert mailbox.received() == Counter()

    mailbox.handler.refuse = False
    mailbox.start()
    back = campagne(portfolio, mailbox)
    assert back.returncode == 0, back.stdout + back.stderr
    assert_each_message_received_once_and_recorded(portfolio, mailbox)

    for number, failures in facts(portfolio, "SendingFailed").items():
        assert len(failures) == 2, number
        assert "451" in failures[0]["error"]
        assert "Connection" in failures[1]["error"]
        assert failures[0]["recipient"] == failures[1]["recipient"]
    assert campagne(portfolio, mailbox, "rapport").returncode == 0


def test_two_runs_at_once_send_each_message_once_and_leave_no_doubt(portfolio, mailbox):
    mailbox.handler.delay = 0.5  # the first run is still sending when the second starts
    env = relance_env(portfolio, mailbox)
    first = subprocess.Popen([RELANCE, "campagne"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    second = campagne(portfolio, mailbox)
    assert first.wait(timeout=120) in (0, 1)
    assert second.returncode in (0, 1), second.stderr
    # A message the second run found « en cours » and could not know about, the first
    # run, which saw the server take it, says was sent.
    assert {m["state"] for m in messages(portfolio)} == {"sent"}
    assert_each_message_received_once_and_recorded(portfolio, mailbox)
