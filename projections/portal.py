"""The debtors' pages (« espace débiteur ») as the owner reads them: the links and what
the debtor did with them.

Listens to the links' records (`domain.portal.PortalLink`) and to the files' facts:
- `portal_links`: one row per link: its debtor, why it was issued, when and by whom,
  until which day it works, and its withdrawal (when, by whom, why);
- `portal_activity`: what the debtor did on its page, one row each: every view of the
  page (a link's `Visited`, whose debtor is its link's), every invoice downloaded
  (`InvoiceDownloaded`) and every answer recorded on a file (a promise, instalments asked
  for, a dispute, a duplicate asked for, a payment announced), with when and through
  which link.

How many times a link was opened, and when last, is counted from its views.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from domain.facts import Fact
from domain.invoice import Invoice
from domain.portal import PURPOSES
from projections.mail import is_portal_answer
from projections.schema import Change, Delete, Table, Type, Update, Upsert
from projections.storage import ViewStore

PORTAL_LINKS = Table(
    "portal_links",
    {"link": Type.TEXT, "account": Type.TEXT, "purpose": Type.TEXT,
     "issued_at": Type.INSTANT, "issued_by": Type.TEXT, "expires_on": Type.DATE,
     "revoked_at": Type.INSTANT, "revoked_by": Type.TEXT, "reason": Type.TEXT},
    key=("link",),
    indexes=(("account", "issued_at"),),
)

PORTAL_ACTIVITY = Table(
    "portal_activity",
    {"id": Type.TEXT, "account": Type.TEXT, "at": Type.INSTANT, "kind": Type.TEXT,
     "what": Type.TEXT, "link": Type.TEXT, "number": Type.TEXT},
    key=("id",),
    indexes=(("account", "at"), ("link", "kind")),
)

VISIT = "visit"
DOWNLOAD = "download"
ANSWER = "answer"
"""The kinds of activity rows: a view of the page, an invoice downloaded, an answer."""
PAGES = {"page": "page consultée"}
"""What a view of the page is called, by what the link's `Visited` says was seen."""
ANSWERS = {
    "PaymentPromised": "promesse de paiement",
    "PlanRequested": "échéancier demandé",
    "DisputeRaised": "contestation",
    "DuplicateRequested": "duplicata demandé",
    "PaymentClaimed": "paiement annoncé (à vérifier)",
}
"""What each answer of the debtor is called in the activity."""
SHOWN = 50
"""The activity rows a debtor's page shows (the newest)."""


def answer_words(fact: Fact, number: str) -> str:
    """An answer of the debtor, as the activity says it (French)."""
    data = fact.data()
    words = ANSWERS.get(fact.kind, fact.kind)
    if fact.kind == "PaymentPromised" and isinstance(data.get("promised_on"), date):
        words += f" pour le {data['promised_on']:%d/%m/%Y}"
    return f"{words} sur la facture {number}"


class Portal:
    """The debtors' pages read model (see the module's text)."""

    name = "portal"
    version = 1
    tables = (PORTAL_LINKS, PORTAL_ACTIVITY)
    state_based = False

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """A file's fact: an invoice downloaded, an answer of the debtor, a retraction."""
        number = invoice.case.number
        account = invoice.case.debtor.account
        key = f"{number}:{fact.originator_version}"
        if fact.kind == "InvoiceDownloaded":
            return [Upsert(PORTAL_ACTIVITY, {
                "id": key, "account": account, "at": fact.occurred_at, "kind": DOWNLOAD,
                "what": f"facture {number} téléchargée", "link": fact.data()["link"],
                "number": number})]
        if is_portal_answer(fact.kind, fact.actor):
            return [Upsert(PORTAL_ACTIVITY, {
                "id": key, "account": account, "at": fact.occurred_at, "kind": ANSWER,
                "what": answer_words(fact, number), "link": "", "number": number})]
        if fact.kind == "FactRetracted":
            return [Delete(PORTAL_ACTIVITY, {
                "id": f"{number}:{fact.data()['target_version']}"})]
        return []

    def portal_changes(self, event: Any) -> list[Change]:
        """A link's record: issued, opened, withdrawn."""
        kind = type(event).__name__
        link = event.originator_id.hex
        if kind == "Issued":
            return [Upsert(PORTAL_LINKS, {
                "link": link, "account": event.account, "purpose": event.purpose,
                "issued_at": event.timestamp, "issued_by": event.actor,
                "expires_on": event.expires_on, "revoked_at": None, "revoked_by": "",
                "reason": ""})]
        if kind == "Visited":
            return [Upsert(PORTAL_ACTIVITY, {
                "id": f"{link}:{event.originator_version}", "account": "",
                "at": event.timestamp, "kind": VISIT,
                "what": PAGES.get(event.what, f"page consultée ({event.what})"),
                "link": link, "number": ""})]
        if kind == "Revoked":
            return [Update(PORTAL_LINKS, {"link": link}, {
                "revoked_at": event.timestamp, "revoked_by": event.actor,
                "reason": event.reason})]
        return []


