"""The hash chain of a file: each fact's digest covers its content and its predecessor's digest.

The digest is computed once, when the fact is created, and stored with it. Verifying a
store recomputes it from the stored form (before any upcasting), so the chain survives
event class versions: an upcast changes what the code sees, never what was hashed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

GENESIS = "0" * 64
"""The predecessor digest of a file's first fact."""

_PLAIN = frozenset({str, int, bool, type(None)})


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    """A dataclass's field names, in their order (`dataclasses.fields` rebuilds them at
    each call)."""
    return tuple(f.name for f in dataclasses.fields(kind))


def canonical(value: Any) -> Any:
    """Maps a value onto plain JSON types, tagging the ones JSON cannot tell apart.

    What a value becomes depends on its type alone, so each type's conversion is worked
    out once (`_conversion`) and kept: a fact's digest then costs a dictionary look-up
    per value instead of a chain of `isinstance` checks."""
    kind = type(value)
    if kind in _PLAIN:  # most of a fact: taken as it is
        return value
    try:
        convert = _CONVERSIONS[kind]
    except KeyError:
        convert = _CONVERSIONS[kind] = _conversion(kind)
    return convert(value)


_CONVERSIONS: dict[type, Callable[[Any], Any]] = {}


def _conversion(kind: type) -> Callable[[Any], Any]:
    """How a value of type `kind` becomes plain JSON (see `canonical`)."""
    if issubclass(kind, Enum):
        return lambda value: canonical(value.value)
    if issubclass(kind, bool | int):
        return _as_it_is
    own = getattr(kind, "__canonical__", None)
    if issubclass(kind, str):  # sealed free text has its own form (domain/sealing.py)
        return _own_form if own is not None else str
    if issubclass(kind, Decimal):
        return lambda value: {"$decimal": str(value)}
    if issubclass(kind, datetime):
        return lambda value: {"$datetime": value.isoformat()}
    if issubclass(kind, date):
        return lambda value: {"$date": value.isoformat()}
    if issubclass(kind, UUID):
        return lambda value: {"$uuid": value.hex}
    if dataclasses.is_dataclass(kind):
        if own is not None:  # a value with its own form (a sealed contact: domain/sealing.py)
            return _own_form
        names, tag = _field_names(kind), "$" + kind.__name__
        return lambda value: {tag: {name: canonical(getattr(value, name)) for name in names}}
    if issubclass(kind, Mapping):
        return lambda value: {str(k): canonical(v) for k, v in value.items()}
    if issubclass(kind, list | tuple):
        return lambda value: [canonical(v) for v in value]
    if issubclass(kind, float):
        return _refused("floats have no place in the record: use Decimal")
    return _refused(f"cannot put {kind.__name__} in the record")


def _as_it_is(value: Any) -> Any:
    return value


def _own_form(value: Any) -> Any:
    """A value's own form (`__canonical__`), which is plain JSON already: a sealed
    person's subject and commitment, or their fields as text."""
    return value.__canonical__()


def _refused(reason: str) -> Callable[[Any], Any]:
    def refuse(_: Any) -> Any:
        raise TypeError(reason)

    return refuse


def fact_content(
    *,
    topic: str,
    originator_id: UUID,
    originator_version: int,
    state: Mapping[str, Any],
    own_digest: str = "digest",
) -> dict[str, Any]:
    """What a fact's digest covers, as plain JSON: an export carries it as it is.

    `own_digest` names the field holding the event's own digest, which its content
    cannot cover (`digest` for facts, `chain_digest` for other chained records)."""
    return {
        "topic": topic,
        "originator_id": originator_id.hex,
        "originator_version": originator_version,
        "class_version": state.get("class_version", 1),
        "state": canonical_state(state, own_digest),
    }


_BESIDE_STATE = frozenset({"originator_id", "originator_version", "class_version", "_body"})
"""An event's fields its canonical state leaves out: its place, beside the state in what
its digest covers, and a fact's `_body`, the state's own encoding (`domain/stored.py`)."""


def canonical_state(state: Mapping[str, Any], own_digest: str = "digest") -> dict[str, Any]:
    """An event's fields as its digest covers them (`fact_content`), in canonical form."""
    return {k: canonical(v) for k, v in state.items()
            if k not in _BESIDE_STATE and k != own_digest}


def canonical_json(content: Any) -> bytes:
    """The canonical JSON encoding of plain JSON content: keys sorted, no spaces, UTF-8
    text unescaped. Written by orjson, byte for byte what `json.dumps(content,
    sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes, several times
    faster (tests/unit/test_chain.py holds them equal)."""
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


