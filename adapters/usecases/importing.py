"""Getting invoices in from the accounting software (CSV), and the report every import gives.

The file is read by `import_files`; payments and credit notes are recorded by
`import_payments`, which reports here too. The rules:
- A bad line never stops the others and never records half of itself: it is reported
  with its line number and the reason, in French (a refusal of the case file's rules
  with its stable code too, for the API).
- Every import is idempotent: a file imported twice records nothing new the second time
  and says so.
- An invoice sent again with another amount, due date or debtor account than its
  registration (as corrected since; a due date rescheduled in relance is not one) is a
  discrepancy: nothing is recorded for its line, a person decides.
- Invoice numbers are unique within a file: a number seen again is rejected, with the
  line it was first seen on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.messages import in_french
from adapters.usecases.import_files import (
    INVOICE_COLUMNS,
    LABELS,
    BadRow,
    UnreadableRow,
    plain_name,
    read_rows,
    row_date,
    row_money,
)
from domain.addresses import address_text, postcode_of
from domain.batches import UNCHANGED, Registration
from domain.debtors import ROLES, DebtorDetails, identity_values, person_values
from domain.errors import DomainError
from domain.service import CaseFiles
from domain.values import CENT, Contact, Debtor, Money
from projections.french import VOCABULARY, day, money

Progress = Callable[[int, int], None]
"""Told (done, total) as an import goes, for a progress bar."""
DISCREPANCY_WORDS = {
    "amount": ("montant enregistré", "nouveau"),
    "due_on": ("échéance enregistrée", "nouvelle"),
    "debtor": ("débiteur enregistré", "nouveau"),
}


@dataclass(frozen=True)
class Discrepancy:
    """An invoice sent again with a value other than the recorded one: a person decides."""

    line: int
    number: str
    field: str
    recorded: str
    new: str

    @property
    def reason(self) -> str:
        """What differs, in French."""
        recorded, new = DISCREPANCY_WORDS[self.field]
        return f"{recorded} {self.recorded}, {new} {self.new} (facture {self.number})"

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}"


@dataclass(frozen=True)
class Duplicate:
    """A line identical to an earlier line of the same file, held until confirmed."""

    line: int
    first: int
    what: str

    @property
    def reason(self) -> str:
        """Which line it repeats, in French."""
        return f"identique à la ligne {self.first} ({self.what})"

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}"


@dataclass
class ImportReport:
    """What an import did: rows recorded, rows already there, rows rejected and why,
    invoices in discrepancy with their record and lines to confirm (both recorded nothing).

    `outcomes` gives, for each row (by line number, or index for the API), 'created',
    'unchanged' or 'rejected' (nothing recorded: refused, in discrepancy or to confirm).
    """

    created: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    to_confirm: list[Duplicate] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict)
    refusals: dict[int, DomainError] = field(default_factory=dict)
    """The case file's refusal behind a rejected row, when a rule refused it."""
    debtors_updated: int = 0
    """Debtors whose record the lines completed (identity, people): new addresses sent
    for invoices already there count here, not as rows created."""

    def count(self, ref: int, outcome: str) -> None:
        """Notes what happened to one row."""
        self.outcomes[ref] = outcome
        if outcome == "created":
            self.created += 1
        elif outcome == "unchanged":
            self.unchanged += 1

    def reject(self, ref: int, reason: str, error: DomainError | None = None) -> None:
        """Notes a rejected row and why (in French), with the refusal behind it if any."""
        self.outcomes[ref] = "rejected"
        self.rejected.append((ref, reason))
        if error is not None:
            self.refusals[ref] = error

    def differs(self, found: Sequence[Discrepancy]) -> None:
        """Notes an invoice row that says otherwise than the recorded invoice."""
        self.outcomes[found[0].line] = "rejected"
        self.discrepancies.extend(found)

    def hold(self, duplicate: Duplicate) -> None:
        """Notes a row held until a person confirms it is not the earlier one again."""
        self.outcomes[duplicate.line] = "rejected"
        self.to_confirm.append(duplicate)

    def merge(self, other: ImportReport) -> None:
        """Adds what another part of the same import did."""
        self.created += other.created
        self.unchanged += other.unchanged
        self.rejected = sorted([*self.rejected, *other.rejected])
        self.discrepancies.extend(other.discrepancies)
        self.to_confirm.extend(other.to_confirm)
        self.outcomes.update(other.outcomes)
        self.refusals.update(other.refusals)
        self.debtors_updated += other.debtors_updated

    def reasons(self) -> dict[int, str]:
        """Why each row that recorded nothing did not, in French."""
        held: dict[int, list[str]] = {}
        for item in [*self.discrepancies, *self.to_confirm]:
            held.setdefault(item.line, []).append(item.reason)
        return {**dict(self.rejected), **{ref: " ; ".join(why) for ref, why in held.items()}}

    def details(self) -> dict[int, str]:
        """The reasons, each followed by the refusal's stable code and English detail when
        a rule of the case file refused the row: what the API answers."""
        return {ref: f"{reason} [{error.code}: {error.detail}]"
                if (error := self.refusals.get(ref)) else reason
                for ref, reason in self.reasons().items()}

    @property
    def ok(self) -> bool:
        """True when every row was recorded or was already there."""
        return not (self.rejected or self.discrepancies or self.to_confirm)


