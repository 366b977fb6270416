"""`relance projections ...`: run the read models' follower, see where it stands, rebuild."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated

import typer
from rich.table import Table

from adapters.cli.common import err, out, progress_bar, running
from adapters.usecases.rebuild import (
    READY,
    ShareFailed,
    SplitRefused,
    catch_up_share,
    chosen,
)
from adapters.usecases.rebuild import rebuild as rebuild_views
from projections.runner import Partition

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
            for name, share in runtime.views.share_positions([projection.name]).items():
                of = Partition.of(name)
                table.add_row(f"  part {of.index + 1} sur {of.count}", str(share), str(head),
                              str(head - share))
        out.print(table)


@projections_app.command("rebuild")
def rebuild(name: Annotated[str, typer.Argument(help="Vue à reconstruire (toutes si absent).")]
            = "",
            processus: Annotated[int, typer.Option(
                "--processus", min=1, max=32,
                help="Processus qui se partagent les débiteurs (PostgreSQL seulement).")] = 1
            ) -> None:
    """Reconstruit une vue (ou toutes) depuis le premier fait, avec une barre de progression."""
    with running() as runtime:
        try:
            chosen(runtime, [name] if name else [])
        except KeyError:
            known = ", ".join(p.name for p in runtime.follower.projections)
            raise typer.BadParameter(f"vue inconnue {name!r} ; vues : {known}") from None
        total = runtime.files.recorder.max_notification_id() or 0
        try:
            with progress_bar("Reconstruction", total=total) as update:
                head = rebuild_views(runtime, [name] if name else [], processus,
                                     lambda done, head: update(done, head))
        except SplitRefused:
            raise typer.BadParameter("sur SQLite, un seul processus écrit à la fois : "
                                     "reconstruisez sans --processus",
                                     param_hint="--processus") from None
        except ShareFailed as error:
            err.print(f"Reconstruction interrompue : un des processus s'est arrêté ({error}). "
                      "Les vues restent incomplètes : relancez la reconstruction.")
            raise typer.Exit(1) from None
        out.print(f"Vues reconstruites jusqu'au fait n° {head}"
                  + (f", en {processus} processus." if processus > 1 else "."))


@projections_app.command("part", hidden=True)
def part(index: int, count: int, head: int, names: list[str]) -> None:
    """La part `index` (sur `count`) d'une reconstruction partagée, jusqu'au fait `head`."""
    def ready() -> None:  # started: say so, then wait for every other share to start
        sys.stdout.buffer.write(READY + b"\n")
        sys.stdout.buffer.flush()
        sys.stdin.buffer.readline()

    with running() as runtime:
        catch_up_share(runtime, names, index, count, head, ready)
