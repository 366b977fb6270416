"""`relance export`, `relance digest`, `relance verify`: the record, out and checked.

What they find is said in French (`adapters.usecases.evidence.french_finding`); the English
finding goes to the log (INFO), for whoever investigates."""

from __future__ import annotations

import errno
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from adapters.bootstrap import Runtime
from adapters.cli.common import default_actor, err, out, parsed, progress_bar, running
from adapters.infra.export_formats import ExportError, Scope, verify_export
from adapters.infra.timestamps import (
    Anchor,
    Anchors,
    TimestampError,
    check_anchor,
    load_certificates,
    request_anchor,
    token_of,
)
from adapters.messages import in_french
from adapters.parsing import parse_instant
from adapters.usecases.evidence import (
    Digest,
    Problem,
    compare,
    document_problems,
    french_finding,
    walk,
)
from adapters.usecases.exporting import FORMATS, Request, count, export
from domain.errors import DomainError
from domain.invoice import invoice_id
from projections.french import PARIS
from projections.french import count as french_count
from projections.queries import PHASE_OF_STATUS, PortfolioFilter

log = logging.getLogger("relance.evidence")


def export_command(
    target: Annotated[str, typer.Argument(
        help="Numéro de facture ou compte débiteur (rien avec --tout).")] = "",
    format: Annotated[str, typer.Option(
        "--format", help="json, csv ou pdf.")] = "json",
    as_of: Annotated[str, typer.Option(
        "--as-of", help="Tel qu'il était à cet instant, heure de Paris (« 01/12/2026 12:21 » "
        "ou ISO).")] = "",
    output: Annotated[str, typer.Option(
        "--out", help="Fichier écrit (« - » : la sortie standard ; défaut : un nom daté).")
    ] = "",
    everything: Annotated[bool, typer.Option(
        "--tout", help="Tout le portefeuille (filtrable par --statut et --agent).")] = False,
    status: Annotated[str, typer.Option("--statut", help="Avec --tout : un statut.")] = "",
    agent: Annotated[str, typer.Option("--agent", help="Avec --tout : un agent.")] = "",
) -> None:
    """Exporte un dossier, un débiteur ou le portefeuille, et enregistre l'export."""
    if format not in FORMATS:
        raise typer.BadParameter(f"choisissez parmi {', '.join(FORMATS)}", param_hint="--format")
    if bool(target) == everything:
        raise typer.BadParameter("donnez un numéro de facture ou un compte, ou --tout",
                                 param_hint="TARGET")
    if status and status not in PHASE_OF_STATUS:
        raise typer.BadParameter(f"statuts : {', '.join(PHASE_OF_STATUS)}",
                                 param_hint="--statut")
    when = parsed(parse_instant, as_of, "--as-of") if as_of else None
    actor = default_actor()
    with running(actor) as runtime:
        runtime.refresh_views()
        if everything:
            scope = Scope("portfolio", " ".join(f"{k}={v}" for k, v in
                                                (("statut", status), ("agent", agent)) if v))
        elif runtime.files.recorder.select_events(invoice_id(target), limit=1):
            scope = Scope("file", target)
        else:
            scope = Scope("debtor", target)
        request = Request(scope, format, actor, when,
                          PortfolioFilter(status=status, agent=agent) if everything else None)
        path = Path(output or _default_name(scope, format))
        total = count(runtime, request) if scope.kind != "file" else 1
        with progress_bar("Export", total=total) as update:
            try:
                written = _write(runtime, request, path, output == "-", update)
            except (ExportError, DomainError) as error:
                if output != "-":
                    path.unlink(missing_ok=True)
                err.print("Export impossible : " + (error.french if isinstance(error, ExportError)
                                                    else in_french(error)))
                raise typer.Exit(1) from None
    where = "la sortie standard" if output == "-" else str(path)
    err.print(f"Export écrit dans {where} : {french_count(written.files, 'dossier')}, "
              f"{french_count(written.facts, 'fait')}.")
    err.print(f"Empreinte de l'export (enregistrée) : {written.digest}")


def _write(runtime, request, path: Path, to_stdout: bool, progress):  # type: ignore[no-untyped-def]
    binary = request.fmt != "json"  # a CSV's bytes are written encoded, mark included
    if to_stdout:
        if binary:
            return export(runtime, request, sys.stdout.buffer, progress)
        return export(runtime, request, sys.stdout, progress)
    mode = "wb" if binary else "w"
    encoding = None if binary else "utf-8"
    newline = None if binary else ""
    with path.open(mode, encoding=encoding, newline=newline) as handle:
        return export(runtime, request, handle, progress)


def _default_name(scope, fmt: str) -> str:  # type: ignore[no-untyped-def]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    what = scope.key if scope.kind != "portfolio" else "portefeuille"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in what) or "export"
    return f"relance-{safe}-{stamp}.{fmt}"


