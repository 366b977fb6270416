"""Commands on debtors' records: owners, identity, people (see `domain.debtors`).

Reassigning many debtors at once is one command and one transaction: every record moves,
or none does. Whether an agent may own debtors (an active account of the team) is the
accounts' business, checked by the callers before they get here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from domain.debtors import DebtorRecord
from domain.engine import Recorded
from domain.errors import MissingInformation
from domain.team import DEFAULT_TEAM, TeamSettings
from domain.values import Stamp, reference


class DebtorBook(TeamSettings):
    """Owners, identity and people of the debtors."""

    def assign_debtors(self, actor: str, accounts: str | Sequence[str], *, agent: str,
                       reason: str = "", occurred_at: datetime | None = None,
                       idempotency_key: str | None = None) -> Recorded:
        """Gives debtors to an agent (an empty agent: « à attribuer »), with every open and
        future file of theirs that is not an exception; all of them in one transaction."""
        listed = list(dict.fromkeys(reference(a, "debtor_account")
                                    for a in ([accounts] if isinstance(accounts, str)
                                              else accounts)))
        if not listed:
            raise MissingInformation("no debtor to assign", field="accounts")

        def decide(stamp: Stamp) -> list[DebtorRecord]:
            records = [self.debtor_to_decide_on(account, stamp) for account in listed]
            for record in records:
                record.assign_owner(agent, actor=stamp.actor, timestamp=stamp.recorded_at,
                                    reason=reason)
            return records

        return self._execute("assign_debtors", actor, occurred_at, idempotency_key,
                             {"accounts": listed, "agent": agent, "reason": reason}, decide)

    def change_debtor_identity(self, actor: str, account: str, *, changes: dict[str, str],
                               occurred_at: datetime | None = None,
                               idempotency_key: str | None = None) -> Recorded:
        """Records the identity fields given (legal name, SIREN, SIRET, legal form,
        registered office, billing address); blank ones keep what was known."""

        def decide(stamp: Stamp) -> list[DebtorRecord]:
            record = self.debtor_to_decide_on(account, stamp)
            record.change_identity(changes, actor=stamp.actor, timestamp=stamp.recorded_at)
            return [record]

        return self._execute("change_debtor_identity", actor, occurred_at, idempotency_key,
                             {"account": account, "changes": changes}, decide)

    def record_debtor_person(self, actor: str, account: str, *, name: str,
                             function: str = "", role: str = "", phone: str = "",
                             email: str = "", occurred_at: datetime | None = None,
                             idempotency_key: str | None = None) -> Recorded:
        """Records a person at the debtor, or what is new about them (field by field)."""
        person = dict(name=name, function=function, role=role, phone=phone, email=email)

        def decide(stamp: Stamp) -> list[DebtorRecord]:
            record = self.debtor_to_decide_on(account, stamp)
            record.record_person(**person, actor=stamp.actor, timestamp=stamp.recorded_at)
            return [record]

        return self._execute("record_debtor_person", actor, occurred_at, idempotency_key,
                             {"account": account, **person}, decide)

    def give_owners(self, actor: str, debtors: dict[str, tuple[Decimal, str]],
                    team: str = DEFAULT_TEAM) -> Recorded | None:
        """Gives new debtors (no record yet) the owner the team's rules name for them, from
        the amount they owe and their postcode; a debtor no rule names stays
        « à attribuer ». Debtors with a record are left as they are."""
        playbook = self.playbook(team)
        if playbook is None:
            return None
        new = {account: facts for account, facts in debtors.items()
               if self.debtor_record(account) is None}
        chosen = {account: playbook.owner_for(account, amount, postcode)
                  for account, (amount, postcode) in new.items()}
        chosen = {account: agent for account, agent in chosen.items() if agent}
        if not chosen:
            return None

        def decide(stamp: Stamp) -> list[DebtorRecord]:
            records = []
            for account, agent in chosen.items():
                record = self.debtor_to_decide_on(account, stamp)
                if record.owner:
                    continue
                record.assign_owner(agent, actor=stamp.actor, timestamp=stamp.recorded_at,
                                    reason="règle d'attribution")
                records.append(record)
            return records

        return self._execute("give_owners", actor, None, None, {"debtors": sorted(chosen)},
                             decide)
