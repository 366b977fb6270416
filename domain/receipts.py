"""Idempotency: a receipt remembers what a command recorded under a client's key."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.chain import canonical
from domain.errors import IdempotencyKeyReused

RECEIPT_NAMESPACE = UUID("0c7b3c9e-58f4-4d0e-8d7e-5b8a4f1f2a61")


def receipt_id(key: str) -> UUID:
    """The receipt's id, derived from the idempotency key."""
    return uuid5(RECEIPT_NAMESPACE, "command:" + key)


def fingerprint(command: str, arguments: dict[str, Any]) -> str:
    """A digest of a command and its arguments, to catch a key reused for another command."""
    content = json.dumps(
        {"command": command, "arguments": canonical(arguments)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


class CommandReceipt(Aggregate):
    """A command run under an idempotency key, and the facts it recorded."""

    class Issued(Aggregate.Created):
        key: str
        command: str
        fingerprint: str
        actor: str
        facts: list[list[Any]]

    def __init__(
        self, key: str, command: str, fingerprint: str, actor: str, facts: list[list[Any]]
    ) -> None:
        self.key = key
        self.command = command
        self.fingerprint = fingerprint
        self.actor = actor
        self.facts = [(UUID(str(file_id)), int(version)) for file_id, version in facts]

    def check_same_command(self, command: str, digest: str) -> None:
        """Refuses a key that was used for a different command or different arguments."""
        if command != self.command or digest != self.fingerprint:
            raise IdempotencyKeyReused(
                f"idempotency key {self.key!r} was already used for another command",
                key=self.key,
            )
