"""What relance sent by e-mail, and what came back, as the mailbox reader and the pages
read it.

Listens to the files' facts, to the incoming messages' records (`domain.mail`) and to the
debtors' records:
- `sent_mail`: one row per e-mail of ours and file it covered (a reminder, a document),
  by Message-ID and by its reply token: an answer finds its files here;
- `replies_waiting`: the debtor's replies no person has handled yet, one per file
  (`ReplyReceived` adds, `ReplyHandled` or a retraction removes): « réponses à traiter »;
  what the debtor answered on its own page (`domain.portal`) waits there too, each answer
  named by one key on every file it covers, so the lists show it once;
- `incoming_mail`: every message read, its kind and state (« non rattaché », rattaché,
  écarté): the queue of unmatched mail;
- `failing_addresses`: the addresses our messages came back from (« adresse à corriger »),
  until a person clears them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from domain.case import waits_for_a_person
from domain.facts import Fact
from domain.invoice import Invoice
from domain.mail import ATTACHED, DISCARDED, RECORDED, UNATTACHED, reply_token
from domain.portal import portal_summary
from domain.values import PORTAL_ACTOR
from projections.case_view import OPEN
from projections.french import FRENCH
from projections.schema import Change, Delete, Table, Type, Update, Upsert
from projections.storage import ViewStore

SENT_MAIL = Table(
    "sent_mail",
    {"message_id": Type.TEXT, "number": Type.TEXT, "token": Type.TEXT, "account": Type.TEXT,
     "recipient": Type.TEXT, "sent_at": Type.INSTANT},
    key=("message_id", "number"),
    indexes=(("token",), ("account",)),
)

REPLIES_WAITING = Table(
    "replies_waiting",
    {"number": Type.TEXT, "version": Type.INT, "account": Type.TEXT, "mail": Type.TEXT,
     "sender": Type.TEXT, "sender_name": Type.TEXT, "subject": Type.TEXT, "text": Type.TEXT,
     "matched_by": Type.TEXT, "occurred_at": Type.INSTANT},
    key=("number", "version"),
    indexes=(("account",), ("mail",)),
)

INCOMING_MAIL = Table(
    "incoming_mail",
    {"id": Type.TEXT, "key": Type.TEXT, "kind": Type.TEXT, "state": Type.TEXT,
     "sender": Type.TEXT, "sender_name": Type.TEXT, "subject": Type.TEXT, "text": Type.TEXT,
     "sent_at": Type.INSTANT, "received_at": Type.INSTANT, "account": Type.TEXT,
     "numbers": Type.JSON, "matched_by": Type.TEXT, "sha256": Type.TEXT, "size": Type.INT,
     "attachments": Type.JSON, "failed_recipient": Type.TEXT, "diagnostic": Type.TEXT,
     "problems": Type.JSON, "reason": Type.TEXT, "decided_by": Type.TEXT,
     "decided_at": Type.INSTANT},
    key=("id",),
    indexes=(("state", "received_at"), ("account",), ("key",)),
)

FAILING_ADDRESSES = Table(
    "failing_addresses",
    {"account": Type.TEXT, "email": Type.TEXT, "diagnostic": Type.TEXT,
     "since": Type.INSTANT, "recorded_by": Type.TEXT},
    key=("account", "email"),
    indexes=(("email",),),
)

SENDING_FACTS = ("PreDueReminderSent", "ReminderSent", "DocumentSent")
"""Facts that record an e-mail of ours with its Message-ID."""
TEXT_KEPT = 4000
"""Characters of a message's text the lists keep (the whole text is on the file)."""
PORTAL_MATCH = "portal"
"""How a portal answer reached the file (`matched_by`): « espace débiteur »."""
PEOPLE = ("promised_by", "requested_by", "claimed_by")
"""The fields naming who gave a portal answer."""


