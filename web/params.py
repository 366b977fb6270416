"""Numbers in a page's address (`?min=`, `?page=`), read by the bounded parsers: a value
that does not read is a 400 (a French page, or the API's JSON), never a 500 and never
minutes of work."""

from __future__ import annotations

from decimal import Decimal

from fastapi import HTTPException

from adapters.parsing import parse_amount, parse_whole

MAX_POSITION = 2**63 - 1
"""The largest log position a database holds."""


def amount_param(text: str, name: str) -> Decimal | None:
    """An amount from the address, or None when empty."""
    if not text.strip():
        return None
    try:
        return parse_amount(text)
    except ValueError:
        raise HTTPException(400, f"{name} is not an amount") from None


def whole_param(text: str, name: str, *, low: int = 0, high: int) -> int | None:
    """A whole number from the address, or None when empty."""
    if not text.strip():
        return None
    try:
        return parse_whole(text, low=low, high=high)
    except ValueError:
        raise HTTPException(400, f"{name} must be a whole number from {low} to {high}") \
            from None
