"""The hash chain: every fact seals its content and its predecessor's digest."""

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.chain import GENESIS, canonical, canonical_json, fact_digest
from domain.facts import BASE_FIELDS
from domain.invoice import Invoice
from domain.sealing import sealed_text
from domain.values import CallOutcome, Channel, Contact, Debtor
from tests.builders import JEAN, ManualClock, register_kwargs, stamp
from tests.strategies import (
    ACCOUNT,
    AMOUNT,
    CONTACT,
    DEBTOR,
    INSTALMENT,
    INSTANT,
    NAME,
    TEXT,
)


def _recompute(event) -> str:
    state = dict(vars(event))
    return fact_digest(topic=f"domain.facts:{type(event).__name__}",
                       originator_id=event.originator_id,
                       originator_version=event.originator_version, state=state)


def test_each_fact_points_at_the_digest_of_the_one_before():
    clock = ManualClock()
    invoice = Invoice.register(stamp(clock), **register_kwargs())
    invoice.log_call(stamp(clock), contact=JEAN, outcome=CallOutcome.REACHED,
                     callback_on=date(2026, 11, 9))
    first, second = invoice.collect_events()
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.digest
    assert invoice.head_hash == second.digest


def test_the_digest_covers_every_field_and_the_previous_link():
    clock = ManualClock()
    invoice = Invoice.register(stamp(clock), **register_kwargs())
    invoice.add_note(stamp(clock), text="Rappeler lundi")
    note = invoice.collect_events()[1]
    assert _recompute(note) == note.digest
    for name, value in vars(note).items():
        if name in BASE_FIELDS - {"actor", "occurred_at", "prev_hash", "timestamp"}:
            continue
        altered = dict(vars(note))
        altered[name] = "tampered" if not isinstance(value, str) else value + "!"
        changed = fact_digest(topic="domain.facts:NoteAdded", originator_id=note.originator_id,
                              originator_version=note.originator_version, state=altered)
        assert changed != note.digest, name


def test_the_same_content_always_gives_the_same_digest():
    clock = ManualClock()
    kwargs = register_kwargs(billing_recipient=Contact())  # names nobody: nothing salted
    a = Invoice.register(stamp(clock), **kwargs).collect_events()[0]
    b = Invoice.register(stamp(clock), **kwargs).collect_events()[0]
    assert a.digest == b.digest


def test_a_person_named_in_a_fact_is_covered_by_a_salted_commitment_only():
    clock = ManualClock()
    kwargs = register_kwargs(billing_recipient=JEAN)
    a = Invoice.register(stamp(clock), **kwargs).collect_events()[0]
    b = Invoice.register(stamp(clock), **kwargs).collect_events()[0]
    assert a.billing_recipient == b.billing_recipient == JEAN
    assert a.billing_recipient.subject == b.billing_recipient.subject
    assert a.digest != b.digest  # each seal has its own salt: a guess cannot be tested
    content = canonical_json(canonical(a.billing_recipient)).decode()
    assert JEAN.name not in content
    assert JEAN.phone not in content
    assert _recompute(a) == a.digest


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_the_digested_encoding_is_byte_for_byte_the_json_the_chain_was_first_sealed_with(
        content):
    """Facts recorded before the faster encoder were sealed over the standard library's
    canonical JSON; the same content must give the same bytes, or they would no longer
    verify. Control characters, quotes, backslashes, accents and emoji included."""
    reference = json.dumps(content, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode("utf-8")
    assert canonical_json(content) == reference


def _canonical_as_first_written(value):
    """The canonical form as the chain's first version wrote it, one `isinstance` after
    the other: the forms every stored digest covers."""
    if value is None or (isinstance(value, bool | int) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return _canonical_as_first_written(value.value)
    if isinstance(value, str):
        own = getattr(value, "__canonical__", None)
        return _canonical_as_first_written(own()) if own is not None else str(value)
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": value.hex}
    if dataclasses.is_dataclass(value):
        own = getattr(value, "__canonical__", None)
        if own is not None:
            return _canonical_as_first_written(own())
        return {"$" + type(value).__name__: {f.name: _canonical_as_first_written(
            getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, dict):
        return {str(k): _canonical_as_first_written(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_as_first_written(v) for v in value]
    raise TypeError(type(value).__name__)


_FACT_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT | st.uuids()
    | st.sampled_from(list(CallOutcome)) | st.sampled_from(list(Channel))
    | AMOUNT | st.dates() | INSTANT | CONTACT | DEBTOR | INSTALMENT
    | st.builds(lambda c: c.sealed_for("p-jean"), st.builds(Contact, NAME))
    | st.builds(lambda t: sealed_text(t, "p-jean"), NAME)
    | st.builds(lambda d: d.sealed_for("p-conso"),
                st.builds(Debtor, ACCOUNT, NAME, is_consumer=st.just(True))),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25)


@settings(max_examples=500, deadline=None)
@given(_FACT_VALUES)
def test_every_kind_of_value_takes_the_canonical_form_the_chain_was_first_sealed_with(value):
    """Each type's form is now worked out once and kept; the forms themselves must not
    move, or facts already recorded would no longer verify."""
    assert canonical(value) == _canonical_as_first_written(value)


def test_a_float_is_refused_from_the_record():
    with pytest.raises(TypeError, match="Decimal"):
        canonical({"amount": 12.5})
