"""`relance worklist` and `relance scenarios`: the day's work and the team's playbook."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from adapters.calendar import FrenchCalendar
from adapters.parsing import parse_date
from projections.french import money
from projections.worklist import worklist

scenarios_app = typer.Typer(help="Les scénarios de relance de l'équipe.", no_args_is_help=True)
out = Console()


def _day(text: str, option: str) -> date | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


def worklist_command(
    agent: Annotated[str, typer.Option(help="Agent (toute l'équipe si absent).")] = "",
    day: Annotated[str, typer.Option(help="Jour (aujourd'hui par défaut).")] = "",
    july: Annotated[bool, typer.Option(
        "--juillet", help="Liste préventive : factures échéant en août, à appeler en juillet.")]
    = False,
) -> None:
    """Ce qu'il y a à faire ce jour, par ordre de priorité, avec la raison."""
    from adapters.cli import open_runtime

    runtime = open_runtime()
    try:
        on = _day(day, "--day") or runtime.today()
        runtime.refresh_views()
        if july:
            lines = runtime.reads.falling_due(date(on.year, 8, 1), date(on.year, 8, 31), on)
            table = Table("Facture", "Débiteur", "Échéance", "Reste dû", "Agent")
            for line in lines:
                table.add_row(line.number, line.debtor_name, f"{line.due_on:%d/%m/%Y}",
                              money(line.outstanding, line.currency), line.agent or "")
            out.print(f"Factures échéant en août {on.year} : appels préventifs en juillet")
            out.print(table)
            return
        playbook = runtime.files.open_playbook("relance")
        items = worklist(runtime.reads, playbook, FrenchCalendar(), on, agent or None)
        table = Table("#", "Facture", "Débiteur", "Reste dû", "Retard", "Action", "Pourquoi")
        for rank, item in enumerate(items, start=1):
            table.add_row(str(rank), item.number, item.debtor_name, money(item.outstanding),
                          f"{item.days_late} j", item.action, item.why)
        who = f"de {agent}" if agent else "de l'équipe"
        out.print(f"Journée {who} du {on:%d/%m/%Y} : {len(items)} dossier(s)")
        out.print(table)
    finally:
        runtime.close()


@scenarios_app.command("show")
def show() -> None:
    """Affiche les scénarios, leur version, leurs étapes et l'écart minimal entre contacts."""
    from adapters.cli import open_runtime

    runtime = open_runtime()
    try:
        playbook = runtime.files.open_playbook("relance")
        for name in playbook.names():
            scenario = playbook.scenario(name)
            mark = " (par défaut)" if name == playbook.default else ""
            out.print(f"[bold]{scenario.title}[/bold] — {name} v{scenario.version}{mark}, "
                      f"écart minimal {scenario.min_gap_days} jours")
            for step in scenario.steps:
                days = "jours ouvrés" if step.business_days else "jours"
                out.print(f"  {step.code:>5} ({days}) {step.label} — {step.channel.value}, "
                          f"modèle {step.template}")
    finally:
        runtime.close()
