"""How facts are written into the store: the faster encoder writes byte for byte what
eventsourcing's standard-library encoder wrote, so every stored fact reads as before."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engine import FileEngine
from domain.sealing import Sealer, sealed_text
from domain.transcodings import SealingTranscoder
from domain.values import Contact
from tests.strategies import AMOUNT, CONTACT, DEBTOR, INSTALMENT, INSTANT, TEXT

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | TEXT
    | st.uuids().map(str)  # text that reads like a UUID
    | st.uuids() | AMOUNT | st.dates() | INSTANT | CONTACT | DEBTOR | INSTALMENT,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(TEXT, inner, max_size=4)
    | st.dictionaries(st.integers(0, 9), inner, min_size=1, max_size=2),  # keys JSON makes text
    max_leaves=25)


def _transcoder() -> SealingTranscoder:
    engine = FileEngine.__new__(FileEngine)
    engine.sealer = Sealer()
    transcoder = SealingTranscoder()
    FileEngine.register_transcodings(engine, transcoder)
    return transcoder


TRANSCODER = _transcoder()


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(TEXT, _VALUES, max_size=8))
def test_a_fact_is_stored_as_the_bytes_eventsourcing_wrote(state):
    """Dates, amounts, people, debtors, UUIDs, text that reads like a UUID, integers too
    large for 64 bits and keys that are numbers: the same bytes as eventsourcing's own
    encoder, which wrote the facts already stored."""
    assert TRANSCODER.encode(state) == JSONTranscoder.encode(TRANSCODER, state)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(TEXT, _VALUES, max_size=8))
def test_a_stored_fact_reads_back_as_eventsourcing_read_it(state):
    """Read by orjson, a fact gives what eventsourcing's standard-library decoder gave:
    every tagged value handed to its transcoding (in lists and dicts, the innermost first),
    integers beyond 64 bits read by the standard library."""
    stored = TRANSCODER.encode(state)
    assert TRANSCODER.decode(stored) == JSONTranscoder.decode(TRANSCODER, stored)


@pytest.mark.parametrize("stored", [
    b'{"n":123456789012345678901234567890,"d":{"_type_":"date_iso","_data_":"2026-12-06"}}',
    b'{"x":NaN,"d":[{"_type_":"decimal_str","_data_":"1.50"}]}',
    b'{"t":"\\ud800 seul","l":[[{"_type_":"date_iso","_data_":"2026-01-31"}]]}',
    b'[{"_type_":"date_iso","_data_":"2026-12-06"},{"_type_":"x","_data_":1,"y":2}]',
    b'{"_type_":"date_iso","_data_":"2026-12-06","other":1}',
])
def test_what_orjson_cannot_read_is_read_as_the_standard_library_reads_it(stored):
    assert TRANSCODER.decode(stored) == JSONTranscoder.decode(TRANSCODER, stored)


def test_an_unknown_tag_is_refused_as_eventsourcing_refuses_it():
    stored = b'{"a":{"_type_":"no_such_type","_data_":"?"}}'
    with pytest.raises(TranscodingNotRegisteredError):
        TRANSCODER.decode(stored)


def test_a_stored_uuid_reads_back_as_a_uuid():
    file_id = UUID("6f1d0c52-3a43-4b8e-9a51-0d1c2b7e4f10")
    stored = TRANSCODER.encode({"file": file_id, "files": [file_id], "note": str(file_id)})
    assert TRANSCODER.decode(stored) == {"file": file_id, "files": [file_id],
                                         "note": str(file_id)}


def test_a_sealed_person_and_sealed_text_read_back_in_clear():
    contact = Contact("Jean Dupont", "Comptable", "01 02 03 04 05", "jean@example.fr")
    sealed = contact.sealed_for("p-jean")
    stored = TRANSCODER.encode({"contact": sealed, "summary": sealed_text("Rappel", "p-jean"),
                                "amount": Decimal("12.50"), "on": date(2026, 12, 4),
                                "at": datetime(2026, 12, 4, 9, 30, tzinfo=UTC)})
    assert b"Jean Dupont" not in stored
    assert b"Rappel" not in stored
    back = TRANSCODER.decode(stored)
    assert back["contact"] == contact
    assert back["summary"] == "Rappel"
    assert (back["amount"], back["on"], back["at"]) == (
        Decimal("12.50"), date(2026, 12, 4), datetime(2026, 12, 4, 9, 30, tzinfo=UTC))


class Share(NamedTuple):
    number: str
    amount: Decimal


def test_a_named_tuple_is_stored_as_eventsourcing_stored_it():
    """orjson refuses a named tuple; the standard library writes it as a list."""
    state = {"shares": [Share("FA-1", Decimal("10.00"))], "first": Share("FA-2", Decimal("1"))}
    assert TRANSCODER.encode(state) == JSONTranscoder.encode(TRANSCODER, state)


def test_a_value_with_no_transcoding_is_refused_as_eventsourcing_refuses_it():
    class Unknown:
        pass

    with pytest.raises(TranscodingNotRegisteredError):
        TRANSCODER.encode({"what": Unknown()})