def refusal(error: DomainError) -> str:
    """A refused row's reason, wholly in French: the sentence, then what it is about."""
    about = _about(error.context)
    return f"{in_french(error)} ({about})" if about else in_french(error)


def _about(context: dict[str, Any]) -> str:
    if "issued_on" in context and "due_on" in context:
        return (f"échéance {day(date.fromisoformat(context['due_on']))} avant la date de "
                f"facture {day(date.fromisoformat(context['issued_on']))}")
    if "outstanding" in context:
        return (f"montant {_amount(context['amount'])}, solde dû "
                f"{_amount(context['outstanding'])}")
    if "expected" in context:
        return f"devise {context['currency']}, facture en {context['expected']}"
    for name, shown in (("field", lambda v: LABELS.get(v, "")),
                        ("currency", lambda v: f"devise « {v} »"),
                        ("amount", lambda v: f"montant {_amount(v)}"),
                        ("number", lambda v: f"facture {v}")):
        if name in context:
            return shown(context[name])
    return ""


def _amount(text: str) -> str:
    """An amount of a refusal in French, or as it was typed when it is not one."""
    try:
        value = Decimal(text)
        if value.is_finite() and value == value.quantize(CENT):
            return money(value)
    except ArithmeticError:
        pass
    return f"« {text[:40]} »"


# -- invoices ---------------------------------------------------------------------------


def _registration(row: dict[str, str]) -> Registration:
    if isinstance(row, UnreadableRow):
        raise BadRow(row.reason)
    return Registration(
        number=row.get("number", ""),
        debtor=Debtor(row.get("debtor_account", ""), row.get("debtor_name", ""),
                      row.get("siren", "")),
        amount=row_money(row, (row.get("currency") or "EUR").upper()),
        issued_on=row_date(row, "issued_on", "date de facture"),
        due_on=row_date(row, "due_on", "date d'échéance"),
        po_reference=row.get("po_reference", ""),
        billing_recipient=Contact(name=row.get("contact_name", ""),
                                  email=row.get("contact_email", ""),
                                  phone=row.get("contact_phone", "")),
    )


ROLE_WORDS = {plain_name(word): role for role, word in VOCABULARY["person_role"].items()} | {
    role: role for role in ROLES} | {"comptabilite": "accounts_payable",
                                     "fournisseurs": "accounts_payable",
                                     "dirigeant": "decision_maker", "direction": "decision_maker"}
"""A contact's role as an import line names it: French or English, accents and case aside."""


DETAIL_FIELDS = frozenset({"siret", "legal_form", "contact_role", "contact_function"} | {
    f"{prefix}_{part}" for prefix in ("office", "billing")
    for part in ("street", "street_2", "postcode", "city", "country")})
"""The columns of an invoice line that say more of its debtor than the invoice does."""


