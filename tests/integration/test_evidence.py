"""Tamper evidence, on each store: every change to a stored fact or to an export is named.

The store tests edit the events table directly, as someone with database access would:
change each field of each fact in turn, delete a fact, insert one, swap two.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.infra.export_formats import Scope, verify_export
from adapters.usecases.evidence import UNDESCRIBED, compare, french_finding, walk
from adapters.usecases.exporting import Request, export
from domain.chain import GENESIS, ChainCheck, digest_of
from domain.invoice import invoice_id
from domain.values import CallOutcome, PaymentMeans
from tests.builders import JEAN, eur, register_kwargs
from tests.integration.raw_events import RawEvents

N = "EV-1"


@pytest.fixture
def story(runtime, clock):
    """A file with seven facts of different kinds, and a second, untouched file."""
    files = runtime.files
    files.register_invoice("alice", **register_kwargs(N, issued_on=date(2026, 9, 1),
                                                      due_on=date(2026, 10, 1)))
    files.register_invoice("alice", **register_kwargs("EV-2"))
    clock.advance(days=3)
    files.log_call("bruno", N, contact=JEAN, outcome=CallOutcome.REACHED, summary="Vendredi")
    files.promise_payment("bruno", N, promised_on=clock.today(), promised_by=JEAN,
                          amount=eur("500"))
    files.receive_payment("compta", N, amount=eur("500.00"), received_on=clock.today(),
                          means=PaymentMeans.TRANSFER)
    files.add_note("bruno", N, text="=HYPERLINK(\"http://x\")")
    files.assign("sophie", N, agent="bruno")
    files.correct("sophie", N, target_version=5, reason="Texte précis",
                  changes={"text": "Rappeler lundi"})
    return runtime


def mutated(value: Any) -> Any:
    """The same value, slightly changed (the first leaf of a structure)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return "x"
    if isinstance(value, list):
        return [mutated(value[0]), *value[1:]] if value else ["x"]
    first = sorted(value)[0] if value else None
    return {**value, first: mutated(value[first])} if value else {"x": 1}


def test_a_clean_store_verifies_and_its_digest_is_stable(story):
    digest, problem = walk(story.files)
    assert problem is None
    assert (digest.files, digest.facts) == (2, 8)
    again, _ = walk(story.files)
    assert again.root == digest.root


