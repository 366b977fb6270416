"""Erasing a person at a debtor (RGPD art. 17, or the end of the retention period):
`relance personne effacer`.

1. What the read models show of them is noted first: their names, phones and e-mail
   addresses, as the debtor's people list gives them.
2. The erasure is recorded on the debtor's record (who, when, why, which subject; never
   what), and their key is destroyed (domain/sealing.py, adapters/infra/keys.py): every
   fact that named them now reads « donnée effacée », and still verifies.
3. Once the read models have applied every fact up to the erasure, the history of the
   debtor's files is written again from its facts as they now read, and the values noted
   are replaced by « donnée effacée » in the other rows of that debtor that showed them
   (case view, contacts, contacts made, search). A rebuild gives the same from the facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.bootstrap import Runtime
from domain.debtors import person_key
from domain.sealing import ERASED, debtor_subject, subject_of
from projections.history import history_row

SHORTEST = 3
"""A value shorter than this is not replaced inside texts (it would hit other words)."""

REPLACED = (("history", "debtor_account", "summary"),
            ("case_view", "debtor_account", "debtor_name"),
            ("debtors", "account", "name"),
            ("dispatches", "account", "debtor_name"),
            ("case_view", "debtor_account", "promise_by"),
            ("case_view", "debtor_account", "last_contact_name"),
            ("debtor_touches", "account", "contact_name"),
            ("sent_mail", "account", "recipient"))
"""(table, debtor column, text column) of the rows whose texts may quote a person."""


class NobodyThere(LookupError):
    """No person of that name (or e-mail, or phone) is known at the debtor."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the subject whose key is destroyed, and the values replaced."""

    account: str
    subject: str
    values: int
    rows: int


def erase_person(runtime: Runtime, actor: str, account: str, who: str,
                 reason: str) -> Erasure:
    """Erases the person known as `who` (a name, or the e-mail or phone of a contact
    recorded without a name) at the debtor `account` (see the module's doc)."""
    runtime.refresh_views()
    key = person_key(who)
    people = [p for p in runtime.reads.debtor_people(account)
              if person_key(p.name.value) == key
              or key in {person_key(m.value) for m in (*p.emails, *p.phones)}]
    consumer = [r["name"] for r in runtime.views.rows(
        "SELECT name FROM {debtors} WHERE account = :account AND is_consumer = :yes",
        {"account": account, "yes": True}, {}) if person_key(r["name"]) == key]
    if not people and not consumer:
        raise NobodyThere(f"nobody known as {who!r} at debtor {account}")
    values = {who.strip(), *consumer}
    for person in people:
        values |= {person.name.value, *(m.value for m in (*person.emails, *person.phones))}
    # Their name's subject (found by an address or a number, the person it belongs to),
    # then those of their addresses and numbers (whom a message went to).
    named = [p.name.value for p in people] or [who]
    means = sorted({m.value for p in people for m in (*p.emails, *p.phones)})
    subjects = list(dict.fromkeys(subject_of(account, v) for v in [*named, who, *means]))
    for one in subjects:
        runtime.files.erase_debtor_subject(actor, account, one, reason=reason)
    subject = subjects[0]
    runtime.refresh_views()
    rows = _rewrite_history(runtime, account)
    rows += _scrub(runtime, account, {person_key(p.name.value) for p in people},
                  {v for v in values if len(v.strip()) >= SHORTEST}, actor,
                  consumer_erased=bool(consumer))
    return Erasure(account=account, subject=subject, values=len(values), rows=rows)


def erase_debtor_texts(runtime: Runtime, actor: str, account: str, reason: str) -> Erasure:
    """Erases what the team wrote in its own words on the debtor's files (calls'
    summaries, notes, replies' texts: sealed under the debtor's own subject), as the end
    of retention does once its people are erased."""
    runtime.refresh_views()
    subject = runtime.files.erase_debtor_subject(actor, account, debtor_subject(account),
                                                 reason=reason)
    runtime.refresh_views()
    return Erasure(account=account, subject=subject, values=0,
                   rows=_rewrite_history(runtime, account))


def _rewrite_history(runtime: Runtime, account: str) -> int:
    """Each fact's summary in the history of the debtor's files, written again from the
    facts as they read now (without the key destroyed), as a rebuild would write it."""
    rows = 0
    for found in runtime.views.rows("SELECT number FROM {case_view} WHERE debtor_account = "
                                    ":account", {"account": account}, {}):
        invoice = runtime.files.file(found["number"])
        for entry in invoice.entries:
            rows += runtime.views.execute(
                "UPDATE {history} SET summary = :summary WHERE invoice_id = :file "
                "AND version = :version AND summary <> :summary",
                {"summary": history_row(entry).summary, "file": invoice.id.hex,
                 "version": entry.version})
    return rows


def _scrub(runtime: Runtime, account: str, keys: set[str], values: set[str],
           actor: str, *, consumer_erased: bool) -> int:
    views, rows = runtime.views, 0
    for key in keys:
        params = {"account": account, "person": key}
        rows += views.execute("DELETE FROM {debtor_contact_means} WHERE account = :account "
                              "AND person = :person", params)
        rows += views.execute("DELETE FROM {debtor_contacts} WHERE account = :account "
                              "AND person = :person", params)
        rows += views.execute("DELETE FROM {search_keys} WHERE kind = 'contact' "
                              "AND account = :account AND ref = :person", params)
    if consumer_erased:  # the consumer's own name: no longer found by it
        rows += views.execute("DELETE FROM {search_keys} WHERE kind = 'debtor' "
                              "AND account = :account AND field = 'name'",
                              {"account": account})
    if keys:
        views.execute(
            "INSERT INTO {debtor_contacts} (account, person, field, value, recorded_by, "
            "recorded_at) SELECT :account, :person, 'name', :erased, :actor, :at "
            "WHERE NOT EXISTS (SELECT 1 FROM {debtor_contacts} WHERE account = :account "
            "AND person = :person AND field = 'name')",
            {"account": account, "person": person_key(ERASED), "erased": ERASED,
             "actor": actor, "at": runtime.clock()})
    for value in sorted(values, key=len, reverse=True):  # a full name before a part of it
        for table, column_of_debtor, column in REPLACED:
            rows += views.execute(
                f"UPDATE {{{table}}} SET {column} = REPLACE({column}, :value, :erased) "  # noqa: S608 - names from REPLACED
                f"WHERE {column_of_debtor} = :account "
                f"AND {column} <> REPLACE({column}, :value, :erased)",
                {"value": value, "erased": ERASED, "account": account})
    return rows

