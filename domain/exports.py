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

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event
from eventsourcing.persistence import RecordConflictError

from domain.chain import ChainedAggregate
from domain.engine import FileEngine
from domain.errors import TooMuchContention

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


class ExportRegister(FileEngine):
    """The commands and reads of the register of exports."""

    def record_export(self, actor: str, *, digest: str, scope: str, key: str, fmt: str,
                      as_of: datetime | None, files: int, facts: int) -> ExportRecord:
        """Records that an export was made: the first time creates its record, each
        later time with the same content is recorded on it (who, when)."""
        for _ in range(self.max_attempts):
            record = self.export_record(digest)
            if record is None:
                record = ExportRecord(digest=digest, actor=actor, scope=scope, key=key[:500],
                                      fmt=fmt, as_of=as_of, files=files, facts=facts,
                                      timestamp=self._now())
            else:
                record.record_again(actor, self._now())
            try:
                self.save(record)
            except RecordConflictError:
                continue
            return record
        raise TooMuchContention("the register of exports kept changing; try again")

    def export_record(self, digest: str) -> ExportRecord | None:
        """The record of the export with this digest, if relance made it."""
        try:
            return self.repository.get(export_id(digest))
        except AggregateNotFoundError:
            return None

