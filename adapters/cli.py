"""The `relance` command: set up the store, register invoices, read files, serve the app."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from adapters.bootstrap import Runtime, bootstrap
from adapters.cli_evidence import digest_command, export_command, verify_command
from adapters.cli_import import import_app
from adapters.cli_projections import projections_app
from adapters.cli_work import documents_app, scenarios_app, users_app, worklist_command
from adapters.logs import bind_context, configure_logging
from adapters.messages import in_french
from adapters.parsing import parse_date, parse_instant, parse_percent
from adapters.settings import ConfigurationError, Settings
from adapters.store import StoreError
from domain.errors import DomainError
from domain.penalties import penalties
from domain.prescription import prescription
from domain.values import Contact, Debtor, Money
from projections.french import day, instant, money, percent
from projections.french import status as french_status
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
app.add_typer(projections_app, name="projections")
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(documents_app, name="document")
app.add_typer(import_app, name="import")
app.add_typer(users_app, name="user")
app.command("worklist")(worklist_command)
app.command("export")(export_command)
app.command("digest")(digest_command)
app.command("verify")(verify_command)

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

Actor = Annotated[str, typer.Option(help="Qui agit (par défaut : l'utilisateur du système).")]


def default_actor() -> str:
    return os.environ.get("RELANCE_ACTOR") or getpass.getuser()


def open_runtime(actor: str = "") -> Runtime:
    """Configures logs, binds who acts, and bootstraps relance from the environment."""
    settings = Settings.from_env()
    # A command's own output is what the user reads; its logs only say when it goes wrong.
    configure_logging(settings.log_format, os.environ.get("RELANCE_LOG_LEVEL", "WARNING"))
    bind_context(actor=actor or default_actor())
    return bootstrap(settings)


@contextmanager
def _runtime(actor: str = "") -> Iterator[Runtime]:
    runtime = open_runtime(actor)
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
    penalty_rate: Annotated[str, typer.Option(help="Taux de pénalités du contrat, en %.")] = "",
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
            actor or default_actor(),
            number=number,
            debtor=debtor,
            amount=money_value,
            issued_on=issued_on,
            due_on=due_on,
            po_reference=po,
            billing_recipient=Contact(name=contact_name, email=contact_email,
                                      phone=contact_phone),
            penalty_rate=_parsed(parse_percent, penalty_rate, "--penalty-rate")
            if penalty_rate else None,
        )
    out.print(f"Dossier ouvert pour la facture {number} ({money(money_value.amount, currency)}).")


@case_app.command("show")
def case_show(
    number: Annotated[str, typer.Argument(help="Numéro de facture.")],
    today: Annotated[str, typer.Option(help="Jour de référence.")] = "",
    as_of: Annotated[str, typer.Option(
        "--as-of", help="Le dossier tel qu'on le connaissait à cet instant (ISO 8601).")] = "",
    business_date: Annotated[str, typer.Option(
        help="Le dossier tel que les faits s'étaient produits à cette date.")] = "",
) -> None:
    """Affiche un dossier et tout son historique, dans l'ordre."""
    with _runtime() as runtime:
        on = _parsed(parse_date, today, "--today") if today else runtime.today()
        if as_of or business_date:
            _show_as_it_stood(runtime, number, today, as_of, business_date)
            return
        runtime.refresh_views()
        line = runtime.reads.case(number, on)
        if line is None:
            runtime.files.file(number)  # says "no file" the domain's way
            raise typer.Exit(1)
        _header(line.number, line.debtor_name, line.debtor_account, line.debtor_siren,
                line.amount, line.paid, line.outstanding, line.currency, line.due_on,
                line.status.value)
        _history_table([(r["version"], r["occurred_at"], r["recorded_at"], r["actor"],
                         r["label"] + _marks(r["retracted_by"], r["corrected_by"]), r["summary"])
                        for r in runtime.reads.history(number)])
        _money_and_law(runtime, number, on)


def _money_and_law(runtime: Runtime, number: str, on: date) -> None:
    case = runtime.files.case(number)
    owed = penalties(case, on, runtime.law_rates,
                     runtime.files.penalty_rate(number, case=case))
    if owed.lines:
        basis = {"L441-10": "pénalités de retard (C. com. L441-10)",
                 "1231-6": "intérêts au taux légal depuis la mise en demeure (C. civ. 1231-6)"}
        table = Table("Du", "Au", "Jours", "Solde", "Taux", "Montant", "Taux retenu")
        for line in owed.lines:
            table.add_row(day(line.start), day(line.end), str(line.days),
                          money(line.balance, case.currency), percent(line.percent),
                          money(line.amount, case.currency), line.explanation)
        out.print(f"Au {day(on)} : {basis[owed.basis]}"
                  + (" — taux provisoire, à confirmer" if owed.provisional else ""))
        out.print(table)
        out.print(f"Intérêts {money(owed.interest, case.currency)} + indemnité forfaitaire "
                  f"{money(owed.indemnity, case.currency)} = {money(owed.total, case.currency)}")
    deadline = prescription(case)
    out.print(f"Prescription : {day(deadline.deadline)} ({deadline.years} ans à compter du "
              f"{day(deadline.runs_from)}, {deadline.reason})")


