"""The forms of a file's facts, read from their declarations (`domain.kinds`): checked
field by field, turned into the command's arguments, and run.

The file page renders every form from the declarations; one route receives them all,
and so does `POST /api/files/N/facts/{slug}`. Each field's problem is a French sentence
shown beside it; nothing reaches the application service until every field reads right.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Role
from adapters.parsing import parse_date, parse_whole
from domain.engine import Recorded
from domain.errors import DomainError, UncorrectableField
from domain.kinds import CHOICES, KINDS, Field, Form
from domain.service import CaseFiles
from domain.values import Instalment, Money
from projections.french import label

FORMS: tuple[Form, ...] = tuple(kind.form for kind in KINDS if kind.form is not None)
BY_KIND: dict[str, Form] = {form.slug: form for form in FORMS}
"""Each form by its slug (`/dossiers/N/faits/SLUG`)."""
ENDS_FILE = frozenset(kind.form.slug for kind in KINDS if kind.form and kind.ends_file)
"""Forms that end a file or hand it over: supervisors and administrators record those."""
MAX_VERSION = 10**9
MESSAGES = {
    "date": "Date invalide : utilisez le format JJ/MM/AAAA.",
    "money": "Montant invalide : par exemple 1 500,00.",
    "choice": "Choisissez une valeur de la liste.",
    "number": "Nombre entier attendu.",
    "plan": "Une échéance par ligne : « JJ/MM/AAAA montant », "
            "par exemple « 15/12/2026 500,00 ».",
}


def options(field: Field) -> list[tuple[str, str]]:
    """A choice field's values with their French words, for its list."""
    vocabulary = field.choices.removeprefix("written_")
    return [(value, label(vocabulary, value)) for value in CHOICES[field.choices]]


def may_use(form: Form, role: Role, agents_may_close: bool) -> bool:
    """True when a person of this role may send this form (writing a file off, closing
    it or handing it over: supervisors, unless RELANCE_AGENTS_MAY_CLOSE)."""
    if role not in CAN_RECORD:
        return False
    return form.slug not in ENDS_FILE or agents_may_close or role in CAN_MANAGE_TEAM


def unknown_accounts(form: Form, parsed: dict[str, Any],
                     is_recorder: Callable[[str], bool]) -> dict[str, str]:
    """The French problem of each field naming someone who has no active account that
    records facts."""
    return {name: "Choisissez un compte actif de l'équipe (agent ou superviseur)."
            for name in form.accounts if parsed.get(name) and not is_recorder(parsed[name])}


def read(form: Form, values: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The French problems by field, and the typed values."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for f in form.fields:
        raw = (values.get(f.name) or "").strip()
        if not raw:
            if f.required:
                errors[f.name] = "Ce champ est obligatoire."
            parsed[f.name] = False if f.kind == "check" else None
            continue
        try:
            parsed[f.name] = _convert(f, raw)
        except (ValueError, ArithmeticError, DomainError):
            errors[f.name] = MESSAGES.get(f.kind, "Valeur invalide.")
    return errors, parsed


def record(files: CaseFiles, actor: str, number: str, form: Form, parsed: dict[str, Any],
           key: str | None) -> Recorded:
    """Runs the form's command on the file with the typed values."""
    if form.command == "correct":  # the right value is typed like the value it replaces
        parsed = {**parsed, "value": _correction_value(
            files, number, parsed["target"], parsed["field"], parsed["value"])}
    command = getattr(files, form.command)
    return command(actor, number, **form.arguments(parsed), idempotency_key=key)


def _convert(f: Field, raw: str) -> Any:
    if f.kind == "date":
        return parse_date(raw)
    if f.kind == "money":
        return Money.parse(raw).require_positive()
    if f.kind == "choice":
        if raw not in CHOICES[f.choices]:
            raise ValueError(raw)
        return raw
    if f.kind == "check":
        return raw in ("on", "true", "1")
    if f.kind == "number":
        return parse_whole(raw, low=1, high=MAX_VERSION)
    if f.kind == "plan":
        instalments = []
        for line in raw.splitlines():
            if line.strip():
                day, _, amount = line.strip().partition(" ")
                instalments.append(Instalment(parse_date(day), Money.parse(amount).amount))
        if not instalments:
            raise ValueError(raw)
        return instalments
    return raw


def _correction_value(files: CaseFiles, number: str, version: int, name: str,
                      text: str) -> Any:
    """A corrected value typed like the value it replaces (a refusal if it does not read)."""
    entry = next((e for e in files.history(number) if e.version == version), None)
    current = entry.data.get(name) if entry else None
    try:
        if isinstance(current, Decimal):
            return Money.parse(text).amount
        if isinstance(current, date):
            return parse_date(text)
        if isinstance(current, bool):
            return text.lower() in ("oui", "true", "1")
        if isinstance(current, int):
            return parse_whole(text, high=MAX_VERSION)
    except ValueError:
        raise UncorrectableField(f"{text[:40]!r} does not read as a {name}",
                                 field=name) from None
    return text
