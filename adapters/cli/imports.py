"""`relance import invoices|payments|fec|facturx FILE`: bring the accounting software's
data in. The exit code is 0 when every line was recorded or was already there, 1 when a
line was rejected, differs from its recorded invoice or waits for a confirmation, and 2
when the file itself cannot be imported (missing, empty, not text, no known columns)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.common import default_actor, err, out, progress_bar, running
from adapters.usecases.facturx import import_facturx
from adapters.usecases.fec import import_fec
from adapters.usecases.import_files import BadRow, read_file
from adapters.usecases.import_payments import import_payments
from adapters.usecases.importing import ImportReport, import_invoices
from domain.errors import DomainError
from domain.terms import PaymentTerms
from projections.french import count

import_app = typer.Typer(help="Importer factures et paiements.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="Fichier CSV (séparateur ; , ou tabulation).")]
ConfirmOption = Annotated[bool, typer.Option(
    "--confirmer-doublons",
    help="Enregistrer aussi les lignes identiques à une ligne précédente du fichier (deux "
         "paiements distincts de même montant, date, mode et référence).")]


def _run(path: Path, importer, what: str, *,  # type: ignore[no-untyped-def]
         keep_file: bool = False) -> None:
    """Runs an importer on the file's bytes; `keep_file`: the importer is given the store
    of documents and the file's name too (a Factur-X PDF is kept on its file)."""
    with running() as runtime:
        try:
            data = read_file(path)
            extra = {"blobs": runtime.blobs, "filename": path.name} if keep_file else {}
            with progress_bar(f"Import des {what}") as update:
                report: ImportReport = importer(runtime.files, data, default_actor(), update,
                                                **extra)
        except BadRow as error:
            err.print(f"Import impossible : {error}", markup=False, highlight=False)
            raise typer.Exit(2) from None
    _tell(report, what)
    if not report.ok:
        raise typer.Exit(1)


NOUNS = {"factures": ("facture", "e"), "paiements": ("paiement", ""),
         "écritures": ("écriture", "e")}
"""What each import records, in the singular, and the ending its participles take."""


def _tell(report: ImportReport, what: str) -> None:
    """What the import did, in French: counts, then each line that recorded nothing."""
    noun, e = NOUNS[what]

    def agreed(n: int, participle: str) -> str:
        return participle + e + ("s" if n > 1 else "")

    out.print(f"{count(report.created, noun)} {agreed(report.created, 'enregistré')}, "
              f"{report.unchanged} déjà {agreed(report.unchanged, 'présent')}, "
              f"{len(report.rejected)} {agreed(len(report.rejected), 'rejeté')}.")
    if report.debtors_updated:
        out.print(f"{count(report.debtors_updated, 'débiteur complété', 'débiteurs complétés')}"
                  " : identité, adresses, contacts.")
    if report.created == 0 and report.unchanged and report.ok and not report.debtors_updated:
        out.print("Ce fichier a déjà été importé : rien de nouveau.")
    for line, reason in report.rejected:
        _say(f"  ligne {line} : {reason}")
    if report.discrepancies:
        out.print(f"{count(len(report.discrepancies), 'écart')} avec les factures déjà "
                  "enregistrées, rien n'est enregistré pour ces lignes : à examiner.")
    for discrepancy in report.discrepancies:
        _say(f"  {discrepancy}")
    if report.to_confirm:
        same = len(report.to_confirm)
        out.print(f"{count(same, 'ligne identique', 'lignes identiques')} à une ligne "
                  f"précédente, non {'enregistrées' if same > 1 else 'enregistrée'} : s'il "
                  "s'agit bien de règlements distincts, importez de nouveau avec "
                  "--confirmer-doublons.")
    for duplicate in report.to_confirm:
        _say(f"  {duplicate}")


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False)


@import_app.command("invoices")
def invoices(path: FileArg) -> None:
    """Importe des factures : numéro, compte et nom du débiteur, SIREN, montant TTC, devise,
    dates de facture et d'échéance, référence de commande, destinataire (nom, e-mail,
    téléphone)."""
    _run(path, import_invoices, "factures")


@import_app.command("payments")
def payments(path: FileArg, confirm: ConfirmOption = False) -> None:
    """Importe des paiements et des avoirs : numéro de facture, montant, date, mode,
    référence, nature (paiement ou avoir ; paiement si absente)."""
    _run(path, lambda files, data, actor, progress: import_payments(
        files, data, actor, progress, confirm_duplicates=confirm), "paiements")


@import_app.command("fec")
def fec(path: FileArg,
        terms: Annotated[str, typer.Option(
            help="Délai de paiement quand le FEC ne donne pas l'échéance : 30, 60, 45fdm…")]
        = "30", confirm: ConfirmOption = False) -> None:
    """Importe les créances clients ouvertes d'un FEC (comptes 411), leurs règlements et
    leurs avoirs lettrés."""
    rule = _terms(terms)
    _run(path, lambda files, data, actor, progress: import_fec(
        files, data, actor, rule, progress, confirm_duplicates=confirm), "écritures")


@import_app.command("facturx")
def facturx(path: Annotated[Path, typer.Argument(help="Facture Factur-X / ZUGFeRD (PDF).")],
            terms: Annotated[str, typer.Option(
                help="Délai de paiement si la facture ne donne pas l'échéance.")] = "30") -> None:
    """Importe une facture électronique Factur-X : numéro, acheteur et SIREN, montants,
    échéance, référence de commande ; le PDF est joint au dossier comme facture."""
    rule = _terms(terms)
    _run(path, lambda files, data, actor, _, **kept: import_facturx(
        files, data, actor, rule, **kept), "factures", keep_file=True)


def _terms(text: str) -> PaymentTerms:
    try:
        return PaymentTerms.parse(text)
    except DomainError:
        raise typer.BadParameter(f"délai illisible : {text!r} (30, 60, 45fdm… attendu)",
                                 param_hint="--terms") from None
