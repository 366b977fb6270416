"""`relance worklist`, `relance scenarios`, `relance document`: the day's work, the team's
playbook, and the letters of a file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from adapters.cli.common import default_actor, err, out, parsed, running
from adapters.cli.files import SameDayReason, same_day_refused
from adapters.infra.calendar import FrenchCalendar
from adapters.infra.documents import DocumentUnavailable, WordingBroken
from adapters.parsing import parse_date, parse_percent
from adapters.usecases.sending import preview, send_by_email
from projections.french import count, money, word
from projections.worklist import worklist

scenarios_app = typer.Typer(help="Les scénarios de relance de l'équipe.", no_args_is_help=True)
documents_app = typer.Typer(help="Les courriers et e-mails des dossiers.", no_args_is_help=True)


def _required_day(text: str, option: str) -> date:
    if not text.strip():
        raise typer.BadParameter("une date est requise", param_hint=option)
    return parsed(parse_date, text, option)


def worklist_command(
    agent: Annotated[str, typer.Option(help="Agent (toute l'équipe si absent).")] = "",
    day: Annotated[str, typer.Option(help="Jour (aujourd'hui par défaut).")] = "",
    july: Annotated[bool, typer.Option(
        "--juillet", help="Liste préventive : factures échéant en août, à appeler en juillet.")]
    = False,
) -> None:
    """Ce qu'il y a à faire ce jour, par ordre de priorité, avec la raison."""
    with running() as runtime:
        on = parsed(parse_date, day, "--day") if day else runtime.today()
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
        out.print(f"Journée {who} du {on:%d/%m/%Y} : {count(len(items), 'dossier')}")
        out.print(table)


@scenarios_app.command("show")
def show() -> None:
    """Affiche les scénarios, leur version, leurs étapes et l'écart minimal entre contacts."""
    with running() as runtime:
        playbook = runtime.files.open_playbook("relance")
        for name in playbook.names():
            scenario = playbook.scenario(name)
            mark = " (par défaut)" if name == playbook.default else ""
            out.print(Text.assemble((scenario.title, "bold"),
                                    f" — {name} v{scenario.version}{mark}, "
                                    f"écart minimal {scenario.min_gap_days} jours"))
            for step in scenario.steps:
                days = "jours ouvrés" if step.business_days else "jours"
                out.print(f"  {step.code:>5} ({days}) {step.label} — "
                          f"{word('channel', step.channel)}, {word('document', step.template)}")


@documents_app.command("preview")
def document_preview(
    number: Annotated[str, typer.Argument(help="Numéro de facture.")],
    template: Annotated[str, typer.Argument(help="pre_due, reminder_1, reminder_2, "
                                            "formal_notice, call_confirmation, "
                                            "duplicate_cover ou payment_plan.")],
    pdf: Annotated[str, typer.Option(help="Écrit aussi le courrier en PDF à ce chemin.")] = "",
    also: Also = None,
    alone: Alone = False,
) -> None:
    """Affiche un document tel qu'il partirait aujourd'hui, sans rien envoyer. Une relance,
    une mise en demeure ou la confirmation d'un appel porte sur toutes les factures échues
    du débiteur, sauf --seule ou --aussi."""
    with running() as runtime, _document_refusals():
        document = preview(runtime, number, template, default_actor(),
                           numbers=_chosen(also, alone))
    out.print(f"Objet : {document.subject}\n", style="bold")
    out.print(document.text, markup=False, highlight=False)
    if pdf:
        Path(pdf).write_bytes(document.pdf())
        out.print(f"Courrier PDF écrit dans {pdf}.")


