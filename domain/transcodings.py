"""How the case file's values are written into stored events (JSON) and read back."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

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

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        obj = object.__new__(self.type)
        defaults = {
            f.name: f.default
            for f in dataclasses.fields(self.type)
            if f.default is not dataclasses.MISSING
        }
        for name, value in {**defaults, **data}.items():
            object.__setattr__(obj, name, value)
        return obj


def value_transcodings() -> list[Transcoding]:
    """Every transcoding the case file needs beyond eventsourcing's own."""
    return [
        DateAsISO(),
        ValueAsDict(Contact, "contact"),
        ValueAsDict(Debtor, "debtor"),
        ValueAsDict(Instalment, "instalment"),
    ]
