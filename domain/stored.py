"""How a fact is stored: its canonical JSON, encoded once for its digest and its row.

A fact's digest covers its canonical JSON (`domain.chain`): keys sorted, each value that
JSON cannot tell apart tagged (`{"$decimal": "12.50"}`, `{"$date": "2026-10-01"}`), a
sealed person as their subject and commitment. Since the second stored form, that same
encoding is what the events table holds, written once when the fact is made:

    {"relance":2,"class_version":1,"digest":"<64 hex>"[,"sealed":{...}],"state":<canonical>}

- `state` is byte for byte the canonical JSON the digest covers: with the fact's topic, id,
  version and class version around it (`domain.chain.content_bytes`), it hashes to
  `digest`. Reading a
  fact decodes it once; verifying one hashes the stored bytes, without encoding anything.
- `sealed` holds, per commitment, what is sealed of a person or of free text (its kind and
  the data encrypted under the subject's key, `domain/sealing.py`): the digest covers the
  commitment only, so erasing the key leaves the digest whole.

Facts stored in the first form (eventsourcing's JSON, tagged `_type_`/`_data_`) keep
loading and verifying as they were written: the form is told by its first bytes. Other
aggregates' events (the playbook, the registers) keep eventsourcing's form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from domain.chain import body_digest, fact_content
from domain.facts import Fact
from domain.sealing import Sealer
from domain.transcodings import (
    ContactAsDict,
    DebtorAsDict,
    TextAsSealed,
    ValueAsDict,
    sealed_values,
)
from domain.values import Contact, Debtor, Instalment

FORM = b'{"relance":2,'
"""The first bytes of a fact stored in the second form."""
_STATE = b',"state":'


class SecondForm:
    """A fact stored in the second form: the content its digest covers, read without
    decoding values."""

    __slots__ = ("class_version", "computed", "digest", "sealed", "state")

    def __init__(self, raw: bytes, topic: str, originator_id: UUID,
                 originator_version: int) -> None:
        read = orjson.loads(raw)
        if type(read) is not dict or read.get("relance") != 2:
            raise ValueError("not a fact of the second stored form")
        self.state: dict[str, Any] = read["state"]
        self.digest: str = read["digest"]
        self.class_version: int = read["class_version"]
        self.sealed: dict[str, list[str]] = read.get("sealed") or {}
        at = raw.find(_STATE)
        if raw.startswith(FORM) and at > 0:  # the stored bytes themselves are hashed
            self.computed = body_digest(topic, originator_id, originator_version,
                                        self.class_version, raw[at + len(_STATE):-1])
        else:  # written some other way than relance writes it: hashed as it reads
            self.computed = hashlib.sha256(orjson.dumps(
                self.content(topic, originator_id, originator_version),
                option=orjson.OPT_SORT_KEYS)).hexdigest()

    def content(self, topic: str, originator_id: UUID, originator_version: int
                ) -> dict[str, Any]:
        """The content its digest covers, as plain JSON (`domain.chain.fact_content`)."""
        return {"topic": topic, "originator_id": originator_id.hex,
                "originator_version": originator_version,
                "class_version": self.class_version, "state": self.state}


class FactMapper(Mapper[UUID]):
    """eventsourcing's mapper, which writes and reads facts in the second stored form
    (this module's docstring) and every other event as eventsourcing does."""

    sealer: Sealer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sealer = Sealer()
        self._values: _Values | None = None
        self._revivers: dict[str, Callable[[Any, dict[str, list[str]]], Any]] | None = None
        self._classes: dict[str, tuple[type, Callable[[Any], Any], int]] = {}
        """Per topic: the fact's class, how its id is read, its class version."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not isinstance(domain_event, Fact):
            return super().to_stored_event(domain_event)
        body = domain_event.__dict__.get("_body")
        if body is None:  # read from the store, not made here: encoded anew
            body = domain_event.canonical_body()
        cls = type(domain_event)
        head = b'{"relance":2,"class_version":%d,"digest":"%s"' % (
            getattr(cls, "class_version", 1), domain_event.digest.encode("ascii"))
        sealed = self._sealed(vars(domain_event).values())
        if sealed:
            head += b',"sealed":' + orjson.dumps(sealed)
        state = head + _STATE + body + b"}"
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(originator_id=domain_event.originator_id,
                           originator_version=domain_event.originator_version,
                           topic=get_topic(cls), state=state)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        raw = stored_event.state
        if self.cipher:
            raw = self.cipher.decrypt(raw)
        if self.compressor:
            raw = self.compressor.decompress(raw)
        if not raw.startswith(FORM):
            return super().to_domain_event(stored_event)
        try:
            cls, convert, class_version = self._classes[stored_event.topic]
        except KeyError:
            cls = resolve_topic(stored_event.topic)
            convert = find_id_convertor(cls, UUID)
            class_version = getattr(cls, "class_version", 1)
            self._classes[stored_event.topic] = (cls, convert, class_version)
        try:
            read = orjson.loads(raw)
            sealed = read.get("sealed") or {}
            state = self._revived(read["state"], sealed)
        except Exception as error:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic "
                f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {error}") from error
        state["digest"] = read["digest"]
        state["originator_id"] = convert(stored_event.originator_id)
        state["originator_version"] = stored_event.originator_version
        from_version = read["class_version"]
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    # -- the sealed part -------------------------------------------------------------------

    def _sealed(self, values: Any) -> dict[str, list[str]]:
        """Each sealed person or text among `values` (and within their mappings and
        lists), by commitment: its kind and its data sealed under the subject's key, as
        its transcoding seals it."""
        sealed: dict[str, list[str]] = {}
        codings = self._transcodings()
        for value in sealed_values(values):
            commitment = value.__dict__["commitment"]
            if commitment in sealed:
                continue
            kind = type(value)
            if kind is Contact:
                sealed[commitment] = ["contact", codings.contact.encode(value)["sealed"]]
            elif kind is Debtor:
                sealed[commitment] = ["debtor_name",
                                      codings.debtor.encode(value)["name_sealed"]["sealed"]]
            else:
                sealed[commitment] = ["text", codings.text.encode(value)["sealed"]]
        return sealed

    def _transcodings(self) -> _Values:
        """The transcodings of the values a fact seals or tags, made with this mapper's
        sealer (set once the engine has its keys) the first time they are needed."""
        if self._values is None:
            self._values = _Values(ContactAsDict(self.sealer), DebtorAsDict(self.sealer),
                                   TextAsSealed(self.sealer),
                                   ValueAsDict(Instalment, "instalment"))
        return self._values

    # -- reading ---------------------------------------------------------------------------

    def values_of(self, raw: bytes) -> dict[str, Any]:
        """A stored fact's fields as values, before any upcasting, its sealed data opened
        (a seal that does not open, or that no longer matches its commitment, raises
        `SealBroken`)."""
        read = orjson.loads(raw)
        return self._revived(read["state"], read.get("sealed") or {})  # type: ignore[no-any-return]

    def _revived(self, value: Any, sealed: dict[str, list[str]]) -> Any:
        """Canonical JSON made values again: each tagged value by its tag, within mappings
        and lists too (a mapping of a fact is keyed by field names, never by a tag).
        A tagged value among a mapping's is revived in place, without a call for it: a
        fact's dates, instants and amounts are most of its work."""
        revivers = self._revivers or self._make_revivers()
        if type(value) is list:
            return [self._revived(one, sealed) if type(one) in _NESTED else one
                    for one in value]
        if len(value) == 1:
            ((tag, inner),) = value.items()
            revive = revivers.get(tag)
            if revive is not None:
                return revive(inner, sealed)
        for name, one in value.items():
            kind = type(one)
            if kind is dict:
                if len(one) == 1:
                    for tag, inner in one.items():
                        revive = revivers.get(tag)
                        if revive is not None:
                            value[name] = revive(inner, sealed)
                            break
                    else:
                        value[name] = self._revived(one, sealed)
                else:
                    value[name] = self._revived(one, sealed)
            elif kind is list:
                value[name] = self._revived(one, sealed)
        return value

    def _make_revivers(self) -> dict[str, Callable[[Any, dict[str, list[str]]], Any]]:
        contact, debtor, text, instalment = self._transcodings()

        def opened(seal: dict[str, str], sealed: dict[str, list[str]]) -> Any:
            kind, data = sealed[seal["commitment"]]
            whole = {"subject": seal["subject"], "commitment": seal["commitment"],
                     "sealed": data}
            if kind not in ("contact", "text"):
                raise ValueError(f"no sealed person or text of kind {kind!r}")
            return contact.decode(whole) if kind == "contact" else text.decode(whole)

        def debtor_of(fields: dict[str, Any], sealed: dict[str, list[str]]) -> Debtor:
            name = fields["name"]
            if type(name) is not dict:
                return debtor.decode(fields)  # type: ignore[no-any-return]
            seal = name["$sealed"]
            kind, data = sealed[seal["commitment"]]
            if kind != "debtor_name":
                raise ValueError(f"a debtor's name sealed as {kind!r}")
            return debtor.decode({**fields, "name_sealed": {  # type: ignore[no-any-return]
                "subject": seal["subject"], "commitment": seal["commitment"],
                "sealed": data}})

        self._revivers = {
            "$decimal": lambda inner, _: Decimal(inner),
            "$date": lambda inner, _: date.fromisoformat(inner),
            "$datetime": lambda inner, _: datetime.fromisoformat(inner),
            "$uuid": lambda inner, _: UUID(hex=inner),
            "$Contact": lambda inner, _: contact.decode(inner),
            "$Debtor": debtor_of,
            "$Instalment": lambda inner, sealed: instalment.decode(
                self._revived(inner, sealed)),
            "$sealed": opened,
        }
        return self._revivers


class _Values(NamedTuple):
    """The transcodings of the values a fact seals or tags."""

    contact: ContactAsDict
    debtor: DebtorAsDict
    text: TextAsSealed
    instalment: ValueAsDict


_NESTED = (dict, list)


def stored_content(mapper: Mapper[UUID], raw: bytes, topic: str, originator_id: UUID,
                   originator_version: int, own_digest: str = "digest"
                   ) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """A stored event as verification and exports read it, before any upcasting: its
    state (as stored, with its digest), the content its digest covers, and that content's
    digest when the stored bytes give it without encoding (None: to compute). Raises
    `ValueError` (or `TypeError`, `KeyError`) for a state that does not read, its sealed
    data included."""
    state = None if raw.startswith(FORM) else mapper.transcoder.decode(raw)
    if state is None or (isinstance(state, dict) and "relance" in state):  # second form
        fact = SecondForm(raw, topic, originator_id, originator_version)
        if isinstance(mapper, FactMapper):
            mapper.values_of(raw)  # every value reads, every seal opens
        return ({**fact.state, "digest": fact.digest},
                fact.content(topic, originator_id, originator_version), fact.computed)
    return state, fact_content(topic=topic, originator_id=originator_id,
                               originator_version=originator_version, state=state,
                               own_digest=own_digest), None
