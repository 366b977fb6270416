"""Réglages (supervisors): scenarios and their versions, document wordings, choices per
debtor, the rules that give new debtors an owner, absences, accounts. Every change is
recorded in the team's playbook."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_MANAGE_TEAM, CAN_RECORD, Session
from adapters.infra.documents import DOCUMENTS, InvalidTemplate, sample_context
from adapters.messages import in_french
from adapters.parsing import parse_amount, parse_date, parse_percent
from adapters.usecases.campaign import WRITTEN
from domain.errors import DomainError
from domain.scenarios import MODES, STEP_KINDS, OwnerRule, Scenario, Step
from domain.values import Channel
from projections.french import word
from web.auth import check_csrf, require_role
from web.dependencies import get_runtime
from web.urls import path_for

router = APIRouter()
Supervisor = Annotated[Session, Depends(require_role(*CAN_MANAGE_TEAM))]
KIND_LABELS = {kind: word("step_kind", kind) for kind in STEP_KINDS}
CHANNEL_LABELS = {channel.value: word("channel", channel) for channel in Channel}
BLANK_STEPS = 3
"""Empty step rows offered under a scenario's steps, to add some."""
STEP_FIELDS = ("offset", "business_days", "kind", "channel", "template", "label", "level",
               "mode", "any_day", "attach_invoice")
"""A step's row in the scenario's form."""
NEW_STEP_MODE = "validate"
"""The mode a new step's row offers first: nothing goes out before somebody chose so."""
BLANK_RULES = 3
"""Empty rows offered under the owner rules, to add some."""
MAX_RULES = 60
RULE_FIELDS = ("agent", "min", "max", "from", "to", "postcodes")
"""An owner rule's row: its owner, the amount owed from and to, the accounts from and to,
the départements (postcodes' first digits)."""


async def _form(request: Request, session: Session, fields: int = 20) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form(max_fields=fields, max_files=0)).items()}
    check_csrf(session, form.get("csrf", ""))
    return form


@router.get("/reglages", response_class=HTMLResponse, name="settings",
            dependencies=[Depends(require_role(*CAN_MANAGE_TEAM))])
def settings_page(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]
                  ) -> Response:
    """Réglages: scenarios and their versions, choices per debtor, absences, accounts."""
    return _settings(request, runtime)


@router.post("/reglages/{action}", name="settings_change")
async def settings_change(request: Request, action: str,
                          runtime: Annotated[Runtime, Depends(get_runtime)],
                          session: Supervisor) -> Response:
    """Changes a setting: absence, scenario of a debtor, default scenario, rate."""
    form = await _form(request, session)
    if any(len(value) > 500 for value in form.values()):
        return await run_in_threadpool(_settings, request, runtime,
                                       "Un champ dépasse 500 caractères : rien n'a été "
                                       "enregistré.", 422)
    actor = session.user.login
    files = runtime.files
    try:
        if action == "absence":
            await run_in_threadpool(files.record_absence, actor, form["agent"],
                                    parse_date(form["first"]), parse_date(form["last"]))
        elif action == "scenario":
            await run_in_threadpool(files.choose_debtor_scenario, actor, form["account"],
                                    form["name"])
        elif action == "defaut":
            await run_in_threadpool(files.choose_default_scenario, actor, form["name"])
        elif action == "taux":
            rate = parse_percent(form["percent"]) if form.get("percent") else None
            await run_in_threadpool(files.set_debtor_penalty_rate, actor, form["account"],
                                    rate)
        else:
            raise HTTPException(404, "no such setting")
    except (KeyError, ValueError, DomainError) as error:
        message = in_french(error) if isinstance(error, DomainError) else \
            "Ce réglage n'a pas pu être enregistré : vérifiez les champs."
        return await run_in_threadpool(_settings, request, runtime, message, 422)
    return RedirectResponse(path_for(request, "settings"), status_code=303)


