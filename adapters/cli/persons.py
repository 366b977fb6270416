"""`relance personne exporter`: what relance holds on one person (RGPD art. 15);
`relance personne effacer`: erasing one (art. 17); `relance personne echeances`: who falls
due under the retention rule."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.common import default_actor, err, parsed, progress_bar, running
from adapters.parsing import parse_date
from adapters.usecases.erasure import NobodyThere, erase_debtor_texts, erase_person
from adapters.usecases.person_access import NobodyAsked, Who, person_data, person_pdf
from adapters.usecases.retention import due_for_erasure
from projections.french import count

persons_app = typer.Typer(help="Les personnes nommées au registre : accès et effacement.",
                          no_args_is_help=True)


@persons_app.command("exporter")
def export_person(
    email: Annotated[str, typer.Option("--email", help="Son adresse e-mail.")] = "",
    phone: Annotated[str, typer.Option("--telephone", help="Son numéro de téléphone.")] = "",
    name: Annotated[str, typer.Option("--nom", help="Son nom.")] = "",
    output: Annotated[str, typer.Option(
        "--out", help="Le fichier JSON écrit (défaut : la sortie standard).")] = "",
    pdf: Annotated[str, typer.Option("--pdf", help="Écrit aussi la réponse en PDF.")] = "",
) -> None:
    """Tout ce que relance détient sur une personne, débiteur par débiteur (JSON, PDF)."""
    who = Who(email=email, phone=phone, name=name)
    with running() as runtime, progress_bar("Débiteurs lus") as update:
        try:
            data = person_data(runtime, who, default_actor(), update)
        except NobodyAsked as error:
            raise typer.BadParameter("donnez --email, --telephone ou --nom",
                                     param_hint="--email") from error
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    if pdf:
        Path(pdf).write_bytes(person_pdf(data))
    facts = sum(len(d["facts"]) for d in data["debtors"])
    err.print(f"Personne connue chez {count(len(data['debtors']), 'débiteur')}, nommée dans "
              f"{count(facts, 'fait')}." if data["debtors"] else
              "Aucune donnée détenue sur cette personne.")


@persons_app.command("effacer")
def erase(
    account: Annotated[str, typer.Option("--debiteur", help="Le compte du débiteur.")],
    who: Annotated[str, typer.Option(
        "--nom", help="Son nom (ou, pour un contact noté sans nom, son e-mail ou son "
                      "téléphone), tel qu'écrit au dossier.")] = "",
    texts: Annotated[bool, typer.Option(
        "--textes", help="Efface aussi ce que l'équipe a écrit sur le débiteur (résumés "
                         "d'appels, notes, textes des réponses).")] = False,
    reason: Annotated[str, typer.Option(
        "--motif", help="Pourquoi : demande de la personne, fin de la durée de "
                        "conservation…")] = "",
    yes: Annotated[bool, typer.Option("--oui", help="Efface sans demander confirmation.")]
    = False,
) -> None:
    """Efface une personne chez un débiteur : sa clé est détruite, chaque fait qui la nomme
    affiche « donnée effacée » et la chaîne reste vérifiable. Irréversible."""
    if not reason.strip():
        raise typer.BadParameter("dites pourquoi la personne est effacée", param_hint="--motif")
    if not who.strip() and not texts:
        raise typer.BadParameter("donnez --nom, --textes ou les deux", param_hint="--nom")
    what = " et ".join(([f"« {who} »"] if who.strip() else [])
                       + (["les textes écrits sur lui"] if texts else []))
    if not yes:
        typer.confirm(f"Effacer {what} chez le débiteur {account} ? C'est irréversible.",
                      abort=True)
    with running() as runtime:
        rows = 0
        if who.strip():
            try:
                rows += erase_person(runtime, default_actor(), account, who, reason).rows
            except NobodyThere as error:
                raise typer.BadParameter(f"personne n'est connu sous « {who} » chez le "
                                         f"débiteur {account}", param_hint="--nom") from error
        if texts:
            rows += erase_debtor_texts(runtime, default_actor(), account, reason).rows
    err.print(f"Effacé chez le débiteur {account} : {what} (clé détruite), "
              f"{count(rows, 'ligne')} des vues mises à jour.")


@persons_app.command("echeances")
def due(
    on: Annotated[str, typer.Option("--le", help="Ce jour-là (JJ/MM/AAAA ; défaut : "
                                                 "aujourd'hui).")] = "",
) -> None:
    """Les personnes à effacer selon la durée de conservation, débiteur par débiteur, pour
    qu'un superviseur confirme (Réglages → Effacements, ou relance personne effacer)."""
    with running() as runtime:
        runtime.refresh_views()
        today = parsed(parse_date, on, "--le") if on.strip() else runtime.today()
        listed = due_for_erasure(runtime, today)
    if not listed:
        err.print(f"Personne n'est à effacer le {today:%d/%m/%Y}.")
        return
    for d in listed:
        typer.echo(f"{d.account}\t{d.name}\t{'particulier' if d.consumer else 'professionnel'}"
                   f"\tterminé le {d.ended_on:%d/%m/%Y}\tà effacer depuis le "
                   f"{d.due_on:%d/%m/%Y}\t{', '.join(d.people)}")
    err.print(f"{count(len(listed), 'débiteur')} dont les personnes sont à effacer.")