def digest_of(content: Any) -> str:
    """SHA-256 over the canonical JSON encoding of plain JSON content."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def fact_digest(
    *,
    topic: str,
    originator_id: UUID,
    originator_version: int,
    state: Mapping[str, Any],
    own_digest: str = "digest",
) -> str:
    """SHA-256 over the canonical JSON of a fact; `state` includes its `prev_hash`."""
    return digest_of(fact_content(topic=topic, originator_id=originator_id,
                                  originator_version=originator_version, state=state,
                                  own_digest=own_digest))


def content_bytes(topic: str, originator_id: UUID, originator_version: int,
                  class_version: int, body: bytes) -> bytes:
    """What a fact's digest covers, around its canonical state `body`: byte for byte
    `canonical_json(fact_content(...))`, whose keys sort in this order
    (tests/unit/test_stored_form.py holds them equal)."""
    return b'{"class_version":%d,"originator_id":"%s","originator_version":%d,"state":%b,' \
           b'"topic":%b}' % (class_version, originator_id.hex.encode(), originator_version,
                             body, orjson.dumps(topic))


def body_digest(topic: str, originator_id: UUID, originator_version: int,
                class_version: int, body: bytes) -> str:
    """SHA-256 over what a fact's digest covers (`content_bytes`)."""
    return hashlib.sha256(content_bytes(topic, originator_id, originator_version,
                                        class_version, body)).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first fact of a file whose chain does not hold, and why."""

    file_id: str
    version: int
    reason: str


class ChainCheck:
    """Follows every file's chain, fact by fact, in each file's order.

    A fact holds when its content hashes to its digest, its version follows the file's
    previous one, and its `prev_hash` is that fact's digest. Changing, deleting,
    inserting or swapping a fact breaks it; only the heads (`heads`) tell that a file's
    last facts were cut off, against a digest taken earlier (`heads_root`).
    """

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, str]] = {}
        """Per file id: its last version and that fact's digest."""

    def check(self, content: Mapping[str, Any], digest: str, computed: str | None = None
              ) -> str | None:
        """Takes the next fact of a file; returns what is wrong with it, or None.
        `computed` is the content's digest when its stored bytes gave it."""
        file_id = content["originator_id"]
        version, previous = self.heads.get(file_id, (0, GENESIS))
        if content["originator_version"] != version + 1:
            return (f"version {content['originator_version']} follows version {version}"
                    if version else "the file does not start at version 1")
        if (computed or digest_of(dict(content))) != digest:
            return "its content does not match its digest"
        if content["state"].get("prev_hash") != previous:
            return "it does not point at the digest of the fact before it"
        self.heads[file_id] = (version + 1, digest)
        return None

    def take_unchained(self, content: Mapping[str, Any]) -> str | None:
        """Takes a record written before its kind was chained: it carries no digest to
        check, so its link is the digest of its content (a root taken earlier covers it)."""
        file_id = content["originator_id"]
        version, _ = self.heads.get(file_id, (0, GENESIS))
        if content["originator_version"] != version + 1:
            return (f"version {content['originator_version']} follows version {version}"
                    if version else "the record does not start at version 1")
        self.heads[file_id] = (version + 1, digest_of(dict(content)))
        return None


def heads_root(heads: Mapping[str, tuple[int, str]]) -> str:
    """One digest for many files: SHA-256 over each file's id, last version and head digest,
    in the order of the ids. Equal roots: every file's history, up to its head, is equal."""
    digest = hashlib.sha256(b"relance-heads/1\n")
    for file_id in sorted(heads):
        version, head = heads[file_id]
        digest.update(f"{file_id} {version} {head}\n".encode())
    return digest.hexdigest()


class ChainedAggregate(Aggregate):
    """An aggregate whose events are chained like a file's facts: each carries the digest
    of its predecessor (`prev_hash`) and its own (`chain_digest`), so that `relance
    verify` finds a changed one. The team's playbook and the register of exports are
    such aggregates.

    Events recorded before they were chained (class version 1) carry neither: their
    link in the chain is the digest of their stored content, which `relance digest`
    covers, so a later change to them shows against an earlier digest.
    """

    class Event(Aggregate.Event):
        """An event of a chained aggregate."""

        prev_hash: str
        class_version = 2

        def __post_init__(self) -> None:
            super().__post_init__()
            object.__setattr__(self, "chain_digest", self._content_digest())

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Recorded before chaining: no predecessor digest, no digest of its own."""
            state["prev_hash"] = ""
            state["chain_digest"] = ""

        def link(self) -> str:
            """The digest the next event points at: its own, or (recorded before
            chaining) the digest of its stored content."""
            return getattr(self, "chain_digest", "") or self._legacy_digest()

        def _content_digest(self) -> str:
            state = dict(vars(self))
            state["class_version"] = getattr(type(self), "class_version", 1)
            return fact_digest(topic=get_topic(type(self)), originator_id=self.originator_id,
                               originator_version=self.originator_version, state=state,
                               own_digest="chain_digest")

        def _legacy_digest(self) -> str:
            state = {k: v for k, v in vars(self).items()
                     if k not in ("prev_hash", "chain_digest")}
            return fact_digest(topic=get_topic(type(self)), originator_id=self.originator_id,
                               originator_version=self.originator_version, state=state,
                               own_digest="chain_digest")

        def apply(self, aggregate: Any) -> None:
            aggregate.chain_head = self.link()

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prev_hash", getattr(self, "chain_head", GENESIS))
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("prev_hash", GENESIS)
        return super()._create(event_class, id=id, **kwargs)
