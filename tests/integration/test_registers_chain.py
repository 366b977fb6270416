"""The team's playbook and the register of exports are chained like the files: a changed,
deleted or inserted entry is named by `relance verify` (security review F10), and every
export is recorded, also when its content equals an earlier one. On each store."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from adapters.usecases.evidence import compare, walk
from domain.exports import export_id
from domain.scenarios import playbook_id
from tests.integration.raw_events import RawEvents

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stored_registers_v1.json"
WORDING = "{% set subject = 'Relance' %}Bonjour {{ contact.name }}"


def _story(files) -> None:
    files.open_playbook("sophie")
    files.set_template("sophie", "reminder_1", WORDING, reason="Ton plus direct")
    files.choose_default_scenario("sophie", "tpe")
    files.record_export("audit", digest="e" * 64, scope="file", key="FA-1", fmt="json",
                        as_of=None, files=1, facts=3)


def _edited(raw: RawEvents, aggregate: UUID, version: int, old: str, new: str) -> None:
    for stored_version, _, state in raw.rows(aggregate):
        if stored_version == version:
            assert old.encode() in state
            raw.set_state(aggregate, version, state.replace(old.encode(), new.encode()))
            return
    raise AssertionError(f"no version {version}")


def test_a_clean_playbook_and_register_verify(runtime):
    _story(runtime.files)
    digest, problem = walk(runtime.files)
    assert problem is None
    assert digest.records == 2                       # the playbook, one export's record


def test_a_rewritten_wording_reason_is_named(runtime):
    _story(runtime.files)
    raw = RawEvents(runtime)
    template_set = next(v for v, topic, _ in raw.rows(playbook_id("equipe"))
                        if topic.endswith("TemplateSet"))
    _edited(raw, playbook_id("equipe"), template_set, "Ton plus direct", "Ton plus doux")
    _, problem = walk(runtime.files)
    assert problem is not None
    assert problem.number == "the playbook of team 'equipe'"
    assert (problem.version, problem.kind) == (template_set, "TemplateSet")
    assert problem.reason == "its content does not match its digest"


def test_a_changed_exporter_is_named(runtime):
    _story(runtime.files)
    raw = RawEvents(runtime)
    _edited(raw, export_id("e" * 64), 1, '"audit"', '"admin"')
    _, problem = walk(runtime.files)
    assert problem is not None
    assert problem.number.startswith("the register entry of export eeeeeeee")
    assert problem.reason == "its content does not match its digest"


def test_a_deleted_playbook_entry_is_named_even_when_put_back_later(runtime):
    _story(runtime.files)
    raw = RawEvents(runtime)
    rows = raw.rows(playbook_id("equipe"))
    version, topic, state = rows[-2]
    raw.delete(playbook_id("equipe"), version)
    _, problem = walk(runtime.files)
    assert problem is not None
    assert (problem.version, problem.reason) == (
        version + 1, f"version {version + 1} follows version {version - 1}")
    raw.insert(playbook_id("equipe"), version, topic, state)
    assert walk(runtime.files)[1] is not None


def test_a_playbook_cut_short_fails_against_an_earlier_digest(runtime):
    _story(runtime.files)
    earlier, _ = walk(runtime.files)
    raw = RawEvents(runtime)
    last = raw.rows(playbook_id("equipe"))[-1][0]
    raw.delete(playbook_id("equipe"), last)
    now, problem = walk(runtime.files, upto=earlier.position)
    assert problem is None                                 # the chain alone cannot tell
    changed = compare(earlier.as_json(), now)
    assert changed is not None
    assert changed.startswith("the playbook of team 'equipe'")


def test_the_same_export_made_twice_is_recorded_twice(runtime):
    files = runtime.files
    for actor in ("audit", "sophie"):
        files.record_export(actor, digest="f" * 64, scope="portfolio", key="", fmt="csv",
                            as_of=None, files=10, facts=70)
    record = files.export_record("f" * 64)
    assert [actor for actor, _ in record.made] == ["audit", "sophie"]
    assert walk(runtime.files)[1] is None


def test_entries_written_before_the_chain_load_verify_and_chain_on(runtime, clock):
    files = runtime.files
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))["events"]
    files.recorder.insert_events([
        StoredEvent(originator_id=UUID(r["originator_id"]),
                    originator_version=r["originator_version"], topic=r["topic"],
                    state=r["state"].encode("utf-8")) for r in rows])
    before, problem = walk(files)
    assert problem is None
    playbook = files.open_playbook("anyone")
    assert playbook.template("reminder_1").reason == "Ton plus direct"
    assert [actor for actor, _ in files.export_record("a" * 64).made] == ["audit"]
    clock.advance(days=1)
    files.set_template("sophie", "reminder_1", WORDING, reason="Retour au ton habituel")
    files.record_export("sophie", digest="a" * 64, scope="file", key="GOLD-1", fmt="json",
                        as_of=None, files=1, facts=27)
    assert walk(files)[1] is None
    assert [actor for actor, _ in files.export_record("a" * 64).made] == ["audit", "sophie"]
    assert compare(before.as_json(), walk(files, upto=before.position)[0]) is None
    raw = RawEvents(runtime)
    legacy = next(v for v, topic, _ in raw.rows(playbook_id("equipe"))
                  if topic.endswith("TemplateSet"))
    _edited(raw, playbook_id("equipe"), legacy, "Ton plus direct", "Ton plus doux")
    problem = walk(files)[1]                 # the next entry, chained, points at its content
    assert problem is not None
    assert (problem.version, problem.reason) == (
        legacy + 1, "it does not point at the digest of the fact before it")
    assert compare(before.as_json(), walk(files, upto=before.position)[0]) is not None
