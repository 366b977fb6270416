"""The `relance` command: its sub-commands, and one clear line for a refusal or a problem.

Each sub-command family lives in its own module and shares `adapters.cli.common`; this
module only puts them together and turns refusals into exit codes (1: refused, 2: the
configuration or the database)."""

from __future__ import annotations

import sys

import typer

from adapters.cli.accounts import users_app
from adapters.cli.campaign import campaign_app
from adapters.cli.common import err
from adapters.cli.debtors import debtors_app
from adapters.cli.evidence import digest_command, export_command, verify_command
from adapters.cli.files import case_app, db_app, invoice_app
from adapters.cli.imports import import_app
from adapters.cli.mail import mail_app
from adapters.cli.persons import persons_app
from adapters.cli.projections import projections_app
from adapters.cli.serve import demo_app, serve
from adapters.cli.work import documents_app, scenarios_app, worklist_command
from adapters.infra.store import StoreError
from adapters.messages import in_french
from adapters.settings import ConfigurationError
from domain.errors import DomainError

app = typer.Typer(help="relance : suivi des dossiers de recouvrement amiable.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
for name, group in (("db", db_app), ("invoice", invoice_app), ("case", case_app),
                    ("demo", demo_app), ("projections", projections_app),
                    ("scenarios", scenarios_app), ("document", documents_app),
                    ("import", import_app), ("user", users_app), ("debiteur", debtors_app),
                    ("campagne", campaign_app), ("courrier", mail_app),
                    ("personne", persons_app)):
    app.add_typer(group, name=name)
app.command("serve")(serve)
app.command("worklist")(worklist_command)
app.command("export")(export_command)
app.command("digest")(digest_command)
app.command("verify")(verify_command)


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
