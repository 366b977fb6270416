"""What relance holds on one person, across debtors: the answer to an access request
(RGPD art. 15), as JSON and as PDF (`relance personne exporter`).

A person is found by an e-mail address (case ignored), a phone number (its digits) or a
name (case and spaces ignored) among the people known at each debtor; the answer gives,
debtor by debtor, what is known of them (each value with who gave it and when), and every
fact of the debtor's files that names them (their name, an address or a number of theirs
in any of its fields), with the fields that do.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from adapters.bootstrap import Runtime
from adapters.infra.documents import SHIPPED
from adapters.infra.pdf import html_to_pdf
from domain.debtors import person_key
from projections.french import PARIS
from projections.history import describe, label

TEMPLATE = "_person_access.html.j2"
Progress = Callable[[int, int], None]


class NobodyAsked(ValueError):
    """An access request that names no one (no e-mail, phone or name)."""


@dataclasses.dataclass(frozen=True)
class Who:
    """The person asked about, as given."""

    email: str = ""
    phone: str = ""
    name: str = ""

    @property
    def digits(self) -> str:
        return _digits(self.phone)


def _digits(phone: str) -> str:
    """A phone number's digits, a French number and its +33 form alike."""
    digits = re.sub(r"\D", "", phone)
    return "0" + digits[2:] if digits.startswith("33") and len(digits) == 11 else digits


def plain(value: Any) -> Any:
    """A fact's value as JSON shows it (value objects as their fields)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(PARIS).isoformat()
    if isinstance(value, (date, Decimal)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _said(said: Any) -> dict[str, str] | None:
    if said is None:
        return None
    return {"value": said.value, "recorded_by": said.by,
            "recorded_at": said.at.astimezone(PARIS).isoformat()}


def find(runtime: Runtime, who: Who) -> list[tuple[str, str]]:
    """The (debtor account, person key) of each debtor where the person is known."""
    if not (who.email.strip() or who.digits or who.name.strip()):
        raise NobodyAsked("give an e-mail address, a phone number or a name")
    views = runtime.views
    found: set[tuple[str, str]] = set()
    if who.email.strip():
        found |= {(r["account"], r["person"]) for r in views.rows(
            "SELECT account, person FROM {debtor_contact_means} WHERE kind = 'email' "
            "AND lower(value) = :email", {"email": who.email.strip().lower()}, {})}
    if who.digits:
        found |= {(r["account"], r["person"]) for r in views.rows(
            "SELECT account, person, value FROM {debtor_contact_means} WHERE kind = 'phone'",
            {}, {}) if _digits(r["value"]) == who.digits}
    if who.name.strip():
        found |= {(r["account"], r["person"]) for r in views.rows(
            "SELECT DISTINCT account, person FROM {debtor_contacts} WHERE person = :person",
            {"person": person_key(who.name)}, {})}
    return sorted(found)


def person_data(runtime: Runtime, who: Who, actor: str,
                progress: Progress | None = None) -> dict[str, Any]:
    """Everything held on the person, debtor by debtor (see the module's doc)."""
    found = find(runtime, who)
    debtors = []
    for done, (account, key) in enumerate(found, start=1):
        people = [p for p in runtime.reads.debtor_people(account)
                  if person_key(p.name.value) == key]
        if not people:
            continue
        person = people[0]
        names = {r["name"] for r in runtime.views.rows(
            "SELECT name FROM {debtors} WHERE account = :account", {"account": account}, {})}
        terms = {person.name.value.casefold(), *(e.value.casefold() for e in person.emails)}
        digits = {_digits(p.value) for p in person.phones} - {""}
        debtors.append({
            "account": account, "name": min(names) if names else account,
            "person": {"name": _said(person.name), "function": _said(person.function),
                       "role": _said(person.role),
                       "phones": [_said(p) for p in person.phones],
                       "emails": [_said(e) for e in person.emails]},
            "facts": list(_facts_naming(runtime, account, terms, digits))})
        if progress:
            progress(done, len(found))
    return {"format": "relance-acces-personne/1", "asked": dataclasses.asdict(who),
            "made_by": actor, "made_at": runtime.files.now().astimezone(PARIS).isoformat(),
            "debtors": debtors}


def _facts_naming(runtime: Runtime, account: str, terms: set[str],
                  digits: set[str]) -> Iterator[dict[str, Any]]:
    numbers = sorted({r["number"] for r in runtime.views.rows(
        "SELECT DISTINCT number FROM {history} WHERE debtor_account = :account",
        {"account": account}, {})})
    for number in numbers:
        for entry in runtime.files.history(number):
            data = plain(entry.data)
            fields = {name: value for name, value in data.items()
                      if any(_names(text, terms, digits) for text in _strings(value))}
            if fields:
                yield {"number": number, "version": entry.version, "kind": entry.kind,
                       "label": label(entry.kind), "summary": describe(entry.kind, entry.data),
                       "occurred_at": entry.occurred_at.astimezone(PARIS).isoformat(),
                       "recorded_by": entry.actor, "fields": fields}


def _names(text: str, terms: set[str], digits: set[str]) -> bool:
    folded = text.casefold()
    if any(term and term in folded for term in terms):
        return True
    found = _digits(text)
    return bool(found) and any(d and d in found for d in digits)


def person_pdf(data: dict[str, Any]) -> bytes:
    """The answer as a PDF, in French, one section per debtor."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(SHIPPED)), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True))
    env.filters["paris"] = lambda iso: datetime.fromisoformat(iso).strftime(
        "%d/%m/%Y %H:%M")
    env.filters["shown"] = _shown
    return html_to_pdf(env.get_template(TEMPLATE).render(data=data))


def _shown(value: Any) -> str:
    """A field's value as a person reads it: a value object as « name : value » pairs."""
    if isinstance(value, dict):
        return ", ".join(f"{k} : {_shown(v)}" for k, v in value.items() if v not in ("", None))
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)
