"""`relance campagne`: the daily run from a terminal or a cron job, its report, the day's
letters to print, and the « incertain » messages a person settles.

`relance campagne` sends what the scenarios' automatic steps call for today (see
`adapters.usecases.campaign`), recorded by « relance », then prints each message (debtor,
document, state, invoices, why) and the counts. It exits with 1 when a message failed or
is « incertain », so that a cron job's owner hears of it; running it again is safe: a
message is never sent twice, and one that failed is tried again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.bootstrap import Runtime
from adapters.cli.common import default_actor, err, out, parsed, progress_bar, running
from adapters.parsing import parse_date
from adapters.usecases.campaign import (
    RUN_ACTOR,
    RunReport,
    letters_pdf,
    report_of,
    resolve,
    run_campaign,
)
from domain.dispatch import FAILED, PRINTED, STATES, TO_VALIDATE, UNCERTAIN
from projections.french import count as french_count
from projections.french import word

campaign_app = typer.Typer(
    help="L'envoi automatique du jour : les relances écrites des scénarios, une par "
         "débiteur et par document.", no_args_is_help=False)

Day = Annotated[str, typer.Option("--jour", help="Le jour, JJ/MM/AAAA (aujourd'hui par "
                                  "défaut).")]


@campaign_app.callback(invoke_without_command=True)
def campaign(ctx: typer.Context, day: Day = "") -> None:
    """Envoie les relances écrites que les scénarios prévoient ce jour (automatiques, et
    « à valider » une fois validées), puis affiche le bilan par débiteur. Code de sortie 1
    si un message a échoué ou est incertain. Sans danger si relancé : rien ne part deux
    fois."""
    if ctx.invoked_subcommand is not None:
        return
    with running(RUN_ACTOR) as runtime:
        today = runtime.today()
        on = _day(day) or today
        if on > today:
            raise typer.BadParameter("un envoi ne se fait pas à l'avance : un jour passé ou "
                                     "aujourd'hui", param_hint="--jour")
        with progress_bar("Envoi du jour") as update:
            report = run_campaign(runtime, RUN_ACTOR, on, progress=update)
        _print_report(runtime, report)
    raise typer.Exit(_exit_code(report))


@campaign_app.command("rapport")
def report(day: Day = "") -> None:
    """Affiche le bilan d'un jour, sans rien envoyer. Code de sortie 1 si un message a
    échoué ou est incertain."""
    with running() as runtime:
        runtime.refresh_views()
        done = report_of(runtime, _day(day) or runtime.today())
        _print_report(runtime, done)
    raise typer.Exit(_exit_code(done))


@campaign_app.command("lettres")
def letters(
    path: Annotated[Path, typer.Argument(help="Le PDF à écrire.", metavar="FICHIER.pdf",
                                         dir_okay=False)],
    day: Day = "",
) -> None:
    """Écrit les courriers du jour dans un PDF à imprimer : la liste à mettre sous pli,
    puis la lettre de chaque débiteur."""
    with running() as runtime:
        runtime.refresh_views()
        on = _day(day) or runtime.today()
        count = report_of(runtime, on).count(PRINTED)
        if not count:
            out.print(f"Aucune lettre à poster le {on:%d/%m/%Y} : rien n'est écrit.")
            return
        pdf = letters_pdf(runtime, on)
    try:
        path.write_bytes(pdf)
    except OSError as error:
        err.print(f"Impossible d'écrire {path} : {error.strerror or error}")
        raise typer.Exit(1) from None
    out.print(f"{french_count(count, 'lettre')} du {on:%d/%m/%Y} "
              f"{'écrites' if count > 1 else 'écrite'} dans {path}, avec la liste à mettre "
              "sous pli.")


@campaign_app.command("incertain")
def uncertain(
    key: Annotated[str, typer.Argument(
        help="La clé du message (ou son Message-ID) ; sans elle, la liste des messages "
             "incertains.", metavar="CLE")] = "",
    went_out: Annotated[bool | None, typer.Option(
        "--parti/--pas-parti", help="Le message est dans la boîte d'envoi (il est alors "
        "enregistré sur ses dossiers), ou il n'y est pas (il part au prochain passage, "
        "avec le même Message-ID).")] = None,
) -> None:
    """Les messages dont on ne sait pas s'ils sont partis (l'envoi a été interrompu) :
    les liste, ou note pour l'un ce que montre la boîte d'envoi. Jamais renvoyés d'eux-
    mêmes."""
    with running() as runtime:
        runtime.refresh_views()
        waiting = runtime.reads.dispatches(states=[UNCERTAIN], limit=100_000)
        if not key.strip():
            _print_uncertain(waiting)
            return
        if went_out is None:
            raise typer.BadParameter("indiquez --parti ou --pas-parti", param_hint="--parti")
        row = _find(waiting, key) or _find(_of_day(runtime, key), key)
        if row is None:
            err.print(f"Aucun message {key.strip()}.")
            raise typer.Exit(1)
        if row["state"] != UNCERTAIN:
            err.print(f"Le message {row['key']} n'est pas incertain (état : "
                      f"{STATES.get(row['state'], row['state'])}) : rien à noter.")
            raise typer.Exit(1)
        resolve(runtime, default_actor(), row["key"], went_out)
    covered = ", ".join(row["numbers"])
    if went_out:
        out.print(f"Noté : le message à {row['debtor_name']} est parti ; il est enregistré "
                  f"sur ses dossiers ({covered}).")
    else:
        out.print(f"Noté : le message à {row['debtor_name']} n'est pas parti ; il partira au "
                  "prochain passage de la campagne, avec le même Message-ID.")


# -- what the commands print ----------------------------------------------------------------

def _day(text: str) -> date | None:
    return parsed(parse_date, text, "--jour") if text.strip() else None


def _exit_code(report: RunReport) -> int:
    return 1 if report.count(FAILED) or report.count(UNCERTAIN) else 0


def _print_report(runtime: Runtime, report: RunReport) -> None:
    day = report.day
    if not report.lines:
        closed = "" if runtime.calendar.is_business_day(day) else (
            " (jour non ouvré : seules les étapes prévues « tous les jours » partent)")
        out.print(f"Aucun message le {day:%d/%m/%Y}{closed}.")
        return
    table = Table("Débiteur", "Document", "État", "Factures", "Motif ou erreur")
    for line in report.lines:
        table.add_row(f"{line['debtor_name']} ({line['account']})", _document(line),
                      STATES.get(line["state"], line["state"]), ", ".join(line["numbers"]),
                      _why(line))
    out.print(f"Envoi du {day:%d/%m/%Y} : {french_count(len(report.lines), 'message')}")
    out.print(table)
    out.print("Bilan : " + " ; ".join(f"{STATES.get(state, state)} : {n}"
                                      for state, n in sorted(report.counts.items())))
    waiting = [line for line in report.lines if line["state"] == UNCERTAIN]
    if waiting:
        out.print("À vérifier dans la boîte d'envoi, puis « relance campagne incertain CLE "
                  "--parti » ou « --pas-parti » :")
        for line in waiting:
            out.print(f"  {line['key']} — {line['debtor_name']}, {line['recipient']}, "
                      f"{line['message_id']}")
    if report.count(TO_VALIDATE):
        out.print(f"{french_count(report.count(TO_VALIDATE), 'message')} à valider dans "
                  "l'application.")
    if report.count(PRINTED):
        out.print(f"{french_count(report.count(PRINTED), 'lettre')} à poster : « relance "
                  "campagne lettres FICHIER.pdf ».")


def _document(line: dict[str, Any]) -> str:
    return f"{word('document', line['template'])} ({word('channel', line['channel'])})"


def _why(line: dict[str, Any]) -> str:
    parts = [line["reason"] or line["error"]]
    parts += [f"{number} retirée : {why}" for number, why in (line["dropped"] or {}).items()]
    return " ; ".join(part for part in parts if part)


def _print_uncertain(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("Aucun message incertain.")
        return
    table = Table("Clé", "Jour", "Débiteur", "Document", "Destinataire", "Message-ID")
    for row in rows:
        table.add_row(row["key"], f"{row['day']:%d/%m/%Y}", row["debtor_name"], _document(row),
                      row["recipient"], row["message_id"])
    out.print(f"{french_count(len(rows), 'message incertain', 'messages incertains')} : "
              "cherchez chaque Message-ID dans la "
              "boîte d'envoi, puis « relance campagne incertain CLE --parti » ou "
              "« --pas-parti ».")
    out.print(table)


def _of_day(runtime: Runtime, key: str) -> list[dict[str, Any]]:
    """The messages of the day a key names (it starts with the day, AAAA-MM-JJ)."""
    try:
        day = date.fromisoformat(key.strip()[:10])
    except ValueError:
        return []
    return runtime.reads.dispatches(day=day, limit=1_000_000)


def _find(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """The message of a key or of a Message-ID (with or without its angle brackets)."""
    wanted = key.strip()
    bare = wanted.strip("<>")
    return next((row for row in rows if row["key"] == wanted
                 or row["message_id"].strip("<>") == bare), None)
