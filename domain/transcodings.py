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


def value_transcodings() -> list[Transcoding]:
    """Every transcoding the case file needs beyond eventsourcing's own."""
    return [
        DateAsISO(),
        ValueAsDict(Contact, "contact"),
        ValueAsDict(Debtor, "debtor"),
        ValueAsDict(Instalment, "instalment"),
    ]
