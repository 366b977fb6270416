"""Refusals of the case file, each named for what it refuses and carrying a stable code.

The code is the contract with the outside: the web layer maps it to a French sentence,
the API returns it beside an English detail. Never rename a code.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A rule of the case file refused a command."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class AlreadyRegistered(DomainError):
    """An invoice with this number already has its file."""

    code = "already_registered"


class InvoiceNotFound(DomainError):
    """No file exists for this invoice number."""

    code = "invoice_not_found"


class FileClosed(DomainError):
    """The file is closed: only a reopening, a note or a correction may be recorded."""

    code = "file_closed"


class FileNotClosed(DomainError):
    """Reopening a file that is not closed."""

    code = "file_not_closed"


class InvalidAmount(DomainError):
    """An amount that is not a strictly positive decimal with at most two decimals."""

    code = "invalid_amount"


class CurrencyMismatch(DomainError):
    """An amount in another currency than the invoice's."""

    code = "currency_mismatch"


class Overpayment(DomainError):
    """A payment larger than the outstanding balance, not flagged as an overpayment."""

    code = "overpayment"


class PromiseBeforeContact(DomainError):
    """A payment promise dated before the contact it came from."""

    code = "promise_before_contact"


class FutureBusinessTime(DomainError):
    """A fact said to have happened later than now."""

    code = "future_business_time"


class InvalidTime(DomainError):
    """An instant without a time zone, or a date where an instant is needed."""

    code = "invalid_time"


class InvalidText(DomainError):
    """Text with control characters (a NUL byte, an escape...), which no person types."""

    code = "invalid_text"


class InvalidEmail(DomainError):
    """An email field that is not exactly one address."""

    code = "invalid_email"


class InvalidReference(DomainError):
    """An invoice number or an account that cannot name a file (no letter or digit, or
    several lines)."""

    code = "invalid_reference"


class InvalidInvoice(DomainError):
    """Invoice data that cannot describe a real invoice (e.g. due before issued)."""

    code = "invalid_invoice"


class MissingInformation(DomainError):
    """A required piece of information is empty."""

    code = "missing_information"


class CallbackInThePast(DomainError):
    """A callback or deadline set before the contact it comes from."""

    code = "callback_in_the_past"


class InvalidChannel(DomainError):
    """A channel that cannot carry this kind of fact (a reminder by phone is a call)."""

    code = "invalid_channel"


class UnknownFact(DomainError):
    """A correction or retraction that targets no fact of this file."""

    code = "unknown_fact"


class FactAlreadyRetracted(DomainError):
    """Correcting or retracting a fact that was already retracted."""

    code = "fact_already_retracted"


class UncorrectableField(DomainError):
    """A correction that changes a field the target fact does not have, or cannot change."""

    code = "uncorrectable_field"


class DifferentDebtors(DomainError):
    """One action about several invoices that do not share a debtor."""

    code = "different_debtors"


class NoReplyWaiting(DomainError):
    """Handling a reply of the debtor that is not waiting on the file (handled already, or
    not a reply)."""

    code = "no_reply_waiting"


class NoOpenDispute(DomainError):
    """Resolving a dispute while none is open."""

    code = "no_open_dispute"


class DisputeAlreadyOpen(DomainError):
    """Raising a dispute while one is still open."""

    code = "dispute_already_open"


class InvalidPaymentPlan(DomainError):
    """A payment plan whose instalments do not make sense."""

    code = "invalid_payment_plan"


class IdempotencyKeyReused(DomainError):
    """An idempotency key already used for a different command."""

    code = "idempotency_key_reused"


class UnfitOutcome(DomainError):
    """What came of a debtor's answer does not fit the answer (a promise made on the
    debtor's page is not handled by recording another promise)."""

    code = "unfit_outcome"


class TooMuchContention(DomainError):
    """The file kept changing under the command; it was retried and gave up."""

    code = "too_much_contention"


class EmptyCall(DomainError):
    """A call that says nothing: somebody answered, yet no one is named and nothing said."""

    code = "empty_call"


class ExceedsOutstanding(DomainError):
    """A credit note larger than what the invoice still claims."""

    code = "exceeds_outstanding"
