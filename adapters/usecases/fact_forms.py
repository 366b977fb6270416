"""The forms of a file's facts, read from their declarations (`domain.kinds`): checked
field by field, turned into the command's arguments, and run.

Both front doors read a fact the same way here: the file page and
`POST /api/files/N/facts/{slug}` (web), and `relance case record` (command line). Each
field's problem is a French sentence; nothing reaches the application service until
every field reads right. A choice is typed as its value or its French word (`transfer`
or `virement`); a yes-or-no as `oui`/`non` (or a checked box); a plan as one instalment
« JJ/MM/AAAA montant » per line (or separated by « ; »).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Role
from adapters.parsing import parse_date, parse_whole
from domain.engine import Recorded
from domain.errors import DomainError, UncorrectableField
from domain.kinds import CHOICES, KINDS, Field, Form
from domain.service import CaseFiles
from domain.values import Instalment, Money
from projections.french import label, word

FORMS: tuple[Form, ...] = tuple(kind.form for kind in KINDS if kind.form is not None)
BY_KIND: dict[str, Form] = {form.slug: form for form in FORMS}
"""Each form by its slug (`/dossiers/N/faits/SLUG`, `relance case record N SLUG`)."""
ENDS_FILE = frozenset(kind.form.slug for kind in KINDS if kind.form and kind.ends_file)
"""Forms that end a file or hand it over: supervisors and administrators record those."""
CHASES = frozenset(kind.form.slug for kind in KINDS
                   if kind.form and kind.touch is not None and kind.touch.chases)
"""Forms of a contact that chases the debtor (relance, mise-en-demeure, preventive): the
same-day rule counts them, and they may cover several invoices of the debtor."""
MAX_VERSION = 10**9
REQUIRED = "Ce champ est obligatoire."
MESSAGES = {
    "date": "Date invalide : utilisez le format JJ/MM/AAAA.",
    "money": "Montant invalide : par exemple 1 500,00.",
    "choice": "Choisissez une valeur de la liste.",
    "number": "Nombre entier attendu.",
    "check": "Répondez oui ou non.",
    "plan": "Une échéance par ligne : « JJ/MM/AAAA montant », "
            "par exemple « 15/12/2026 500,00 ».",
}
"""The French problem of a value that does not read, by the kind of its field."""
YES, NO = ("oui", "o", "on", "true", "1"), ("non", "n", "off", "false", "0")


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
                errors[f.name] = REQUIRED
            parsed[f.name] = False if f.kind == "check" else None
            continue
        try:
            parsed[f.name] = _convert(f, raw)
        except (ValueError, ArithmeticError, DomainError):
            errors[f.name] = MESSAGES.get(f.kind, "Valeur invalide.")
    return errors, parsed


def record(files: CaseFiles, actor: str, number: str, form: Form, parsed: dict[str, Any],
           key: str | None = None, occurred_at: datetime | None = None, *,
           also_about: Sequence[str] = (), same_day_reason: str = "") -> Recorded:
    """Runs the form's command on the file with the typed values; `occurred_at` is when it
    happened, if not now. A contact that chases the debtor (`CHASES`: a reminder, a formal
    notice, a pre-due reminder) may cover other invoices of the debtor too (`also_about`,
    recorded on each at once) and carry the reason for a second contact with the debtor
    that day (`same_day_reason`; without it such a contact is refused, `SameDayContact`)."""
    if form.command == "correct":  # the right value is typed like the value it replaces
        parsed = {**parsed, "value": _correction_value(
            files, number, parsed["target"], parsed["field"], parsed["value"])}
    command = getattr(files, form.command)
    if form.slug not in CHASES:
        return command(actor, number, **form.arguments(parsed), occurred_at=occurred_at,
                       idempotency_key=key)
    return command(actor, [number, *also_about], **form.arguments(parsed),
                   occurred_at=occurred_at, idempotency_key=key,
                   same_day_reason=same_day_reason)


def choice(text: str, vocabulary: str) -> str:
    """A value of a choice typed as itself or as its French word ('transfer', 'virement')."""
    wanted = text.strip().casefold()
    words = vocabulary.removeprefix("written_")
    for value in CHOICES.get(vocabulary, ()) or ():
        if wanted in (value.casefold(), word(words, value).casefold()):
            return value
    raise ValueError(f"{text[:40]!r} is not a {vocabulary}")


def yes_or_no(raw: str) -> bool:
    """A yes-or-no typed in French or English, or a checked box ('on')."""
    answer = raw.strip().casefold()
    if answer in YES:
        return True
    if answer in NO:
        return False
    raise ValueError(raw)


def _convert(f: Field, raw: str) -> Any:
    if f.kind == "date":
        return parse_date(raw)
    if f.kind == "money":
        return Money.parse(raw).require_positive()
    if f.kind == "choice":
        return choice(raw, f.choices)
    if f.kind == "check":
        return yes_or_no(raw)
    if f.kind == "number":
        return parse_whole(raw, low=1, high=MAX_VERSION)
    if f.kind == "plan":
        return _instalments(raw)
    return raw


def _instalments(raw: str) -> list[Instalment]:
    lines = [line.strip() for line in raw.replace(";", "\n").splitlines() if line.strip()]
    instalments = []
    for line in lines:
        day, _, amount = line.partition(" ")
        instalments.append(Instalment(parse_date(day), Money.parse(amount).amount))
    if not instalments:
        raise ValueError(raw)
    return instalments


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
            return yes_or_no(text)
        if isinstance(current, int):
            return parse_whole(text, high=MAX_VERSION)
    except ValueError:
        raise UncorrectableField(f"{text[:40]!r} does not read as a {name}",
                                 field=name) from None
    return text
