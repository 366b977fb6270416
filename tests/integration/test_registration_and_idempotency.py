"""One invoice, one file; a resubmitted command records nothing the second time."""

import dataclasses

import pytest

from adapters.usecases.evidence import walk
from domain.batches import CREATED, Registration
from domain.errors import AlreadyRegistered, IdempotencyKeyReused, InvoiceNotFound
from domain.invoice import invoice_id
from tests.builders import eur, register_kwargs


def _stored_facts(files, number):
    return files.recorder.select_events(invoice_id(number))


def test_registering_the_same_number_twice_is_refused_and_leaves_one_file(files):
    files.register_invoice("alice", **register_kwargs("FA-9"))
    with pytest.raises(AlreadyRegistered, match="invoice FA-9 is already registered"):
        files.register_invoice("bruno", **register_kwargs("FA-9"))
    assert len(_stored_facts(files, "FA-9")) == 1
    assert files.history("FA-9")[0].actor == "alice"


def test_an_unknown_invoice_number_is_said_so(files):
    with pytest.raises(InvoiceNotFound, match="no file for invoice NOPE"):
        files.add_note("alice", "NOPE", text="?")


def test_the_same_command_with_the_same_key_records_one_fact(files):
    files.register_invoice("alice", **register_kwargs())
    first = files.add_note("alice", "FA-2026-0001", text="Rappeler", idempotency_key="k-1")
    again = files.add_note("alice", "FA-2026-0001", text="Rappeler", idempotency_key="k-1")
    assert [e.kind for e in files.history("FA-2026-0001")] == ["InvoiceRegistered", "NoteAdded"]
    assert again.facts == first.facts
    assert again.replayed
    assert not first.replayed
    assert again.notification_id >= first.notification_id


def test_a_resubmitted_registration_returns_the_first_result(files):
    first = files.register_invoice("alice", **register_kwargs(), idempotency_key="reg-1")
    again = files.register_invoice("alice", **register_kwargs(), idempotency_key="reg-1")
    assert again.facts == first.facts
    assert again.replayed


def test_a_key_reused_for_another_command_is_refused(files):
    files.register_invoice("alice", **register_kwargs())
    files.add_note("alice", "FA-2026-0001", text="Rappeler", idempotency_key="k-2")
    with pytest.raises(IdempotencyKeyReused, match="'k-2' was already used"):
        files.add_note("alice", "FA-2026-0001", text="Autre chose", idempotency_key="k-2")
    assert len(files.history("FA-2026-0001")) == 2


def test_a_number_twice_in_one_bulk_registration_opens_one_file_and_refuses_the_other(files):
    """An ERP's push may name an invoice twice: written as ' FA-7 ' the second time, it is
    still the same invoice; the invoices beside it are registered."""
    outcomes = files.register_invoices("erp", [
        Registration(**register_kwargs("FA-7")),
        Registration(**register_kwargs("FA-8")),
        Registration(**register_kwargs(" FA-7 ", amount=eur("99.00")))])
    assert outcomes[:2] == [CREATED, CREATED]
    assert isinstance(outcomes[2], AlreadyRegistered)
    assert len(_stored_facts(files, "FA-7")) == 1
    assert files.file("FA-7").case.outstanding == eur("1500.00").amount


def test_a_file_opened_in_bulk_is_the_file_its_registration_opens_alone(files):
    """A bulk registration saves each invoice's registration without folding its file:
    the file read back is, fact for fact, the one a registration alone opens, its person
    sealed as any other, and the chain holds."""
    files.register_invoice("erp", **register_kwargs("FA-1"))
    files.register_invoices("erp", [Registration(**register_kwargs("FA-2"))])
    alone, bulk = files.history("FA-1"), files.history("FA-2")
    assert [(e.kind, e.actor) for e in bulk] == [(e.kind, e.actor) for e in alone]
    assert bulk[0].data == {**alone[0].data, "number": "FA-2"}
    assert bulk[0].data["billing_recipient"].subject  # sealed under the person's key
    assert files.case("FA-2") == dataclasses.replace(files.case("FA-1"), number="FA-2")
    assert walk(files)[1] is None
