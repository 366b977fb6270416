"""Two processes on one store, as web processes on several hosts run: the one that did
not erase a person, and does not follow the log, stops showing them, though it had read
their key and kept the files naming them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.bootstrap import Runtime, bootstrap
from adapters.settings import Settings
from adapters.usecases.erasure import erase_person
from domain.batches import Registration
from domain.sealing import ERASED
from domain.values import Contact
from tests.builders import ACME, JEAN, register_kwargs

LUCIE = Contact(name="Lucie Caron", function="Trésorière", email="lucie.caron@acme.example")


@pytest.fixture
def elsewhere(store_url: str, clock) -> Iterator[Runtime]:
    """A second web process on the same store, its read models kept by another process
    (`RELANCE_PROJECTIONS=external`), which looks for erasures at every read instead of
    every 30 seconds."""
    other = bootstrap(Settings(database_url=store_url), clock=clock)
    other.files.sealer.keys.cache_s = 0.0  # type: ignore[attr-defined]
    yield other
    other.close()


def test_a_process_that_read_a_persons_key_shows_them_erased_once_it_reads_the_erasure(
        views, elsewhere):
    files = views.files
    files.register_invoice("alice", **register_kwargs("KEY-1"))  # Jean Dupont, ACME
    files.register_invoice("alice", **register_kwargs("KEY-2", billing_recipient=LUCIE))
    files.log_call("alice", "KEY-1", contact=LUCIE, outcome="reached",
                   summary="Lucie Caron confirme le virement.")

    # The other process reads both files: it keeps them, decoded, with Jean and Lucie.
    first = elsewhere.files.file("KEY-1")
    assert (first.case.billing_recipient.name, first.entries[-1].data["contact"].name) == (
        JEAN.name, LUCIE.name)
    assert elsewhere.files.file("KEY-2").case.billing_recipient.email == LUCIE.email
    elsewhere.files.add_note("bob", "KEY-2", text="Lucie rappellera lundi.")

    erase_person(views, "sophie", ACME.account, LUCIE.name, "demande de la personne")
    # The other process then decides on the file it kept: it decides on the stored one.
    elsewhere.files.send_reminder("bob", "KEY-2", channel="email", level=1,
                                  same_day_reason="Relance demandée par le client.")

    first = elsewhere.files.file("KEY-1")
    second = elsewhere.files.file("KEY-2")
    assert first.case.billing_recipient.name == JEAN.name  # Jean is not erased
    assert first.entries[-1].data["contact"].name == ERASED
    assert (second.case.billing_recipient.name, second.case.billing_recipient.email) == (
        ERASED, "")
    assert str(first.entries[-1].data["summary"]) == "Lucie Caron confirme le virement."


def test_people_registered_by_batches_in_two_processes_read_back_in_both(views, elsewhere):
    rows = [Registration(**register_kwargs(f"LOT-{i}", billing_recipient=person))
            for i, person in enumerate((LUCIE, JEAN, LUCIE))]
    views.files.register_invoices("alice", rows[:2])
    elsewhere.files.register_invoices("bob", rows[2:])  # Lucie again: her key is reused

    for process in (views, elsewhere):
        process.files.forget_people()
        assert [process.files.file(f"LOT-{i}").case.billing_recipient.email
                for i in range(3)] == [LUCIE.email, JEAN.email, LUCIE.email]


def test_the_keys_of_many_subjects_are_made_together_and_read_back_by_another_process(
        views, elsewhere):
    """An import seals hundreds of people at once: their keys are made and read a chunk
    of subjects per query, whatever a subject is written with."""
    subjects = {f"p-{i:04d}" for i in range(1500)} | {
        'p-"entre guillemets"', "p-barre\\oblique", "p-accentué", "p-espace, virgule"}
    views.files.sealer.keys.prefetch(subjects, create=True)
    made = {s: views.files.sealer.keys.key(s, create=False) for s in subjects}
    assert all(made.values())
    assert len(set(made.values())) == len(subjects)  # a key of its own each

    keys = elsewhere.files.sealer.keys
    keys.cache_s = 30.0  # type: ignore[attr-defined]  # as read, kept: no read per key
    keys.prefetch(subjects)
    assert {s: keys.key(s, create=False) for s in subjects} == made
    assert keys.key("p-personne", create=False) is None