def changes_to_each_field(stored: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A stored fact with each of its fields changed in turn, each field of its state too
    (stored as its canonical JSON since the second form, `domain/stored.py`)."""
    for name in stored:
        yield name, {**stored, name: mutated(stored[name])}
    inner = stored.get("state") if "relance" in stored else None
    for name in inner or ():
        yield name, {**stored, "state": {**inner, name: mutated(inner[name])}}


def test_every_change_to_every_field_of_every_stored_fact_is_named(story):
    raw = RawEvents(story)
    for version, _, state in raw.rows(N):
        assert state.startswith(b'{"relance":2,')  # facts are stored in the second form
        for name, changed in changes_to_each_field(json.loads(state)):
            raw.set_state(N, version, json.dumps(changed).encode())
            _, problem = walk(story.files)
            assert problem is not None, (version, name)
            assert (problem.file_id, problem.version) == (invoice_id(N).hex, version), name
            assert problem.number == N or name == "number"
            assert UNDESCRIBED not in french_finding(str(problem)), str(problem)
            raw.set_state(N, version, state)
    assert walk(story.files)[1] is None


def test_a_deleted_fact_is_named_at_the_next_one_even_when_put_back_later(story):
    raw = RawEvents(story)
    rows = raw.rows(N)
    raw.delete(N, 3)
    problem = walk(story.files)[1]
    assert (problem.number, problem.version, problem.reason) == (
        N, 4, "version 4 follows version 2")
    raw.insert(N, 3, rows[2][1], rows[2][2])           # put back, but after its successors
    assert (walk(story.files)[1].number, walk(story.files)[1].version) == (N, 4)


def test_an_inserted_fact_is_named(story):
    raw = RawEvents(story)
    rows = raw.rows(N)
    raw.insert(N, 8, rows[3][1], rows[3][2])           # a copy of fact 4 appended
    problem = walk(story.files)[1]
    assert (problem.number, problem.version, problem.reason) == (
        N, 8, "its content does not match its digest")


def test_two_swapped_facts_are_named(story):
    raw = RawEvents(story)
    raw.set_version(N, 3, 99)
    raw.set_version(N, 4, 3)
    raw.set_version(N, 99, 4)
    problem = walk(story.files)[1]                     # in the order recorded: 1, 2, 4...
    assert (problem.number, problem.version, problem.reason) == (
        N, 4, "version 4 follows version 2")


def test_a_file_cut_short_or_rewritten_with_fresh_digests_fails_against_an_earlier_digest(
        story, clock):
    earlier, _ = walk(story.files)
    kept = json.loads(json.dumps(earlier.as_json()))
    story.files.add_note("bruno", "EV-2", text="Après l'empreinte")
    later, problem = walk(story.files, upto=earlier.position)
    assert problem is None
    assert compare(kept, later) is None                                  # later facts: fine
    raw = RawEvents(story)
    last = raw.rows(N)[-1]
    raw.delete(N, last[0])                                               # the chain still holds
    now, problem = walk(story.files, upto=earlier.position)
    assert problem is None
    assert compare(kept, now).startswith(f"{N}: its history up to fact 7 changed")
    assert "no longer gives root" in compare({"root": kept["root"]}, now)
    assert french_finding(compare(kept, now)).startswith(
        f"{N} : son historique jusqu'à l'entrée n° 7 a changé depuis l'empreinte (il compte "
        "maintenant 6 entrée(s)")
    assert french_finding(compare({"root": kept["root"]}, now)).startswith(
        f"le registre jusqu'à la position {earlier.position} ne donne plus l'empreinte ")
    fewer = {**kept, "root": "0" * 64, "heads": {N: kept["heads"][N]}}
    missing = len(later.heads) - 1       # the other file, and the debtor's record
    assert missing == 2
    assert french_finding(compare(fewer, later)) == (
        f"{missing} dossier(s) apparaissent avant la position {earlier.position} alors qu'ils n'y "
        "étaient pas")


def _every_chain_reason() -> set[str | None]:
    """Every reason `domain.chain` gives, each from a chain that breaks it."""
    def fact(version: int, prev_hash: str) -> dict[str, Any]:
        return {"topic": "t", "originator_id": "f" * 32, "originator_version": version,
                "class_version": 1, "state": {"prev_hash": prev_hash}}

    first, check = fact(1, GENESIS), ChainCheck()
    assert check.check(first, digest_of(first)) is None
    relinked = fact(2, "0" * 64)                # points at another digest than the first's
    return {ChainCheck().check(fact(2, GENESIS), "x"),                # the file starts late
            ChainCheck().take_unchained(fact(2, GENESIS)),            # a register starts late
            check.check(fact(3, GENESIS), "x"),                       # a fact is missing
            check.check(relinked, "x"),                               # its content changed
            check.check(relinked, digest_of(relinked))}               # its link is broken


def test_every_finding_is_said_in_french():
    reasons = _every_chain_reason()
    assert len(reasons) == 5
    assert None not in reasons
    for reason in reasons:
        said = french_finding(f"{N}, fact 2 (PaymentReceived): {reason}")
        assert said.startswith(f"{N}, entrée n° 2 (Paiement reçu) : "), reason
        assert UNDESCRIBED not in said, reason
    assert french_finding(
        "the playbook of team 'equipe', fact 5 (TemplateSet): its content does not match its "
        "digest") == ("les réglages de l'équipe « equipe », entrée n° 5 : son contenu a changé "
                      "depuis son enregistrement (il ne correspond plus à son empreinte)")
    assert french_finding(f"file {'a' * 32} (shown as 'EV-9'), fact 1 (InvoiceRegistered): "
                          "version 1 follows version 3").startswith(
        f"le dossier d'identifiant {'a' * 32} (présenté comme « EV-9 »), entrée n° 1 "
        "(Facture enregistrée) : elle porte le n° 1 mais suit l'entrée n° 3")
    assert french_finding("the register entry of export eeeeeeeeeeeeeeee, fact 1 (Made): "
                          "its stored form cannot be read") == (
        "l'entrée du registre des exports eeeeeeeeeeeeeeee, entrée n° 1 : sa forme "
        "enregistrée est illisible")
    assert french_finding("the frobnicator is broken") == UNDESCRIBED     # never English


# -- exports --------------------------------------------------------------------------------

THE_FILE = Scope("file", N)


def _export(runtime, tmp_path: Path, scope: Scope = THE_FILE, as_of=None,
            fmt: str = "json") -> Path:
    buffer = io.BytesIO() if fmt == "pdf" else io.StringIO()
    written = export(runtime, Request(scope, fmt, "auditeur", as_of), buffer)
    path = tmp_path / f"export-{written.digest[:8]}.{fmt}"
    value = buffer.getvalue()
    path.write_bytes(value if isinstance(value, bytes) else value.encode("utf-8"))
    return path


def test_an_export_verifies_offline_and_its_record_names_who_made_it(story, tmp_path):
    path = _export(story, tmp_path)
    problem, held = verify_export(path)
    assert problem is None
    assert (held.files, held.facts) == (1, 7)
    record = story.files.export_record(held.digest)
    assert (record.actor, record.scope, record.key, record.fmt) == ("auditeur", "file", N,
                                                                    "json")
    document = json.loads(path.read_text(encoding="utf-8"))
    (entry,) = document["files"]
    assert entry["computed"]["outstanding"] == "1000.00"
    assert entry["promises"][0]["outcome"] == "kept"
    assert entry["facts"][6]["kind"] == "FactCorrected"


def test_every_change_to_an_export_is_named(story, tmp_path):
    clean = json.loads(_export(story, tmp_path).read_text(encoding="utf-8"))
    target = tmp_path / "changed.json"

    def problem_with(document: dict) -> str | None:
        target.write_text(json.dumps(document), encoding="utf-8")
        problem = verify_export(target)[0]
        assert problem is None or UNDESCRIBED not in french_finding(problem), problem
        return problem

    for index, fact in enumerate(clean["files"][0]["facts"]):
        for name in fact:
            document = copy.deepcopy(clean)
            document["files"][0]["facts"][index][name] = mutated(fact[name])
            problem = problem_with(document)
            assert problem is not None, (index, name)
            assert problem.startswith(f"{N}, fact {index + 1} "), (name, problem)
    for name in clean["files"][0]:
        if name == "facts":
            continue
        document = copy.deepcopy(clean)
        document["files"][0][name] = mutated(clean["files"][0][name])
        assert problem_with(document) is not None, name
    for part in ("header", "footer"):
        for name in clean[part]:
            document = copy.deepcopy(clean)
            document[part][name] = mutated(clean[part][name])
            assert problem_with(document) is not None, (part, name)
    document = copy.deepcopy(clean)
    del document["files"][0]["facts"][3]
    assert problem_with(document).startswith(f"{N}, fact 4 ")
    document = copy.deepcopy(clean)
    document["files"][0]["facts"].insert(2, copy.deepcopy(clean["files"][0]["facts"][5]))
    assert problem_with(document).startswith(f"{N}, fact 3 ")
    document = copy.deepcopy(clean)
    facts = document["files"][0]["facts"]
    facts[1], facts[2] = facts[2], facts[1]
    assert problem_with(document).startswith(f"{N}, fact 2 ")
    assert problem_with(clean) is None


def test_an_export_as_it_stood_equals_the_export_taken_then(story, clock, tmp_path):
    then = clock.now
    first = json.loads(_export(story, tmp_path).read_text(encoding="utf-8"))
    clock.advance(hours=2)
    story.files.add_note("bruno", N, text="Plus tard")
    story.files.receive_payment("compta", N, amount=eur("100.00"), received_on=clock.today(),
                                means=PaymentMeans.CHEQUE)
    as_of = json.loads(_export(story, tmp_path, as_of=then).read_text(encoding="utf-8"))
    assert as_of["header"]["as_of"] == then.isoformat()
    assert as_of["files"] == first["files"]
    now = json.loads(_export(story, tmp_path).read_text(encoding="utf-8"))
    assert len(now["files"][0]["facts"]) == 9
