"""`relance serve` and `relance demo seed`: the web application (with the daily run at
RELANCE_RUN_AT), and a demo portfolio."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from typing import Annotated

import typer
import uvicorn

from adapters.bootstrap import Runtime, bootstrap
from adapters.cli.common import err, out, parsed, progress_bar, running
from adapters.infra.inbox import inbox_from_url
from adapters.infra.logs import configure_logging
from adapters.infra.scheduler import DailySchedule, Every
from adapters.parsing import parse_date
from adapters.settings import Settings
from adapters.usecases.campaign import RUN_ACTOR, run_campaign
from adapters.usecases.demo import DEMO_PASSWORD, seed_accounts, seed_portfolio
from adapters.usecases.demo_mail import seed_mail
from adapters.usecases.demo_portal import seed_portal
from adapters.usecases.replies import MAIL_ACTOR, poll
from adapters.usecases.retention import due_for_erasure
from projections.french import count, word

HTTP_PROTOCOL = "web.protocol:HttpProtocol"
"""Named, not imported: the command line does not import the web's modules."""

demo_app = typer.Typer(help="Le portefeuille de démonstration.", no_args_is_help=True)


def serve(host: Annotated[str, typer.Option()] = "",
          port: Annotated[int, typer.Option()] = 0,
          workers: Annotated[int, typer.Option(
              min=1, max=64, help="Processus web (un par cœur) ; au-delà d'un, les vues "
              "sont tenues à jour par un processus à part.")] = 1) -> None:
    """Démarre l'application web."""
    settings = Settings.from_env()
    with running():
        pass  # fail here, in one line, if the store cannot be used
    # After the check, whose logs are a command's (WARNING): the server's own, from INFO.
    configure_logging(settings.log_format, settings.log_level or "INFO")
    listen_host, listen_port = host or settings.host, port or settings.port
    runner = None
    if workers > 1 and settings.projections == "embedded":
        # One runner for all the web processes, rather than one each.
        runner = subprocess.Popen([sys.executable, "-m", "adapters.cli", "projections", "run"])
        os.environ["RELANCE_PROJECTIONS"] = "external"
    scheduled = ScheduledRun(settings)
    schedule = scheduled.schedule()
    if schedule is not None:
        # This process only: the web workers it may start never run the day themselves.
        schedule.start()
        err.print(f"Envoi automatique chaque jour à partir de {settings.run_at:%H:%M} "
                  "(heure de Paris).")
    watch = MailboxWatch(settings)
    reading = watch.every()
    if reading is not None:
        reading.start()
        err.print(f"Boîte de réception lue toutes les {settings.inbox_every} secondes.")
    err.print(f"relance écoute sur http://{listen_host}:{listen_port}/")
    try:
        # Forwarded headers are read by the app itself, from the proxies its settings name
        # (RELANCE_FORWARDED_ALLOW_IPS), never from anyone else. uvloop runs the event loop
        # (installed with relance, uvicorn's "auto" loop takes it); httptools parses HTTP,
        # with a bound on a request's head (`web.protocol`).
        uvicorn.run("web.app:create_app", factory=True, host=listen_host, port=listen_port,
                    workers=workers, log_config=None, access_log=False, proxy_headers=False,
                    server_header=False, http=HTTP_PROTOCOL)
    finally:
        if schedule is not None and schedule.stop():
            scheduled.close()
        if reading is not None and reading.stop():
            watch.close()
        if runner is not None:
            runner.terminate()
            runner.wait(timeout=15)


class ScheduledRun:
    """The daily run as `relance serve` starts it (RELANCE_RUN_AT): on its own runtime,
    opened at the first look after the hour (again at the next look if the store could
    not be reached) and kept while the server runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None

    def schedule(self) -> DailySchedule | None:
        """Its schedule, or None when RELANCE_RUN_AT is empty."""
        if self.settings.run_at is None:
            return None
        return DailySchedule(self.settings.run_at, self.run, self.done, actor=RUN_ACTOR)

    def done(self, day: date) -> bool:
        """Whether relance already recorded a run that day (by itself, from cron or by
        `relance campagne`)."""
        runtime = self._open()
        runtime.refresh_views()
        return any(run["day"] == day and run["actor"] == RUN_ACTOR
                   for run in runtime.reads.runs(limit=200))

    def run(self, day: date) -> dict[str, int]:
        """The day's run; its counts by state."""
        runtime = self._open()
        counts = dict(run_campaign(runtime, RUN_ACTOR, day).counts)
        # Listed for a supervisor to confirm (Réglages → Effacements), never erased alone.
        counts["debtors_due_for_erasure"] = len(due_for_erasure(runtime, day))
        return counts

    def close(self) -> None:
        """Releases the runtime's connections."""
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    def _open(self) -> Runtime:
        if self.runtime is None:
            self.runtime = bootstrap(self.settings)
        return self.runtime


class MailboxWatch:
    """The mailbox as `relance serve` reads it (RELANCE_INBOX_URL), every
    RELANCE_INBOX_EVERY seconds, on its own runtime kept while the server runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None

    def every(self) -> Every | None:
        """Its repetition, or None when no mailbox is configured."""
        if not self.settings.inbox_url:
            return None
        return Every(self.settings.inbox_every, self.read, name="mailbox", actor=MAIL_ACTOR)

    def read(self) -> dict[str, int]:
        """Reads the new messages; how many were recorded and how many were read before."""
        if self.runtime is None:
            self.runtime = bootstrap(self.settings)
        self.runtime.refresh_views()
        taken = poll(self.runtime, inbox_from_url(self.settings.inbox_url))
        return {"recorded": sum(1 for t in taken if t.outcome not in ("known", "empty")),
                "known": sum(1 for t in taken if t.outcome == "known")}

    def close(self) -> None:
        """Releases the runtime's connections."""
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None


@demo_app.command("seed")
def demo_seed(
    files: Annotated[int, typer.Option(help="Nombre de dossiers.")] = 40,
    seed: Annotated[int, typer.Option(help="Graine du tirage.")] = 1,
    if_empty: Annotated[bool, typer.Option(help="Seulement si la base est vide.")] = False,
    today: Annotated[str, typer.Option(help="Jour de référence.")] = "",
) -> None:
    """Crée un portefeuille de démonstration réaliste et reproductible."""
    with running("demo") as runtime:
        if if_empty and runtime.files.recorder.max_notification_id():
            out.print(f"Base déjà remplie : {runtime.store.description}.")
            return
        on = parsed(parse_date, today, "--today") if today else runtime.today()
        logins = seed_accounts(runtime.accounts)
        with progress_bar("Portefeuille de démonstration", total=files) as update:
            numbers = seed_portfolio(runtime.files, files_count=files, seed=seed, today=on,
                                     progress=update)
        out.print(f"{len(numbers)} dossiers de démonstration créés dans "
                  f"{runtime.store.description} (ex. : {', '.join(numbers[:3])}).")
        mail = seed_mail(runtime) if on == runtime.today() else 0
        if mail:
            out.print(f"{count(mail, 'message reçu', 'messages reçus')} ce matin : voir "
                      "« Courrier » et « Ma journée ».")
        portal = seed_portal(runtime) if on == runtime.today() else ""
        if portal:
            out.print(f"Espace débiteur de démonstration (sans compte) : {portal}")
        if logins:
            out.print(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») : "
                      + ", ".join(f"{login} ({word('role', role)})" for login, role in logins))