@documents_app.command("send")
def document_send(
    number: Annotated[str, typer.Argument(help="Numéro de facture.")],
    template: Annotated[str, typer.Argument(help="Le document à envoyer par e-mail.")],
    also: Also = None,
    alone: Alone = False,
    same_day_reason: SameDayReason = "",
) -> None:
    """Envoie un document par e-mail et l'enregistre à chaque dossier qu'il couvre (ou
    l'échec d'envoi). Une relance envoyée le jour où quelqu'un d'autre a déjà contacté le
    débiteur demande son motif (--motif-second-contact)."""
    with running() as runtime, _document_refusals(), same_day_refused(runtime):
        sent = send_by_email(runtime, number, template, default_actor(),
                             numbers=_chosen(also, alone), same_day_reason=same_day_reason)
    if not sent.ok:
        out.print(f"Échec de l'envoi à {sent.recipient or '(aucune adresse)'} : {sent.error}")
        raise typer.Exit(1)
    out.print(f"Envoyé à {sent.recipient} ({sent.message_id}).")


Also = Annotated[list[str] | None, typer.Option(
    "--aussi", help="Les factures du débiteur que le document couvre avec celle-ci (une "
    "fois par facture), au lieu de toutes ses factures échues.")]
Alone = Annotated[bool, typer.Option(
    "--seule", help="Pour cette facture seulement, pas pour toutes celles du débiteur.")]


def _chosen(also: list[str] | None, alone: bool) -> list[str] | None:
    """The invoices chosen beside the file's (None: the debtor's due ones)."""
    if alone and also:
        raise typer.BadParameter("--seule ou --aussi, pas les deux", param_hint="--seule")
    return [] if alone else (also or None)


@contextmanager
def _document_refusals() -> Iterator[None]:
    """A document that does not apply, or a team wording that does not render: said."""
    try:
        yield
    except WordingBroken as error:
        err.print(f"Document impossible avec le modèle de l'équipe : {error.french}")
        raise typer.Exit(1) from None
    except DocumentUnavailable as error:
        raise typer.BadParameter(str(error), param_hint="TEMPLATE") from None


def _playbook_command(change) -> None:  # type: ignore[no-untyped-def]
    with running() as runtime:
        change(runtime.files, default_actor())


@scenarios_app.command("choose")
def choose(account: Annotated[str, typer.Argument(help="Compte client du débiteur.")],
           name: Annotated[str, typer.Argument(help="Nom du scénario.")]) -> None:
    """Fait suivre un scénario à un débiteur."""
    _playbook_command(lambda files, actor: files.choose_debtor_scenario(actor, account, name))
    out.print(f"Le débiteur {account} suit désormais le scénario {name}.")


@scenarios_app.command("default")
def default(name: Annotated[str, typer.Argument(help="Nom du scénario.")]) -> None:
    """Choisit le scénario par défaut de l'équipe."""
    _playbook_command(lambda files, actor: files.choose_default_scenario(actor, name))
    out.print(f"Scénario par défaut : {name}.")


@scenarios_app.command("absence")
def absence(agent: Annotated[str, typer.Argument(help="Agent absent.")],
            first: Annotated[str, typer.Argument(help="Premier jour d'absence.")],
            last: Annotated[str, typer.Argument(help="Dernier jour d'absence.")]) -> None:
    """Enregistre l'absence d'un agent : ses rappels passent dans la liste de l'équipe."""
    first_day, last_day = _required_day(first, "FIRST"), _required_day(last, "LAST")
    _playbook_command(lambda files, actor: files.record_absence(actor, agent, first_day,
                                                                last_day))
    out.print(f"{agent} absent du {first_day:%d/%m/%Y} au {last_day:%d/%m/%Y}.")


@scenarios_app.command("rate")
def rate(account: Annotated[str, typer.Argument(help="Compte client du débiteur.")],
         percent: Annotated[str, typer.Argument(help="Taux annuel en %, ou « aucun ».")]) -> None:
    """Enregistre le taux de pénalités prévu au contrat d'un débiteur."""
    value: Decimal | None = None
    if percent.strip().lower() not in ("aucun", "none", ""):
        value = parsed(parse_percent, percent, "PERCENT")
    _playbook_command(lambda files, actor: files.set_debtor_penalty_rate(actor, account, value))
    out.print(f"Taux contractuel de {account} : {value if value is not None else 'légal'}.")
