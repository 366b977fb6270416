"""`relance worklist` and `relance scenarios`: the day's work and the team's playbook."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import structlog
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


def _required_day(text: str, option: str) -> date:
    day = _day(text, option)
    if day is None:
        raise typer.BadParameter("une date est requise", param_hint=option)
    return day


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


documents_app = typer.Typer(help="Les courriers et e-mails des dossiers.", no_args_is_help=True)


@documents_app.command("preview")
def document_preview(
    number: Annotated[str, typer.Argument(help="Numéro de facture.")],
    template: Annotated[str, typer.Argument(help="pre_due, reminder_1, reminder_2, "
                                            "formal_notice, call_confirmation, "
                                            "duplicate_cover ou payment_plan.")],
    pdf: Annotated[str, typer.Option(help="Écrit aussi le courrier en PDF à ce chemin.")] = "",
) -> None:
    """Affiche un document tel qu'il partirait aujourd'hui, sans rien envoyer."""
    from pathlib import Path

    from adapters.cli import default_actor, open_runtime
    from adapters.documents import DocumentUnavailable, WordingBroken
    from adapters.sending import preview

    runtime = open_runtime()
    try:
        document = preview(runtime, number, template, default_actor())
    except WordingBroken as error:
        Console(stderr=True).print(f"Document impossible avec le modèle de l'équipe : "
                                   f"{error.french}")
        raise typer.Exit(1) from None
    except DocumentUnavailable as error:
        raise typer.BadParameter(str(error), param_hint="TEMPLATE") from None
    finally:
        runtime.close()
    out.print(f"[bold]Objet : {document.subject}[/bold]\n")
    out.print(document.text, markup=False, highlight=False)
    if pdf:
        Path(pdf).write_bytes(document.pdf())
        out.print(f"Courrier PDF écrit dans {pdf}.")


@documents_app.command("send")
def document_send(
    number: Annotated[str, typer.Argument(help="Numéro de facture.")],
    template: Annotated[str, typer.Argument(help="Le document à envoyer par e-mail.")],
) -> None:
    """Envoie un document par e-mail et l'enregistre au dossier (ou l'échec d'envoi)."""
    from adapters.cli import default_actor, open_runtime
    from adapters.documents import DocumentUnavailable, WordingBroken
    from adapters.sending import send_by_email

    runtime = open_runtime()
    try:
        sent = send_by_email(runtime, number, template, default_actor())
    except WordingBroken as error:
        Console(stderr=True).print(f"Document impossible avec le modèle de l'équipe : "
                                   f"{error.french}")
        raise typer.Exit(1) from None
    except DocumentUnavailable as error:
        raise typer.BadParameter(str(error), param_hint="TEMPLATE") from None
    finally:
        runtime.close()
    if not sent.ok:
        out.print(f"Échec de l'envoi à {sent.recipient or '(aucune adresse)'} : {sent.error}")
        raise typer.Exit(1)
    out.print(f"Envoyé à {sent.recipient} ({sent.message_id}).")


def _playbook_command(change) -> None:  # type: ignore[no-untyped-def]
    from adapters.cli import default_actor, open_runtime

    runtime = open_runtime()
    try:
        change(runtime.files, default_actor())
    finally:
        runtime.close()


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
    from decimal import Decimal, InvalidOperation

    value = None
    if percent.strip().lower() not in ("aucun", "none", ""):
        try:
            value = Decimal(percent.replace(",", "."))
        except InvalidOperation:
            raise typer.BadParameter(f"{percent!r} n'est pas un taux", param_hint="PERCENT")\
                from None
    _playbook_command(lambda files, actor: files.set_debtor_penalty_rate(actor, account, value))
    out.print(f"Taux contractuel de {account} : {value if value is not None else 'légal'}.")


users_app = typer.Typer(help="Les comptes (agents, superviseurs, auditeurs, administrateurs).",
                        no_args_is_help=True)
security = structlog.get_logger("relance.security")


def _accounts_command(action):  # type: ignore[no-untyped-def]
    """Runs `action(accounts)` on the store; an AccountError says why in French, exit 1."""
    from adapters.accounts import AccountError
    from adapters.cli import open_runtime

    runtime = open_runtime()
    try:
        return action(runtime.accounts)
    except AccountError as error:
        Console(stderr=True).print(f"Refusé : {error.french}")
        raise typer.Exit(1) from None
    finally:
        runtime.close()


def _role(text: str):  # type: ignore[no-untyped-def]
    from adapters.accounts import Role

    try:
        return Role(text)
    except ValueError:
        raise typer.BadParameter("agent, supervisor, auditor ou admin",
                                 param_hint="--role") from None


