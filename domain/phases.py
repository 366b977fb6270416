"""Where a file stands, as words the rest of relance shares: the phases that end a file,
those that end a promised callback, those that hold a commitment, and the order in which
the day's work comes. Python and SQL (the case view, the queries, the worklist) read
these definitions, never their own copies.
"""

from __future__ import annotations

from collections.abc import Iterable

ENDED = ("written_off", "paid", "closed", "handed_over")
"""Phases in which a file has nothing more to do."""
DECIDED_ENDS = ("written_off", "closed", "handed_over")
"""Ends a person decides (a payment ends a file by itself): supervisors record them."""
CALLBACKS_END = ("written_off", "paid", "closed")
"""Phases in which a promised callback no longer matters (a handed-over file keeps it)."""
UNCLAIMED = ("written_off", "closed")
"""Phases whose balance is no longer claimed: it leaves the aging and the amounts overdue."""
COMMITMENTS = ("promised", "in_payment_plan")
"""Phases holding a commitment of the debtor, which can be broken."""
PRIORITY = ("commitment_broken", "callback", "notice_expired", "step")
"""The day's work, first to last: a broken commitment (a promise not kept, an instalment
missed), then a callback promised to the debtor, then a formal notice whose deadline
passed unpaid (to hand over or chase), then the scenario's next step; within each, the
larger amount × days late first."""
RANK = {kind: rank for rank, kind in enumerate(PRIORITY)}


def sql_list(values: Iterable[str]) -> str:
    """A tuple of fixed words as an SQL list: `('paid', 'closed')`."""
    words = list(values)
    assert all(word.isidentifier() for word in words), words  # our own words, never input
    return "(" + ", ".join(f"'{word}'" for word in words) + ")"
