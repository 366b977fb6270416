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