def _show_as_it_stood(runtime: Runtime, number: str, today: str, as_of: str,
                      business_date: str) -> None:
    if as_of:
        instant_ = _parsed(parse_instant, as_of, "--as-of")
        invoice = runtime.files.file_as_recorded(number, instant_)
        if invoice is None:
            out.print(f"Aucun fait n'était encore enregistré le {instant(instant_)}.")
            return
        case, entries = invoice.case, invoice.entries
        on = instant_.date()
        out.print(f"Tel qu'on le connaissait le {instant(instant_)} :")
    else:
        day_ = _parsed(parse_date, business_date, "--business-date")
        found = runtime.files.case_by_business_date(number, day_)
        if found is None:
            out.print(f"La facture n'était pas encore enregistrée le {day(day_)}.")
            return
        case, on = found, day_
        entries = [e for e in runtime.files.history(number)
                   if e.occurred_at.date() <= day_]
        out.print(f"Tel que les faits s'étaient produits au {day(day_)} :")
    _header(case.number, case.debtor.name, case.debtor.account, case.debtor.siren,
            case.amount, case.paid, case.outstanding, case.currency, case.due_on,
            case.status(_parsed(parse_date, today, "--today") if today else on).value)
    rows = [history_row(e) for e in entries]
    _history_table([(r.version, r.occurred_at, r.recorded_at, r.actor,
                     r.label + _marks(r.retracted_by, list(r.corrected_by)), r.summary)
                    for r in rows])


def _header(number: str, name: str, account: str, siren: str, amount: Decimal,
            paid: Decimal, outstanding: Decimal, currency: str, due_on: date,
            status: str) -> None:
    siren_text = f", SIREN {siren}" if siren else ""
    out.print(f"[bold]Facture {number}[/bold] — {name} ({account}{siren_text})")
    out.print(f"Montant {money(amount, currency)}, payé {money(paid, currency)}, reste dû "
              f"{money(outstanding, currency)} ; échéance {day(due_on)} ; statut : "
              f"{french_status(status)}")


def _marks(retracted_by: int | None, corrected_by: list[int]) -> str:
    if retracted_by:
        return f" [annulé par n° {retracted_by}]"
    if corrected_by:
        return f" [corrigé par n° {', '.join(map(str, corrected_by))}]"
    return ""


def _history_table(rows: list[tuple[int, datetime, datetime, str, str, str]]) -> None:
    table = Table(show_lines=False)
    for column in ("N°", "Survenu le", "Enregistré le", "Par", "Fait", "Détail"):
        table.add_column(column)
    for version, occurred, recorded, actor, label, summary in rows:
        table.add_row(str(version), instant(occurred), instant(recorded), actor, label, summary)
    out.print(table)


@app.command("serve")
def serve(host: Annotated[str, typer.Option()] = "",
          port: Annotated[int, typer.Option()] = 0,
          workers: Annotated[int, typer.Option(
              min=1, max=64, help="Processus web (un par cœur) ; au-delà d'un, les vues "
              "sont tenues à jour par un processus à part.")] = 1) -> None:
    """Démarre l'application web."""
    import subprocess
    import sys

    import uvicorn

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    with _runtime():
        pass  # fail here, in one line, if the store cannot be used
    listen_host, listen_port = host or settings.host, port or settings.port
    runner = None
    if workers > 1 and settings.projections == "embedded":
        # One runner for all the web processes, rather than one each.
        runner = subprocess.Popen([sys.executable, "-m", "adapters.cli", "projections", "run"])
        os.environ["RELANCE_PROJECTIONS"] = "external"
    err.print(f"relance écoute sur http://{listen_host}:{listen_port}/")
    try:
        # Forwarded headers are read by the app itself, from the proxies its settings name
        # (RELANCE_FORWARDED_ALLOW_IPS), never from anyone else.
        uvicorn.run("web.app:create_app", factory=True, host=listen_host, port=listen_port,
                    workers=workers, log_config=None, access_log=False, proxy_headers=False,
                    server_header=False)
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait(timeout=15)


@demo_app.command("seed")
def demo_seed(
    files: Annotated[int, typer.Option(help="Nombre de dossiers.")] = 40,
    seed: Annotated[int, typer.Option(help="Graine du tirage.")] = 1,
    if_empty: Annotated[bool, typer.Option(help="Seulement si la base est vide.")] = False,
    today: Annotated[str, typer.Option(help="Jour de référence.")] = "",
) -> None:
    """Crée un portefeuille de démonstration réaliste et reproductible."""
    from adapters.demo import DEMO_PASSWORD, seed_accounts, seed_portfolio

    with _runtime("demo") as runtime:
        if if_empty and runtime.files.recorder.max_notification_id():
            out.print(f"Base déjà remplie : {runtime.store.description}.")
            return
        on = _parsed(parse_date, today, "--today") if today else runtime.today()
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                      transient=True) as progress:
            task = progress.add_task("Portefeuille de démonstration", total=files)
            logins = seed_accounts(runtime.accounts)
        numbers = seed_portfolio(runtime.files, files_count=files, seed=seed, today=on,
                                     progress=lambda done, _: progress.update(task,
                                                                                completed=done))
        out.print(f"{len(numbers)} dossiers de démonstration créés dans "
                  f"{runtime.store.description} (ex. : {', '.join(numbers[:3])}).")
        if logins:
            out.print(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») : "
                      + ", ".join(f"{login} ({role})" for login, role in logins))


def main() -> None:
    """Entry point: runs a command and turns refusals into one clear line."""
    try:
        app()
    except (StoreError, ConfigurationError) as error:
        err.print(f"relance : {error}", soft_wrap=True)
        sys.exit(2)
    except DomainError as error:
        err.print(f"Refusé : {in_french(error)} ({error.code} : {error.detail})", soft_wrap=True)
        sys.exit(1)



if __name__ == "__main__":
    main()
