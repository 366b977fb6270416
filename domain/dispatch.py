"""A message of the daily run: planned once, then sent once, or set aside with why.

The daily run (`adapters.usecases.campaign`) plans, for each debtor, one message per
document the scenario's automatic steps call for that day: all the debtor's invoices
concerned, in one table. Each message is its own small record, keyed by (day, debtor,
document): planning the same day again finds it instead of making another, and its
Message-ID comes from that key, so that it is the same whoever builds it, however often.

Its life, every step a recorded fact:

- `Planned` (the intent, before anything goes out): invoices, scenario steps, recipient,
  Message-ID, mode. A step « à valider » waits for a person (`Approved`, possibly with
  the wording edited for this message, or `Skipped` with a reason).
- `Sending`: recorded just before the message is handed to the server. A run that finds
  a message `Sending` without an outcome (the process died meanwhile) cannot know whether
  the server took it: the facts on the files (recorded with the message's key, once)
  decide when they exist; otherwise it is « incertain » and a person checks the mailbox
  (`Resolved`): it is never sent a second time by itself.
- `Sent` (with the invoices it really covered: a file paid, promised, disputed or put on
  a plan after the planning is dropped from it), `Failed` (the server refused or was
  down: the next run tries again), `Skipped`.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import event

from domain.chain import ChainedAggregate
from domain.errors import DomainError
from domain.values import Contact

DISPATCH_NAMESPACE = UUID("9d3c7a52-3f0e-4c1b-8a57-1e6b2f9c4d80")

PLANNED, TO_VALIDATE, APPROVED, SENDING = "planned", "to_validate", "approved", "sending"
SENT, FAILED, SKIPPED, UNCERTAIN, PRINTED = "sent", "failed", "skipped", "uncertain", "printed"
STATES = {PLANNED: "prévu", TO_VALIDATE: "à valider", APPROVED: "validé, à envoyer",
          SENDING: "en cours d'envoi", SENT: "envoyé", FAILED: "échec, nouvel essai au "
          "prochain passage", SKIPPED: "écarté", UNCERTAIN: "incertain : vérifier la boîte "
          "d'envoi", PRINTED: "lettre à poster"}
"""Each state, as people read it."""
TO_SEND = (PLANNED, APPROVED, FAILED)
"""States in which the run sends the message."""
FINAL = (SENT, SKIPPED, PRINTED)


class DispatchRefused(DomainError):
    """A change a message's state does not allow (validating a message already sent)."""

    code = "dispatch_refused"


def dispatch_key(day: date, account: str, template: str) -> str:
    """The message of `template` to a debtor on a day: one at most."""
    return f"{day.isoformat()}/{account}/{template}"


def dispatch_id(key: str) -> UUID:
    """The record of a message, from its key."""
    return uuid5(DISPATCH_NAMESPACE, "dispatch:" + key)