def digest_command(
    output: Annotated[str, typer.Option(
        "--out", help="Écrit aussi l'empreinte de chaque dossier (JSON) dans ce fichier, "
        "pour nommer plus tard un dossier modifié.")] = "",
    authority: Annotated[str, typer.Option(
        "--horodatage", help="Fait signer l'empreinte, avec l'heure, par l'autorité "
        "d'horodatage (RFC 3161) à cette adresse ; le jeton est gardé dans la base et dans "
        "le fichier --out.")] = "",
) -> None:
    """Calcule l'empreinte de tout le registre, après l'avoir vérifié."""
    anchor = None
    with running() as runtime:
        digest, problem = _checked(runtime)
        if problem is None and authority:
            try:
                anchor = request_anchor(authority, digest.root, digest.position)
            except TimestampError as error:
                log.warning("timestamp refused", extra={"finding": error.detail})
                err.print(f"Horodatage impossible : {error.french}")
                raise typer.Exit(1) from error
            Anchors(runtime.views, postgres=runtime.store.is_postgres).keep(anchor)
    if problem is not None:
        _altered("Registre altéré, pas d'empreinte", str(problem))
    if output:
        written = digest.as_json()
        if anchor is not None:
            written["timestamp"] = anchor.as_json()
        Path(output).write_text(json.dumps(written, indent=1), encoding="utf-8")
    out.print(f"Empreinte du registre : {digest.root}")
    if anchor is not None:
        out.print(f"Horodatée par {anchor.authority} le {_paris(anchor.signed_at)} "
                  "(heure de Paris) ; jeton gardé dans la base"
                  + (f" et dans {output}" if output else "") + ".")
    out.print(f"Position couverte : {digest.position} "
              f"({french_count(digest.files, 'dossier')}, "
              f"{french_count(digest.facts, 'fait')} ; réglages et registre des exports : "
              f"{french_count(digest.records, 'chaîne')})")


def verify_command(
    export_file: Annotated[str, typer.Argument(
        help="Un export JSON ou PDF à vérifier hors ligne (sans la base).")] = "",
    digest_file: Annotated[str, typer.Option(
        "--digest", help="Une empreinte prise plus tôt (relance digest --out).")] = "",
    root: Annotated[str, typer.Option("--root", help="Une empreinte notée plus tôt.")] = "",
    position: Annotated[int, typer.Option("--position", help="Sa position.")] = 0,
    tsa_ca: Annotated[str, typer.Option(
        "--tsa-ca", help="Le certificat racine (PEM) de l'autorité d'horodatage, pour "
        "vérifier la signature du jeton de l'empreinte.")] = "",
) -> None:
    """Vérifie le registre entier (ou un export) et nomme le premier fait altéré."""
    if export_file:
        _verify_export(Path(export_file))
        return
    earlier = _earlier_digest(Path(digest_file)) if digest_file else None
    if earlier is not None and "timestamp" in earlier:
        _check_timestamp(earlier, tsa_ca)
    if root and not digest_file:
        if position <= 0:
            _unusable("--root : donnez aussi la position de l'empreinte (--position)")
        earlier = {"root": root, "position": position}
    with running() as runtime:
        digest, problem = _checked(runtime)
        then = walk(runtime.files, upto=earlier["position"])[0] if earlier else None
        missing = document_problems(runtime.blobs, digest)
        anchors = Anchors(runtime.views, postgres=runtime.store.is_postgres).all()
        anchored = _anchors_hold(runtime, anchors, _trust(tsa_ca) if tsa_ca else None)
    if problem is not None:
        _altered("Registre altéré", str(problem))
    if anchored:  # said in French; its English finding is in the log
        err.print(f"Horodatage conservé invalide : {anchored}")
        raise typer.Exit(1)
    if missing:
        for finding in missing:
            log.info("record altered", extra={"finding": str(finding)})
            err.print(f"Document altéré : {french_finding(str(finding))}")
        raise typer.Exit(1)
    if earlier is not None and then is not None:
        changed = compare(earlier, then)
        if changed:
            _altered("Registre altéré depuis l'empreinte", changed)
        out.print(f"Rien n'a changé jusqu'à la position {then.position} depuis l'empreinte.")
    if anchors:
        last = anchors[-1]
        out.print(f"{french_count(len(anchors), 'horodatage conservé', 'horodatages conservés')}"
                  f" : chaque jeton porte sur l'empreinte du registre à sa position ; le dernier"
                  f", de {last.authority}, le {_paris(last.signed_at)} (heure de Paris)"
                  + ("." if tsa_ca else " ; donnez --tsa-ca pour vérifier leurs signatures."))
    out.print(f"Registre intègre : {french_count(digest.files, 'dossier')}, "
              f"{french_count(digest.facts, 'fait')} ; réglages et registre des exports : "
              f"{french_count(digest.records, 'chaîne')} ; "
              f"{french_count(len(digest.documents), 'document', 'documents')} "
              f"{'joints intacts' if len(digest.documents) > 1 else 'joint intact'} ; "
              f"jusqu'à la position {digest.position}.")


