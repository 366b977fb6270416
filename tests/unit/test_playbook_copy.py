"""A copy of the playbook (what the repository hands each reader) is a playbook of its own:
changing it leaves the one it was copied from as it was."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

from domain.scenarios import SHIPPED, OwnerRule, Playbook

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _changed(playbook: Playbook, n: int) -> None:
    """One change of every kind the playbook records."""
    scenario = SHIPPED[n % len(SHIPPED)]
    playbook.set_scenario(scenario, actor="claire", recorded_at=NOW, reason=f"version {n}")
    playbook.choose_default(scenario.name, actor="claire", recorded_at=NOW)
    playbook.choose_for_debtor(f"411D{n}", scenario.name, actor="claire", recorded_at=NOW)
    playbook.set_penalty_rate(f"411D{n}", Decimal(f"{n + 1}.5"), actor="claire",
                              recorded_at=NOW)
    playbook.record_absence("amelie.martin", date(2026, 12, n + 1), date(2026, 12, n + 2),
                            actor="claire", recorded_at=NOW)
    playbook.set_template("reminder_1", f"Objet {n}\n\nTexte {n}", actor="claire",
                          recorded_at=NOW, reason=f"wording {n}")
    playbook.set_owner_rules([OwnerRule(agent=f"agent{n}", postcodes=("69",))], actor="claire",
                             recorded_at=NOW, reason=f"rules {n}")


def test_changing_a_copy_of_the_playbook_leaves_the_original_as_it_was():
    original = Playbook(team="equipe", timestamp=NOW)
    _changed(original, 0)
    _changed(original, 1)
    before = copy.deepcopy(vars(original))  # the standard library's copy, field by field

    clone = copy.deepcopy(original)
    assert vars(clone) == vars(original)
    _changed(clone, 2)

    assert vars(original) == before
    assert vars(clone) != before
    assert len(clone.revisions[SHIPPED[2 % len(SHIPPED)].name]) == \
        len(before["revisions"].get(SHIPPED[2 % len(SHIPPED)].name, [])) + 1
    assert clone.absences["amelie.martin"][-1] == (date(2026, 12, 3), date(2026, 12, 4))
    assert original.absences["amelie.martin"][-1] == (date(2026, 12, 2), date(2026, 12, 3))
