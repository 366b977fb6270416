"""`relance import invoices|payments FILE`: bring the accounting software's data in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from adapters.importing import BadRow, ImportReport, import_invoices, import_payments, read_file

import_app = typer.Typer(help="Importer factures et paiements.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="Fichier CSV (séparateur ; , ou tabulation).")]


def _run(path: Path, importer, what: str) -> None:  # type: ignore[no-untyped-def]
    from adapters.cli import default_actor, open_runtime

    runtime = open_runtime()
    try:
        data = read_file(path)
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                      transient=True) as progress:
            task = progress.add_task(f"Import des {what}", total=None)
            report: ImportReport = importer(
                runtime.files, data, default_actor(),
                lambda done, total: progress.update(task, completed=done, total=total))
    except BadRow as error:
        err.print(f"Import impossible : {error}")
        raise typer.Exit(2) from None
    finally:
        runtime.close()
    out.print(f"{report.created} {what} enregistré(s), {report.unchanged} déjà présent(s), "
              f"{len(report.rejected)} rejeté(s).")
    if report.created == 0 and report.unchanged and not report.rejected:
        out.print("Ce fichier a déjà été importé : rien de nouveau.")
    for line, reason in report.rejected:
        out.print(f"  ligne {line} : {reason}", markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@import_app.command("invoices")
def invoices(path: FileArg) -> None:
    """Importe des factures : numéro, compte et nom du débiteur, SIREN, montant TTC, devise,
    dates de facture et d'échéance, référence de commande, destinataire (nom, e-mail,
    téléphone)."""
    _run(path, import_invoices, "factures")


@import_app.command("payments")
def payments(path: FileArg) -> None:
    """Importe des paiements : numéro de facture, montant, date, mode, référence."""
    _run(path, import_payments, "paiements")


@import_app.command("fec")
def fec(path: FileArg,
        terms: Annotated[str, typer.Option(
            help="Délai de paiement quand le FEC ne donne pas l'échéance : 30, 60, 45fdm…")]
        = "30") -> None:
    """Importe les créances clients ouvertes d'un FEC (comptes 411) et leurs règlements
    lettrés."""
    from adapters.fec import import_fec
    from domain.errors import DomainError
    from domain.terms import PaymentTerms

    try:
        rule = PaymentTerms.parse(terms)
    except DomainError as error:
        raise typer.BadParameter(error.detail, param_hint="--terms") from None
    _run(path, lambda files, data, actor, progress: import_fec(files, data, actor, rule,
                                                               progress), "écritures")


@import_app.command("facturx")
def facturx(path: Annotated[Path, typer.Argument(help="Facture Factur-X / ZUGFeRD (PDF).")],
            terms: Annotated[str, typer.Option(
                help="Délai de paiement si la facture ne donne pas l'échéance.")] = "30") -> None:
    """Importe une facture électronique Factur-X : numéro, acheteur et SIREN, montants,
    échéance, référence de commande."""
    from adapters.facturx_import import import_facturx
    from domain.errors import DomainError
    from domain.terms import PaymentTerms

    try:
        rule = PaymentTerms.parse(terms)
    except DomainError as error:
        raise typer.BadParameter(error.detail, param_hint="--terms") from None
    _run(path, lambda files, data, actor, _: import_facturx(files, data, actor, rule),
         "factures")
