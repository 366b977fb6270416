"""The debtors' page in the demo portfolio: one debtor opened the link of its reminder this
morning, downloaded an invoice and asked for instalments, so that its owner finds the
answer on Ma journée and the debtor's page; and a link to try the page oneself.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from adapters.bootstrap import Runtime
from adapters.usecases.attachments import invoice_attachment
from domain.values import Contact, Instalment, paris_day

DEMO_PERSON = Contact(name="Nathalie Roux", function="Comptable", phone="",
                      email="n.roux@debiteur.example")


def seed_portal(runtime: Runtime) -> str:
    """Records the morning on the debtors' page; the address of a link to try it ('' when
    the portfolio has no e-mail sent on an open file)."""
    runtime.refresh_views()
    sent = runtime.reads.latest_sent(limit=6)
    if len(sent) < 6:
        return ""
    files = runtime.files
    asking = sent[5]["account"]
    token, _ = files.issue_portal_link("relance", asking, purpose="reminder",
                                       days=runtime.settings.portal_days)
    link = files.open_portal_link(token)
    files.record_portal_visit(link)
    numbers = runtime.reads.open_numbers(asking)
    if numbers:
        served = invoice_attachment(runtime, numbers[0], "relance")
        files.portal_download(link, numbers[0], document_sha256=served.sha256)
        owed = files.case(numbers[0]).outstanding
        today = paris_day(files.now())
        third = (owed / 3).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        plan = [Instalment(today + timedelta(days=30 * (n + 1)),
                           owed - 2 * third if n == 2 else third) for n in range(3)]
        files.portal_plan_request(link, [numbers[0]], instalments=plan,
                                  requested_by=DEMO_PERSON,
                                  details="Notre trésorerie est tendue ce trimestre.")
    trying, _ = files.issue_portal_link("relance", sent[0]["account"], purpose="demo",
                                        days=runtime.settings.portal_days)
    runtime.refresh_views()
    return f"{runtime.settings.portal_base}/p/{trying}"
