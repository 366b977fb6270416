"""What the pages show of the mail, shared by « Courrier », Ma journée, the team board and
the debtor's page: the replies waiting, one per message, and a debtor's mail."""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Runtime

FIRST_LINES = 3
FIRST_CHARS = 300
"""What the lists show of a reply's text: its first lines (the file page has it all)."""
CLEARED = "Adresse corrigée : relance peut de nouveau y écrire."


def replies_by_message(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replies waiting (`MailReads.replies_waiting` rows, one per file), one per message:
    the debtor, who wrote, when, the subject, its first lines, how it was matched, and
    each file it waits on (number, version of its fact, agent), oldest first."""
    messages: dict[str, dict[str, Any]] = {}
    for row in rows:
        message = messages.setdefault(row["mail"] or f"{row['number']}#{row['version']}", {
            "mail": row["mail"], "account": row["account"],
            "debtor_name": row["debtor_name"] or row["account"], "sender": row["sender"],
            "sender_name": row["sender_name"], "subject": row["subject"],
            "excerpt": first_lines(row["text"]), "occurred_at": row["occurred_at"],
            "matched_by": row["matched_by"], "files": []})
        message["files"].append({"number": row["number"], "version": row["version"],
                                 "agent": row["agent"]})
    return list(messages.values())


def first_lines(text: str) -> str:
    """The first lines of a message's text (blank lines left out), cut short."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    kept = "\n".join(lines[:FIRST_LINES])
    if len(kept) > FIRST_CHARS:
        return kept[:FIRST_CHARS].rstrip() + "…"
    return kept + ("\n[…]" if len(lines) > FIRST_LINES else "")


def debtor_mail(runtime: Runtime, account: str, problem: dict[str, str] | None = None,
                done: str = "") -> dict[str, Any]:
    """What the debtor's page shows of its mail: its failing addresses, its replies
    waiting, the message after an address was cleared (`done`), a refusal (`problem`)."""
    return {
        "failing": runtime.reads.failing_addresses(account),
        "replies": replies_by_message(runtime.reads.replies_waiting(accounts=[account])),
        "problem": problem or {}, "done": CLEARED if done == "adresse" else ""}
