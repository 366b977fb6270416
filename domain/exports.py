"""The register of exports: who took what out of relance, when, and with which digest.

The record of an export lives under an id derived from its digest, so that an export
file can be traced back to the moments and the people who made it: the first export
creates the record, and every later export with the same content (the same file asked
again, by the same person or another) is recorded on it too. Its events are chained
like a file's facts (`relance verify` checks them).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.chain import ChainedAggregate

EXPORT_NAMESPACE = UUID("6f1d2a4e-3c7b-4e0a-9b55-2d8c1e7f4a90")


def export_id(digest: str) -> UUID:
    """The record's id, derived from the export's digest."""
    return uuid5(EXPORT_NAMESPACE, "export:" + digest)


class ExportRecord(ChainedAggregate):
    """An export's content: its scope, format, as-of instant, digest and size, and every
    time it was made (who, when)."""

    @event("Recorded")
    def __init__(self, digest: str, actor: str, scope: str, key: str, fmt: str,
                 as_of: datetime | None, files: int, facts: int, timestamp: datetime) -> None:
        self.digest = digest
        self.actor = actor
        self.scope = scope
        self.key = key
        self.fmt = fmt
        self.as_of = as_of
        self.files = files
        self.facts = facts
        self.recorded_at = timestamp
        self.made: list[tuple[str, datetime]] = [(actor, timestamp)]
        """Who made this export, and when: the first time, then each time again."""

    def record_again(self, actor: str, timestamp: datetime) -> None:
        """The same export made once more (by the same person or another)."""
        self._made_again(actor=actor, timestamp=timestamp)

    @event("MadeAgain")
    def _made_again(self, actor: str, timestamp: datetime) -> None:
        self.made.append((actor, timestamp))

    @staticmethod
    def create_id(digest: str, **_: object) -> UUID:
        """The id comes from the digest."""
        return export_id(digest)
