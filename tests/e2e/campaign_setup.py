"""What the tests of the daily run share: a counting SMTP server relance sends to, a store
seeded with debtors owed a first reminder today, and `relance campagne` run as a person or
cron runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from aiosmtpd.controller import Controller

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from adapters.usecases.campaign import FAULT
from domain.scenarios import SHIPPED
from domain.values import Channel, Contact, Debtor
from tests.builders import eur, free_port, register_kwargs
from tests.e2e.cli_runner import RELANCE
from tests.integration.test_campaign import CountingServer


class SlowServer(CountingServer):
    """The counting server, taking `delay` seconds over each message before accepting
    it: a kill then often falls while the message is being handed over."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Mailbox:
    """The SMTP server relance sends to, as the person who checks the mailbox sees it."""

    handler: SlowServer = field(default_factory=SlowServer)
    port: int = field(default_factory=free_port)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> Mailbox:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(self.handler.ids())


@dataclass
class Portfolio:
    """The store under test, seeded: each debtor's invoices and e-mail address."""

    url: str
    day: date
    debtors: dict[str, list[str]]
    emails: dict[str, str]


def seeded(url: str, debtors: int, channel: Channel = Channel.EMAIL) -> Portfolio:
    """`debtors` debtors (each with a billing address) with one to five invoices each, all
    falling due today (Paris), under a scenario whose first reminder goes by `channel` and
    may go out any day (the tests run on any day, weekends and holidays too)."""
    runtime = bootstrap(Settings(database_url=url))
    try:
        day = runtime.today()
        reference = next(s for s in SHIPPED if s.name == "reference")
        steps = tuple(replace(s, any_day=True, channel=channel) if s.offset == 0 else s
                      for s in reference.steps)
        runtime.files.set_scenario("marie.curie", replace(reference, steps=steps),
                                   reason="La première relance part aussi le week-end")
        numbers: dict[str, list[str]] = {}
        emails: dict[str, str] = {}
        for i in range(debtors):
            debtor = Debtor(f"411C{i:02d}", f"Client {i} SARL")
            contact = Contact(name=f"Compta {i}", function="Comptable",
                              email=f"compta@client{i}.example")
            emails[debtor.account] = contact.email
            numbers[debtor.account] = []
            runtime.files.change_debtor_identity("marie.curie", debtor.account, changes={
                "billing_address": f"{i + 1} rue du Commerce\n69003 LYON"})
            for n in range(1 + i % 5):
                number = f"FC-{i:02d}-{n}"
                runtime.files.register_invoice("marie.curie", **register_kwargs(
                    number, debtor=debtor, billing_recipient=contact,
                    amount=eur(f"{1000 + 10 * i + n}.00"), issued_on=day - timedelta(days=30),
                    due_on=day))
                numbers[debtor.account].append(number)
    finally:
        runtime.close()
    return Portfolio(url, day, numbers, emails)


def relance_env(portfolio: Portfolio, mailbox: Mailbox, fault: str = "",
                **more: str) -> dict[str, str]:
    """The environment of a `relance` process on the portfolio's store, sending to the
    mailbox (and killing itself at `fault`, when given)."""
    env = {**os.environ, "RELANCE_DATABASE_URL": portfolio.url, "RELANCE_SMTP_URL": mailbox.url,
           "RELANCE_ACTOR": "marie.curie", "RELANCE_LOG_LEVEL": "ERROR", "COLUMNS": "200",
           **more}
    env.pop(FAULT, None)
    if fault:
        env[FAULT] = fault
    return env


def campagne(portfolio: Portfolio, mailbox: Mailbox, *args: str,
             fault: str = "") -> subprocess.CompletedProcess[str]:
    """`relance campagne ARGS`, to its end (or its death)."""
    return subprocess.run([RELANCE, "campagne", *args], capture_output=True, text=True,
                          env=relance_env(portfolio, mailbox, fault), timeout=120, check=False)


def messages(portfolio: Portfolio) -> list[dict[str, Any]]:
    """The day's messages as relance recorded them."""
    runtime = bootstrap(Settings(database_url=portfolio.url))
    try:
        runtime.refresh_views()
        return runtime.reads.dispatches(day=portfolio.day)
    finally:
        runtime.close()


def facts(portfolio: Portfolio, kind: str) -> dict[str, list[dict[str, Any]]]:
    """Every fact of a kind (its data, and who recorded it), file by file."""
    runtime = bootstrap(Settings(database_url=portfolio.url))
    try:
        return {number: [{**entry.data, "actor": entry.actor}
                         for entry in runtime.files.history(number)
                         if entry.kind == kind]
                for numbers in portfolio.debtors.values() for number in numbers}
    finally:
        runtime.close()
