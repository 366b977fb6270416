"""Giving debtors an owner, from the web, the API and the command line alike.

The owner must be an active account of the team that records facts (an agent or a
supervisor); an empty owner puts the debtors back « à attribuer ». Many debtors at once
are one command, recorded in one transaction (`CaseFiles.assign_debtors`).
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.bootstrap import Runtime
from domain.engine import Recorded
from domain.errors import DomainError
from projections.french import count


class NotAnActiveAgent(DomainError):
    """Debtors given to somebody without an active account that records facts."""

    code = "not_an_active_agent"


NOT_AN_AGENT = "Choisissez un compte actif de l'équipe (agent ou superviseur)."
"""What people read when they choose somebody who cannot own debtors."""


def assign_debtors(runtime: Runtime, actor: str, accounts: Sequence[str], agent: str,
                   reason: str = "") -> Recorded:
    """Gives the debtors to `agent` (or back « à attribuer » when empty), checked first."""
    agent = (agent or "").strip()
    if agent and not runtime.accounts.is_recorder(agent):
        raise NotAnActiveAgent(f"{agent!r} has no active account that records facts",
                               field="agent", agent=agent)
    return runtime.files.assign_debtors(actor, list(accounts), agent=agent, reason=reason)


def assigned_notice(debtors: int, moved: int, agent: str, already: int = 0) -> str:
    """« 3 débiteurs et 40 dossiers ouverts confiés à Bruno Petit. » (`agent` is the name
    shown), and how many of those chosen already were."""
    to = f"confiés à {agent}" if agent else "remis « à attribuer »"
    if not debtors:
        return f"Rien n'a changé : {count(already, 'débiteur')} déjà {to.split(' ', 1)[1]}."
    files = count(moved, "dossier ouvert", "dossiers ouverts")
    were = "était" if already < 2 else "étaient"
    return f"{count(debtors, 'débiteur')} et {files} {to}" + (
        f" (dont {already} qui l'{were} déjà)." if already else ".")
