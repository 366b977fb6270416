"""Letters and emails in French, rendered from Jinja2 templates a team can override.

Each document is one text template (`document_templates/NAME.txt.j2`) that sets its
`subject`; the HTML version (for the email and the printable PDF) lays the same
paragraphs out in `_layout.html.j2`. A team overrides any of them by putting a file of
the same name in RELANCE_TEMPLATES_DIR, or, from Réglages, by recording its own wording
in the playbook (versioned: who, when, why); the latest recorded wording wins. A team's
wording runs in a bounded child process (`adapters.infra.wording`) and gives back only its
subject and text; every template renders on its own copy of the context, in Jinja2's
immutable sandbox, so the layout only ever sees the server's own values. Each text is
personalised with the contact, the file and its history, so the first and second
reminders never read alike.

Every document that goes out carries a link to the debtor's page (« espace débiteur »):
the context's `lien_espace` (the whole address, `<base>/p/<token>`, issued for that
sending; in a preview an example, `<base>/p/…`). The shipped wordings say it in a
sentence (`PORTAL_SENTENCE`); a wording that does not name it (a team's own, written
before) gets that sentence added at its end, and an example address a person kept while
editing a message is replaced by the real one. A letter (the PDF) prints the address in
short form (without `https://`) beside its QR code (`portal_qr_svg`); an e-mail makes it
a link.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import segno
from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from adapters.infra.pdf import html_to_pdf
from adapters.infra.wording import WordingFailed, WordingSandbox, render_wording
from domain.case import Case, Entry
from domain.invoice import Invoice
from domain.kinds import TOUCHING
from domain.penalties import INDEMNITY_CURRENCY, LawRates, penalties
from domain.values import CallOutcome, Contact, paris_day
from projections import french

SHIPPED = Path(__file__).parent / "document_templates"
DOCUMENTS = ("pre_due", "reminder_1", "reminder_2", "formal_notice", "call_confirmation",
             "duplicate_cover", "payment_plan")
PAYMENT_DELAY = timedelta(days=8)
PORTAL_SENTENCE = ("Consultez votre relevé, téléchargez vos factures et répondez-nous en "
                   "ligne :")
"""What a document says before the link to the debtor's page."""
EXAMPLE_TOKEN = "…"  # noqa: S105 - an ellipsis, shown in previews
"""What a preview shows in place of a link's token: no link is issued for a preview."""
SAMPLE_PORTAL_BASE = "https://paiement.exemple.fr"
"""The address a made-up file's documents name (`sample_context`)."""


class DocumentUnavailable(ValueError):
    """The document does not apply to this file (e.g. a call confirmation without a call)."""


class WordingBroken(DocumentUnavailable):
    """The team's wording of the document cannot be rendered; `french` says why."""

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail)
        self.french = french