def _settings(request: Request, runtime: Runtime, error: str = "", status_code: int = 200,
              rules: dict[str, Any] | None = None) -> Response:
    playbook = runtime.files.open_playbook("relance")
    if rules is None:
        rules = {"rows": [_rule_values(rule) for rule in playbook.owner_rules],
                 "reason": "", "errors": {}}
    return request.app.state.templates.TemplateResponse(
        request, "settings.html", {"playbook": playbook, "error": error,
                                   "documents": DOCUMENTS, "rules": rules, "modes": MODES,
                                   "written": {channel.value for channel in WRITTEN},
                                   "rule_rows": rules["rows"] + [{}] * BLANK_RULES,
                                   "owners": [u.login for u in runtime.accounts.users()
                                              if u.role in CAN_RECORD],
                                   "revisions": getattr(playbook, "owner_rule_revisions", [])},
        status_code=status_code)


# -- the owner rules ------------------------------------------------------------------------

@router.post("/reglages/attribution/regles", name="owner_rules_save")
async def owner_rules_save(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                           session: Supervisor) -> Response:
    """Records the owner rules as a new version (in order; blank rows are left out); a bad
    row redisplays the form with its French problem, nothing saved."""
    form = {k: v[:500] for k, v in (await _form(request, session, fields=400)).items()}
    rows, errors, rules = _read_rules(form, runtime)
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = "Dites pourquoi les règles changent (le motif est enregistré)."
    if not errors:
        try:
            await run_in_threadpool(runtime.files.set_owner_rules, session.user.login, rules,
                                    reason=reason)
        except DomainError as refused:
            errors["_form"] = in_french(refused)
        else:
            return RedirectResponse(path_for(request, "settings") + "#titulaires",
                                    status_code=303)
    return await run_in_threadpool(_settings, request, runtime, "", 422,
                                   {"rows": rows, "reason": reason, "errors": errors})


def _rule_values(rule: OwnerRule) -> dict[str, str]:
    return {"agent": rule.agent, "min": "" if rule.minimum is None else str(rule.minimum),
            "max": "" if rule.maximum is None else str(rule.maximum),
            "from": rule.accounts_from, "to": rule.accounts_to,
            "postcodes": ", ".join(rule.postcodes)}


def _read_rules(form: dict[str, str], runtime: Runtime
                ) -> tuple[list[dict[str, str]], dict[str, str], list[OwnerRule]]:
    """The rows as typed, the French problem of each bad row (by its index), the rules."""
    owners = {u.login for u in runtime.accounts.users() if u.role in CAN_RECORD}
    rows: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    rules: list[OwnerRule] = []
    for i in range(MAX_RULES):
        row = {k: form.get(f"r{i}_{k}", "").strip() for k in RULE_FIELDS}
        if not any(row.values()):
            continue
        rows.append(row)
        rule = _read_rule(row, owners)
        if isinstance(rule, str):
            errors[str(len(rows) - 1)] = rule
        else:
            rules.append(rule)
    return rows, errors, rules


def _read_rule(row: dict[str, str], owners: set[str]) -> OwnerRule | str:
    """The rule of one form row, or what is wrong with it, in French."""
    if row["agent"] not in owners:
        return "Choisissez le titulaire parmi les comptes actifs de l'équipe."
    try:
        low = parse_amount(row["min"]) if row["min"] else None
        high = parse_amount(row["max"]) if row["max"] else None
    except ValueError:
        return "Les montants s'écrivent en euros : 1 500 ou 1500,00."
    if low is not None and high is not None and low > high:
        return "Le montant minimal dépasse le montant maximal."
    if row["from"] and row["to"] and row["from"] > row["to"]:
        return "La plage de comptes va du plus petit au plus grand (ex. : 411A à 411M)."
    codes = tuple(code for code in row["postcodes"].replace(";", ",").replace(" ", ",")
                  .split(",") if code)
    if any(not (code.isascii() and code.isdigit() and len(code) <= 5) for code in codes):
        return "Les départements sont des débuts de code postal, séparés par des virgules " \
               "(ex. : 69, 75, 13)."
    return OwnerRule(agent=row["agent"], minimum=low, maximum=high,
                     accounts_from=row["from"], accounts_to=row["to"], postcodes=codes)


# -- a scenario, step by step -------------------------------------------------------------

@router.get("/reglages/scenarios/{name}", response_class=HTMLResponse, name="scenario_edit",
            dependencies=[Depends(require_role(*CAN_MANAGE_TEAM))])
