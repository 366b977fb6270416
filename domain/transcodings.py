"""How the case file's values are written into stored events (JSON) and read back."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.sealing import ERASED, SealedText, Sealer, sealed_text
from domain.values import Contact, Debtor, Instalment


class DateAsISO(Transcoding):
    """A calendar date as 'YYYY-MM-DD'."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ValueAsDict(Transcoding):
    """A frozen dataclass value as a dict of its fields.

    Decoding bypasses `__post_init__` on purpose: a rule added to a value later must
    never stop old facts from loading.
    """

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name
        self.fields = tuple(f.name for f in dataclasses.fields(cls))
        self.defaults = {f.name: f.default for f in dataclasses.fields(cls)
                         if f.default is not dataclasses.MISSING}

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.fields}

    def decode(self, data: dict[str, Any]) -> Any:
        obj = object.__new__(self.type)
        for name, value in {**self.defaults, **data}.items():
            object.__setattr__(obj, name, value)
        return obj


class ContactAsDict(ValueAsDict):
    """A person reached at the debtor: their four fields in clear (as every contact was
    written before sealing, and an empty one still is), or, once sealed, the subject, the
    commitment and the sealed data (domain/sealing.py). A sealed contact whose key is gone
    reads as « donnée effacée », with its subject and commitment, so its fact still
    verifies."""

    def __init__(self, sealer: Sealer) -> None:
        super().__init__(Contact, "contact")
        self.sealer = sealer

    def encode(self, obj: Contact) -> dict[str, Any]:
        if not obj.subject:
            return obj.plain()
        commitment = obj.__dict__["commitment"]
        sealed = self.sealer.seal(obj.subject, commitment,
                                  {**obj.plain(), "salt": obj.__dict__["salt"]})
        return {"subject": obj.subject, "commitment": commitment, "sealed": sealed}

    def decode(self, data: dict[str, Any]) -> Contact:
        if "sealed" not in data:
            return super().decode(data)  # type: ignore[no-any-return]
        subject, commitment = data["subject"], data["commitment"]
        plain = self.sealer.open(subject, commitment, data["sealed"])
        obj = object.__new__(Contact)
        if plain is None:
            fields = {"name": ERASED, "function": "", "phone": "", "email": ""}
            salt = ""
        else:
            salt = plain.pop("salt")
            fields = {**self.defaults, **plain}
        for name, value in fields.items():
            object.__setattr__(obj, name, value)
        obj.__dict__.update(subject=subject, salt=salt, commitment=commitment)
        return obj


class DebtorAsDict(ValueAsDict):
    """The debtor: its fields in clear, or, for a consumer whose name is sealed, the name
    as subject, commitment and sealed data (« donnée effacée » once the key is gone)."""

    def __init__(self, sealer: Sealer) -> None:
        super().__init__(Debtor, "debtor")
        self.sealer = sealer

    def encode(self, obj: Debtor) -> dict[str, Any]:
        clear = {"account": obj.account, "siren": obj.siren, "is_consumer": obj.is_consumer}
        if not obj.subject:
            return {**clear, "name": obj.name}
        commitment = obj.__dict__["commitment"]
        sealed = self.sealer.seal(obj.subject, commitment,
                                  {"name": obj.name, "salt": obj.__dict__["salt"]})
        return {**clear, "name_sealed": {"subject": obj.subject, "commitment": commitment,
                                         "sealed": sealed}}

    def decode(self, data: dict[str, Any]) -> Debtor:
        if "name_sealed" not in data:
            return super().decode(data)  # type: ignore[no-any-return]
        seal = data["name_sealed"]
        plain = self.sealer.open(seal["subject"], seal["commitment"], seal["sealed"])
        obj = super().decode({k: v for k, v in data.items() if k != "name_sealed"} | {
            "name": ERASED if plain is None else plain["name"]})
        obj.__dict__.update(subject=seal["subject"], commitment=seal["commitment"],
                            salt="" if plain is None else plain["salt"])
        return obj  # type: ignore[no-any-return]


class TextAsSealed(Transcoding):
    """Free text sealed under a subject's key (`SealingTranscoder` hands it here: JSON
    would write any `str` as it is)."""

    type = SealedText
    name = "sealed_text"

    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer

    def encode(self, obj: SealedText) -> dict[str, Any]:
        commitment = obj.__dict__["commitment"]
        sealed = self.sealer.seal(obj.subject, commitment,
                                  {"text": str(obj), "salt": obj.__dict__["salt"]})
        return {"subject": obj.subject, "commitment": commitment, "sealed": sealed}

    def decode(self, data: dict[str, Any]) -> SealedText:
        plain = self.sealer.open(data["subject"], data["commitment"], data["sealed"])
        if plain is None:
            return sealed_text(ERASED, data["subject"], salt="", commitment=data["commitment"])
        return sealed_text(plain["text"], data["subject"], salt=plain["salt"],
                           commitment=data["commitment"])


class SealingTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, which first hands sealed free text (a `str`, that
    JSON would write as it is) to `TextAsSealed`: in a fact's own fields, and one level
    down (a correction's values).

    The JSON is written by orjson, byte for byte what eventsourcing's encoder (the
    standard library's) writes, several times faster: orjson hands dates, times and
    dataclasses to the transcodings, as the standard library does. Two cases go to the
    standard library instead (tests/unit/test_transcoding.py holds both ways equal):
    - what orjson refuses (a key that is not a string, an integer beyond 64 bits, a named
      tuple), or a value no transcoding writes (the standard library then says so);
    - a `UUID`, which orjson writes itself, as a string, where eventsourcing tags it: its
      string is found in orjson's output (as is text that reads like one, which is rare).

    It is read by orjson too, and each JSON object then handed to the transcodings as the
    standard library's `object_hook` hands it (the innermost first, those in lists too).
    What orjson refuses to read, and the standard library reads (`NaN`, a lone
    surrogate), is read by the standard library, as is any number orjson reads as a
    float (an integer beyond 64 bits, which the standard library reads as an integer).
    """

    def encode(self, obj: Any) -> bytes:
        if isinstance(obj, dict):
            obj = _texts_tagged(obj, self.types[SealedText], depth=2)
        try:
            data = orjson.dumps(obj, default=self._encode_obj, option=_HANDED_OVER)
        except orjson.JSONEncodeError:  # the standard library writes it, or says why not
            return super().encode(obj)
        if _UUID_MIDDLE.search(data) is not None and _UUID_WRITTEN.search(data) is not None:
            return super().encode(obj)
        return data

    def decode(self, data: bytes) -> Any:
        try:
            read = [orjson.loads(data)]
            self._read_within(read, enumerate(read))
        except (orjson.JSONDecodeError, _FloatRead):  # the standard library reads it
            return super().decode(data)
        return read[0]

    def _read_within(self, container: dict[str, Any] | list[Any],
                     entries: Iterable[tuple[Any, Any]]) -> None:
        """Hands the objects among a container's entries (key or index, value), in lists
        too, to `_object_read`, and writes back what it gives."""
        for at, value in entries:
            kind = type(value)
            if kind is dict:
                container[at] = self._object_read(value)
            elif kind is list:
                self._read_within(value, enumerate(value))
            elif kind is float:
                raise _FloatRead

    def _object_read(self, obj: dict[str, Any]) -> Any:
        """A JSON object as the standard library's `object_hook` gives it: the objects
        within it handed over first, then the object itself (a tagged one to its
        transcoding, by eventsourcing's own rule)."""
        self._read_within(obj, obj.items())
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._decode_obj(obj)
        return obj


class _FloatRead(Exception):
    """A number orjson read as a float: an integer beyond 64 bits reads so, where the
    standard library gives the integer (a fact holds no float: amounts are decimals)."""


_HANDED_OVER = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""What orjson would write itself, but eventsourcing's transcodings write."""
_UUID_WRITTEN = re.compile(rb'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
"""A UUID as orjson writes it."""
_UUID_MIDDLE = re.compile(rb"-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-")
"""Its middle, looked for first: a fact's JSON has fewer dashes than quotes, and the
search costs a third as much (0.6 against 1.9 µs for an invoice's registration)."""


def _texts_tagged(state: dict[str, Any], sealing: Transcoding, depth: int) -> dict[str, Any]:
    changed: dict[str, Any] | None = None
    for name, value in state.items():
        kind = type(value)
        if kind is SealedText:
            tagged: Any = {"_type_": sealing.name, "_data_": sealing.encode(value)}
        elif kind is dict and depth > 1:
            tagged = _texts_tagged(value, sealing, depth - 1)
            if tagged is value:
                continue
        else:
            continue
        if changed is None:
            changed = dict(state)
        changed[name] = tagged
    return state if changed is None else changed


SEALED_TYPES = frozenset({Contact, Debtor, SealedText})


def sealed_subjects(events: Iterable[object]) -> set[str]:
    """The subjects whose keys sealing these events will use: of the people, consumers'
    names and free texts in their fields, and within their mappings and lists (a
    correction's values)."""
    return {one.__dict__["subject"] for event in events
            for one in sealed_values(vars(event).values())}


def sealed_values(values: Iterable[Any]) -> Iterator[Contact | Debtor | SealedText]:
    """The sealed people and texts among `values`, and within their mappings and lists."""
    for value in values:
        kind = type(value)
        if kind in _PLAIN:  # most of a fact's fields: looked at no further
            continue
        if kind is dict:
            yield from sealed_values(value.values())
        elif kind is list or kind is tuple:
            yield from sealed_values(value)
        elif kind in SEALED_TYPES and value.__dict__.get("subject"):
            yield value


_PLAIN = frozenset({str, int, bool, type(None), date, datetime, Decimal, UUID, bytes})
"""Types of a fact's field that never hold a person."""


def value_transcodings(sealer: Sealer) -> list[Transcoding]:
    """Every transcoding the case file needs beyond eventsourcing's own."""
    return [
        DateAsISO(),
        ContactAsDict(sealer),
        DebtorAsDict(sealer),
        TextAsSealed(sealer),
        ValueAsDict(Instalment, "instalment"),
    ]