def is_portal_answer(kind: str, actor: str) -> bool:
    """True for a fact the debtor recorded on its page that waits for a person (as
    `domain.case.Case` counts it among `replies_waiting`)."""
    return kind != "ReplyReceived" and waits_for_a_person(kind, actor)


def portal_answer_key(kind: str, occurred_at: datetime, actor: str) -> str:
    """The key one portal answer has on every file it covers (one command: one instant,
    one kind of fact)."""
    return f"portail:{kind}:{occurred_at.isoformat()}:{actor}"


def portal_author(data: dict[str, Any]) -> tuple[str, str]:
    """Who gave a portal answer, as named in it: (name, e-mail); the name is « débiteur
    (portail) » when the answer names nobody."""
    person = next((data[name] for name in PEOPLE if data.get(name) is not None), None)
    name = getattr(person, "name", "") or PORTAL_ACTOR
    return name, getattr(person, "email", "") or ""


class Mail:
    """The mail read model (see the module's text).

    Its version stays 1 with the portal's answers: no stored fact is one yet, so the rows
    kept already are the rows a rebuild would give."""

    name = "mail"
    version = 1
    tables = (SENT_MAIL, REPLIES_WAITING, INCOMING_MAIL, FAILING_ADDRESSES)
    state_based = False

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """What a file's fact changes: an e-mail sent, a reply waiting or handled."""
        data = fact.data()
        number = invoice.case.number
        account = invoice.case.debtor.account
        if fact.kind in SENDING_FACTS and data.get("message_id") \
                and data.get("channel") == "email":
            return [Upsert(SENT_MAIL, {
                "message_id": data["message_id"], "number": number,
                "token": reply_token(data["message_id"]), "account": account,
                "recipient": data.get("recipient", ""), "sent_at": fact.occurred_at})]
        if fact.kind == "ReplyReceived":
            writer = data["writer"]
            return [Upsert(REPLIES_WAITING, {
                "number": number, "version": fact.originator_version, "account": account,
                "mail": data["mail"], "sender": writer.email, "sender_name": writer.name,
                "subject": data["subject"], "text": data["text"][:TEXT_KEPT],
                "matched_by": data["matched_by"], "occurred_at": fact.occurred_at})]
        if is_portal_answer(fact.kind, fact.actor):
            name, email = portal_author(data)
            subject, text = portal_summary(FRENCH, fact.kind, data)
            return [Upsert(REPLIES_WAITING, {
                "number": number, "version": fact.originator_version, "account": account,
                "mail": portal_answer_key(fact.kind, fact.occurred_at, fact.actor),
                "sender": email, "sender_name": name,
                "subject": subject, "text": text[:TEXT_KEPT], "matched_by": PORTAL_MATCH,
                "occurred_at": fact.occurred_at})]
        if fact.kind == "ReplyHandled":
            return [Delete(REPLIES_WAITING, {"number": number,
                                             "version": data["reply_version"]})]
        if fact.kind == "FactRetracted":
            return [Delete(REPLIES_WAITING, {"number": number,
                                             "version": data["target_version"]})]
        return []

    def mail_changes(self, event: Any) -> list[Change]:
        """What an incoming message's record changes: the message's row."""
        kind = type(event).__name__
        where = {"id": event.originator_id.hex}
        if kind == "Received":
            return [Upsert(INCOMING_MAIL, {
                "id": event.originator_id.hex, "key": event.key, "kind": event.kind,
                "state": RECORDED if event.account else UNATTACHED, "sender": event.sender,
                "sender_name": event.sender_name, "subject": event.subject,
                "text": event.text[:TEXT_KEPT], "sent_at": event.sent_at,
                "received_at": event.timestamp, "account": event.account,
                "numbers": list(event.numbers), "matched_by": event.matched_by,
                "sha256": event.sha256, "size": event.size,
                "attachments": list(event.attachments),
                "failed_recipient": event.failed_recipient, "diagnostic": event.diagnostic,
                "problems": list(event.problems), "reason": "", "decided_by": "",
                "decided_at": None})]
        if kind == "Attached":
            return [Update(INCOMING_MAIL, where, {
                "state": ATTACHED, "account": event.account, "numbers": list(event.numbers),
                "matched_by": "person", "decided_by": event.actor,
                "decided_at": event.timestamp})]
        if kind == "Discarded":
            return [Update(INCOMING_MAIL, where, {
                "state": DISCARDED, "reason": event.reason, "decided_by": event.actor,
                "decided_at": event.timestamp})]
        return []

    def debtor_changes(self, event: Any) -> list[Change]:
        """An address failing, or cleared."""
        kind = type(event).__name__
        if kind == "AddressFailed":
            return [Upsert(FAILING_ADDRESSES, {
                "account": event.account, "email": event.email,
                "diagnostic": event.diagnostic, "since": event.timestamp,
                "recorded_by": event.actor})]
        if kind == "AddressCleared":
            return [Delete(FAILING_ADDRESSES, {"account": event.account,
                                               "email": event.email})]
        return []


