"""`relance db`, `relance invoice register`, `relance case`: the store, a new file, what
happened on a file (`case call`, `case record`, at the time it happened), and a file read
as it is, as it was known, or as things had happened by a day."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from adapters.bootstrap import Runtime
from adapters.cli.common import default_actor, err, hint, out, parsed, read_form, running
from adapters.messages import in_french
from adapters.parsing import parse_business_time, parse_date, parse_instant, parse_percent
from adapters.usecases.fact_forms import BY_KIND as FORMS
from adapters.usecases.fact_forms import CHASES, choice, record
from adapters.usecases.sending import step_reference
from domain.debtors import SameDayContact
from domain.engine import Recorded
from domain.invoice import invoice_id
from domain.kinds import Form
from domain.penalties import penalties
from domain.prescription import prescription
from domain.values import CallOutcome, Contact, Debtor, Money, paris_day
from projections.french import day, instant, money, percent, word
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


BusinessTime = Annotated[str, typer.Option(
    "--le", "--occurred-at", help="Quand c'est arrivé, heure de Paris (« 30/11/2026 16:05 » ; "
    "un jour seul : midi) ; par défaut, maintenant.")]
OUTCOMES = ", ".join(f"{o.value} ({word('outcome', o)})" for o in CallOutcome)
SameDayReason = Annotated[str, typer.Option(
    "--motif-second-contact", help="Pourquoi contacter de nouveau le débiteur aujourd'hui, "
    "quand quelqu'un d'autre l'a déjà contacté (sinon, c'est refusé).")]


@contextmanager
def same_day_refused(runtime: Runtime) -> Iterator[None]:
    """A second contact with the debtor the same day, refused: who contacted it and when,
    in French, and how to give the reason; exit code 1."""
    try:
        yield
    except SameDayContact as error:
        err.print(f"Refusé : {in_french(error, runtime.today())} Relancez la commande avec "
                  "--motif-second-contact « … ».", soft_wrap=True)
        raise typer.Exit(1) from None


@case_app.command("call")
def case_call(
    numbers: Annotated[list[str], typer.Argument(
        help="Numéro de la facture, ou des factures d'un même débiteur dont on a parlé.")],
    outcome: Annotated[str, typer.Option(help=f"Issue de l'appel : {OUTCOMES}.")],
    contact_name: Annotated[str, typer.Option(help="Qui a répondu.")] = "",
    contact_function: Annotated[str, typer.Option(help="Sa fonction.")] = "",
    contact_phone: Annotated[str, typer.Option()] = "",
    contact_email: Annotated[str, typer.Option()] = "",
    summary: Annotated[str, typer.Option(help="Ce qui a été dit.")] = "",
    callback_on: Annotated[str, typer.Option(help="Rappeler le (JJ/MM/AAAA).")] = "",
    promised_on: Annotated[str, typer.Option(help="Paiement promis pour le.")] = "",
    promised_amount: Annotated[str, typer.Option(
        help="Montant promis (une seule facture ; défaut : le reste dû).")] = "",
    occurred_at: BusinessTime = "",
    same_day_reason: SameDayReason = "",
    actor: Actor = "",
) -> None:
    """Enregistre un appel, et la promesse faite pendant l'appel, à l'heure où il a eu lieu.
    Un second contact le même jour avec le débiteur, après celui d'un autre, demande son
    motif (--motif-second-contact)."""
    contact = parsed(lambda _: Contact(name=contact_name, function=contact_function,
                                       phone=contact_phone, email=contact_email),
                     contact_email, "--contact-email")
    chosen = parsed(lambda t: CallOutcome(choice(t, "outcome")), outcome, "--outcome")
    amount = parsed(lambda t: Money.parse(t).require_positive(), promised_amount,
                    "--promised-amount") if promised_amount.strip() else None
    when = _business_time(occurred_at)
    with running(actor) as runtime, same_day_refused(runtime):
        recorded = runtime.files.log_call(
            actor or default_actor(), numbers, contact=contact, outcome=chosen, summary=summary,
            callback_on=_optional_day(callback_on, "--callback-on"),
            promised_on=_optional_day(promised_on, "--promised-on"), promised_amount=amount,
            scenario_step="" if when else step_reference(runtime, numbers[0], call=True),
            occurred_at=when, same_day_reason=same_day_reason)
        _say_recorded(runtime, numbers, recorded)


@case_app.command("record")
def case_record(
    number: Annotated[str, typer.Argument(help="Numéro de facture.")],
    form: Annotated[str, typer.Argument(
        help=f"Le fait : {', '.join(FORMS)} (relance case forms : leurs champs).")],
    fields: Annotated[list[str] | None, typer.Option(
        "--champ", "--field", help="NOM=VALEUR, une fois par champ du fait.")] = None,
    also: Annotated[list[str] | None, typer.Option(
        "--aussi", help="Autre facture du débiteur couverte par la relance, la mise en "
        "demeure ou la relance préventive (une fois par facture).")] = None,
    occurred_at: BusinessTime = "",
    same_day_reason: SameDayReason = "",
    actor: Actor = "",
) -> None:
    """Enregistre un fait du dossier (paiement, litige, échéancier…) à l'heure où il a eu lieu.
    Une relance, une mise en demeure ou une relance préventive peut couvrir d'autres
    factures du débiteur (--aussi) ; un second contact le même jour avec le débiteur, après
    celui d'un autre, demande son motif (--motif-second-contact)."""
    chosen = FORMS.get(form.strip())
    if chosen is None:
        raise typer.BadParameter(f"aucun fait « {form} » ; faits : {', '.join(FORMS)}",
                                 param_hint="FORM")
    if also and chosen.slug not in CHASES:
        raise typer.BadParameter("seules une relance, une mise en demeure ou une relance "
                                 "préventive portent sur plusieurs factures",
                                 param_hint="--aussi")
    typed = _typed_fields(chosen, fields or [])
    when = _business_time(occurred_at)
    with running(actor) as runtime, same_day_refused(runtime):
        recorded = record(runtime.files, actor or default_actor(), number, chosen, typed,
                          occurred_at=when, also_about=also or [],
                          same_day_reason=same_day_reason)
        _say_recorded(runtime, [number, *(also or [])], recorded)


