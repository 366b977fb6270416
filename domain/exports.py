"""The register of exports: who took what out of relance, when, and with which digest.

Each export is recorded once, under an id derived from its digest, so that an export
file can be traced back to the moment and the person who made it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

EXPORT_NAMESPACE = UUID("6f1d2a4e-3c7b-4e0a-9b55-2d8c1e7f4a90")


def export_id(digest: str) -> UUID:
    """The record's id, derived from the export's digest."""
    return uuid5(EXPORT_NAMESPACE, "export:" + digest)


class ExportRecord(Aggregate):
    """One export: its scope, format, as-of instant, digest and size, who made it, when."""

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

    @staticmethod
    def create_id(digest: str, **_: object) -> UUID:
        """The id comes from the digest."""
        return export_id(digest)