class _Viewing(Protocol):
    views: ViewStore


def _listed(values: Iterable[str], params: dict[str, Any], prefix: str) -> str:
    names = []
    for i, value in enumerate(dict.fromkeys(values)):
        params[f"{prefix}{i}"] = value
        names.append(f":{prefix}{i}")
    return ", ".join(names)


class MailReads:
    """Reads of the mail read model (mixed into `projections.queries.Reads`)."""

    def sent_files(self: _Viewing, message_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The debtor and files of each of these Message-IDs of ours that is known:
        {account: numbers}, in the order of the ids given (the latest first is the
        caller's business)."""
        params: dict[str, Any] = {}
        listed = _listed([m for m in message_ids if m][:50], params, "m")
        if not listed:
            return {}
        found: dict[str, list[str]] = {}
        for row in self.views.rows(
                f"SELECT account, number FROM {{sent_mail}} WHERE message_id IN ({listed}) "
                "ORDER BY number", params, {}):
            found.setdefault(row["account"], []).append(row["number"])
        return {account: tuple(dict.fromkeys(numbers)) for account, numbers in found.items()}

    def latest_sent(self: _Viewing, limit: int = 10) -> list[dict[str, Any]]:
        """Our latest e-mails, one row each: Message-ID, debtor, recipient (on an open
        file), newest first."""
        return self.views.rows(
            "SELECT s.message_id, MIN(s.account) AS account, MIN(s.recipient) AS recipient, "
            "MAX(s.sent_at) AS sent_at FROM {sent_mail} s JOIN {case_view} c "
            f"ON c.number = s.number WHERE c.{OPEN} AND s.recipient <> '' "
            "GROUP BY s.message_id ORDER BY MAX(s.sent_at) DESC, s.message_id LIMIT :limit",
            {"limit": limit}, {"sent_at": Type.INSTANT})

    def message_of_token(self: _Viewing, token: str) -> str:
        """The Message-ID of ours a reply token names ('' when none does)."""
        rows = self.views.rows("SELECT message_id FROM {sent_mail} WHERE token = :token "
                               "LIMIT 1", {"token": token.lower()}, {})
        return rows[0]["message_id"] if rows else ""

    def accounts_of_address(self: _Viewing, email: str) -> list[str]:
        """The debtors that know this e-mail address among their people (most often one)."""
        return [row["account"] for row in self.views.rows(
            "SELECT DISTINCT account FROM {debtor_contact_means} WHERE kind = 'email' "
            "AND LOWER(value) = :email ORDER BY account", {"email": email.lower()}, {})]

    def accounts_of_domain(self: _Viewing, domain: str) -> list[str]:
        """The debtors that know an e-mail address at this domain among their people."""
        pattern = "%@" + domain.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_")
        return [row["account"] for row in self.views.rows(
            "SELECT DISTINCT account FROM {debtor_contact_means} WHERE kind = 'email' "
            "AND LOWER(value) LIKE :pattern ESCAPE '\\' ORDER BY account LIMIT 3",
            {"pattern": pattern}, {})]

    def open_numbers(self: _Viewing, account: str) -> list[str]:
        """A debtor's open files, oldest due first."""
        return [row["number"] for row in self.views.rows(
            f"SELECT number FROM {{case_view}} WHERE debtor_account = :account AND {OPEN} "
            "ORDER BY due_on, number", {"account": account}, {})]

    def replies_waiting(self: _Viewing, agent: str | None = None,
                        accounts: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The replies nobody handled yet, oldest first, each with its file's agent: an
        agent's (those of the files they hold), those of some debtors, or all."""
        where, params = "1 = 1", {}
        if agent is not None:
            where, params = "c.agent = :agent", {"agent": agent}
        if accounts is not None:
            listed = _listed(accounts, params, "a")
            if not listed:
                return []
            where += f" AND r.account IN ({listed})"
        return self.views.rows(
            "SELECT r.*, c.agent AS agent, c.debtor_name AS debtor_name FROM {replies_waiting} r "
            f"JOIN {{case_view}} c ON c.number = r.number WHERE {where} "
            "ORDER BY r.occurred_at, r.number LIMIT 500", params,
            {**REPLIES_WAITING.columns, "agent": Type.TEXT, "debtor_name": Type.TEXT})

    def accounts_with_replies(self: _Viewing) -> set[str]:
        """The debtors a reply of theirs waits for a person on (the daily run waits too)."""
        return {row["account"] for row in self.views.rows(
            "SELECT DISTINCT account FROM {replies_waiting}", {}, {})}

    def held_back(self: _Viewing, account: str, email: str) -> tuple[bool, str]:
        """What holds one message of the daily run back, in one query: whether a reply of
        the debtor waits for a person, and why our messages to `email` came back ('' when
        they did not, or for no address)."""
        row = self.views.rows(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM {replies_waiting} WHERE account = :account)"
            " THEN 1 ELSE 0 END AS replied, (SELECT diagnostic FROM {failing_addresses} "
            "WHERE email = :email ORDER BY since, account LIMIT 1) AS diagnostic",
            {"account": account, "email": email.lower()}, {"replied": Type.INT})[0]
        return bool(row["replied"]), (row["diagnostic"] or "") if email else ""

    def incoming(self: _Viewing, state: str | None = None, limit: int = 200
                 ) -> list[dict[str, Any]]:
        """The messages read, newest first (of one state, when given)."""
        where = "state = :state" if state else "1 = 1"
        return self.views.rows(
            f"SELECT * FROM {{incoming_mail}} WHERE {where} "
            "ORDER BY received_at DESC, id LIMIT :limit", {"state": state, "limit": limit},
            INCOMING_MAIL.columns)

    def incoming_one(self: _Viewing, key: str) -> dict[str, Any] | None:
        """One message read, by its key."""
        rows = self.views.rows("SELECT * FROM {incoming_mail} WHERE key = :key",
                               {"key": key}, INCOMING_MAIL.columns)
        return rows[0] if rows else None

    def count_unattached(self: _Viewing) -> int:
        """How many messages wait in « courrier non rattaché »."""
        return self.views.rows("SELECT COUNT(*) AS n FROM {incoming_mail} WHERE state = :s",
                               {"s": UNATTACHED}, {"n": Type.INT})[0]["n"]

    def failing_addresses(self: _Viewing, account: str | None = None
                          ) -> list[dict[str, Any]]:
        """The addresses our messages came back from, with the debtor's name, oldest
        first (of one debtor, when given)."""
        where = "f.account = :account" if account else "1 = 1"
        return self.views.rows(
            "SELECT f.*, d.name AS debtor_name FROM {failing_addresses} f "
            f"LEFT JOIN {{debtors}} d ON d.account = f.account WHERE {where} "
            "ORDER BY f.since, f.account", {"account": account},
            {**FAILING_ADDRESSES.columns, "debtor_name": Type.TEXT})