def message_id_for(key: str, domain: str) -> str:
    """The message's Message-ID: the same for the same key, whoever builds it."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<relance.{digest}@{domain or 'relance.local'}>"


class Dispatch(ChainedAggregate):
    """One message of the daily run to one debtor (see the module's text)."""

    @event("Planned")
    def __init__(self, key: str, day: date, account: str, debtor_name: str, template: str,
                 channel: str, mode: str, numbers: list[str], steps: dict[str, str],
                 recipient: str, message_id: str, owner: str, actor: str,
                 timestamp: datetime, addressee: Contact | None = None) -> None:
        self.key = key
        self.day = day
        self.account = account
        self.debtor_name = debtor_name
        self.template = template
        self.channel = channel
        self.mode = mode
        self.planned_numbers = list(numbers)
        self.numbers = list(numbers)
        self.steps = dict(steps)
        self.recipient = recipient
        self.addressee = addressee
        """The person an e-mail is written to (its salutation), as known at the planning;
        None for a letter, and for messages planned before it was recorded."""
        self.message_id = message_id
        self.owner = owner
        self.planned_by = actor
        self.state = TO_VALIDATE if mode == "validate" else PLANNED
        self.wording: dict[str, str] | None = None
        self.reason = ""
        self.error = ""
        self.attempts = 0
        self.sha256 = ""
        self.attachments: list[str] = []
        self.dropped: dict[str, str] = {}
        self.decided_by = ""
        self.registered_number = ""
        self.updated_at = timestamp

    @staticmethod
    def create_id(key: str, **_: Any) -> UUID:
        """The record's id comes from the message's key."""
        return dispatch_id(key)

    # -- commands -----------------------------------------------------------------------

    def approve(self, *, actor: str, at: datetime, subject: str = "", text: str = "") -> None:
        """A person lets the message go (as planned, or with its wording edited)."""
        self._require(TO_VALIDATE, "validate")
        self._approved(actor=actor, timestamp=at, subject=subject, text=text)

    def skip(self, *, actor: str, at: datetime, reason: str) -> None:
        """The message will not go out, and why."""
        if self.state not in (PLANNED, TO_VALIDATE, APPROVED, FAILED):
            raise DispatchRefused(f"message {self.key} is {self.state}: it cannot be skipped")
        if not reason.strip():
            raise DispatchRefused("a message is skipped with a reason")
        self._skipped(actor=actor, timestamp=at, reason=reason.strip())

    def start_sending(self, *, at: datetime, numbers: list[str], dropped: dict[str, str],
                      recipient: str, sha256: str, attachments: list[str]) -> None:
        """Just before the message is handed to the server, with what it covers now, the
        digest of its text and of its attachments."""
        if self.state not in TO_SEND:
            raise DispatchRefused(f"message {self.key} is {self.state}: it is not to send")
        self._sending(timestamp=at, numbers=numbers, dropped=dropped, recipient=recipient,
                      sha256=sha256, attachments=attachments)

    def sent(self, *, at: datetime, sha256: str, attachments: list[str]) -> None:
        """The server took the message (or, for a letter, it was printed)."""
        self._sent(timestamp=at, sha256=sha256, attachments=attachments,
                   state=PRINTED if self.channel == "letter" else SENT)

    def failed(self, *, at: datetime, error: str) -> None:
        """The server refused the message or could not be reached: nothing went out."""
        self._failed(timestamp=at, error=error)

    def uncertain(self, *, at: datetime) -> None:
        """Found `Sending` without an outcome: the server may or may not have it."""
        if self.state == SENDING:
            self._uncertain(timestamp=at)

    def resolve(self, *, actor: str, at: datetime, went_out: bool) -> None:
        """A person who checked the mailbox says whether the message went out."""
        self._require(UNCERTAIN, "resolve")
        self._resolved(actor=actor, timestamp=at, went_out=went_out)

    def posted(self, *, actor: str, at: datetime, number: str) -> None:
        """A printed formal notice was posted, under this registered-letter number."""
        if not number.strip():
            raise DispatchRefused("a registered letter is posted with its number")
        self._posted(actor=actor, timestamp=at, number=number.strip())

    def _require(self, state: str, what: str) -> None:
        if self.state != state:
            raise DispatchRefused(f"message {self.key} is {self.state}: cannot {what} it")

    # -- events -------------------------------------------------------------------------

    @event("Approved")
    def _approved(self, actor: str, timestamp: datetime, subject: str, text: str) -> None:
        self.state = APPROVED
        self.decided_by = actor
        self.wording = {"subject": subject, "text": text} if text.strip() else None
        self.updated_at = timestamp

    @event("Skipped")
    def _skipped(self, actor: str, timestamp: datetime, reason: str) -> None:
        self.state = SKIPPED
        self.decided_by = actor
        self.reason = reason
        self.updated_at = timestamp

    @event("Sending")
    def _sending(self, timestamp: datetime, numbers: list[str], dropped: dict[str, str],
                 recipient: str, sha256: str, attachments: list[str]) -> None:
        self.state = SENDING
        self.sha256 = sha256
        self.attachments = list(attachments)
        self.numbers = list(numbers)
        self.dropped = dict(dropped)
        self.recipient = recipient
        self.attempts += 1
        self.updated_at = timestamp

    @event("Sent")
    def _sent(self, timestamp: datetime, sha256: str, attachments: list[str],
              state: str) -> None:
        self.state = state
        self.sha256 = sha256
        self.attachments = list(attachments)
        self.error = ""
        self.updated_at = timestamp

    @event("Failed")
    def _failed(self, timestamp: datetime, error: str) -> None:
        self.state = FAILED
        self.error = error
        self.updated_at = timestamp

    @event("Posted")
    def _posted(self, actor: str, timestamp: datetime, number: str) -> None:
        self.registered_number = number
        self.decided_by = actor
        self.updated_at = timestamp

    @event("Uncertain")
    def _uncertain(self, timestamp: datetime) -> None:
        self.state = UNCERTAIN
        self.updated_at = timestamp

    @event("Resolved")
    def _resolved(self, actor: str, timestamp: datetime, went_out: bool) -> None:
        self.state = SENT if went_out else FAILED
        self.decided_by = actor
        self.error = "" if went_out else "pas parti (vérifié dans la boîte d'envoi)"
        self.updated_at = timestamp


class Run(ChainedAggregate):
    """What one daily run did: a fact of the team (who started it, when, its counts)."""

    @event("RunRecorded")
    def __init__(self, team: str, day: date, started_at: datetime, finished_at: datetime,
                 actor: str, counts: dict[str, int], note: str) -> None:
        self.team = team
        self.day = day
        self.started_at = started_at
        self.finished_at = finished_at
        self.actor = actor
        self.counts = dict(counts)
        self.note = note

    @staticmethod
    def create_id(**_: Any) -> UUID:
        """Each run is a record of its own."""
        return uuid4()
