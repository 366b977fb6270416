"""The `relance` command: set up the store, register invoices, read files, serve the app."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from adapters.bootstrap import Runtime, bootstrap
from adapters.logs import bind_context, configure_logging
from adapters.messages import in_french
from adapters.parsing import parse_date
from adapters.settings import Settings
from adapters.store import StoreError
from domain.errors import DomainError
from domain.values import Contact, Debtor, Money
from projections.french import day, instant, money
from projections.history import history_row

app = typer.Typer(help="relance : suivi des dossiers de recouvrement amiable.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="La base des faits.", no_args_is_help=True)
invoice_app = typer.Typer(help="Les factures.", no_args_is_help=True)
case_app = typer.Typer(help="Les dossiers.", no_args_is_help=True)
demo_app = typer.Typer(help="Le portefeuille de démonstration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(invoice_app, name="invoice")
app.add_typer(case_app, name="case")
app.add_typer(demo_app, name="demo")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

Actor = Annotated[str, typer.Option(help="Qui agit (par défaut : l'utilisateur du système).")]


def _default_actor() -> str:
    return os.environ.get("RELANCE_ACTOR") or getpass.getuser()


@contextmanager
def _runtime(actor: str = "") -> Iterator[Runtime]:
    settings = Settings.from_env()
    # A command's own output is what the user reads; its logs only say when it goes wrong.
    configure_logging(settings.log_format, os.environ.get("RELANCE_LOG_LEVEL", "WARNING"))
    bind_context(actor=actor or _default_actor())
    runtime = bootstrap(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def _parsed(parse: Callable[[str], T], text: str, option: str) -> T:
    try:
        return parse(text)
    except (ValueError, DomainError) as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


@db_app.command("init")
def db_init() -> None:
    """Crée les tables de la base si besoin et affiche où elle se trouve."""
    with _runtime() as runtime:
        head = runtime.files.recorder.max_notification_id() or 0
        out.print(f"Base prête : {runtime.store.description} ({head} faits enregistrés).")


@invoice_app.command("register")
def invoice_register(
    number: Annotated[str, typer.Option(help="Numéro de facture.")],
    debtor_account: Annotated[str, typer.Option(help="Compte client du débiteur.")],
    debtor_name: Annotated[str, typer.Option(help="Raison sociale du débiteur.")],
    amount: Annotated[str, typer.Option(help="Montant TTC, ex. « 1 500,00 ».")],
    issued: Annotated[str, typer.Option(help="Date de facture (JJ/MM/AAAA ou AAAA-MM-JJ).")],
    due: Annotated[str, typer.Option(help="Date d'échéance.")],
    currency: Annotated[str, typer.Option(help="Devise ISO 4217.")] = "EUR",
    siren: Annotated[str, typer.Option(help="SIREN du débiteur.")] = "",
    consumer: Annotated[bool, typer.Option(help="Le débiteur est un particulier.")] = False,
    po: Annotated[str, typer.Option(help="Référence de commande.")] = "",
    contact_name: Annotated[str, typer.Option(help="Destinataire de la facture.")] = "",
    contact_email: Annotated[str, typer.Option()] = "",
    contact_phone: Annotated[str, typer.Option()] = "",
    actor: Actor = "",
) -> None:
    """Ouvre le dossier d'une facture impayée."""
    money_value = _parsed(lambda t: Money.parse(t, currency), amount, "--amount")
    issued_on = _parsed(parse_date, issued, "--issued")
    due_on = _parsed(parse_date, due, "--due")
    debtor = _parsed(lambda _: Debtor(debtor_account, debtor_name, siren, consumer),
                     debtor_name, "--debtor-name")
    with _runtime(actor) as runtime:
        runtime.files.register_invoice(
            actor or _default_actor(),
            number=number,
            debtor=debtor,
            amount=money_value,
            issued_on=issued_on,
            due_on=due_on,
            po_reference=po,
            billing_recipient=Contact(name=contact_name, email=contact_email,
                                      phone=contact_phone),
        )
    out.print(f"Dossier ouvert pour la facture {number} ({money(money_value.amount, currency)}).")


@case_app.command("show")
def case_show(number: Annotated[str, typer.Argument(help="Numéro de facture.")],
              today: Annotated[str, typer.Option(help="Jour de référence.")] = "") -> None:
    """Affiche un dossier et tout son historique, dans l'ordre."""
    on = _parsed(parse_date, today, "--today") if today else date.today()  # noqa: DTZ011
    with _runtime() as runtime:
        invoice = runtime.files.file(number)
        case = invoice.case
        siren = f", SIREN {case.debtor.siren}" if case.debtor.siren else ""
        out.print(f"[bold]Facture {case.number}[/bold] — {case.debtor.name} "
                  f"({case.debtor.account}{siren})")
        out.print(f"Montant {money(case.amount, case.currency)}, payé "
                  f"{money(case.paid, case.currency)}, reste dû "
                  f"{money(case.outstanding, case.currency)} ; échéance {day(case.due_on)} ; "
                  f"statut : {case.status(on).value}")
        table = Table(show_lines=False)
        for column in ("N°", "Survenu le", "Enregistré le", "Par", "Fait", "Détail"):
            table.add_column(column)
        for entry in invoice.entries:
            row = history_row(entry)
            mark = ""
            if row.retracted_by:
                mark = f" [annulé par n° {row.retracted_by}]"
            elif row.corrected_by:
                mark = f" [corrigé par n° {', '.join(map(str, row.corrected_by))}]"
            table.add_row(str(row.version), instant(row.occurred_at), instant(row.recorded_at),
                          row.actor, row.label + mark, row.summary)
        out.print(table)


@app.command("serve")
def serve(host: Annotated[str, typer.Option()] = "",
          port: Annotated[int, typer.Option()] = 0) -> None:
    """Démarre l'application web."""
    import uvicorn

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    with _runtime():
        pass  # fail here, in one line, if the store cannot be used
    listen_host, listen_port = host or settings.host, port or settings.port
    err.print(f"relance écoute sur http://{listen_host}:{listen_port}/")
    uvicorn.run("web.app:create_app", factory=True, host=listen_host, port=listen_port,
                log_config=None, access_log=False)


@demo_app.command("seed")
def demo_seed(
    files: Annotated[int, typer.Option(help="Nombre de dossiers.")] = 40,
    seed: Annotated[int, typer.Option(help="Graine du tirage.")] = 1,
    if_empty: Annotated[bool, typer.Option(help="Seulement si la base est vide.")] = False,
    today: Annotated[str, typer.Option(help="Jour de référence.")] = "",
) -> None:
    """Crée un portefeuille de démonstration réaliste et reproductible."""
    from adapters.demo import seed_portfolio

    with _runtime("demo") as runtime:
        if if_empty and runtime.files.recorder.max_notification_id():
            out.print(f"Base déjà remplie : {runtime.store.description}.")
            return
        on = _parsed(parse_date, today, "--today") if today else runtime.today()
        numbers = seed_portfolio(runtime.files, files_count=files, seed=seed, today=on)
        out.print(f"{len(numbers)} dossiers de démonstration créés dans "
                  f"{runtime.store.description} (ex. : {', '.join(numbers[:3])}).")


def main() -> None:
    """Entry point: runs a command and turns refusals into one clear line."""
    try:
        app()
    except StoreError as error:
        err.print(f"relance : {error}", soft_wrap=True)
        sys.exit(2)
    except DomainError as error:
        err.print(f"Refusé : {in_french(error)} ({error.code} : {error.detail})", soft_wrap=True)
        sys.exit(1)

