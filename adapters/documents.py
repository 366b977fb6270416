"""Letters and emails in French, rendered from Jinja2 templates a team can override.

Each document is one text template (`document_templates/NAME.txt.j2`) that sets its
`subject`; the HTML version (for the email and the printable PDF) lays the same
paragraphs out in `_layout.html.j2`. A team overrides any of them by putting a file of
the same name in RELANCE_TEMPLATES_DIR, or, from Réglages, by recording its own wording
in the playbook (versioned: who, when, why); the latest recorded wording wins. Templates
run in Jinja2's sandbox, since supervisors write them. Each text is personalised with the contact,
the file and its history, so the first and second reminders never read alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from domain.case import Entry
from domain.invoice import Invoice
from domain.penalties import LawRates, penalties
from domain.values import Contact
from projections import french
from projections.history import WORDS

SHIPPED = Path(__file__).parent / "document_templates"
DOCUMENTS = ("pre_due", "reminder_1", "reminder_2", "formal_notice", "call_confirmation",
             "duplicate_cover", "payment_plan")
PAYMENT_DELAY = timedelta(days=8)


class DocumentUnavailable(ValueError):
    """The document does not apply to this file (e.g. a call confirmation without a call)."""


class InvalidTemplate(ValueError):
    """A wording that cannot be rendered (a Jinja2 error, or no subject)."""


@dataclass(frozen=True)
class Creditor:
    """Who collects: the company using relance, as its letters present it."""

    name: str = "Votre Société SAS"
    address: str = "1 rue de la Paix, 75002 Paris"
    city: str = "Paris"
    siren: str = ""
    email: str = "recouvrement@example.fr"
    phone: str = "01 00 00 00 00"
    iban: str = ""


@dataclass(frozen=True)
class Document:
    """A rendered document: subject, text and HTML."""

    name: str
    subject: str
    text: str
    html: str

    @property
    def sha256(self) -> str:
        """The digest of the text, kept in the record of what was sent."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def pdf(self) -> bytes:
        """The printable letter (WeasyPrint)."""
        from weasyprint import HTML

        return HTML(string=self.html).write_pdf()


class Documents:
    """The document templates, shipped and overridden."""

    def __init__(self, override_dir: Path | None = None,
                 wording: Callable[[str], str | None] | None = None) -> None:
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        self.wording = wording or (lambda _name: None)
        """The team's recorded wording of a document, if any."""
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader([*loaders, FileSystemLoader(str(SHIPPED))]),
            autoescape=select_autoescape(enabled_extensions=("html.j2",)),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(money=french.money, day=french.day, percent=french.percent)

    def render(self, name: str, context: dict[str, Any]) -> Document:
        """Renders one document from its context."""
        if name not in DOCUMENTS:
            raise DocumentUnavailable(f"unknown document {name!r}; known: {', '.join(DOCUMENTS)}")
        if name == "call_confirmation" and context["call"]["at"] is None:
            raise DocumentUnavailable("no call to confirm on this file")
        if name == "payment_plan" and context["history"]["plan"] is None:
            raise DocumentUnavailable("no payment plan on this file")
        own = self.wording(name)
        if own:
            try:  # the team's own wording: a mistake in it must not break the page
                module = self.env.from_string(own).make_module(vars=context)
                str(module.subject)
            except TemplateError as error:
                raise DocumentUnavailable(
                    f"the team's wording of {name} cannot be rendered: {error}") from None
        else:
            module = self.env.get_template(f"{name}.txt.j2").make_module(vars=context)
        text = str(module).strip() + "\n"
        subject = str(module.subject).strip()
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        html = self.env.get_template("_layout.html.j2").render(
            **context, subject=subject, paragraphs=paragraphs)
        return Document(name, subject, text, html)


    def source(self, name: str) -> str:
        """The wording in force for a document: the team's, or the shipped one."""
        own = self.wording(name)
        if own:
            return own
        loader = self.env.loader
        assert loader is not None
        return loader.get_source(self.env, f"{name}.txt.j2")[0]

    def check(self, name: str, text: str) -> None:
        """Refuses a wording that could not be rendered: unknown document, bad syntax, no
        subject."""
        if name not in DOCUMENTS:
            raise InvalidTemplate(f"unknown document {name!r}")
        try:
            self.env.parse(text)
        except TemplateSyntaxError as error:
            raise InvalidTemplate(f"line {error.lineno}: {error.message}") from None
        if "set subject" not in text:
            raise InvalidTemplate("the wording must set its subject: {% set subject = ... %}")


def document_context(invoice: Invoice, day: date, rates: LawRates, creditor: Creditor,
                     agent: str, penalty_rate: Decimal | None = None) -> dict[str, Any]:
    """Everything a document may say about a file on a day."""
    case = invoice.case
    effective = [e for e in invoice.entries if e.is_effective]
    reminders = [e for e in effective if e.kind == "ReminderSent"]
    calls = [e for e in effective if e.kind == "CallLogged"]
    duplicates = [e for e in effective if e.kind == "DuplicateRequested"]
    sent = [e for e in effective if e.kind == "DuplicateSent"]
    contact = (case.last_touch.contact if case.last_touch and case.last_touch.contact
               else case.billing_recipient)
    return {
        "creditor": creditor, "debtor": case.debtor, "contact": contact, "agent": agent,
        "today": day, "deadline": day + PAYMENT_DELAY,
        "invoice": {"number": case.number, "issued_on": case.issued_on, "due_on": case.due_on,
                    "amount": case.amount, "paid": case.paid, "outstanding": case.outstanding,
                    "currency": case.currency, "po_reference": case.po_reference},
        "penalties": penalties(case, day, rates, penalty_rate),
        "call": _call(calls[-1] if calls else None),
        "history": {
            "first_reminder_on": _first_day(reminders, 1),
            "second_reminder_on": _first_day(reminders, 2),
            "promise": case.promise if case.promise and not case.promise_kept() else None,
            "broken_promise": case.promise if case.promise_broken_on(day) else None,
            "plan": case.plan,
            "duplicate_reason": WORDS.get(duplicates[-1].data["reason"], "")
            if duplicates else "",
            "duplicate_correction": sent[-1].data["correction"] if sent else "",
        },
    }


def _first_day(reminders: list[Entry], level: int) -> date | None:
    days = [e.occurred_at.date() for e in reminders if e.data["level"] == level]
    return min(days) if days else None


def _call(entry: Entry | None) -> dict[str, Any]:
    if entry is None:
        return {"at": None, "contact": Contact(), "summary": "", "callback_on": None}
    return {"at": entry.occurred_at.date(), "contact": entry.data["contact"],
            "summary": entry.data["summary"], "callback_on": entry.data["callback_on"]}