class _Viewing(Protocol):
    views: ViewStore


LINK_TYPES = {**PORTAL_LINKS.columns, "visits": Type.INT, "last_visit_at": Type.INSTANT}


class PortalReads:
    """Reads of the debtors' pages (mixed into `projections.queries.Reads`)."""

    def portal_links(self: _Viewing, account: str, day: date | None = None
                     ) -> list[dict[str, Any]]:
        """A debtor's links, newest first: why (in French: `purpose_label`), issued when
        and by whom, until when, withdrawn (when, by whom, why), how many times opened and
        when last, and their state on `day` (« actif », « expiré », « révoqué »)."""
        rows = self.views.rows(
            "SELECT l.*, (SELECT COUNT(*) FROM {portal_activity} a WHERE a.link = l.link "
            "AND a.kind = :visit) AS visits, (SELECT MAX(a.at) FROM {portal_activity} a "
            "WHERE a.link = l.link AND a.kind = :visit) AS last_visit_at "
            "FROM {portal_links} l WHERE l.account = :account "
            "ORDER BY l.issued_at DESC, l.link LIMIT 200",
            {"account": account, "visit": VISIT}, LINK_TYPES)
        for row in rows:
            row["purpose_label"] = PURPOSES.get(row["purpose"], row["purpose"])
            row["state"] = link_state(row, day)
        return rows

    def portal_activity(self: _Viewing, account: str, limit: int = SHOWN
                        ) -> list[dict[str, Any]]:
        """What the debtor did on its page, newest first (`limit` rows at most): views of
        the page, invoices downloaded, answers."""
        return self.views.rows(
            "SELECT a.* FROM {portal_activity} a WHERE a.account = :account OR "
            "(a.account = '' AND a.link IN (SELECT l.link FROM {portal_links} l "
            "WHERE l.account = :account)) ORDER BY a.at DESC, a.id DESC LIMIT :limit",
            {"account": account, "limit": max(1, min(int(limit), 500))},
            PORTAL_ACTIVITY.columns)


ON_ONE = " sur la facture "


def one_line_per_answer(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The debtor's activity with one line per answer: an answer given for several
    invoices at once (the same kind, the same instant) names them all on one line."""
    lines: list[dict[str, Any]] = []
    for row in rows:
        last = lines[-1] if lines else None
        if last is not None and row["number"] and ON_ONE in row["what"] and \
                (last["kind"], last["at"]) == (row["kind"], row["at"]) and last["numbers"]:
            last["numbers"].append(row["number"])
            last["what"] = (f"{row['what'].rsplit(ON_ONE, 1)[0]} sur les factures "
                            f"{', '.join(sorted(last['numbers']))}")
            continue
        lines.append({**row, "numbers": [row["number"]] if row["number"] and
                      ON_ONE in row["what"] else []})
    return lines


def link_state(row: dict[str, Any], day: date | None) -> str:
    """A link's state as its debtor's page says it: « révoqué », « expiré » or « actif »."""
    if row.get("revoked_at") is not None:
        return "révoqué"
    if day is not None and row["expires_on"] is not None and day > row["expires_on"]:
        return "expiré"
    return "actif"