def scenario_edit(request: Request, name: str,
                  runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """A scenario's form: its steps as they are, and empty rows to add some."""
    playbook = runtime.files.open_playbook("relance")
    if name in playbook.names():
        scenario = playbook.scenario(name)
        values = {"name": name, "title": scenario.title, "gap": str(scenario.min_gap_days),
                  "steps": [_step_values(step) for step in scenario.steps]}
        versions = playbook.revisions[name]
    elif name == "nouveau":
        values, versions = {"name": "", "title": "", "gap": "3", "steps": []}, []
    else:
        raise HTTPException(404, "no such scenario")
    return _scenario_page(request, values, versions, {})


@router.post("/reglages/scenarios/{name}", name="scenario_save")
async def scenario_save(request: Request, name: str,
                        runtime: Annotated[Runtime, Depends(get_runtime)],
                        session: Supervisor) -> Response:
    """Records the scenario as a new version; a bad row redisplays the form, nothing saved."""
    form = {k: v[:500] for k, v in (await _form(request, session, fields=700)).items()}
    values, errors, scenario = _read_scenario(form, name)
    playbook = await run_in_threadpool(runtime.files.open_playbook, "relance")
    versions = playbook.revisions.get(values["name"], [])
    if scenario is not None:
        try:
            await run_in_threadpool(runtime.files.set_scenario, session.user.login, scenario,
                                    reason=form.get("reason", ""))
        except DomainError as error:
            errors["_form"] = in_french(error) if error.code != "missing_information" \
                else "Dites pourquoi ce scénario change (le motif est enregistré)."
        else:
            return RedirectResponse(path_for(request, "scenario_edit", name=scenario.name),
                                    status_code=303)
    return _scenario_page(request, values, versions, errors, 422)


def _step_values(step: Step) -> dict[str, str]:
    return {"offset": str(step.offset), "business_days": "on" if step.business_days else "",
            "kind": step.kind, "channel": step.channel.value, "template": step.template,
            "label": step.label, "level": str(step.level or ""), "mode": step.run_mode,
            "any_day": "on" if step.any_day else "",
            "attach_invoice": "on" if step.attach_invoice else ""}


def _read_scenario(form: dict[str, str], name: str
                   ) -> tuple[dict[str, Any], dict[str, str], Scenario | None]:
    """The form's values as typed, the French problems by field, and the scenario."""
    values: dict[str, Any] = {
        "name": (form.get("name", "") if name == "nouveau" else name).strip(),
        "title": form.get("title", "").strip(), "gap": form.get("gap", "").strip(),
        "reason": form.get("reason", ""), "steps": []}
    errors: dict[str, str] = {}
    if not values["name"].replace("_", "").isalnum() or not values["name"].isascii():
        errors["name"] = "Un nom court, en lettres, chiffres et « _ » (ex. : grand_compte)."
    if not values["title"]:
        errors["title"] = "Donnez un titre au scénario."
    if not values["gap"].isdigit() or int(values["gap"]) > 365:
        errors["gap"] = "Un nombre de jours entre 0 et 365."
    steps: list[Step] = []
    for i in range(60):
        row = {k: form.get(f"s{i}_{k}", "").strip() for k in STEP_FIELDS}
        if not any(row[k] for k in ("offset", "label", "template")):
            continue
        values["steps"].append(row)
        step = _read_step(row)
        if isinstance(step, str):
            errors[f"s{len(values['steps']) - 1}"] = step
        else:
            steps.append(step)
    if not steps and "steps" not in errors:
        errors["steps"] = "Au moins une étape."
    if [s.offset for s in steps] != sorted(s.offset for s in steps):
        errors["steps"] = "Les étapes se suivent dans l'ordre de leurs dates."
    if errors:
        return values, errors, None
    return values, errors, Scenario(values["name"], values["title"], tuple(steps),
                                    int(values["gap"]))


def _read_step(row: dict[str, str]) -> Step | str:
    """The step of one form row, or what is wrong with it, in French."""
    try:
        offset = int(row["offset"].replace("J", "").replace("+", "") or "x")
    except ValueError:
        return "Le décalage est un nombre de jours par rapport à l'échéance (ex. : -5, 0, 8)."
    if not -365 <= offset <= 3650:
        return "Le décalage va de -365 à 3 650 jours."
    if row["kind"] not in STEP_KINDS or row["channel"] not in CHANNEL_LABELS:
        return "Choisissez le type et le canal de l'étape."
    if row["template"] not in DOCUMENTS:
        return "Choisissez le document de l'étape."
    if not row["label"]:
        return "Donnez un libellé à l'étape (il apparaît dans Ma journée)."
    level = row["level"] or "0"
    if row["kind"] == "reminder" and level not in ("1", "2", "3"):
        return "Une relance écrite a un niveau 1, 2 ou 3."
    if not level.isdigit():
        return "Le niveau est 1, 2 ou 3."
    if row["mode"] and row["mode"] not in MODES:
        return "Choisissez le mode de l'étape : automatique, à valider ou manuel."
    # A call is always made by a person: whatever was chosen, its step stays manual.
    mode = "manual" if row["channel"] == Channel.CALL.value and row["mode"] else row["mode"]
    return Step(offset, row["kind"], Channel(row["channel"]), row["template"], row["label"],
                int(level) if row["kind"] == "reminder" else 0, bool(row["business_days"]),
                mode=mode, any_day=bool(row["any_day"]),
                attach_invoice=bool(row["attach_invoice"]))


def _scenario_page(request: Request, values: dict[str, Any], versions: list[Any],
                   errors: dict[str, str], status_code: int = 200) -> Response:
    rows = values["steps"] + [{} for _ in range(BLANK_STEPS)]
    return request.app.state.templates.TemplateResponse(
        request, "scenario.html",
        {"values": values, "rows": rows, "versions": versions, "errors": errors,
         "kinds": KIND_LABELS, "channels": CHANNEL_LABELS, "documents": DOCUMENTS,
         "modes": MODES, "new_mode": NEW_STEP_MODE},
        status_code=status_code)


# -- a document's wording -----------------------------------------------------------------

@router.get("/reglages/modeles/{name}", response_class=HTMLResponse, name="template_edit",
            dependencies=[Depends(require_role(*CAN_MANAGE_TEAM))])
def template_edit(request: Request, name: str,
                  runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """A document's wording in force, its recorded versions, and the form to change it."""
    if name not in DOCUMENTS:
        raise HTTPException(404, "no such document")
    return _template_page(request, runtime, name, runtime.documents.source(name), "", {})


@router.post("/reglages/modeles/{name}", name="template_save")
async def template_save(request: Request, name: str,
                        runtime: Annotated[Runtime, Depends(get_runtime)],
                        session: Supervisor) -> Response:
    """Records a new wording; one that cannot render is refused and shown again."""
    if name not in DOCUMENTS:
        raise HTTPException(404, "no such document")
    form = await _form(request, session, fields=5)
    text, reason = form.get("text", "")[:50_000].replace("\r\n", "\n"), form.get("reason", "")
    errors: dict[str, str] = {}
    try:
        await run_in_threadpool(runtime.documents.check, name, text,
                                sample_context(runtime.law_rates, runtime.creditor,
                                               runtime.today()))
    except InvalidTemplate as error:
        errors["text"] = f"Ce modèle ne peut pas être utilisé : {error.french}"
    if not reason.strip():
        errors["reason"] = "Dites pourquoi ce modèle change (le motif est enregistré)."
    if not errors:
        try:
            await run_in_threadpool(runtime.files.set_template, session.user.login, name,
                                    text, reason=reason[:500])
        except DomainError as error:
            errors["text"] = in_french(error)
        else:
            return RedirectResponse(path_for(request, "template_edit", name=name),
                                    status_code=303)
    return await run_in_threadpool(_template_page, request, runtime, name, text, reason,
                                   errors, 422)


def _template_page(request: Request, runtime: Runtime, name: str, text: str, reason: str,
                   errors: dict[str, str], status_code: int = 200) -> Response:
    playbook = runtime.files.open_playbook("relance")
    return request.app.state.templates.TemplateResponse(
        request, "template.html",
        {"name": name, "text": text, "reason": reason, "errors": errors,
         "versions": playbook.templates.get(name, [])}, status_code=status_code)
