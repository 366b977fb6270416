"""The clock: the only place where relance reads the time of day."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, as a timezone-aware UTC instant."""
    return datetime.now(tz=UTC)
