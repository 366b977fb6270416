"""What every `relance` command shares: its consoles, its runtime, who acts, how a typed
value is read, and its progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from adapters.bootstrap import Runtime, bootstrap
from adapters.infra.logs import bind_context, configure_logging
from adapters.settings import Settings
from domain.errors import DomainError

out = Console()
"""What the command answers (standard output)."""
err = Console(stderr=True)
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
    """A progress bar on standard error for long work; yields `update(done, total)`."""
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task(description, total=total)

        def update(done: int, new_total: int | None = None) -> None:
            if new_total is None:
                progress.update(task, completed=done)
            else:
                progress.update(task, completed=done, total=new_total)

        yield update