class InvalidTemplate(ValueError):
    """A wording that cannot be saved (a Jinja2 error, no subject, or it cannot render);
    `french` says why."""

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail)
        self.french = french


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
    render_printed: Callable[[], str] | None = field(default=None, repr=False, compare=False)
    """Renders the HTML of the printed letter (the link in short form and its QR code),
    asked when the letter is printed only: an e-mail never is, and the QR code's
    encoding cost as much as the rest of the e-mail (a daily run's profile). None: the
    same as `html`."""

    @property
    def sha256(self) -> str:
        """The digest of the text, kept in the record of what was sent."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def pdf(self) -> bytes:
        """The printable letter (WeasyPrint, fetching nothing outside relance)."""
        return html_to_pdf(self.render_printed() if self.render_printed else self.html)


class Documents:
    """The document templates, shipped and overridden."""

    def __init__(self, override_dir: Path | None = None,
                 wording: Callable[[str], str | None] | None = None,
                 sandbox: WordingSandbox | None = None) -> None:
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        self.wording = wording or (lambda _name: None)
        """The team's recorded wording of a document, if any."""
        self.sandbox = sandbox or WordingSandbox()
        self.env = ImmutableSandboxedEnvironment(
            loader=ChoiceLoader([*loaders, FileSystemLoader(str(SHIPPED))]),
            autoescape=select_autoescape(enabled_extensions=("html.j2",)),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(money=french.money, day=french.day, percent=french.percent)

    def render(self, name: str, context: dict[str, Any],
               wording: tuple[str, str] | None = None) -> Document:
        """Renders one document from its context; `wording` (subject, text) replaces the
        template's for one message (edited by the person who validated it)."""
        if name not in DOCUMENTS:
            raise DocumentUnavailable(f"unknown document {name!r}; known: {', '.join(DOCUMENTS)}")
        if name == "call_confirmation" and context["call"]["at"] is None:
            raise DocumentUnavailable("no call where somebody was reached on this file")
        if name == "payment_plan" and context["history"]["plan"] is None:
            raise DocumentUnavailable("no payment plan on this file")
        # The context as it is now, for the printed letter whenever it is printed; the
        # templates read it and cannot change it (an immutable sandbox): one copy serves all.
        kept = copy.deepcopy(context)
        own = self.wording(name)
        if wording is not None:
            subject, text = wording
        elif own:
            try:
                subject, text = self.sandbox.render(own, context)
            except WordingFailed as error:
                raise WordingBroken(f"the team's wording of {name} cannot be rendered: {error}",
                                    error.french) from None
        else:
            answer = render_wording(self.env, self.env.get_template(f"{name}.txt.j2"), kept)
            if answer[0] != "ok":
                raise WordingBroken(f"the template {name} cannot be rendered: {answer[1]}",
                                    answer[2])
            subject, text = answer[1], answer[2]
        link = str(context.get("lien_espace") or "")
        if link:
            text = with_portal_link(text, link)
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        layout = self.env.get_template("_layout.html.j2")
        portal = {"lien_espace": link, "lien_court": short_address(link),
                  "lien_exemple": is_example(link), "qr_espace": ""}

        def printed() -> str:
            qr = Markup(portal_qr_svg(link)) if link and not is_example(link) else ""  # noqa: S704 - segno's own SVG
            return layout.render(**{**kept, **portal, "qr_espace": qr}, subject=subject,
                                 paragraphs=paragraphs, imprime=True)

        html = layout.render(**{**kept, **portal}, subject=subject,
                             paragraphs=paragraphs, imprime=False)
        return Document(name, subject, text, html, printed)

    def source(self, name: str) -> str:
        """The wording in force for a document: the team's, or the shipped one."""
        own = self.wording(name)
        if own:
            return own
        loader = self.env.loader
        assert loader is not None
        return loader.get_source(self.env, f"{name}.txt.j2")[0]

    def check(self, name: str, text: str, sample: dict[str, Any]) -> None:
        """Refuses a wording that could not be used: unknown document, bad syntax, no
        subject, or one that does not render on a sample file in its time and memory."""
        if name not in DOCUMENTS:
            raise InvalidTemplate(f"unknown document {name!r}", "Document inconnu.")
        try:
            self.env.parse(text)
        except TemplateSyntaxError as error:
            raise InvalidTemplate(f"line {error.lineno}: {error.message}",
                                  f"ligne {error.lineno} : {error.message}") from None
        try:
            self.sandbox.render(text, sample)
        except WordingFailed as error:
            raise InvalidTemplate(str(error), error.french) from None

    def close(self) -> None:
        """Stops the wording workers."""
        self.sandbox.close()


def portal_address(base: str, token: str) -> str:
    """The address of the debtor's page a link's token opens."""
    return f"{base.rstrip('/')}/p/{token}"


def portal_example(base: str) -> str:
    """The example address a preview shows, where the real link will go."""
    return portal_address(base, EXAMPLE_TOKEN)


def is_example(link: str) -> bool:
    """True for a preview's example address (no link behind it)."""
    return link.endswith("/p/" + EXAMPLE_TOKEN)


def short_address(link: str) -> str:
    """The address as a letter prints it: without its `https://`."""
    return link.partition("://")[2] or link


def portal_qr_svg(link: str) -> str:
    """The QR code of an address, as an SVG element to put inline in a letter (drawn by
    WeasyPrint: nothing to fetch)."""
    return str(segno.make(link, error="m").svg_inline(scale=1, border=4, omitsize=True,
                                                      dark="#000", light="#fff"))


def with_portal_link(text: str, link: str) -> str:
    """A document's text naming the debtor's page at `link`: the example address a person
    kept while editing the message replaced by it, and the sentence that gives it added
    at the end when the wording does not name it."""
    example = portal_example(link.rpartition("/p/")[0])
    if link != example:
        text = text.replace(example, link).replace(short_address(example), link)
    if short_address(link) in text:
        return text
    return f"{text.rstrip()}\n\n{PORTAL_SENTENCE} {link}\n"


def document_context(invoice: Invoice, day: date, rates: LawRates, creditor: Creditor,
                     agent: str, penalty_rate: Decimal | None = None,
                     addressee: Contact | None = None,
                     others: Sequence[tuple[Invoice, Decimal | None]] = (),
                     postal: Sequence[str] = (), portal_link: str = "") -> dict[str, Any]:
    """Everything a document may say about a file on a day. `addressee` is the person it
    goes to when chosen; else the person reached by the last call (for a call's
    confirmation) or last in touch, else the billing contact. `postal`: the debtor's name
    and postal address, line by line, for a letter's address window (empty: unknown).
    `portal_link`: the address of the debtor's page the document gives (`lien_espace`;
    empty: none).

    `others` are further invoices of the same debtor (with their contractual rate) that
    the document covers too: `invoices` lists every covered invoice, oldest due date
    first, with its figures and penalties; `totals` adds them up by currency, and `grand_total`
    adds the indemnities when every invoice is in euros (None otherwise: amounts in two
    currencies are never added). The history (reminders, contacts) is the covered files'.
    """
    case = invoice.case
    covered = [invoice, *(other for other, _ in others)]
    effective = [e for e in invoice.entries if e.is_effective]
    everywhere = [e for inv in covered for e in inv.entries if e.is_effective]
    reminders = [e for e in everywhere if e.kind == "ReminderSent"]
    reached = [e for e in effective if e.kind == "CallLogged"
               and e.data["outcome"] == CallOutcome.REACHED.value]
    duplicates = [e for e in effective if e.kind == "DuplicateRequested"]
    sent = [e for e in effective if e.kind == "DuplicateSent"]
    contact = addressee or (case.last_touch.contact if case.last_touch
                            and case.last_touch.contact else case.billing_recipient)
    lines = [_invoice_line(invoice.case, day, rates, penalty_rate),
             *(_invoice_line(other.case, day, rates, rate) for other, rate in others)]
    return {
        "creditor": creditor, "debtor": case.debtor, "contact": contact, "agent": agent,
        "postal": list(postal), "today": day, "deadline": day + PAYMENT_DELAY,
        "lien_espace": portal_link,
        "invoice": {key: value for key, value in lines[0].items() if key != "penalties"},
        "penalties": lines[0]["penalties"],
        "invoices": sorted(lines, key=lambda line: (line["due_on"], line["number"])),
        **_totals(lines),
        "call": _call(reached[-1] if reached else None, addressee),
        "history": {
            "first_reminder_on": _first_day(reminders, 1),
            "second_reminder_on": _first_day(reminders, 2),
            "contacted": any(e.kind in TOUCHING for e in everywhere),
            "promise": case.promise if case.promise and not case.promise_kept() else None,
            "broken_promise": case.promise if case.promise_broken_on(day) else None,
            "plan": case.plan,
            "duplicate_reason": french.word("duplicate_reason", duplicates[-1].data["reason"])
            if duplicates else "",
            "duplicate_correction": sent[-1].data["correction"] if sent else "",
        },
    }


def sample_context(rates: LawRates, creditor: Creditor, day: date,
                   portal_base: str = SAMPLE_PORTAL_BASE) -> dict[str, Any]:
    """The context of a made-up file that every document applies to (a call, a promise,
    a plan, a duplicate, an example link to the debtor's page): a new wording must render
    on it before it is saved."""
    from datetime import UTC, datetime, time

    from domain.values import (
        Channel,
        Debtor,
        DuplicateReason,
        Instalment,
        Money,
        Stamp,
    )

    now = datetime.combine(day, time(9), tzinfo=UTC)
    stamp = Stamp("exemple", now, now)
    person = Contact("Jeanne Exemple", "Comptable", "01 02 03 04 05", "jeanne@exemple.fr")
    invoice = Invoice.register(
        stamp, number="FA-EXEMPLE-1", debtor=Debtor("411EXEMPLE", "Exemple SARL", "732829320"),
        amount=Money(Decimal("1200.00")), issued_on=day - timedelta(days=60),
        due_on=day - timedelta(days=30), po_reference="BC-1", billing_recipient=person)
    invoice.log_call(stamp, contact=person, outcome=CallOutcome.REACHED, summary="Exemple",
                     callback_on=day + timedelta(days=7))
    invoice.request_duplicate(stamp, reason=DuplicateReason.NOT_RECEIVED, requested_by=person)
    invoice.send_duplicate(stamp, channel=Channel.EMAIL, recipient=person.email)
    invoice.agree_payment_plan(stamp, instalments=[
        Instalment(day + timedelta(days=10), Decimal("600.00")),
        Instalment(day + timedelta(days=40), Decimal("600.00"))], contact=person)
    invoice.promise_payment(stamp, promised_on=day + timedelta(days=10), promised_by=person,
                            amount=Money(Decimal("600.00")))
    return document_context(invoice, day, rates, creditor, "Agent Exemple",
                            postal=["Exemple SARL", "12 rue de l'Exemple", "69002 LYON"],
                            portal_link=portal_example(portal_base))


def _invoice_line(case: Case, day: date, rates: LawRates,
                  penalty_rate: Decimal | None) -> dict[str, Any]:
    """One covered invoice as a document lists it: its figures, and its penalties that day."""
    owed = penalties(case, day, rates, penalty_rate)
    return {"number": case.number, "issued_on": case.issued_on, "due_on": case.due_on,
            "amount": case.amount, "paid": case.paid, "outstanding": case.outstanding,
            "credited": case.credited, "disputed": case.outstanding - case.undisputed,
            "claimed_now": case.undisputed, "currency": case.currency,
            "po_reference": case.po_reference, "days_late": case.days_past_due(day),
            "penalties": owed}


def _totals(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The covered invoices added up by currency, the indemnities (in euros, whatever the
    invoices' currency), and everything together when it is all in euros."""
    by_currency: dict[str, dict[str, Any]] = {}
    for line in lines:
        total = by_currency.setdefault(line["currency"], {
            "currency": line["currency"], "count": 0, **{name: Decimal("0.00") for name in (
                "amount", "paid", "credited", "outstanding", "claimed_now", "interest")}})
        total["count"] += 1
        for name in ("amount", "paid", "credited", "outstanding", "claimed_now"):
            total[name] += line[name]
        total["interest"] += line["penalties"].interest
    for total in by_currency.values():
        total["claimed_with_interest"] = total["claimed_now"] + total["interest"]
    indemnities = [line["penalties"].indemnity for line in lines if line["penalties"].indemnity]
    indemnity_total = sum(indemnities, Decimal("0.00"))
    euros = by_currency.get(INDEMNITY_CURRENCY)
    only_euros = set(by_currency) == {INDEMNITY_CURRENCY}
    return {"totals": list(by_currency.values()), "indemnity_count": len(indemnities),
            "indemnity_total": indemnity_total, "indemnity_currency": INDEMNITY_CURRENCY,
            "grand_total": euros["claimed_with_interest"] + indemnity_total
            if only_euros and euros else None}


def _first_day(reminders: list[Entry], level: int) -> date | None:
    days = [paris_day(e.occurred_at) for e in reminders if e.data["level"] == level]
    return min(days) if days else None


def _call(entry: Entry | None, addressee: Contact | None) -> dict[str, Any]:
    """The last call where somebody was reached: what a call's confirmation restates."""
    if entry is None:
        return {"at": None, "contact": Contact(), "summary": "", "callback_on": None}
    reached = entry.data["contact"]
    return {"at": paris_day(entry.occurred_at),
            "contact": reached if not reached.is_empty() else addressee or Contact(),
            "summary": entry.data["summary"], "callback_on": entry.data["callback_on"]}
