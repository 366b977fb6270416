"""Search: every file, debtor and person known, found from the first letters or digits
of any word of its name.

Listens to the files' facts and to the debtors' records. Each thing people look for
keeps one row per word of each name it goes by, folded (`fold`: lower case, no accents,
any punctuation a space), so that `cevenol` finds « Laboratoires Cévenol », `00296`
finds FA-2025-00296 and a SIREN typed with or without its spaces finds its debtor:
- a file by its invoice number (`file`);
- a debtor by its name, its account, its SIREN (kept without spaces), and the legal
  name and SIREN its record sets (`debtor`);
- a person known at a debtor by their name (`contact`, keyed as `debtor_contacts`).
A search reads, per group, the words starting with what was typed, in the order of an
index on (group, word): a few rows at 100,000 files, on SQLite and PostgreSQL alike (a
match inside a word would read the whole table). Each row also keeps the whole folded
name, so that several words typed must all be found in it. What is shown of a match
(amounts, status, function) is read from the other views when asked.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from domain.debtors import person_fields, person_key
from domain.facts import Fact
from domain.invoice import Invoice
from domain.sealing import ERASED
from domain.values import Contact
from projections.case_view import CASE_VIEW, OPEN, CaseLine
from projections.debtors import PEOPLE_FIELDS
from projections.schema import Change, Delete, Table, Type, Upsert
from projections.storage import ViewStore

SEARCH_KEYS = Table(
    "search_keys",
    {"kind": Type.TEXT, "account": Type.TEXT, "ref": Type.TEXT, "field": Type.TEXT,
     "word": Type.WORD, "folded": Type.TEXT},
    key=("kind", "account", "ref", "field", "word"),
    indexes=(("kind", "word", "ref"),),
)
SHOWN = 8
"""Matches shown per group: enough to pick from while typing."""
MIN_LENGTH = 2
"""Fewer folded characters than this find nothing (one letter matches everything)."""
CANDIDATES = 200
"""Rows read per group and word typed, before the other words typed sort them out."""
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "Œ": "oe", "Æ": "ae"})
KINDS = ("debtor", "file", "contact")
REPLACED = ("legal_name", "record_siren")
"""Names a debtor's record may change: their words before are forgotten."""
END = "\U0010ffff"
"""Sorts after any word: `word >= 'cev' AND word < 'cev' || END` is « starts with cev »."""


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Text as a search compares it: lower case, without accents, every run of anything
    but letters and digits one space (kept for the names met most: a debtor's name is
    folded again at each of its invoices, a contact's at each fact naming them)."""
    plain = unicodedata.normalize("NFKD", text.translate(LIGATURES).casefold())
    kept = "".join(c if c.isalnum() else " " for c in plain if not unicodedata.combining(c))
    return " ".join(kept.split())


def forget_names() -> None:
    """Drops the names this process keeps folded, and their rows: after an erasure, none
    of the erased person stays in memory."""
    fold.cache_clear()
    _rows.cache_clear()


@lru_cache(maxsize=16384)
def _rows(kind: str, account: str, ref: str, field: str, text: str) -> tuple[Change, ...]:
    """The rows of one name: one per word, each with the whole name (a name changed
    replaces the words of the name before). Kept for the names met most, as `fold`
    keeps them: catching up the demo's log, seven names in ten were met before, a
    contact's at each fact naming them (the rows are never changed once made)."""
    folded = fold(text)
    changes: list[Change] = [Delete(SEARCH_KEYS, {"kind": kind, "account": account,
                                                  "ref": ref, "field": field})] \
        if field in REPLACED else []
    words = folded.split()
    if field == "number":  # « 296 » finds FA-2025-00296: a number's digits without its zeros
        words += [w.lstrip("0") for w in words if w.isdigit() and w.lstrip("0") != w]
    changes.extend(Upsert(SEARCH_KEYS, {"kind": kind, "account": account, "ref": ref,
                                        "field": field, "word": word, "folded": folded})
                   for word in dict.fromkeys(w for w in words if w))
    return tuple(changes)


class Search:
    """The search read model."""

    name = "search"
    version = 2
    state_based = False
    tables = (SEARCH_KEYS,)

    def changes(self, fact: Fact, invoice: Invoice) -> list[Change]:
        """The file, its debtor (on registration) and any person the fact names."""
        case = invoice.case
        debtor = case.debtor
        changes: list[Change] = []
        if fact.kind == "InvoiceRegistered":
            changes += _rows("file", debtor.account, case.number, "number", case.number)
            if not debtor.is_erased:
                changes += _rows("debtor", debtor.account, debtor.account, "name",
                                 debtor.name)
            changes += _rows("debtor", debtor.account, debtor.account, "account",
                             debtor.account)
            if debtor.siren:
                changes += _rows("debtor", debtor.account, debtor.account, "siren",
                                 debtor.siren.replace(" ", ""))
        data = fact.data()
        for field in PEOPLE_FIELDS:
            person = data.get(field)
            if isinstance(person, Contact) and person.name.strip() and not person.is_erased:
                changes += _person(debtor.account, person.name)
        return changes

    def debtor_changes(self, event: Any) -> list[Change]:
        """A legal name or SIREN the debtor's record sets; a person it records."""
        kind = type(event).__name__
        if kind == "IdentityChanged":
            changes: list[Change] = []
            if event.changes.get("legal_name"):
                changes += _rows("debtor", event.account, event.account, "legal_name",
                                 event.changes["legal_name"])
            if event.changes.get("siren"):
                changes += _rows("debtor", event.account, event.account, "record_siren",
                                 event.changes["siren"].replace(" ", ""))
            return changes
        if kind == "PersonRecorded":
            name = person_fields(event.person)["name"]
            return _person(event.account, name) if name.strip() and name != ERASED else []
        return []


def _person(account: str, name: str) -> list[Change]:
    name = " ".join(name.split())
    return list(_rows("contact", account, person_key(name), "name", name))


# -- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DebtorFound:
    """A debtor matching the search."""

    account: str
    name: str
    siren: str
    outstanding: Decimal


@dataclass(frozen=True)
class ContactFound:
    """A person known at a debtor, matching the search."""

    account: str
    name: str
    function: str
    debtor_name: str


@dataclass(frozen=True)
class Found:
    """What a search found, group by group, the closest matches first."""

    text: str
    debtors: list[DebtorFound]
    files: list[CaseLine]
    contacts: list[ContactFound]

    @property
    def empty(self) -> bool:
        """Nothing matched."""
        return not (self.debtors or self.files or self.contacts)

    def exact_file(self) -> str | None:
        """The number of the one file whose number is exactly what was typed."""
        typed = self.text.strip().casefold()
        return next((f.number for f in self.files if f.number.casefold() == typed), None)


WORDS = ("SELECT account, ref, word, folded FROM {search_keys} WHERE kind = :kind "
         "AND word >= :low AND word < :high ORDER BY word, ref LIMIT :limit")


def search(views: ViewStore, text: str, day: date, shown: int = SHOWN) -> Found:
    """The debtors, files and people with a word starting with each word typed (folded;
    digits typed with spaces also as one number), whole words first, at most `shown` of
    each."""
    typed = fold(text)[:100]
    if len(typed.replace(" ", "")) < MIN_LENGTH:
        return Found(text, [], [], [])
    words = typed.split()
    compact = typed.replace(" ", "")
    found: dict[str, list[tuple[str, str]]] = {}
    for kind in KINDS:
        matches = _matching(views, kind, max(words, key=len), words, shown)
        if len(words) > 1 and compact.isdigit():
            matches += _matching(views, kind, compact, [compact], shown)
        found[kind] = list(dict.fromkeys(matches))[:shown]
    return Found(text, _debtors(views, [ref for _, ref in found["debtor"]]),
                 _files(views, [ref for _, ref in found["file"]], day),
                 _contacts(views, found["contact"]))


def _matching(views: ViewStore, kind: str, lead: str, words: list[str],
              shown: int) -> list[tuple[str, str]]:
    """(account, ref) of the rows of `kind` with a word starting with `lead` whose whole
    name has a word starting with each of `words`, whole words first."""
    rows = views.rows(WORDS, {"kind": kind, "low": lead, "high": lead + END,
                              "limit": CANDIDATES if len(words) > 1 else shown * 4}, {})
    kept = [row for row in rows
            if all(any(w.startswith(t) for w in [row["word"], *row["folded"].split()])
                   for t in words)]
    kept.sort(key=lambda row: (row["word"] != lead, row["folded"] != " ".join(words)))
    return [(row["account"], row["ref"]) for row in kept]


def _in(name: str, values: list[str], params: dict[str, Any]) -> str:
    """`:name0, :name1, ...` for an IN list, with its parameters added."""
    params.update({f"{name}{i}": value for i, value in enumerate(values)})
    return ", ".join(f":{name}{i}" for i in range(len(values)))


def _ordered(items: list[Any], keys: list[Any], key: Any) -> list[Any]:
    place = {k: i for i, k in enumerate(keys)}
    return sorted((i for i in items if key(i) in place), key=lambda i: place[key(i)])


def _debtors(views: ViewStore, accounts: list[str]) -> list[DebtorFound]:
    if not accounts:
        return []
    params: dict[str, Any] = {}
    listed = _in("a", accounts, params)
    names = views.rows(
        f"SELECT account, name, siren FROM {{debtors}} WHERE account IN ({listed})",  # noqa: S608
        params, {})
    owed = {row["debtor_account"]: row["outstanding"] for row in views.rows(
        f"SELECT debtor_account, SUM(outstanding) AS outstanding FROM {{case_view}} "  # noqa: S608
        f"WHERE debtor_account IN ({listed}) AND {OPEN} GROUP BY debtor_account",
        params, {"outstanding": Type.CENTS})}
    found = [DebtorFound(r["account"], r["name"], r["siren"] or "",
                         owed.get(r["account"]) or Decimal("0.00")) for r in names]
    return _ordered(found, accounts, lambda d: d.account)


def _files(views: ViewStore, numbers: list[str], day: date) -> list[CaseLine]:
    if not numbers:
        return []
    params: dict[str, Any] = {}
    listed = _in("n", numbers, params)
    rows = views.rows(f"SELECT * FROM {{case_view}} WHERE number IN ({listed})",  # noqa: S608
                      params, CASE_VIEW.columns)
    return _ordered([CaseLine(row, day) for row in rows], numbers, lambda f: f.number)


def _contacts(views: ViewStore, people: list[tuple[str, str]]) -> list[ContactFound]:
    if not people:
        return []
    params: dict[str, Any] = {}
    accounts = _in("a", sorted({a for a, _ in people}), params)
    keys = _in("p", sorted({p for _, p in people}), params)
    said: dict[tuple[str, str], dict[str, str]] = {}
    for row in views.rows(f"SELECT account, person, field, value FROM {{debtor_contacts}} "  # noqa: S608
                          f"WHERE account IN ({accounts}) AND person IN ({keys})", params, {}):
        said.setdefault((row["account"], row["person"]), {})[row["field"]] = row["value"]
    names = {row["account"]: row["name"] for row in views.rows(
        f"SELECT account, name FROM {{debtors}} WHERE account IN ({accounts})",  # noqa: S608
        params, {})}
    return [ContactFound(account, said[(account, key)].get("name", key),
                         said[(account, key)].get("function", ""), names.get(account, account))
            for account, key in people if (account, key) in said]

