"""`relance courrier`: what debtors send back, read from the mailbox (RELANCE_INBOX_URL) or
from files a mail server delivers, and the messages no debtor was found for.

`relance courrier relever` reads the mailbox once (`relance serve` does it by itself every
RELANCE_INBOX_EVERY seconds); `relance courrier lire` records messages given as files, or
on standard input (`-`), which is how a local mail server delivers to relance (a pipe
alias, or an LMTP-to-command route); `relance courrier non-rattache` lists the messages
waiting for a person.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adapters.cli.common import err, out, progress_bar, running
from adapters.infra.inbox import InboxUnavailable, inbox_from_url
from adapters.usecases.replies import MAIL_ACTOR, Taken, poll, take_in
from domain.mail import KINDS, UNATTACHED
from projections.french import count, instant

mail_app = typer.Typer(help="Le courrier reçu : réponses des débiteurs, réponses "
                            "automatiques, e-mails non distribués.", no_args_is_help=True)
OUTCOMES = {"recorded": "rattaché au dossier", "unattached": "non rattaché",
            "known": "déjà lu", "empty": "vide, rien à enregistrer"}
MAX_FILE = 64 * 1024 * 1024


@mail_app.command("relever")
def fetch_mail(url: Annotated[str, typer.Option(
        "--url", help="La boîte à lire (par défaut RELANCE_INBOX_URL).")] = "",
               limit: Annotated[int, typer.Option(min=1, max=10_000,
                                                  help="Messages lus au plus.")] = 1000) -> None:
    """Lit les nouveaux messages de la boîte et les enregistre sur les dossiers."""
    with running(MAIL_ACTOR) as runtime:
        address = url or runtime.settings.inbox_url
        if not address:
            err.print("Aucune boîte à lire : donnez --url ou RELANCE_INBOX_URL.")
            raise typer.Exit(2)
        runtime.refresh_views()
        try:
            taken = poll(runtime, inbox_from_url(address), limit=limit)
        except InboxUnavailable as error:
            err.print(f"Boîte injoignable : {error}")
            raise typer.Exit(2) from None
        _report(taken)


@mail_app.command("lire")
def read_files(paths: Annotated[list[str], typer.Argument(
        help="Fichiers .eml, ou « - » pour un message sur l'entrée standard.")]) -> None:
    """Enregistre des messages remis sous forme de fichiers (ou sur l'entrée standard)."""
    with running(MAIL_ACTOR) as runtime:
        runtime.refresh_views()
        taken = []
        with progress_bar("Messages", total=len(paths)) as update:
            for done, path in enumerate(paths, start=1):
                raw = sys.stdin.buffer.read(MAX_FILE) if path == "-" else \
                    Path(path).read_bytes()[:MAX_FILE]
                taken.append(take_in(runtime, raw))
                update(done, None)
        _report(taken)


@mail_app.command("non-rattache")
def unattached() -> None:
    """Les messages pour lesquels aucun débiteur n'a été trouvé."""
    with running() as runtime:
        runtime.refresh_views()
        rows = runtime.reads.incoming(UNATTACHED)
        if not rows:
            out.print("Aucun courrier non rattaché.")
            return
        table = Table("Reçu le", "De", "Objet", "Nature", "Clé")
        for row in rows:
            table.add_row(instant(row["received_at"]), row["sender"], row["subject"][:60],
                          KINDS.get(row["kind"], row["kind"]), row["key"])
        out.print(table)


def _report(taken: list[Taken]) -> None:
    if not taken:
        out.print("Aucun nouveau message.")
        return
    for one in taken:
        where = f" : {one.account} ({', '.join(one.numbers)})" if one.account else ""
        out.print(f"{KINDS.get(one.kind, one.kind).capitalize()} — "
                  f"{OUTCOMES[one.outcome]}{where}")
    recorded = sum(1 for one in taken if one.outcome not in ("known", "empty"))
    out.print(f"{count(recorded, 'message enregistré', 'messages enregistrés')} sur "
              f"{count(len(taken), 'lu', 'lus')}.")
