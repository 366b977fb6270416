"""What every `relance` command shares: its consoles, its runtime, who acts, how a typed
value is read (a fact's form too), and its progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from adapters.bootstrap import Runtime, bootstrap
from adapters.infra.logs import bind_context, configure_logging
from adapters.settings import Settings
from adapters.usecases.fact_forms import read
from domain.errors import DomainError
from domain.kinds import CHOICES, Field, Form
from projections.french import word

# Plain text, never rich markup or emoji codes: a debtor named « [ACME] », a reason
# « erreur [saisie] » or a mark « [corrigé par n° 3] » print as typed. Style with `style=`.
out = Console(markup=False, emoji=False)
"""What the command answers (standard output)."""
err = Console(stderr=True, markup=False, emoji=False)
"""Problems and progress (standard error), so that output can be piped."""
T = TypeVar("T")


def default_actor() -> str:
    """Who acts for commands typed in a terminal: RELANCE_ACTOR, else the system user."""
    return Settings.from_env().actor


def open_runtime(actor: str = "") -> Runtime:
    """Configures logs, binds who acts, and bootstraps relance from the environment.

    A command's own output is what the user reads: its logs say only when something goes
    wrong (WARNING, unless RELANCE_LOG_LEVEL says otherwise)."""
    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level or "WARNING")
    bind_context(actor=actor or settings.actor)
    return bootstrap(settings)


@contextmanager
def running(actor: str = "") -> Iterator[Runtime]:
    """relance for the length of a command, closed afterwards whatever happens."""
    opened = open_runtime(actor)
    try:
        yield opened
    finally:
        opened.close()


def parsed(parse: Callable[[str], T], text: str, option: str) -> T:
    """A typed value read by `parse`, or a usage error naming the option."""
    try:
        return parse(text)
    except (ValueError, DomainError) as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


@contextmanager
def progress_bar(description: str, total: int | None = None
                 ) -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar on standard error for long work; yields `update(done, total)`. The
    description is plain text, as everything `err` writes (a column given as a string
    would be written with its style's markup showing)."""
    with Progress(TextColumn("{task.description}", style="progress.description",
                             markup=False), BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task(description, total=total)

        def update(done: int, new_total: int | None = None) -> None:
            if new_total is None:
                progress.update(task, completed=done)
            else:
                progress.update(task, completed=done, total=new_total)

        yield update


# -- a fact's form, typed in a terminal ----------------------------------------------------
# Read as the web reads it (`adapters.usecases.fact_forms`).


def hint(field: Field) -> str:
    """What a field takes, in French (`relance case forms`)."""
    if field.kind == "choice":
        return "parmi " + choices(field.choices)
    return {"date": "JJ/MM/AAAA", "money": "montant", "number": "n° d'entrée",
            "check": "oui ou non", "plan": "une échéance « JJ/MM/AAAA montant » par ligne ou "
            "séparées par « ; »"}.get(field.kind, "texte")


def choices(vocabulary: str) -> str:
    """The values of a choice, each with its French word: 'transfer (virement), …'."""
    words = vocabulary.removeprefix("written_")
    return ", ".join(f"{value} ({word(words, value)})" for value in CHOICES[vocabulary])


def read_form(form: Form, values: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The French problem of each field that does not read (with the values a choice
    takes), and the typed values."""
    problems, typed = read(form, values)
    fields = {field.name: field for field in form.fields}
    for name, problem in problems.items():
        if fields[name].kind == "choice" and name in values:
            problems[name] = f"{problem} Valeurs : {choices(fields[name].choices)}."
    return problems, typed
