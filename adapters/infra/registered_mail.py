"""Electronic registered letters (LRE, « lettre recommandée électronique »): the interface
a provider's adapter implements.

A formal notice goes out today as a paper letter: the daily run prints it with the day's
letters, and once posted its registered-letter number is recorded on each file it covers
(`adapters.usecases.campaign.mark_posted`); the delivery receipt is scanned and attached
to the files (`DocumentAttached`, kind `registered_receipt`).

An electronic registered letter (eIDAS qualified service, article L100 of the Code des
postes et des communications électroniques) replaces the post with a provider's API. No
provider is configured in relance: each needs a contract and credentials, and none can be
reached from a machine without access to it. An adapter for one provides the methods
below; the run then records the provider's deposit proof as the registered-letter number
and attaches its proofs (deposit, then delivery or refusal) as documents of the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Deposit:
    """What the provider answers when it takes a letter: its reference (recorded as the
    registered-letter number) and the deposit proof (a PDF, attached to the files)."""

    reference: str
    deposited_at: datetime
    proof_pdf: bytes


@dataclass(frozen=True)
class Outcome:
    """What happened to a deposited letter: accepted (delivered), refused, or not claimed
    within the legal delay (« négligée »), with the provider's proof."""

    reference: str
    status: str
    """`delivered`, `refused`, `not_claimed`, or `pending`."""
    at: datetime | None
    proof_pdf: bytes | None


class RegisteredMail(Protocol):
    """A provider of electronic registered letters."""

    def deposit(self, letter_pdf: bytes, *, recipient_name: str, recipient_email: str,
                sender_reference: str) -> Deposit:
        """Hands a letter to the provider; raises on refusal (nothing was deposited)."""
        ...

    def outcome(self, reference: str) -> Outcome:
        """What became of a letter deposited earlier."""
        ...
