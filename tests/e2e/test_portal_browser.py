"""The debtor's page in Chromium, on a phone (390 px) and a desktop (1366 px): a debtor
opens the link of a reminder, downloads an invoice, promises a date, and its owner finds
the promise on Ma journée."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from adapters.infra.outbox import FileOutbox
from adapters.usecases.sending import send_by_email
from domain.values import PORTAL_ACTOR
from tests.builders import ACME, eur, register_kwargs
from tests.e2e.conftest import PASSWORD, browser_log_in

SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"


@pytest.mark.parametrize("width", [390, 1366])
def test_a_debtor_downloads_an_invoice_and_promises_a_date_and_the_owner_sees_it(
        server, browser, width, tmp_path):
    runtime = server.app.state.runtime
    runtime.accounts.add("bruno.petit", "Bruno Petit", "agent", PASSWORD)
    runtime.files.register_invoice("import", **register_kwargs("PB-1", amount=eur("1234.56")))
    runtime.files.register_invoice("import", **register_kwargs("PB-2", amount=eur("400.00")))
    runtime.files.assign_debtors("sophie", ACME.account, agent="bruno.petit")
    runtime.outbox = FileOutbox(tmp_path / "outbox")
    assert send_by_email(runtime, "PB-1", "reminder_1", "bruno.petit").ok
    (sent,) = (tmp_path / "outbox").glob("*.eml")
    text = message_from_bytes(sent.read_bytes(), policy=policy.default).get_body(
        ("plain",)).get_content()
    (path,) = re.findall(r"https?://[^/\s]+(/p/[A-Za-z0-9_-]{43})", text)  # the reminder's link
    SHOTS.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    page.goto(server.url + path)
    text = page.locator("main").inner_text()
    assert "ACME SARL" in text
    assert "1 634,56 €" in text.replace("\u202f", " ").replace("\xa0", " ")  # the total
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways
    page.screenshot(path=str(SHOTS / f"portail-{width}.png"), full_page=True)

    with page.expect_download() as download:
        page.locator("a[href$='/factures/PB-1.pdf']").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert runtime.files.history("PB-1")[-1].kind == "InvoiceDownloaded"  # duplicata consulté

    promised = (runtime.files.now() + timedelta(days=10)).date()
    page.locator("summary", has_text="Je paie le").click()
    page.fill("#promesse-date", promised.isoformat())
    page.fill("#promesse-nom", "Claire Martin")
    page.locator("form[action$='/promesse'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/p/[A-Za-z0-9_-]{43}\?fait=promesse"))
    assert "enregistr" in page.locator("main").inner_text().lower()
    for number in ("PB-1", "PB-2"):
        last = runtime.files.history(number)[-1]
        assert (last.kind, last.actor, last.data["promised_on"]) == (
            "PaymentPromised", PORTAL_ACTOR, promised)
    page.close()

    runtime.refresh_views()
    owner = browser.new_page(viewport={"width": width, "height": 900})
    browser_log_in(owner, server.url, "bruno.petit")
    owner.goto(f"{server.url}/journee")
    answers = owner.locator("#reponses").inner_text()
    assert "Claire Martin" in answers
    assert f"{promised:%d/%m/%Y}" in answers
    owner.screenshot(path=str(SHOTS / f"journee-portail-{width}.png"), full_page=True)
    owner.close()
