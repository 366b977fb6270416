"""One action about several invoices of a debtor is recorded on each, or on none."""

import pytest

from domain.errors import DifferentDebtors, FileClosed
from domain.values import CallOutcome
from tests.builders import GLOBEX, JEAN, register_kwargs


@pytest.fixture
def three_invoices(files):
    for n in ("A-1", "A-2", "A-3"):
        files.register_invoice("alice", **register_kwargs(n))
    return ["A-1", "A-2", "A-3"]


def test_one_call_about_three_invoices_is_on_each_file_with_one_action_id(files, three_invoices):
    recorded = files.log_call("bruno", three_invoices, contact=JEAN,
                              outcome=CallOutcome.REACHED, summary="Les trois payées lundi")
    assert len(recorded.facts) == 3
    calls = [files.history(n)[-1] for n in three_invoices]
    assert {c.data["action_id"] for c in calls} != {""}
    assert len({c.data["action_id"] for c in calls}) == 1
    assert all(list(c.data["invoice_numbers"]) == three_invoices for c in calls)


def test_if_one_invoice_refuses_the_action_none_of_them_records_it(files, three_invoices):
    files.close_file("sophie", "A-2", reason="Avoir émis")
    with pytest.raises(FileClosed):
        files.log_call("bruno", three_invoices, contact=JEAN, outcome=CallOutcome.REACHED)
    assert [len(files.history(n)) for n in three_invoices] == [1, 2, 1]


def test_invoices_of_different_debtors_cannot_share_an_action(files, three_invoices):
    files.register_invoice("alice", **register_kwargs("G-1", debtor=GLOBEX))
    with pytest.raises(DifferentDebtors, match="belong to different debtors"):
        files.add_note("bruno", ["A-1", "G-1"], text="?")
    assert len(files.history("G-1")) == 1
