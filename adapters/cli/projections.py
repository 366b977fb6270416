"""`relance projections ...`: run the read models' follower, see where it stands, rebuild."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.table import Table

from adapters.cli.common import out, progress_bar, running

projections_app = typer.Typer(help="Les vues (projections) des dossiers.", no_args_is_help=True)


@projections_app.command("run")
def run() -> None:
    """Tient les vues à jour en continu (pour PostgreSQL avec plusieurs serveurs web)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with running() as runtime:
        runtime.start_following()
        out.print(f"Suivi des faits de {runtime.store.description} : Ctrl+C pour arrêter.")
        stop.wait()


@projections_app.command("status")
def status() -> None:
    """Affiche la position de chaque vue, la tête du journal et le retard."""
    with running() as runtime:
        head = runtime.files.recorder.max_notification_id() or 0
        table = Table("Vue", "Position", "Tête", "Retard")
        for projection in runtime.follower.projections:
            position = runtime.views.position(projection.name)
            table.add_row(projection.name, str(position), str(head), str(head - position))
        out.print(table)


@projections_app.command("rebuild")
def rebuild(name: Annotated[str, typer.Argument(help="Vue à reconstruire (toutes si absent).")]
            = "") -> None:
    """Reconstruit une vue (ou toutes) depuis le premier fait, avec une barre de progression."""
    with running() as runtime:
        known = {p.name: p for p in runtime.follower.projections}
        if name and name not in known:
            raise typer.BadParameter(f"vue inconnue {name!r} ; vues : {', '.join(known)}")
        for projection in [known[name]] if name else known.values():
            runtime.views.reset(projection)
        head = runtime.files.recorder.max_notification_id() or 0
        with progress_bar("Reconstruction", total=head) as update:
            runtime.follower.catch_up(lambda done, _: update(done))
        out.print(f"Vues reconstruites jusqu'au fait n° {head}.")
