"""The hash chain: every fact seals its content and its predecessor's digest."""

from datetime import date

from domain.chain import GENESIS, fact_digest
from domain.facts import BASE_FIELDS
from domain.invoice import Invoice
from domain.values import CallOutcome
from tests.builders import JEAN, ManualClock, register_kwargs, stamp


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
    a = Invoice.register(stamp(clock), **register_kwargs()).collect_events()[0]
    b = Invoice.register(stamp(clock), **register_kwargs()).collect_events()[0]
    assert a.digest == b.digest