@users_app.command("add")
def user_add(
    login: Annotated[str, typer.Argument(help="Identifiant, ex. amelie.martin.")],
    role: Annotated[str, typer.Option(help="agent, supervisor, auditor ou admin.")] = "agent",
    name: Annotated[str, typer.Option(help="Nom affiché.")] = "",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Lit le mot de passe sur l'entrée standard.")] = False,
) -> None:
    """Crée un compte (le mot de passe est demandé, jamais passé en argument)."""
    import sys

    chosen = _role(role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    _accounts_command(lambda accounts: accounts.add(login, name, chosen, password))
    security.info("account created", login=login, role=chosen.value)
    out.print(f"Compte {login} créé ({chosen.value}).")


@users_app.command("role")
def user_role(login: Annotated[str, typer.Argument(help="Identifiant.")],
              role: Annotated[str, typer.Argument(help="agent, supervisor, auditor ou admin.")]
              ) -> None:
    """Donne un autre rôle à un compte actif."""
    chosen = _role(role)
    _accounts_command(lambda accounts: accounts.set_role(login, chosen))
    security.info("role changed", login=login, role=chosen.value)
    out.print(f"Compte {login} : rôle {chosen.value}.")


@users_app.command("disable")
def user_disable(login: Annotated[str, typer.Argument(help="Identifiant.")]) -> None:
    """Désactive un compte : ses sessions et ses jetons cessent aussitôt."""
    from adapters.accounts import AccountError

    def disable(accounts):  # type: ignore[no-untyped-def]
        if accounts.user(login) is None:
            raise AccountError(f"no active account {login!r}", f"Aucun compte actif « {login} ».")
        accounts.disable(login)

    _accounts_command(disable)
    security.info("account disabled", login=login)
    out.print(f"Compte {login} désactivé.")


@users_app.command("reset-password")
def user_reset_password(login: Annotated[str, typer.Argument(help="Identifiant.")]) -> None:
    """Donne un mot de passe provisoire, à changer à la prochaine connexion."""
    temporary = _accounts_command(lambda accounts: accounts.reset_password(login))
    security.info("password reset", login=login)
    Console(stderr=True).print(f"Mot de passe provisoire de {login} (à changer à la connexion) :")
    out.print(temporary)


@users_app.command("token")
def user_token(
    login: Annotated[str, typer.Argument(help="Compte pour lequel agit le script.")],
    name: Annotated[str, typer.Option(help="Nom du jeton, ex. « ERP ».")] = "script",
    days: Annotated[int, typer.Option(help="Durée de validité, en jours.")] = 90,
) -> None:
    """Crée un jeton d'API (affiché une seule fois) pour un script agissant comme ce compte."""
    def issue(accounts):  # type: ignore[no-untyped-def]
        token = accounts.issue_api_token(login, name=name, days=days)
        return token, accounts.api_token(token)

    token, issued = _accounts_command(issue)
    security.info("api token issued", login=login, token_id=issued.id, name=issued.name,
                  expires_at=str(issued.expires_at))
    Console(stderr=True).print(f"Jeton {issued.id} « {issued.name} » de {login}, valable "
                               f"jusqu'au {issued.expires_at:%d/%m/%Y} (affiché une seule fois) :")
    out.print(token)


@users_app.command("tokens")
def user_tokens(login: Annotated[str, typer.Argument(help="Un compte (tous sinon).")] = ""
                ) -> None:
    """Liste les jetons d'API : compte, nom, création, expiration, dernier usage, état."""
    from adapters.clock import utc_now
    from projections.french import instant

    tokens = _accounts_command(lambda accounts: accounts.api_tokens(login or None))
    table = Table("Jeton", "Compte", "Nom", "Créé le", "Expire le", "Dernier usage", "État")
    now = utc_now()
    for t in tokens:
        table.add_row(t.id, t.login, t.name, instant(t.created_at),
                      instant(t.expires_at) if t.expires_at else "jamais",
                      instant(t.last_used_at) if t.last_used_at else "jamais", t.state(now))
    out.print(table)


@users_app.command("revoke-token")
def user_revoke_token(token_id: Annotated[str, typer.Argument(
        help="Le jeton, par son identifiant (relance user tokens).")]) -> None:
    """Révoque un jeton d'API : il cesse aussitôt de fonctionner."""
    from adapters.accounts import AccountError

    def revoke(accounts):  # type: ignore[no-untyped-def]
        revoked = accounts.revoke_api_token(token_id)
        if revoked is None:
            raise AccountError("no such live token",
                               "Ce jeton n'existe pas ou est déjà révoqué.")
        return revoked

    revoked = _accounts_command(revoke)
    security.info("api token revoked", login=revoked.login, token_id=revoked.id)
    out.print(f"Jeton {revoked.id} « {revoked.name} » de {revoked.login} révoqué.")
