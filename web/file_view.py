"""What the file page shows around the file itself, for the agent about to call: whom to
ask for, what the scenario asks today, who else contacted the debtor today, the next
debtor of the day, the history by month, and the message after an action."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from adapters.bootstrap import Runtime
from adapters.infra.accounts import Session
from adapters.infra.coordination import Claim
from adapters.usecases.fact_forms import BY_KIND, options
from domain.case import Case
from domain.debtors import person_key
from domain.due import next_action
from domain.phases import ENDED
from domain.portal import portal_summary
from domain.sealing import ERASED
from domain.values import PARIS, Contact, ReplyOutcome
from projections.case_view import CaseLine
from projections.french import FRENCH
from projections.mail import PORTAL_MATCH, is_portal_answer, portal_answer_key
from projections.queries import DebtorView
from projections.worklist import ACTIONS, DebtorRow, day_by_debtor
from web.work import SHOWN

DONE = {
    "appel": "Appel enregistré.", "note": "Note enregistrée.", "envoi": "E-mail envoyé.",
    "preventive": "Relance préventive enregistrée.", "relance": "Relance enregistrée.",
    "duplicata-demande": "Demande de duplicata enregistrée.",
    "duplicata-envoi": "Envoi du duplicata enregistré.", "litige": "Litige enregistré.",
    "litige-fin": "Fin du litige enregistrée.", "echeancier": "Échéancier enregistré.",
    "escompte": "Escompte enregistré.", "avoir": "Avoir enregistré.",
    "echeance": "Nouvelle échéance enregistrée.",
    "mise-en-demeure": "Mise en demeure enregistrée.", "paiement": "Paiement enregistré.",
    "transmission": "Transmission enregistrée.",
    "reconnaissance": "Reconnaissance de dette enregistrée.",
    "perte": "Passage en perte enregistré.", "cloture": "Dossier clos.",
    "reouverture": "Dossier rouvert.", "attribution": "Attribution enregistrée.",
    "rappel": "Rappel enregistré.", "correction": "Correction enregistrée.",
    "annulation": "Annulation enregistrée.", "piece": "Document joint au dossier.",
    "reponse": "Réponse traitée.",
}
"""The success message shown after each action (`?fait=…`): never text from the address."""
FAILED = {"envoi-echec": "L'e-mail n'est pas parti : la tentative et sa raison sont dans "
                         "l'historique."}
"""The same, for an action that was recorded but did not succeed."""
REPLY_FORM = "reponse"
"""The form that records what came of a debtor's reply (`ReplyHandled`): the file page
shows it on each reply waiting, not in « Autre action »."""
AFTER_REPLY = {"promise": "appel", "dispute": "litige", "duplicate": "duplicata-demande",
               "plan": "echeancier"}
"""What a reply handled calls for next (`?suite=`): the form that records it, opened (a
promise has no form of its own: the call form's promise fields record it; instalments
granted open the plan's form, filled with those asked for)."""
NEXT_AFTER_REPLY = {
    "appel": "Notez maintenant la promesse dans « Noter un appel » : date et montant promis.",
    "litige": "Enregistrez maintenant le litige : son formulaire est ouvert plus bas.",
    "duplicata-demande": "Enregistrez maintenant la demande de duplicata : son formulaire "
                         "est ouvert plus bas.",
    "echeancier": "Enregistrez maintenant l'échéancier accordé : son formulaire est ouvert "
                  "plus bas, avec les échéances demandées (à ajuster si besoin).",
}
ALREADY_RECORDED = ("PaymentPromised", "DisputeRaised", "DuplicateRequested")
"""Portal answers that are facts of the file already: handling one only says it was read
(no form to fill again)."""
PORTAL_OUTCOMES = {
    "PlanRequested": (ReplyOutcome.PLAN, ReplyOutcome.REFUSED, ReplyOutcome.NOTHING),
    "PaymentClaimed": (ReplyOutcome.NOTHING, ReplyOutcome.REFUSED),
}
"""The outcomes a portal answer's card offers (by its fact's kind); « rien à faire »
alone for the answers already recorded."""
PORTAL_NOTES = {
    "PaymentPromised": "La promesse est déjà enregistrée sur le dossier : marquez-la traitée "
                       "une fois lue.",
    "DisputeRaised": "Le litige est déjà enregistré sur le dossier (les relances sont en "
                     "pause) : marquez-le traité une fois lu.",
    "DuplicateRequested": "La demande de duplicata est déjà enregistrée sur le dossier : "
                          "envoyez le duplicata, puis marquez-la traitée.",
    "PlanRequested": "« Échéancier accordé » ouvre ensuite le formulaire de l'échéancier, "
                     "rempli des échéances demandées.",
    "PaymentClaimed": "Paiement à vérifier, pas un paiement : le reste dû ne change pas tant "
                      "que le paiement n'est pas constaté sur le compte (enregistrez-le alors "
                      "avec « Paiement reçu »).",
}
"""What the card of each portal answer says about handling it."""
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def by_month(rows: Sequence[Any], day: date) -> list[dict[str, Any]]:
    """The history newest first (by when each fact happened), by month: each with its
    French title and whether it is shown open (the month of `day`, the one before, and
    always the latest)."""
    def at(row: Any) -> datetime:
        return row["occurred_at"] if isinstance(row, dict) else row.occurred_at

    def version(row: Any) -> int:
        return row["version"] if isinstance(row, dict) else row.version

    this_month = (day.year, day.month)
    last_month = (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)
    months: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: (at(r), version(r)), reverse=True):
        local = at(row).astimezone(PARIS)
        key = (local.year, local.month)
        if not months or months[-1]["key"] != key:
            months.append({"key": key, "title": f"{MONTHS[local.month - 1]} {local.year}",
                           "open": not months or key in (this_month, last_month),
                           "rows": []})
        months[-1]["rows"].append(row)
    return months


