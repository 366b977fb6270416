"""Commands on debtors' records: owners, identity, people (see `domain.debtors`).

Reassigning many debtors at once is one command and one transaction: every record moves,
or none does. Whether an agent may own debtors (an active account of the team) is the
accounts' business, checked by the callers before they get here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from domain.debtors import DebtorDetails, DebtorRecord
from domain.engine import Recorded
from domain.errors import MissingInformation
from domain.sealing import subject_of
from domain.team import DEFAULT_TEAM, TeamSettings
from domain.values import Stamp, reference

CHUNK = 200
"""Debtors' records an import updates per transaction."""


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
            changed = record.change_identity(changes, actor=stamp.actor,
                                             timestamp=stamp.recorded_at)
            return [record] if changed else []

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
            changed = record.record_person(**person, actor=stamp.actor,
                                           timestamp=stamp.recorded_at)
            return [record] if changed else []

        return self._execute("record_debtor_person", actor, occurred_at, idempotency_key,
                             {"account": account, **person}, decide)

    def erase_debtor_person(self, actor: str, account: str, *, who: str, reason: str,
                            occurred_at: datetime | None = None) -> str:
        """Erases a person at the debtor, known by the name (or, for a contact recorded
        without one, the e-mail or phone) written on the files: records the erasure on
        the debtor's record, then destroys their key, and this process forgets every
        file it holds in memory. Returns their subject. Erasing again destroys the key
        again if it is still there (a first attempt that stopped half-way)."""
        return self.erase_debtor_subject(actor, account, subject_of(account, who),
                                         reason=reason, occurred_at=occurred_at)

    def erase_debtor_subject(self, actor: str, account: str, subject: str, *, reason: str,
                             occurred_at: datetime | None = None) -> str:
        """Erases what is sealed under `subject` at the debtor (a person, or the debtor's
        own free text: `debtor_subject`), as `erase_debtor_person` says."""

        def decide(stamp: Stamp) -> list[DebtorRecord]:
            record = self.debtor_to_decide_on(account, stamp)
            changed = record.erase_person(subject, reason=reason, actor=stamp.actor,
                                          timestamp=stamp.recorded_at)
            return [record] if changed else []

        self._execute("erase_debtor_person", actor, occurred_at, None,
                      {"account": account, "subject": subject, "reason": reason}, decide)
        self.sealer.keys.destroy(subject)
        self.forget_people()
        return subject

    def forget_people(self) -> None:
        """Drops what this process keeps in memory of files and debtors (and the keys it
        read): after an erasure, they are read again, without the erased person."""
        self.sealer.forget()
        self.forget_cached_files()

    def update_debtors(self, actor: str, details: Sequence[DebtorDetails]) -> int:
        """Records what an import says of its debtors (identity fields, people), many
        debtors per transaction; what is already known records nothing, so importing a
        file again adds nothing. Returns how many debtors' records changed. Checked first
        with `identity_values` and `person_values`, a line's details do not fail here."""
        by_account: dict[str, DebtorDetails] = {}
        for item in details:
            known = by_account.get(item.account)
            by_account[item.account] = item if known is None else DebtorDetails(
                item.account, {**known.identity, **{k: v for k, v in item.identity.items() if v}},
                (*known.people, *item.people))
        accounts = list(by_account)
        return sum(self._update_chunk(actor, [by_account[a] for a in accounts[i:i + CHUNK]])
                   for i in range(0, len(accounts), CHUNK))

    def _update_chunk(self, actor: str, chunk: Sequence[DebtorDetails]) -> int:
        saved: list[DebtorRecord] = []

        def decide(stamp: Stamp) -> list[DebtorRecord]:
            saved.clear()  # a retried attempt decides anew
            for item in chunk:
                record = self.debtor_to_decide_on(item.account, stamp)
                moved = record.change_identity(item.identity, actor=stamp.actor,
                                               timestamp=stamp.recorded_at)
                for person in item.people:
                    moved = record.record_person(**person, actor=stamp.actor,
                                                 timestamp=stamp.recorded_at) or moved
                if moved:
                    saved.append(record)
            return list(saved)

        self._execute("update_debtors", actor, None, None,
                      {"accounts": [item.account for item in chunk]}, decide)
        return len(saved)

    def give_owners(self, actor: str, debtors: dict[str, tuple[Decimal, str]],
                    team: str = DEFAULT_TEAM) -> Recorded | None:
        """Gives new debtors the owner the team's rules name for them, from the amount they
        owe and their postcode; a debtor no rule names stays « à attribuer ». A debtor that
        was ever given an owner (or put « à attribuer » by somebody) is left as it is; a
        record holding only its identity, people or contacts is still new."""
        playbook = self.playbook(team)
        if playbook is None or not playbook.owner_rules:
            return None
        # The rules first (no I/O); then only the debtors a rule names are read.
        named = {account: playbook.owner_for(account, amount, postcode)
                 for account, (amount, postcode) in debtors.items()}
        chosen = {account: agent for account, agent in named.items() if agent
                  and ((record := self.debtor_record(account)) is None
                       or record.owner_since is None)}
        if not chosen:
            return None

        def decide(stamp: Stamp) -> list[DebtorRecord]:
            records = []
            for account, agent in chosen.items():
                record = self.debtor_to_decide_on(account, stamp)
                if record.owner_since is not None:  # given an owner meanwhile
                    continue
                record.assign_owner(agent, actor=stamp.actor, timestamp=stamp.recorded_at,
                                    reason="règle d'attribution")
                records.append(record)
            return records

        return self._execute("give_owners", actor, None, None, {"debtors": sorted(chosen)},
                             decide)