@case_app.command("forms")
def case_forms() -> None:
    """Les faits que « relance case record » enregistre, et leurs champs."""
    for form in FORMS.values():
        out.print(Text(f"{form.slug} — {form.title}", style="bold"))
        for field in form.fields:
            required = ", obligatoire" if field.required else ""
            out.print(f"  --champ {field.name}=… : {field.label} ({hint(field)}{required})")


def _business_time(text: str) -> datetime | None:
    """When it happened (Paris time unless a zone is given), as a UTC instant; None: now."""
    if not text.strip():
        return None
    return parsed(parse_business_time, text, "--le").astimezone(UTC)


def _optional_day(text: str, option: str) -> date | None:
    return parsed(parse_date, text, option) if text.strip() else None


def _typed_fields(form: Form, pairs: list[str]) -> dict[str, Any]:
    """The form's values typed as NAME=VALUE, read and typed; a usage error names each
    field that does not read."""
    names = [field.name for field in form.fields]
    values: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or name.strip() not in names:
            raise typer.BadParameter(f"« {pair} » : NOM=VALEUR, NOM parmi {', '.join(names)}",
                                     param_hint="--champ")
        values[name.strip()] = value
    problems, typed = read_form(form, values)
    if problems:
        raise typer.BadParameter(" ; ".join(f"{name} : {problem}"
                                             for name, problem in problems.items()),
                                 param_hint="--champ")
    return typed


def _say_recorded(runtime: Runtime, numbers: Sequence[str], recorded: Recorded) -> None:
    """Each fact recorded, with when it happened and, if that differs, when it was recorded."""
    files = {invoice_id(number): number for number in numbers}
    for file_id, version in recorded.facts:
        number = files[file_id]
        entry = next(e for e in runtime.files.history(number) if e.version == version)
        row = history_row(entry)
        out.print(f"Enregistré au dossier {number}, n° {version} : {row.label} — {row.summary}"
                  f" ({_when(row.occurred_at, row.recorded_at)}).")


def _when(occurred: datetime, recorded: datetime) -> str:
    if instant(occurred) == instant(recorded):
        return f"le {instant(recorded)}"
    return f"survenu le {instant(occurred)}, enregistré le {instant(recorded)}"


@case_app.command("show")
def case_show(
    number: Annotated[str, typer.Argument(help="Numéro de facture.")],
    today: Annotated[str, typer.Option(help="Jour de référence.")] = "",
    as_of: Annotated[str, typer.Option(
        "--as-of", help="Le dossier tel qu'on le connaissait à cet instant, heure de Paris "
        "(« 01/12/2026 12:21 » ou ISO 8601).")] = "",
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
        interest = money(owed.interest, owed.currency)
        indemnity = money(owed.indemnity, owed.indemnity_currency)
        if owed.total is None:
            out.print(f"Intérêts {interest} et indemnité forfaitaire {indemnity} (devises "
                      "différentes, non additionnées)")
        else:
            out.print(f"Intérêts {interest} + indemnité forfaitaire {indemnity} = "
                      f"{money(owed.total, owed.currency)}")
    for gap in owed.missing:
        out.print(f"Pénalités incomplètes {gap} : ajoutez le taux à la table des taux.")
    deadline = prescription(case)
    out.print(f"Prescription : {day(deadline.deadline)} ({deadline.years} ans à compter du "
              f"{day(deadline.runs_from)}, {deadline.reason})")
    for late in deadline.after_deadline:
        out.print(f"Créance prescrite : {late} (ne la fait pas renaître).")


def _show_as_it_stood(runtime: Runtime, number: str, today: str, as_of: str,
                      business_date: str) -> None:
    if as_of:
        instant_ = parsed(parse_instant, as_of, "--as-of")
        invoice = runtime.files.file_as_recorded(number, instant_)
        if invoice is None:
            out.print(f"Aucun fait n'était encore enregistré le {as_of.strip()}.")
            return
        case, entries = invoice.case, invoice.entries
        on = paris_day(instant_)
        out.print(f"Tel qu'on le connaissait le {as_of.strip()} :", markup=False)
    else:
        day_ = parsed(parse_date, business_date, "--business-date")
        found = runtime.files.case_by_business_date(number, day_)
        if found is None:
            out.print(f"La facture n'était pas encore enregistrée le {day(day_)}.")
            return
        case, on = found, day_
        entries = [e for e in runtime.files.history(number)
                   if paris_day(e.occurred_at) <= day_]
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
    out.print(Text.assemble((f"Facture {number}", "bold"), f" — {name} ({account}{siren_text})"))
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


