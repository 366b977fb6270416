"""`relance debiteur`: who owns a debtor, giving debtors an owner, and the links to a
debtor's own page (`relance debiteur espace 411ACME [--nouveau | --revoquer MOTIF]`).

`relance debiteur attribuer 411DUP 411ACME --a bruno.petit --motif "départ d'Amélie"` is
one command recorded in one transaction, as from the portfolio: every debtor named moves
with its open and future files (except those given to somebody else as an exception).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from adapters.cli.common import default_actor, out, running
from adapters.usecases.owners import assign_debtors, assigned_notice
from projections.french import count, day, instant
from projections.portal import one_line_per_answer

debtors_app = typer.Typer(help="Les débiteurs : leur titulaire dans l'équipe, leur espace.",
                          no_args_is_help=True)


@debtors_app.command("attribuer")
def assign(
    accounts: Annotated[list[str], typer.Argument(help="Comptes des débiteurs.",
                                                  metavar="COMPTE...")],
    agent: Annotated[str, typer.Option(
        "--a", "--agent", help="Le titulaire : un compte actif de l'équipe (agent ou "
        "superviseur).")] = "",
    unassign: Annotated[bool, typer.Option(
        "--a-attribuer", help="Remet les débiteurs « à attribuer » (sans titulaire).")]
    = False,
    reason: Annotated[str, typer.Option("--motif", help="Pourquoi (enregistré).")] = "",
) -> None:
    """Donne des débiteurs (et tous leurs dossiers ouverts et à venir) à un titulaire."""
    if bool(agent.strip()) == unassign:
        raise typer.BadParameter("indiquez soit --a AGENT, soit --a-attribuer",
                                 param_hint="--a")
    with running() as runtime:
        runtime.refresh_views()
        named = list(dict.fromkeys(a.strip() for a in accounts))
        owners = runtime.reads.owners_of(named)
        moving = [a for a in named if owners.get(a, "") != agent.strip()]
        files = runtime.reads.following(moving)
        assign_debtors(runtime, default_actor(), named, agent, reason)
        out.print(assigned_notice(len(moving), files, agent.strip(), len(named) - len(moving)))


@debtors_app.command("titulaire")
def owner(account: Annotated[str, typer.Argument(help="Compte du débiteur.",
                                                 metavar="COMPTE")]) -> None:
    """Affiche le titulaire d'un débiteur : qui, depuis quand, par qui, pourquoi."""
    with running() as runtime:
        runtime.refresh_views()
        row = runtime.reads.debtor_owner(account)
        exceptions = runtime.reads.exceptions(account)
        if row is None or not row["owner"]:
            out.print(f"{account} : à attribuer (aucun titulaire).")
        else:
            why = f" : {row['reason']}" if row["reason"] else ""
            out.print(f"{account} : titulaire {row['owner']}, depuis le "
                      f"{instant(row['assigned_at'])} (par {row['assigned_by']}{why}).")
        for line in exceptions:
            out.print(f"  {line['number']} : confié à {line['file_agent']} par exception")


@debtors_app.command("espace")
def portal(
    account: Annotated[str, typer.Argument(help="Compte du débiteur.", metavar="COMPTE")],
    new: Annotated[bool, typer.Option(
        "--nouveau", help="Crée un lien et l'affiche (une seule fois).")] = False,
    revoke: Annotated[str, typer.Option(
        "--revoquer", metavar="MOTIF", help="Révoque tous les liens actifs, pour ce motif.")]
    = "",
) -> None:
    """L'espace du débiteur : ses liens (état, visites) et ce qu'il y a fait ; en crée un
    ou les révoque."""
    with running() as runtime:
        if new:
            token, _ = runtime.files.issue_portal_link(
                default_actor(), account, purpose="page", days=runtime.settings.portal_days)
            out.print(f"Lien créé (il ne sera plus affiché) : "
                      f"{runtime.settings.portal_base}/p/{token}", soft_wrap=True)
        runtime.refresh_views()
        links = runtime.reads.portal_links(account, runtime.today())
        if revoke.strip():
            active = [UUID(link["link"]) for link in links if link["state"] == "actif"]
            if active:
                runtime.files.revoke_portal_links(default_actor(), active, reason=revoke)
            out.print(count(len(active), "lien révoqué", "liens révoqués") + ".")
            runtime.refresh_views()
            links = runtime.reads.portal_links(account, runtime.today())
        if not links:
            out.print(f"{account} : aucun lien vers son espace.")
        for link in links:
            seen = (f", dernière le {instant(link['last_visit_at'])}"
                    if link["last_visit_at"] else "")
            out.print(f"{link['purpose_label']}, créé le {instant(link['issued_at'])}, "
                      f"valable jusqu'au {day(link['expires_on'])} : {link['state']} ; "
                      f"{count(link['visits'], 'visite', 'visites')}{seen}")
        for line in one_line_per_answer(runtime.reads.portal_activity(account, 20)):
            out.print(f"  {instant(line['at'])} : {line['what']}")
