"""The debtor is the unit of work: one owner, one contact a day, on both stores.

Stories through the application service, read back as the team sees them: the case view
(whose file is it), the file's history (why a second contact went ahead), the refusal a
colleague gets.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.usecases.evidence import french_finding, walk
from domain.debtors import SameDayContact, debtor_id
from domain.scenarios import OwnerRule
from domain.values import CallOutcome, Channel, Contact, Debtor
from tests.builders import ACME, JEAN, eur, register_kwargs
from tests.integration.raw_events import RawEvents

ZETA = Debtor(account="411ZETA", name="Zeta Transports", siren="552100554")


def settle(runtime, recorded) -> None:
    assert runtime.wait_for_views(recorded.notification_id)


def agents(runtime, account: str) -> set[str | None]:
    rows = runtime.reads.views.rows(
        "SELECT agent FROM {case_view} WHERE debtor_account = :a", {"a": account}, {})
    return {row["agent"] for row in rows}


def register(files, count: int, debtor=ACME, prefix: str = "FA") -> list[str]:
    numbers = [f"{prefix}-{i:03d}" for i in range(1, count + 1)]
    for number in numbers:
        files.register_invoice("import", **register_kwargs(number, debtor=debtor))
    return numbers


def test_a_debtor_reassigned_with_40_files_moves_them_all_in_one_act(views):
    files = views.files
    numbers = register(files, 40)
    files.assign_debtors("superviseur", ACME.account, agent="alice", reason="portefeuille")
    files.assign("superviseur", numbers[0], agent="bruno")  # an exception, visible
    recorded = files.assign_debtors("superviseur", [ACME.account], agent="chloe",
                                    reason="départ d'Alice")
    settle(views, recorded)
    rows = views.reads.views.rows(
        "SELECT number, agent, file_agent FROM {case_view} WHERE debtor_account = :a",
        {"a": ACME.account}, {})
    by_number = {row["number"]: row for row in rows}
    assert by_number[numbers[0]]["agent"] == "bruno"
    assert {by_number[n]["agent"] for n in numbers[1:]} == {"chloe"}
    record = files.debtor_record(ACME.account)
    assert record.owner == "chloe"
    # one act: one event on the debtor's record, however many files follow it
    events = list(files.events.get(record.id))
    assert [type(e).__name__ for e in events].count("OwnerAssigned") == 2


def test_a_file_registered_later_follows_its_debtors_owner(views):
    files = views.files
    files.register_invoice("import", **register_kwargs("FA-1"))
    files.assign_debtors("superviseur", ACME.account, agent="alice")
    recorded = files.register_invoice("import", **register_kwargs("FA-2"))
    settle(views, recorded)
    assert agents(views, ACME.account) == {"alice"}


def test_owner_rules_give_new_debtors_an_owner_or_leave_them_to_assign(views):
    files = views.files
    files.set_owner_rules("superviseur", [
        OwnerRule(agent="alice", minimum=eur("10000.00").amount),
        OwnerRule(agent="bruno", accounts_from="411A", accounts_to="411M")],
        reason="grands comptes à Alice, A-M à Bruno")
    files.register_invoice("import", **register_kwargs("FA-BIG", amount=eur("25000.00"),
                                                       debtor=ZETA))
    files.register_invoice("import", **register_kwargs("FA-ACME"))
    other = Debtor(account="411ZZZ", name="Zorro SARL")
    recorded = files.register_invoice("import", **register_kwargs("FA-Z", debtor=other))
    settle(views, recorded)
    assert files.debtor_record(ZETA.account).owner == "alice"
    assert files.debtor_record(ACME.account).owner == "bruno"
    assert files.debtor_record(other.account) is None  # « à attribuer »
    assert agents(views, other.account) == {None}


def test_a_second_contact_the_same_day_is_refused_then_accepted_with_its_reason(views, clock):
    files = views.files
    register(files, 3)
    files.log_call("alice", "FA-001", contact=JEAN, outcome=CallOutcome.NO_ANSWER)
    clock.advance(hours=2)
    with pytest.raises(SameDayContact) as refused:
        files.send_reminder("bruno", "FA-002", channel=Channel.EMAIL, level=1)
    assert refused.value.context["actor"] == "alice"
    assert refused.value.code == "same_day_contact"
    recorded = files.send_reminder("bruno", "FA-002", channel=Channel.EMAIL, level=1,
                                   same_day_reason="le client demande la facture par écrit")
    settle(views, recorded)
    kinds = [e.kind for e in files.history("FA-002")]
    assert kinds[-2:] == ["ReminderSent", "SecondContactConfirmed"]
    history = views.reads.history("FA-002")
    assert "déjà contacté par alice" in history[-1]["summary"]
    assert "le client demande la facture par écrit" in history[-1]["summary"]
    # the same person may call again; the next day is a new day for everyone
    files.log_call("bruno", "FA-003", contact=JEAN, outcome=CallOutcome.NO_ANSWER)
    assert files.history("FA-003")[-1].kind == "CallLogged"
    clock.advance(days=1)
    files.log_call("chloe", "FA-003", contact=JEAN, outcome=CallOutcome.NO_ANSWER)


def test_one_call_about_five_files_is_one_contact_and_a_note_is_none(views, clock):
    files = views.files
    numbers = register(files, 5)
    files.log_call("alice", numbers, contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Règlement des cinq factures la semaine prochaine")
    assert all(files.history(n)[-1].kind == "CallLogged" for n in numbers)
    files.add_note("bruno", numbers[0], text="Vu avec Alice")  # not a contact
    with pytest.raises(SameDayContact):
        files.log_call("bruno", numbers[1], contact=JEAN, outcome=CallOutcome.NO_ANSWER)


def test_a_call_recorded_today_for_yesterday_counts_for_yesterday(views, clock):
    files = views.files
    register(files, 2)
    yesterday = clock() - timedelta(days=1)
    files.log_call("alice", "FA-001", contact=JEAN, outcome=CallOutcome.REACHED,
                   summary="Appel d'hier", occurred_at=yesterday)
    files.log_call("bruno", "FA-002", contact=JEAN, outcome=CallOutcome.NO_ANSWER)
    with pytest.raises(SameDayContact):
        files.log_call("chloe", "FA-002", contact=Contact(name="Standard"),
                       outcome=CallOutcome.NO_ANSWER, occurred_at=yesterday)


def test_a_changed_owner_on_a_debtors_record_is_named_by_verify(runtime):
    files = runtime.files
    register(files, 1)
    files.assign_debtors("superviseur", ACME.account, agent="alice", reason="portefeuille")
    digest, problem = walk(files)
    assert problem is None
    assert digest.records == 1
    raw = RawEvents(runtime)
    record = debtor_id(ACME.account)
    version = next(v for v, topic, _ in raw.rows(record) if topic.endswith("OwnerAssigned"))
    for stored_version, _, state in raw.rows(record):
        if stored_version == version:
            raw.set_state(record, version, state.replace(b"alice", b"bruno"))
    _, problem = walk(files)
    assert problem is not None
    assert problem.number == "the record of debtor '411ACME'"
    assert french_finding(str(problem)).startswith("la fiche du débiteur « 411ACME »")
