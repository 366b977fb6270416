"""The daily run's messages and runs, as the pages and the CLI read them.

Listens to the records of the run (`domain.dispatch`): one row per message, its state as
its last event left it (planned, « à valider », sent, skipped, failed, incertain...), with
the invoices it covers and why some were dropped; one row per run with its counts. The
files' facts are not read here (`takes_facts` is false: a rebuild reads only the run's
own records).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

from domain.dispatch import Dispatch, Run
from domain.facts import Fact
from domain.invoice import Invoice
from projections.schema import Change, Table, Type, Update, Upsert
from projections.storage import ViewStore

DISPATCHES = Table(
    "dispatches",
    {
        "id": Type.TEXT,
        "key": Type.TEXT,
        "day": Type.DATE,
        "account": Type.TEXT,
        "debtor_name": Type.TEXT,
        "template": Type.TEXT,
        "channel": Type.TEXT,
        "mode": Type.TEXT,
        "state": Type.TEXT,
        "numbers": Type.JSON,
        "steps": Type.JSON,
        "dropped": Type.JSON,
        "recipient": Type.TEXT,
        "message_id": Type.TEXT,
        "owner": Type.TEXT,
        "reason": Type.TEXT,
        "error": Type.TEXT,
        "decided_by": Type.TEXT,
        "sha256": Type.TEXT,
        "attachments": Type.JSON,
        "edited": Type.BOOL,
        "registered_number": Type.TEXT,
        "updated_at": Type.INSTANT,
    },
    key=("id",),
    indexes=(("key",), ("day", "account"), ("state", "day"), ("owner", "state")),
)

RUNS = Table(
    "runs",
    {
        "id": Type.TEXT,
        "day": Type.DATE,
        "started_at": Type.INSTANT,
        "finished_at": Type.INSTANT,
        "actor": Type.TEXT,
        "counts": Type.JSON,
        "note": Type.TEXT,
    },
    key=("id",),
    indexes=(("day",),),
)


class Dispatches:
    """The run's read model."""

    name = "dispatches"
    version = 1
    tables = (DISPATCHES, RUNS)
    state_based = False
    takes_facts = False

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:  # noqa: ARG002
        """The files' facts change nothing here."""
        return []

    def run_changes(self, event: Any) -> list[Change]:
        """The row changes of one event of a message or of a run."""
        if isinstance(event, Run.RunRecorded):  # type: ignore[attr-defined]
            return [
                Upsert(
                    RUNS,
                    {
                        "id": event.originator_id.hex,
                        "day": event.day,
                        "started_at": event.started_at,
                        "finished_at": event.finished_at,
                        "actor": event.actor,
                        "counts": dict(event.counts),
                        "note": event.note,
                    },
                )
            ]
        kind = type(event).__name__
        where = {"id": event.originator_id.hex}
        at = event.timestamp
        if kind == "Planned":
            return [
                Upsert(
                    DISPATCHES,
                    {
                        "id": event.originator_id.hex,
                        "key": event.key,
                        "day": event.day,
                        "account": event.account,
                        "debtor_name": event.debtor_name,
                        "template": event.template,
                        "channel": event.channel,
                        "mode": event.mode,
                        "state": "to_validate" if event.mode == "validate" else "planned",
                        "numbers": list(event.numbers),
                        "steps": dict(event.steps),
                        "dropped": {},
                        "recipient": event.recipient,
                        "message_id": event.message_id,
                        "owner": event.owner,
                        "reason": "",
                        "error": "",
                        "decided_by": "",
                        "sha256": "",
                        "attachments": [],
                        "edited": False,
                        "registered_number": "",
                        "updated_at": at,
                    },
                )
            ]
        values: dict[str, Any] = {"updated_at": at}
        if kind == "Approved":
            values.update(state="approved", decided_by=event.actor, edited=bool(event.text.strip()))
        elif kind == "Skipped":
            values.update(state="skipped", decided_by=event.actor, reason=event.reason)
        elif kind == "Sending":
            values.update(
                state="sending",
                numbers=list(event.numbers),
                dropped=dict(event.dropped),
                recipient=event.recipient,
            )
        elif kind == "Sent":
            values.update(
                state=event.state,
                sha256=event.sha256,
                attachments=list(event.attachments),
                error="",
            )
        elif kind == "Failed":
            values.update(state="failed", error=event.error)
        elif kind == "Posted":
            values.update(registered_number=event.number, decided_by=event.actor)
        elif kind == "Uncertain":
            values.update(state="uncertain")
        elif kind == "Resolved":
            values.update(
                state="sent" if event.went_out else "failed",
                decided_by=event.actor,
                error="" if event.went_out else "pas parti (vérifié)",
            )
        else:
            return []
        return [Update(DISPATCHES, where, values)]


class _Viewing(Protocol):
    views: ViewStore


class DispatchReads:
    """Reads of the run's messages (mixed into `projections.queries.Reads`)."""

    def dispatches(
        self: _Viewing,
        *,
        day: date | None = None,
        states: Iterable[str] = (),
        owner: str | None = None,
        limit: int = 2000,
    ) -> list[dict[str, Any]]:
        """Messages of a day, or in some states (all days), oldest first."""
        conditions, params = [], {"limit": limit}
        if day is not None:
            conditions.append("day = :day")
            params["day"] = day
        listed = sorted(set(states))
        if listed:
            names = [f"s{i}" for i in range(len(listed))]
            conditions.append(f"state IN ({', '.join(':' + n for n in names)})")
            params.update(dict(zip(names, listed, strict=True)))
        if owner is not None:
            conditions.append("owner = :owner")
            params["owner"] = owner
        where = " AND ".join(conditions) or "1 = 1"
        return self.views.rows(
            f"SELECT * FROM {{dispatches}} WHERE {where} "  # noqa: S608 - named parameters
            "ORDER BY day, debtor_name, template "
            "LIMIT :limit",
            params,
            DISPATCHES.columns,
        )

    def runs(self: _Viewing, limit: int = 30) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        return self.views.rows(
            "SELECT * FROM {runs} ORDER BY started_at DESC LIMIT :limit",
            {"limit": limit},
            RUNS.columns,
        )


__all__ = ["DISPATCHES", "RUNS", "Dispatch", "DispatchReads", "Dispatches"]