def person_to_call(case: Case, debtor: DebtorView | None) -> Contact:
    """Whom to ask for: the last person reached on the file, else its billing contact,
    else the person last seen at the debtor; completed (function, phone, e-mail) from
    what the debtor's page knows of them. Empty when nobody is known. A person erased
    is nobody to ask for: the call form is not filled with « donnée effacée »."""
    people = {person_key(p.name.value): p for p in (debtor.people if debtor else [])}
    touched = case.last_touch.contact if case.last_touch else None
    for known in (touched, case.billing_recipient):
        if known is not None and known.name.strip() and not known.is_erased:
            seen = people.get(person_key(known.name))
            if seen is None:
                return known
            return Contact(known.name,
                           known.function or (seen.function.value if seen.function else ""),
                           known.phone or seen.phone, known.email or seen.email)
    known_people = [p for p in (debtor.people if debtor else []) if p.name.value != ERASED]
    if known_people:
        first = known_people[0]
        return Contact(first.name.value, first.function.value if first.function else "",
                       first.phone, first.email)
    return Contact("")


def next_step(runtime: Runtime, line: CaseLine, day: date, replies: int = 0
              ) -> dict[str, Any] | None:
    """What the file's scenario asks today (`action`, with `why`), or when and why not
    (`why` alone), as the day's list reads it; a reply of the debtor waiting (`replies`)
    comes first. None for a file that is over, with no reply waiting."""
    waiting = {"action": "lire et traiter la réponse du débiteur",
               "why": "le débiteur a répondu, par e-mail ou sur son espace : les relances "
                       "automatiques l'attendent"}
    if line.phase in ENDED:
        return waiting if replies else None
    scenario = runtime.files.open_playbook("relance").scenario_for(line.debtor_account)
    last = runtime.reads.last_touches([line.debtor_account]).get(line.debtor_account)
    due = next_action(line.progress(), scenario, day, runtime.calendar, last)
    if replies:
        return {**waiting, "why": f"{waiting['why']} ; ensuite : {due.why}"}
    action = (due.step.label if due.step else ACTIONS.get(due.kind, "")) if due.is_due else ""
    return {"action": action, "why": due.why}


def others_today(debtor: DebtorView | None, me: str) -> list[dict[str, Any]]:
    """Today's contacts with the debtor by somebody else, one per contact (a call and the
    promise heard during it are one): who, when, the channel and outcome, and what else
    it recorded."""
    contacts: dict[tuple[str, datetime], dict[str, Any]] = {}
    for touch in debtor.touched_today if debtor else []:
        if touch["actor"] == me:
            continue
        seen = contacts.setdefault((touch["actor"], touch["occurred_at"]), {
            "actor": touch["actor"], "at": touch["occurred_at"], "kinds": [],
            "channel": touch["channel"], "outcome": touch["outcome"],
            "number": touch["number"]})
        if touch["kind"] not in seen["kinds"] and touch["kind"] != "CallLogged":
            seen["kinds"].append(touch["kind"])  # a call is said by its channel
        seen["outcome"] = seen["outcome"] or touch["outcome"]
    return list(contacts.values())


