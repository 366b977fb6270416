"""Value objects of the case file: money, people, instalments, and the vocabularies of facts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from domain.errors import (
    CurrencyMismatch,
    FutureBusinessTime,
    InvalidAmount,
    InvalidEmail,
    InvalidReference,
    InvalidText,
    InvalidTime,
    MissingInformation,
)
from domain.sealing import commitment_of, new_salt

PARIS = ZoneInfo("Europe/Paris")
"""Days are French days: « today », a fact's day and every date shown are in Paris."""


PORTAL_ACTOR = "débiteur (portail)"
"""Who records what the debtor does on its page (`domain.portal`)."""


def paris_day(instant: datetime) -> date:
    """The day an instant falls on in Paris (a call at 00:30 on 2 December, Paris time, is
    a call of 2 December, though it is still 1 December in UTC)."""
    return instant.astimezone(PARIS).date()


def start_of_day(day: date) -> datetime:
    """The first instant of a Paris day."""
    return datetime.combine(day, time.min, tzinfo=PARIS)


def end_of_day(day: date) -> datetime:
    """The last instant of a Paris day."""
    return datetime.combine(day, time.max, tzinfo=PARIS)


CENT = Decimal("0.01")
DEFAULT_CURRENCY = "EUR"
FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of the recording clock a business time may be (clocks of PCs drift)."""

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


MAX_AMOUNT = Decimal("100000000000")
"""A hundred billion: far above any invoice, and low enough that sums of a whole
portfolio in cents stay within 64-bit integers on every database."""


@dataclass(frozen=True)
class Money:
    """An exact amount in a currency (ISO 4217), always with two decimals."""

    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, (Decimal, int)):
            raise InvalidAmount(
                f"amount must be a Decimal, got {type(self.amount).__name__}",
                amount=repr(self.amount),
            )
        amount = Decimal(self.amount)
        if not amount.is_finite():
            raise InvalidAmount("amount must be a finite number", amount=str(amount))
        if abs(amount) > MAX_AMOUNT:
            raise InvalidAmount(f"amount must not exceed {MAX_AMOUNT} in absolute value",
                                amount=str(amount)[:40])
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(CENT):
            raise InvalidAmount(
                f"amount {amount} has more than two decimals", amount=str(amount)
            )
        if not _CURRENCY.match(self.currency or ""):
            raise InvalidAmount(
                f"currency {self.currency!r} is not an ISO 4217 code", currency=self.currency
            )
        object.__setattr__(self, "amount", amount.quantize(CENT))

    @classmethod
    def parse(cls, text: str, currency: str = DEFAULT_CURRENCY) -> Money:
        """Reads an amount typed by a person: '1500.5', '1 500,50' or '1500'."""
        cleaned = text.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if "," in cleaned and "." in cleaned:
            raise InvalidAmount(f"ambiguous amount {text!r}", amount=text)
        cleaned = cleaned.replace(",", ".")
        try:
            return cls(Decimal(cleaned), currency.strip().upper())
        except InvalidOperation:
            raise InvalidAmount(f"{text!r} is not an amount", amount=text) from None

    def require_positive(self) -> Money:
        """Returns itself if strictly positive, else refuses."""
        if self.amount <= 0:
            raise InvalidAmount(
                f"amount must be strictly positive, got {self.amount}", amount=str(self.amount)
            )
        return self

    def require_currency(self, currency: str) -> Money:
        """Returns itself if in the given currency, else refuses."""
        if self.currency != currency:
            raise CurrencyMismatch(
                f"amount in {self.currency} on an invoice in {currency}",
                currency=self.currency,
                expected=currency,
            )
        return self

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class Contact:
    """A person reached at the debtor: name, function (e.g. comptable), phone, email.

    Each field is one line; the email is one address (checked by email-validator, for
    its syntax only: nothing is looked up)."""

    name: str = ""
    function: str = ""
    phone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "function", "phone", "email"):
            object.__setattr__(self, name, one_line(getattr(self, name), name))
        if self.email:
            object.__setattr__(self, "email", email_address(self.email))

    def is_empty(self) -> bool:
        """True when nothing at all is known of the person."""
        return not (self.name or self.function or self.phone or self.email)

    # -- sealing (domain/sealing.py) ----------------------------------------------------
    # A sealed contact carries, beside its four fields, the subject whose key seals it,
    # the salt and the commitment its facts' digests cover. They are attributes, not
    # fields: equality, copies and every reader of the four fields ignore them.

    def plain(self) -> dict[str, str]:
        """The four fields, as recorded."""
        return {"name": self.name, "function": self.function, "phone": self.phone,
                "email": self.email}

    def sealed_for(self, subject: str) -> Contact:
        """This contact, sealed under `subject`'s key (an empty one stays as it is: it
        names nobody; one sealed already keeps its seal)."""
        if self.is_empty() or self.subject:
            return self
        salt = new_salt()
        # checked already: no second validation of its e-mail
        return unchecked_copy(self, subject=subject, salt=salt,
                              commitment=commitment_of(salt, self.plain()))

    @property
    def subject(self) -> str:
        """The subject whose key seals this contact ("" for one in clear)."""
        return self.__dict__.get("subject", "")

    @property
    def is_erased(self) -> bool:
        """True for a sealed contact whose key was destroyed: only « donnée effacée »."""
        return bool(self.subject) and not self.__dict__.get("salt")

    def __canonical__(self) -> dict[str, object]:
        """What a fact's digest covers of this contact: its commitment once sealed, its
        four fields for one recorded in clear (as every fact did before sealing)."""
        if self.subject:
            return {"$sealed": {"subject": self.subject,
                                "commitment": self.__dict__["commitment"]}}
        return {"$Contact": self.plain()}


@dataclass(frozen=True)
class Debtor:
    """The customer who owes: account code in the ledger, company name, SIREN if known.

    `is_consumer` flags a private person (B2C): other deadlines and no L441-10 penalties.
    """

    account: str
    name: str
    siren: str = ""
    is_consumer: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "account", reference(self.account, "debtor_account"))
        object.__setattr__(self, "name", require_text(self.name, "debtor_name"))
        object.__setattr__(self, "siren", clean(self.siren, "siren"))

    # -- sealing (domain/sealing.py) ----------------------------------------------------
    # A consumer is a person: their name is sealed under their key, as a contact's data
    # is (the same name at the same debtor is the same subject). A company's is not.

    def plain(self) -> dict[str, str]:
        """What is sealed of a consumer: their name."""
        return {"name": self.name}

    def sealed_for(self, subject: str) -> Debtor:
        """This debtor, its name sealed under `subject`'s key when it is a consumer."""
        if not self.is_consumer or self.subject:
            return self
        salt = new_salt()
        return unchecked_copy(self, subject=subject, salt=salt,
                              commitment=commitment_of(salt, {"name": self.name}))

    @property
    def subject(self) -> str:
        """The subject whose key seals the name ("" for a name in clear)."""
        return self.__dict__.get("subject", "")

    @property
    def is_erased(self) -> bool:
        """True for a consumer whose key was destroyed: their name reads « donnée effacée »."""
        return bool(self.subject) and not self.__dict__.get("salt")

    def __canonical__(self) -> dict[str, object]:
        """What a fact's digest covers: every field, the name as its commitment once
        sealed."""
        name: object = self.name
        if self.subject:
            name = {"$sealed": {"subject": self.subject,
                                "commitment": self.__dict__["commitment"]}}
        return {"$Debtor": {"account": self.account, "name": name, "siren": self.siren,
                            "is_consumer": self.is_consumer}}


