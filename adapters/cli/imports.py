"""`relance import invoices|payments FILE`: bring the accounting software's data in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.common import default_actor, err, out, progress_bar, running
from adapters.usecases.facturx import import_facturx
from adapters.usecases.fec import import_fec
from adapters.usecases.importing import (
    BadRow,
    ImportReport,
    import_invoices,
    import_payments,
    read_file,
)
from domain.errors import DomainError
from domain.terms import PaymentTerms

import_app = typer.Typer(help="Importer factures et paiements.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="Fichier CSV (séparateur ; , ou tabulation).")]


def _run(path: Path, importer, what: str) -> None:  # type: ignore[no-untyped-def]
    with running() as runtime:
        try:
            data = read_file(path)
            with progress_bar(f"Import des {what}") as update:
                report: ImportReport = importer(runtime.files, data, default_actor(), update)
        except BadRow as error:
            err.print(f"Import impossible : {error}")
            raise typer.Exit(2) from None
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
    try:
        rule = PaymentTerms.parse(terms)
    except DomainError as error:
        raise typer.BadParameter(error.detail, param_hint="--terms") from None
    _run(path, lambda files, data, actor, _: import_facturx(files, data, actor, rule),
         "factures")