def _details(row: dict[str, str], debtor: Debtor) -> DebtorDetails | None:
    """What an invoice line says of its debtor beyond the invoice: SIRET, legal form,
    addresses (identity) and a contact's function or role (a person). None when it says
    nothing of that; a value that does not read refuses the whole line."""
    if DETAIL_FIELDS.isdisjoint(row):  # a file without those columns: most of them
        return None
    identity = {"siret": row.get("siret", ""), "legal_form": row.get("legal_form", "")}
    for name, prefix in (("registered_office", "office"), ("billing_address", "billing")):
        street = [*row.get(f"{prefix}_street", "").splitlines(),
                  row.get(f"{prefix}_street_2", "")]
        if not any(row.get(f"{prefix}_{part}") for part in ("street", "postcode", "city")):
            continue  # a country alone is no address
        identity[name] = address_text([line for line in street if line.strip()],
                                      row.get(f"{prefix}_postcode", ""),
                                      row.get(f"{prefix}_city", ""),
                                      row.get(f"{prefix}_country", ""), field=name)
    identity = {k: v for k, v in identity_values(identity).items() if v}
    people: tuple[dict[str, str], ...] = ()
    role_text = row.get("contact_role", "")
    role = ROLE_WORDS.get(plain_name(role_text), "") if role_text else ""
    if role_text and not role:
        raise BadRow(f"rôle du contact inconnu : « {role_text[:40]} » (facturation, "
                     "comptabilité fournisseurs, décideur ou autre)")
    if row.get("contact_name") and (role or row.get("contact_function")):
        people = (person_values(name=row["contact_name"],
                                function=row.get("contact_function", ""), role=role,
                                phone=row.get("contact_phone", ""),
                                email=row.get("contact_email", "")),)
    if not identity and not people:
        return None
    return DebtorDetails(debtor.account, identity, people)


def _postcode(details: DebtorDetails | None) -> str:
    """The debtor's postcode, for the owner rules by département: its billing address's,
    else its registered office's."""
    if details is None:
        return ""
    return next((code for name in ("billing_address", "registered_office")
                 if (code := postcode_of(details.identity.get(name, "")))), "")


def import_invoices(files: CaseFiles, data: bytes, actor: str,
                    progress: Progress | None = None) -> ImportReport:
    """Registers every new invoice of a CSV file, many per transaction."""
    return register_rows(files, list(read_rows(data, INVOICE_COLUMNS)), actor, progress)


def register_rows(files: CaseFiles, rows: Sequence[tuple[int, dict[str, str]]], actor: str,
                  progress: Progress | None = None) -> ImportReport:
    """Registers invoice rows ({field: text}, by reference) through the service's bulk
    command (many per transaction); a number twice in the rows is reported here, and an
    invoice registered before with other values is a discrepancy."""
    report = ImportReport()
    seen: dict[str, int] = {}
    accepted: list[tuple[int, Registration]] = []
    details: dict[int, DebtorDetails] = {}
    for ref, row in rows:
        try:
            registration = _registration(row)
            if (said := _details(row, registration.debtor)) is not None:
                details[ref] = said
        except BadRow as error:
            report.reject(ref, str(error))
            continue
        except DomainError as error:
            report.reject(ref, refusal(error), error)
            continue
        number = registration.number.strip()
        if number in seen:
            report.reject(ref, f"numéro déjà présent ligne {seen[number]}")
            continue
        seen[number] = ref
        accepted.append((ref, registration))
    outcomes = files.register_invoices(
        actor, [registration for _, registration in accepted],
        progress=(lambda done, _: progress(done, len(accepted))) if progress else None,
        postcodes=[_postcode(details.get(ref)) for ref, _ in accepted])
    for (ref, registration), outcome in zip(accepted, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            report.reject(ref, refusal(outcome), outcome)
        elif outcome == UNCHANGED and (found := discrepancies(files, ref, registration)):
            report.differs(found)
        else:
            report.count(ref, outcome)
    said = [details[ref] for ref, _ in accepted if report.outcomes.get(ref) != "rejected"
            and ref in details]
    report.debtors_updated += files.update_debtors(actor, said) if said else 0
    report.rejected.sort()
    return report


def discrepancies(files: CaseFiles, ref: int, sent: Registration) -> list[Discrepancy]:
    """What an invoice sent again says otherwise than its registration as it stands
    (corrections included: a due date rescheduled since is no discrepancy)."""
    number = sent.number.strip()
    recorded = files.history(number)[0].data
    debtor = recorded["debtor"]
    compared = {
        "amount": (Money(recorded["amount"], recorded["currency"]), sent.amount),
        "due_on": (recorded["due_on"], sent.due_on),
        "debtor": (debtor.account, sent.debtor.account),
    }
    names = {debtor.account: debtor.name, sent.debtor.account: sent.debtor.name}
    shown = {"amount": lambda m: money(m.amount, m.currency), "due_on": day,
             "debtor": lambda account: f"{account} ({names[account]})"}
    return [Discrepancy(ref, number, name, shown[name](old), shown[name](new))
            for name, (old, new) in compared.items() if old != new]

