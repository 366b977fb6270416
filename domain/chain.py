"""The hash chain of a file: each fact's digest covers its content and its predecessor's digest.

The digest is computed once, when the fact is created, and stored with it. Verifying a
store recomputes it from the stored form (before any upcasting), so the chain survives
event class versions: an upcast changes what the code sees, never what was hashed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
"""The predecessor digest of a file's first fact."""

EXCLUDED_FROM_CONTENT = frozenset({"digest", "originator_id", "originator_version"})


def canonical(value: Any) -> Any:
    """Maps a value onto plain JSON types, tagging the ones JSON cannot tell apart."""
    if value is None or (isinstance(value, bool | int) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": value.hex}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$" + type(value).__name__: fields}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, float):
        raise TypeError("floats have no place in the record: use Decimal")
    raise TypeError(f"cannot put {type(value).__name__} in the record")


def fact_digest(
    *,
    topic: str,
    originator_id: UUID,
    originator_version: int,
    state: Mapping[str, Any],
) -> str:
    """SHA-256 over the canonical JSON of a fact; `state` includes its `prev_hash`."""
    content = {
        "topic": topic,
        "originator_id": originator_id.hex,
        "originator_version": originator_version,
        "class_version": state.get("class_version", 1),
        "state": {
            k: canonical(v)
            for k, v in state.items()
            if k not in EXCLUDED_FROM_CONTENT and k != "class_version"
        },
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