@dataclass(frozen=True)
class Instalment:
    """One dated amount of a payment plan (échéance d'un échelonnement)."""

    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class Stamp:
    """Who records a fact, when it happened (business time) and when it is recorded.

    The business time is given by the person (a call made yesterday is recorded today);
    the recording time comes from the clock. Both are timezone-aware instants.
    """

    actor: str
    occurred_at: datetime
    recorded_at: datetime

    def __post_init__(self) -> None:
        if not self.actor.strip():
            raise MissingInformation("the acting user is unknown", field="actor")
        for name in ("occurred_at", "recorded_at"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidTime(f"{name} must be a timezone-aware instant", field=name)
            object.__setattr__(self, name, value.astimezone(UTC))  # instants are kept in UTC
        if self.occurred_at > self.recorded_at + FUTURE_TOLERANCE:
            raise FutureBusinessTime(
                f"business time {self.occurred_at.isoformat()} is in the future",
                occurred_at=self.occurred_at.isoformat(),
            )


class Channel(StrEnum):
    """How a reminder or a document went out."""

    EMAIL = "email"
    LETTER = "letter"
    SMS = "sms"
    CALL = "call"


class CallOutcome(StrEnum):
    """What happened when calling the debtor."""

    REACHED = "reached"
    VOICEMAIL = "voicemail"
    WRONG_PERSON = "wrong_person"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"


class ReplyOutcome(StrEnum):
    """What came of a reply of the debtor (or an answer on its page), once a person read
    it: a promise, a dispute or a duplicate request recorded, the instalments asked for
    granted or refused, nothing to do."""

    PROMISE = "promise"
    DISPUTE = "dispute"
    DUPLICATE = "duplicate"
    NOTHING = "nothing"
    PLAN = "plan"
    REFUSED = "refused"


class ReplyMatch(StrEnum):
    """How an incoming message found its files: the thread of our message (In-Reply-To,
    References), the reply token of our message in its address or subject, its sender's
    address among the debtor's people, or a person who attached it."""

    THREAD = "thread"
    TOKEN = "token"  # noqa: S105 (a reply token, not a secret)
    SENDER = "sender"
    PERSON = "person"


class PaymentMeans(StrEnum):
    """How the debtor pays: virement, chèque, LCR (lettre de change relevé), etc."""

    TRANSFER = "transfer"
    CHEQUE = "cheque"
    BILL_OF_EXCHANGE = "bill_of_exchange"
    CARD = "card"
    DIRECT_DEBIT = "direct_debit"
    CASH = "cash"
    OTHER = "other"


class DuplicateReason(StrEnum):
    """Why the debtor asks for a duplicate of the invoice."""

    NOT_RECEIVED = "not_received"
    WRONG_RECIPIENT = "wrong_recipient"
    MISSING_PO_REFERENCE = "missing_po_reference"
    OTHER = "other"


class HandoverTarget(StrEnum):
    """Who takes the file over after amicable collection."""

    LAWYER = "lawyer"
    COMMISSAIRE_DE_JUSTICE = "commissaire_de_justice"
    AGENCY = "agency"


class Status(StrEnum):
    """Where a file stands on a given day, derived from its facts."""

    NOT_YET_DUE = "not_yet_due"
    OVERDUE = "overdue"
    PROMISED = "promised"
    PROMISE_BROKEN = "promise_broken"
    IN_DISPUTE = "in_dispute"
    IN_PAYMENT_PLAN = "in_payment_plan"
    INSTALMENT_MISSED = "instalment_missed"
    FORMAL_NOTICE_SENT = "formal_notice_sent"
    HANDED_OVER = "handed_over"
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    CLOSED = "closed"


def clean(value: str, field: str) -> str:
    """Returns the stripped text, refusing control characters (a tab or a new line is fine)."""
    if not isinstance(value, str):
        raise InvalidText(f"{field} must be text", field=field)
    if _CONTROL.search(value):
        raise InvalidText(f"{field} contains control characters", field=field)
    return value.strip()


def one_line(value: str, field: str) -> str:
    """Returns the stripped text, refusing control characters and line breaks."""
    text = clean(value, field)
    if "\n" in text or "\r" in text or "\t" in text:
        raise InvalidText(f"{field} must be on one line", field=field)
    return text


_V = TypeVar("_V")


def unchecked_copy(value: _V, **changes: Any) -> _V:
    """A copy of a frozen value with `changes` written into it, without running its
    `__init__` again (it was checked already): `copy.copy` and `dataclasses.replace` cost
    five times more, on every person an import seals and every fact a file replays."""
    copied = object.__new__(type(value))
    copied.__dict__.update(value.__dict__)
    copied.__dict__.update(changes)
    return copied


def email_address(text: str) -> str:
    """One email address, in its normalised form, or a refusal."""
    try:
        return _normalized_email(text)
    except EmailNotValidError as error:
        raise InvalidEmail(f"{text[:100]!r} is not one email address: {error}",
                           field="email") from None


@lru_cache(maxsize=4096)
def _normalized_email(text: str) -> str:
    """email-validator's normal form, remembered: an import or a day's commands name the
    same few addresses again and again, and checking one costs some 50 µs."""
    return validate_email(text, check_deliverability=False).normalized


MAX_REFERENCE = 100


def reference(value: str, field: str) -> str:
    """An invoice number or an account code: one line, at most 100 characters, with at
    least one letter or digit (so that it can name a page: `.` or `..` cannot)."""
    text = one_line(value or "", field)
    if not text:
        raise MissingInformation(f"{field} is empty", field=field)
    if len(text) > MAX_REFERENCE or not any(c.isalnum() for c in text):
        raise InvalidReference(f"{field} {text[:40]!r} needs a letter or a digit and at most "
                               f"{MAX_REFERENCE} characters", field=field)
    return text


def require_text(value: str, field: str) -> str:
    """Returns the stripped text, refusing an empty one or one with control characters."""
    stripped = clean(value or "", field)
    if not stripped:
        raise MissingInformation(f"{field} is empty", field=field)
    return stripped
