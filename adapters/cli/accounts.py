"""`relance user`: accounts, roles, passwords and API tokens, from the terminal. Each
change is a security event in the log."""

from __future__ import annotations

import sys
from typing import Annotated

import structlog
import typer
from rich.table import Table

from adapters.cli.common import err, out, running
from adapters.infra.accounts import AccountError, Role
from adapters.infra.clock import utc_now
from projections.french import instant

users_app = typer.Typer(help="Les comptes (agents, superviseurs, auditeurs, administrateurs).",
                        no_args_is_help=True)
security = structlog.get_logger("relance.security")


def _accounts_command(action):  # type: ignore[no-untyped-def]
    """Runs `action(accounts)` on the store; an AccountError says why in French, exit 1."""
    with running() as runtime:
        try:
            return action(runtime.accounts)
        except AccountError as error:
            err.print(f"Refusé : {error.french}")
            raise typer.Exit(1) from None


def _role(text: str) -> Role:
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
    err.print(f"Mot de passe provisoire de {login} (à changer à la connexion) :")
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
    err.print(f"Jeton {issued.id} « {issued.name} » de {login}, valable "
              f"jusqu'au {issued.expires_at:%d/%m/%Y} (affiché une seule fois) :")
    out.print(token)


@users_app.command("tokens")
def user_tokens(login: Annotated[str, typer.Argument(help="Un compte (tous sinon).")] = ""
                ) -> None:
    """Liste les jetons d'API : compte, nom, création, expiration, dernier usage, état."""
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
    def revoke(accounts):  # type: ignore[no-untyped-def]
        revoked = accounts.revoke_api_token(token_id)
        if revoked is None:
            raise AccountError("no such live token",
                               "Ce jeton n'existe pas ou est déjà révoqué.")
        return revoked

    revoked = _accounts_command(revoke)
    security.info("api token revoked", login=revoked.login, token_id=revoked.id)
    out.print(f"Jeton {revoked.id} « {revoked.name} » de {revoked.login} révoqué.")
