"""Postal addresses, kept as the lines a French window envelope shows (La Poste, NF Z10-011).

An address is its lines in the order they are printed under the addressee's name:
complements (a department, a building), the number and street, a lieu-dit or a BP, then
« CODE POSTAL VILLE », then the country when it is abroad. It is stored as one text, its
lines joined by a line break, so that one fact records it whole: a new address replaces
the old one, never mixes with it. The debtor's name and the « à l'attention de » line are
not part of it: the letter prints them above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import DomainError
from domain.values import clean

MAX_LINES = 6
"""Lines of an address under the addressee's name (La Poste counts at most 7 with it)."""
MAX_LINE = 100
"""Characters of one line. La Poste reads best at most 38; a longer line is kept and
wraps in the envelope's window."""
FRANCE = ("", "france", "fr", "fra")
_POSTCODE_LINE = re.compile(r"^(\d{4,5})\s+(.+)$")
"""« 75002 PARIS », or « 1000 BRUXELLES » above a country line."""


class InvalidAddress(DomainError):
    """A postal address with too many lines, a line too long, or control characters."""

    code = "invalid_address"


@dataclass(frozen=True)
class AddressParts:
    """An address read back into its parts: the lines above the postcode, the postcode,
    the city and the country (empty for France). An address typed without a French
    postcode line keeps all its lines in `street`."""

    street: tuple[str, ...]
    postcode: str = ""
    city: str = ""
    country: str = ""


def postal_address(text: str, field: str) -> str:
    """An address typed by a person or sent by a program, as its stored text: each line
    trimmed, its spaces collapsed, empty lines dropped; refused beyond six lines or 100
    characters a line. An empty text stays empty."""
    value = clean(text or "", field).replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in value.split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > MAX_LINES:
        raise InvalidAddress(f"{field} has {len(lines)} lines; at most {MAX_LINES}",
                             field=field)
    if any(len(line) > MAX_LINE for line in lines):
        raise InvalidAddress(f"{field} has a line over {MAX_LINE} characters", field=field)
    return "\n".join(lines)


def address_text(street: Sequence[str], postcode: str = "", city: str = "",
                 country: str = "", *, field: str = "address") -> str:
    """The stored text of an address given in parts (a CSV's or an API's columns): the
    street lines, « POSTCODE CITY » with the city in capitals, and the country in capitals
    when it is not France. Nothing given: empty."""
    last = " ".join(part for part in (postcode.strip(), city.strip().upper()) if part)
    abroad = country.strip().upper() if country.strip().casefold() not in FRANCE else ""
    lines = [*(line.replace("\n", " ") for line in street), last, abroad]
    return postal_address("\n".join(lines), field)


def address_parts(text: str) -> AddressParts:
    """An address's stored text read back into its parts (see `AddressParts`)."""
    lines = [line for line in (text or "").split("\n") if line]
    for index in (len(lines) - 1, len(lines) - 2):  # the last line, or the one above a country
        found = _POSTCODE_LINE.match(lines[index]) if index >= 0 else None
        if found:
            country = lines[index + 1] if index + 1 < len(lines) else ""
            return AddressParts(tuple(lines[:index]), found.group(1), found.group(2), country)
    return AddressParts(tuple(lines))


def postcode_of(text: str) -> str:
    """The postcode of an address (a French one has five digits), or empty."""
    return address_parts(text).postcode
