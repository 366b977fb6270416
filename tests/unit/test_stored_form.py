"""A fact is encoded once: the bytes stored for it are the canonical JSON its digest covers.

The mapper (`domain/stored.py`) is run here on its own, without a store: every kind of
fact, sealed people and text, an erased person, and the facts of the first version
re-made in the second form. The stores themselves are exercised by
tests/integration/test_evidence.py and tests/integration/test_storage_contract.py.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from domain.chain import body_digest, canonical_json, content_bytes, fact_content
from domain.engine import FileEngine
from domain.facts import Fact
from domain.invoice import Invoice
from domain.sealing import ERASED, SealBroken, Sealer, sealed_text
from domain.stored import FORM, FactMapper, SecondForm
from domain.transcodings import SealingTranscoder
from domain.values import CallOutcome, Debtor, Instalment
from tests.builders import JEAN, ManualClock, register_kwargs, stamp

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stored_events_v1.json"
PERSON = "p-" + "1" * 32
DEBTOR = "d-" + "2" * 32


def _mapper() -> FactMapper:
    engine = FileEngine.__new__(FileEngine)
    engine.sealer = Sealer()
    transcoder = SealingTranscoder()
    FileEngine.register_transcodings(engine, transcoder)
    mapper = FactMapper(transcoder=transcoder)
    mapper.sealer = engine.sealer
    return mapper


def _facts_of_a_file() -> list[Fact]:
    """A consumer's file: its name, the person called and a note sealed; a payment plan."""
    clock = ManualClock()
    consumer = Debtor("411DUPO", "Marie Dupont", is_consumer=True).sealed_for(DEBTOR)
    invoice = Invoice.register(stamp(clock), **register_kwargs(debtor=consumer))
    clock.advance(days=2)
    invoice.log_call(stamp(clock), contact=JEAN.sealed_for(PERSON),
                     outcome=CallOutcome.REACHED, summary="Paiera en deux fois",
                     callback_on=date(2026, 11, 9))
    invoice.add_note(stamp(clock), text=sealed_text("Rappeler Mme Dupont", DEBTOR))
    invoice.agree_payment_plan(stamp(clock), instalments=[
        Instalment(date(2026, 11, 30), Decimal("600.00")),
        Instalment(date(2026, 12, 30), invoice.case.outstanding - Decimal("600.00"))])
    invoice.correct(stamp(clock), target_version=3, reason="Nom exact",
                    changes={"text": sealed_text("Rappeler Mme Marie Dupont", DEBTOR)})
    return invoice.collect_events()


def test_the_stored_bytes_of_a_fact_are_what_its_digest_covers():
    mapper = _mapper()
    for fact in _facts_of_a_file():
        stored = mapper.to_stored_event(fact)
        assert stored.state.startswith(FORM)
        body = stored.state[stored.state.index(b',"state":') + 9:-1]
        assert body_digest(stored.topic, fact.originator_id, fact.originator_version,
                           getattr(type(fact), "class_version", 1), body) == fact.digest
        read = SecondForm(stored.state, stored.topic, fact.originator_id,
                          fact.originator_version)
        assert read.computed == read.digest == fact.digest


def test_what_the_digest_covers_is_the_canonical_json_of_the_facts_content():
    for fact in _facts_of_a_file():
        state = {**vars(fact), "class_version": getattr(type(fact), "class_version", 1)}
        content = fact_content(topic=f"domain.facts:{type(fact).__name__}",
                               originator_id=fact.originator_id,
                               originator_version=fact.originator_version, state=state)
        assert content_bytes(content["topic"], fact.originator_id, fact.originator_version,
                             content["class_version"], fact.canonical_body()) \
            == canonical_json(content)


def test_a_fact_reads_back_equal_with_its_people_and_text_sealed():
    mapper = _mapper()
    for fact in _facts_of_a_file():
        stored = mapper.to_stored_event(fact)
        for clear in (b"Marie Dupont", b"Jean Dupont", b"Rappeler"):
            assert clear not in stored.state, (fact.kind, clear)
        back = mapper.to_domain_event(stored)
        assert back.digest == fact.digest
        assert vars(back) == {k: v for k, v in vars(fact).items() if k != "_body"} \
            | _as_read(fact)


def _as_read(fact: Fact) -> dict[str, object]:
    """What JSON gives back of a fact as lists (a sequence field is stored as a list)."""
    return {k: list(v) for k, v in vars(fact).items() if isinstance(v, tuple)}


def test_an_erased_persons_fact_still_loads_and_verifies():
    mapper = _mapper()
    call = _facts_of_a_file()[1]
    stored = mapper.to_stored_event(call)
    mapper.sealer.keys.destroy(PERSON)
    back = mapper.to_domain_event(stored)
    assert back.contact.name == ERASED
    assert back.summary == "Paiera en deux fois"
    read = SecondForm(stored.state, stored.topic, call.originator_id, call.originator_version)
    assert read.computed == call.digest


def test_sealed_data_that_was_altered_does_not_read():
    mapper = _mapper()
    call = _facts_of_a_file()[1]
    stored = mapper.to_stored_event(call)
    read = orjson.loads(stored.state)
    kind, data = read["sealed"][call.contact.__dict__["commitment"]]
    assert kind == "contact"
    altered = data[:20] + ("A" if data[20] != "A" else "B") + data[21:]
    forged = stored.state.replace(data.encode(), altered.encode())
    with pytest.raises(SealBroken):
        mapper.values_of(forged)
    with pytest.raises(ValueError, match="does not open"):
        mapper.to_domain_event(StoredEvent(stored.originator_id, stored.originator_version,
                                           stored.topic, forged))


def _first_version_facts() -> list[Fact]:
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))["events"]
    mapper = _mapper()
    return [mapper.to_domain_event(StoredEvent(
        originator_id=UUID(r["originator_id"]), originator_version=r["originator_version"],
        topic=r["topic"], state=r["state"].encode("utf-8")))
        for r in rows if r["topic"].startswith("domain.facts:")]


def test_every_kind_of_fact_of_the_first_version_is_stored_and_read_in_the_second_form():
    facts = _first_version_facts()
    assert len({type(f) for f in facts}) >= 26
    mapper = _mapper()
    for fact in facts:
        fields = {k: v for k, v in vars(fact).items() if k not in ("digest", "_body")}
        made = type(fact)(**fields)  # the same fact, made anew in this version
        stored = mapper.to_stored_event(made)
        assert stored.state.startswith(FORM)
        back = mapper.to_domain_event(stored)
        assert vars(back) == {k: v for k, v in vars(made).items() if k != "_body"} \
            | _as_read(made), fact.kind


def test_a_fact_read_from_the_store_is_stored_again_as_it_was():
    mapper = _mapper()
    for fact in _facts_of_a_file():
        stored = mapper.to_stored_event(fact)
        again = mapper.to_stored_event(mapper.to_domain_event(stored))
        assert orjson.loads(again.state)["state"] == orjson.loads(stored.state)["state"]
        assert again.state.startswith(FORM)


def test_an_amount_is_stored_exactly_as_a_decimal():
    mapper = _mapper()
    registered = _facts_of_a_file()[0]
    stored = mapper.to_stored_event(registered)
    assert b'"amount":{"$decimal":"%s"}' % str(registered.amount).encode() in stored.state
    back = mapper.to_domain_event(stored)
    assert type(back.amount) is Decimal
    assert back.amount == registered.amount
