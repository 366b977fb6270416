"""`relance db`, `relance invoice register`, `relance case show`: the store, a new file,
and a file read as it is, as it was known, or as things had happened by a day."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from adapters.bootstrap import Runtime
from adapters.cli.common import default_actor, out, parsed, running
from adapters.parsing import parse_date, parse_instant, parse_percent
from domain.penalties import penalties
from domain.prescription import prescription
from domain.values import Contact, Debtor, Money
from projections.french import day, instant, money, percent
from projections.french import status as french_status
from projections.history import history_row

db_app = typer.Typer(help="La base des faits.", no_args_is_help=True)
invoice_app = typer.Typer(help="Les factures.", no_args_is_help=True)
case_app = typer.Typer(help="Les dossiers.", no_args_is_help=True)
Actor = Annotated[str, typer.Option(help="Qui agit (par défaut : l'utilisateur du système).")]


@db_app.command("init")
def db_init() -> None:
    """Crée les tables de la base si besoin et affiche où elle se trouve."""
    with running() as runtime:
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
    money_value = parsed(lambda t: Money.parse(t, currency), amount, "--amount")
    issued_on = parsed(parse_date, issued, "--issued")
    due_on = parsed(parse_date, due, "--due")
    debtor = parsed(lambda _: Debtor(debtor_account, debtor_name, siren, consumer),
                     debtor_name, "--debtor-name")
    with running(actor) as runtime:
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
            penalty_rate=parsed(parse_percent, penalty_rate, "--penalty-rate")
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
    with running() as runtime:
        on = parsed(parse_date, today, "--today") if today else runtime.today()
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
        instant_ = parsed(parse_instant, as_of, "--as-of")
        invoice = runtime.files.file_as_recorded(number, instant_)
        if invoice is None:
            out.print(f"Aucun fait n'était encore enregistré le {instant(instant_)}.")
            return
        case, entries = invoice.case, invoice.entries
        on = instant_.date()
        out.print(f"Tel qu'on le connaissait le {instant(instant_)} :")
    else:
        day_ = parsed(parse_date, business_date, "--business-date")
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
            case.status(parsed(parse_date, today, "--today") if today else on).value)
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