def next_file(runtime: Runtime, session: Session, account: str, day: date,
              live: Sequence[Claim]) -> DebtorRow | None:
    """The debtor to work after this one in the user's own Ma journée (read as `day_page`
    reads it, with the live claims `live`): the next not yet contacted nor being called by
    a colleague, after this debtor's place (from the top again at the end); None once the
    day is done."""
    me = session.user.login
    claims = {claim.account: claim.login for claim in live}
    rows, _ = runtime.reads.as_of_position(
        ("day_by_debtor", day, me, False, me, tuple(sorted(claims.items()))),
        lambda: day_by_debtor(runtime.reads, runtime.files.open_playbook("relance"),
                              runtime.calendar, day, me, first=SHOWN, claims=claims,
                              viewer=me))
    todo = [row for row in rows if row.items and not row.marked]
    here = next((i for i, row in enumerate(todo) if row.account == account), None)
    after = todo if here is None else todo[here + 1:] + todo[:here]
    return after[0] if after else None


def replies_waiting(runtime: Runtime, number: str, case: Case) -> list[dict[str, Any]]:
    """The debtor's replies waiting on the file, oldest first, as their facts recorded
    them (who wrote, when, the subject, the whole text, how the message was matched, its
    record), each with the other files the same message waits on. What the debtor
    answered on its page (« espace débiteur ») is among them (`portal`), its subject and
    text said from the answer, with the outcomes it may have."""
    if not case.replies_waiting:
        return []
    entries = {entry.version: entry for entry in runtime.files.history(number)}
    elsewhere: dict[str, list[dict[str, Any]]] = {}
    for row in runtime.reads.replies_waiting(accounts=[case.debtor.account]):
        if row["number"] != number:
            elsewhere.setdefault(row["mail"], []).append(
                {"number": row["number"], "version": row["version"]})
    replies = []
    for version in case.replies_waiting:
        entry = entries.get(version)
        if entry is None:
            continue
        data = entry.data
        if entry.kind == "ReplyReceived":
            replies.append({"version": version, "at": entry.occurred_at,
                            "writer": data["writer"], "subject": data["subject"],
                            "text": data["text"], "matched_by": data["matched_by"],
                            "mail": data["mail"],
                            "attachments": len(data.get("attachments") or ()),
                            "elsewhere": elsewhere.get(data["mail"], []), "portal": False,
                            "kind": entry.kind, "outcomes": None, "note": ""})
        elif is_portal_answer(entry.kind, entry.actor):
            replies.append(_portal_reply(entry, elsewhere))
    return replies


def _portal_reply(entry: Any, elsewhere: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A portal answer waiting, as the reply card shows it."""
    data = entry.data
    person = next((data[name] for name in ("promised_by", "requested_by", "claimed_by")
                   if data.get(name) is not None), None)
    subject, text = portal_summary(FRENCH, entry.kind, data)
    key = portal_answer_key(entry.kind, entry.occurred_at, entry.actor)
    allowed = PORTAL_OUTCOMES.get(entry.kind, (ReplyOutcome.NOTHING,))
    return {"version": entry.version, "at": entry.occurred_at,
            "writer": Contact(getattr(person, "name", "") or entry.actor, "", "",
                              getattr(person, "email", "") or ""),
            "subject": subject, "text": text, "matched_by": PORTAL_MATCH, "mail": key,
            "attachments": 0, "elsewhere": elsewhere.get(key, []), "portal": True,
            "kind": entry.kind, "outcomes": [o.value for o in allowed],
            "note": PORTAL_NOTES.get(entry.kind, "")}


def after_reply(entries: Sequence[Any], form: str) -> dict[str, str]:
    """What the form a reply just handled calls for starts with, from that reply: who
    asked for the duplicate, the words of the dispute, the instalments asked for on the
    debtor's page (empty for any other form)."""
    handled = next((e for e in reversed(entries) if e.kind == "ReplyHandled"), None)
    reply = next((e for e in entries if handled is not None
                  and e.version == handled.data["reply_version"]), None)
    if reply is None:
        return {}
    if reply.kind == "PlanRequested":
        if form != "echeancier":
            return {}
        asked = reply.data["requested_by"]
        return {"plan": "\n".join(f"{i.due_on:%d/%m/%Y} {_amount(i.amount)}"
                                  for i in reply.data["instalments"]),
                "contact": getattr(asked, "name", "") or ""}
    if reply.kind != "ReplyReceived":
        return {}
    writer, said = reply.data["writer"], reply.data["text"]
    if form == "duplicata-demande":
        return {"contact": writer.name or writer.email,
                "details": f"par e-mail : « {reply.data['subject']} »"[:300]}
    if form == "litige":
        return {"reason": reply.data["subject"][:200], "details": said[:2000]}
    return {}


def _amount(amount: Any) -> str:
    """An amount as the plan's form reads it: 1500,00."""
    return f"{amount:.2f}".replace(".", ",")


def reply_outcomes() -> list[tuple[str, str]]:
    """What can come of a reply (the `reponse` form's choices), with their French words."""
    field = next(f for f in BY_KIND[REPLY_FORM].fields if f.name == "outcome")
    return options(field)