def _anchors_hold(runtime: Runtime, anchors: list[Anchor],
                  trust: list[Any] | None) -> str | None:
    """What is wrong with the tokens kept in the store, if anything: each must cover its
    root (and be signed, given the authority's root certificate), and the store read up
    to its position must still give that root."""
    roots: dict[int, str] = {}
    for anchor in anchors:
        try:
            check_anchor(anchor.token, anchor.root, trust)
        except TimestampError as error:
            log.info("record altered", extra={"finding": error.detail})
            return f"le jeton du {_paris(anchor.signed_at)} : {error.french}"
        if anchor.position not in roots:
            roots[anchor.position] = walk(runtime.files, upto=anchor.position)[0].root
        if roots[anchor.position] != anchor.root:
            log.info("record altered", extra={"finding": "a kept token's root changed",
                                              "position": anchor.position})
            return (f"le registre jusqu'à la position {anchor.position} ne donne plus "
                    f"l'empreinte horodatée le {_paris(anchor.signed_at)} par "
                    f"{anchor.authority}")
    return None


def _trust(tsa_ca: str) -> list[Any]:
    """The authority's root certificates given by the person, or a usage error."""
    try:
        return load_certificates(Path(tsa_ca).read_bytes())
    except OSError as error:
        _unusable(f"certificat illisible : {_unreadable(error)} ({tsa_ca})")
    except TimestampError as error:
        _unusable(f"{error.french} ({tsa_ca})")


def _check_timestamp(earlier: dict[str, Any], tsa_ca: str) -> None:
    """Checks the token of a digest file against its root (and the authority's root
    certificate when given); says who vouched and when, or exits with code 1."""
    trust = _trust(tsa_ca) if tsa_ca else None
    try:
        checked = check_anchor(token_of(earlier["timestamp"]), str(earlier["root"]), trust)
    except TimestampError as error:
        log.info("record altered", extra={"finding": error.detail})
        err.print(f"Horodatage invalide : {error.french}")
        raise typer.Exit(1) from error
    when = _paris(checked.signed_at)
    if checked.trusted:
        out.print(f"Horodatage vérifié : {checked.authority} a signé cette empreinte le "
                  f"{when} (heure de Paris).")
    else:
        out.print(f"Horodatage : le jeton porte sur cette empreinte, signé par "
                  f"{checked.authority} le {when} (heure de Paris) ; donnez --tsa-ca pour "
                  "vérifier la signature avec le certificat racine de l'autorité.")


def _paris(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M:%S")


def _earlier_digest(path: Path) -> dict[str, Any]:
    """A digest written by `relance digest --out`: its root and the position it covers."""
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        _unusable(f"empreinte illisible : {_unreadable(error)} ({path})")
    except ValueError:
        _unusable(f"empreinte illisible : ce n'est pas un fichier JSON ({path})")
    position = earlier.get("position") if isinstance(earlier, dict) else None
    if not isinstance(position, int) or position <= 0 or "root" not in earlier:
        _unusable(f"ce fichier n'est pas une empreinte de relance digest --out ({path})")
    return earlier


def _altered(what: str, finding: str) -> NoReturn:
    """Says what was found in French, logs it in English, and exits with code 1."""
    log.info("record altered", extra={"finding": finding})
    err.print(f"{what} : {french_finding(finding)}")
    raise typer.Exit(1)


def _unusable(why: str) -> NoReturn:
    """A file or an option that cannot be used: said in French, exit code 2."""
    err.print(f"Vérification impossible : {why}")
    raise typer.Exit(2)


def _unreadable(error: OSError) -> str:
    """Why a file cannot be read, in French."""
    return {errno.ENOENT: "fichier introuvable", errno.EACCES: "accès refusé",
            errno.EISDIR: "c'est un dossier"}.get(error.errno or 0, "lecture impossible")


def _checked(runtime: Runtime) -> tuple[Digest, Problem | None]:
    """Every chain of the store walked, with a progress bar."""
    with progress_bar("Vérification des chaînes") as update:
        return walk(runtime.files, progress=update)


def _verify_export(path: Path) -> None:
    try:
        problem, held = verify_export(path)
    except OSError as error:
        err.print(f"Export illisible : {_unreadable(error)} ({path})")
        raise typer.Exit(2) from None
    except ExportError as error:
        err.print(f"Export illisible : {error.french}")
        raise typer.Exit(2) from None
    if problem:
        _altered("Export altéré", problem)
    out.print(f"Export intègre : {french_count(held.files, 'dossier')}, "
              f"{french_count(held.facts, 'fait')}, "
              f"empreinte {held.digest}.")
