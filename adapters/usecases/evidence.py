"""Tamper evidence for the whole store: a digest an auditor writes down, and verification.

`walk` goes through every fact in the order it was recorded, checks each file's chain
(`domain.chain.ChainCheck`), names the first fact that does not hold, and sums up every
file's head in one root (`heads_root`), with the position it covers. The team's playbook
(scenarios, wordings, choices) and the register of exports are chained the same way and
covered by the same root. Against a digest taken earlier, `compare` proves that nothing
before its position changed (a cut-off file, or a history rewritten with fresh digests,
changes its head and so the root).

Documents are checked too (`document_problems`): every digest a `DocumentAttached` fact
names must be in the store of documents, with bytes that still hash to it.

Findings are worded in English, for logs and tests; `french_finding` says each of them,
and each finding of an export's verification, to people.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from adapters.infra.blobs import BlobStore
from domain.chain import ChainCheck, heads_root
from domain.invoice import invoice_id
from domain.kinds import BY_NAME
from domain.service import CaseFiles
from domain.stored import stored_content

FACT_TOPICS = "domain.facts:"
"""Facts of invoice files."""
REGISTER_TOPICS = ("domain.scenarios:Playbook.", "domain.exports:ExportRecord.",
                   "domain.debtors:DebtorRecord.", "domain.dispatch:Dispatch.",
                   "domain.dispatch:Run.", "domain.mail:IncomingMail.")
"""The team's playbook, the register of exports, the debtors' records, the daily run's
messages and runs and the messages read from the mailbox, chained like files (command
receipts, which only answer idempotency keys, are not)."""
CHAINED_TOPICS = (FACT_TOPICS, *REGISTER_TOPICS)
PAGE = 2000
NAMING_BYTES = {"DocumentAttached": "sha256", "ReplyReceived": "mail_sha256",
                "AutoReplyReceived": "mail_sha256", "DeliveryFailed": "mail_sha256",
                "InvoiceDownloaded": "document_sha256", "PaymentClaimed": "proof_sha256"}
"""Facts naming bytes kept apart (a document, a message as received, the invoice a debtor
downloaded, the proof of a payment it announced), by the field (empty: none)."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StoredFact:
    """A fact as stored, with the content its digest covers (before any upcasting)."""

    notification_id: int
    file_id: UUID
    version: int
    topic: str
    state: dict[str, Any]
    content: dict[str, Any] | None
    """None when the stored state cannot even be read."""
    computed: str | None = None
    """The digest of `content`, when its stored bytes give it (a fact of the second
    stored form, `domain/stored.py`); None: computed from `content`."""

    @property
    def kind(self) -> str:
        """The fact's class name."""
        return self.topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]

    @property
    def is_fact(self) -> bool:
        """True for a fact of an invoice's file (not the playbook or the register)."""
        return self.topic.startswith(FACT_TOPICS)

    @property
    def digest(self) -> str | None:
        """The digest stored with it; None for a register entry recorded before chaining."""
        if self.is_fact:
            return self.state.get("digest", "")
        return self.state.get("chain_digest") if "prev_hash" in self.state else None


@dataclass(frozen=True)
class Problem:
    """The first fact that does not hold: which file, which fact, and why."""

    number: str
    version: int
    kind: str
    reason: str
    position: int = 0
    file_id: str = ""

    def __str__(self) -> str:
        return f"{self.number}, fact {self.version} ({self.kind}): {self.reason}"


@dataclass
class Digest:
    """A store's digest: the root over every file's head, up to `position`."""

    position: int
    files: int
    facts: int
    root: str
    heads: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)
    numbers: dict[str, str] = field(default_factory=dict, repr=False)
    records: int = 0
    """Chains of the playbook and of the register of exports, beside the files."""
    documents: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict, repr=False)
    """Each document's digest named by a fact, with the files and facts naming it."""

    def as_json(self) -> dict[str, Any]:
        """What `relance digest --out` writes: enough to name a file that changed later."""
        return {"format": "relance-digest/1", "position": self.position, "files": self.files,
                "facts": self.facts, "records": self.records, "root": self.root,
                "heads": {self.numbers.get(k, k): {"file_id": k, "version": v, "digest": d}
                          for k, (v, d) in sorted(self.heads.items())}}


def stored_facts(files: CaseFiles, upto: int | None = None,
                 progress: Progress | None = None) -> Iterator[StoredFact]:
    """Every fact of every file, and every entry of the playbook and the register of
    exports, in the order recorded, as stored."""
    head = files.recorder.max_notification_id() or 0
    stop = head if upto is None else min(upto, head)
    start = 0
    while start < stop:
        page = files.recorder.select_notifications(start, PAGE, stop=stop,
                                                   inclusive_of_start=False)
        if not page:
            break
        for n in page:
            if not n.topic.startswith(CHAINED_TOPICS):
                continue
            own = "digest" if n.topic.startswith(FACT_TOPICS) else "chain_digest"
            try:
                state, content, computed = stored_content(
                    files.mapper, n.state, n.topic, n.originator_id, n.originator_version,
                    own)
            except (ValueError, TypeError, KeyError, ArithmeticError):  # any unreadable value
                state, content, computed = _readable_part(n.state), None, None
            yield StoredFact(n.id, n.originator_id, n.originator_version, n.topic, state,
                             content, computed)
        start = page[-1].id
        if progress:
            progress(start, stop)


def _readable_part(raw: bytes) -> dict[str, Any]:
    """What can still be read of a state that does not decode: its invoice number."""
    try:
        read = json.loads(raw)
        number = (read.get("state") if "relance" in read else read).get("number")
    except (ValueError, AttributeError):
        return {}
    return {"number": number} if isinstance(number, str) else {}


def walk(files: CaseFiles, upto: int | None = None, progress: Progress | None = None
         ) -> tuple[Digest, Problem | None]:
    """Checks every chain up to `upto` (everything by default); the digest of what holds
    and the first problem found."""
    head = files.recorder.max_notification_id() or 0
    covered = head if upto is None else min(upto, head)
    check = ChainCheck()
    numbers: dict[str, str] = {}
    facts, records, problem = 0, set(), None
    documents: dict[str, list[tuple[str, int, str]]] = {}
    for fact in stored_facts(files, covered, progress):
        file_id = fact.file_id.hex
        if fact.version == 1:
            numbers.setdefault(file_id, _name(fact))
        if not fact.is_fact:
            records.add(file_id)
        if fact.content is None:
            reason = "its stored form cannot be read"
        elif fact.digest is None:  # recorded before the register was chained
            reason = check.take_unchained(fact.content)
        else:
            reason = check.check(fact.content, fact.digest, fact.computed)
        if reason and problem is None:
            problem = Problem(numbers.get(file_id, f"file {file_id}"), fact.version,
                              fact.kind, reason, fact.notification_id, file_id)
        facts += fact.is_fact
        if fact.kind in NAMING_BYTES and fact.is_fact and fact.content is not None \
                and fact.state.get(NAMING_BYTES[fact.kind]):
            documents.setdefault(str(fact.state.get(NAMING_BYTES[fact.kind], "")), []).append(
                (numbers.get(file_id, f"file {file_id}"), fact.version, fact.kind))
    digest = Digest(covered, len(check.heads) - len(records), facts, heads_root(check.heads),
                    check.heads, numbers, len(records), documents)
    return digest, problem


def document_problems(blobs: BlobStore, digest: Digest) -> list[Problem]:
    """Every fact naming a document that is not in the store, or whose stored bytes no
    longer hash to the digest the fact names."""
    problems = []
    for sha256, named_by in sorted(digest.documents.items()):
        if blobs.check(sha256):
            continue
        reason = (f"its document {sha256} is missing from the store"
                  if blobs.info(sha256) is None else
                  f"its document {sha256} no longer matches its digest")
        problems.extend(Problem(number, version, kind, reason)
                        for number, version, kind in named_by)
    return problems


def _name(first: StoredFact) -> str:
    """How a problem names a file (its invoice number), the playbook or an export."""
    file_id = first.file_id.hex
    if first.topic.startswith(REGISTER_TOPICS[0]):
        return f"the playbook of team {first.state.get('team', '?')!r}"
    if first.topic.startswith(REGISTER_TOPICS[1]):
        return f"the register entry of export {str(first.state.get('digest', '?'))[:16]}"
    if first.topic.startswith(REGISTER_TOPICS[2]):
        return f"the record of debtor {first.state.get('account', '?')!r}"
    number = first.state.get("number")
    if not isinstance(number, str):  # a number is trusted when the file's id comes from it
        return f"file {file_id}"
    return number if invoice_id(number).hex == file_id else \
        f"file {file_id} (shown as {number!r})"


def compare(earlier: dict[str, Any], now: Digest) -> str | None:
    """What differs between a digest taken earlier and the store read up to its position."""
    if earlier.get("root") == now.root:
        return None
    heads = earlier.get("heads")
    if not heads:
        return (f"the store up to position {now.position} no longer gives root "
                f"{earlier.get('root')} (it gives {now.root})")
    for number, head in sorted(heads.items()):
        version, digest = now.heads.get(head["file_id"], (0, ""))
        if (version, digest) != (head["version"], head["digest"]):
            return (f"{number}: its history up to fact {head['version']} changed since the "
                    f"digest (now {version} facts, head {digest[:12] or 'none'})")
    extra = set(now.heads) - {h["file_id"] for h in heads.values()}
    if extra:
        return f"{len(extra)} file(s) appear before position {now.position} that were not there"
    return "the root differs"


# -- in French, for people ----------------------------------------------------------------
# Each English finding of this module, of `domain.chain` and of an export's verification
# (`adapters.infra.export_formats`), with its French sentence; the named parts of a
# finding (a file's name, a fact's kind, the reason) are said in French in turn.

_REASONS: tuple[tuple[str, str], ...] = (
    (r"version (?P<v>\d+) follows version (?P<w>\d+)",
     "elle porte le n° {v} mais suit l'entrée n° {w} : une entrée manque ou a été déplacée"),
    (r"the file does not start at version 1",
     "le dossier ne commence pas à l'entrée n° 1 : ses premières entrées manquent"),
    (r"the record does not start at version 1",
     "le registre ne commence pas à l'entrée n° 1 : ses premières entrées manquent"),
    (r"its content does not match its digest",
     "son contenu a changé depuis son enregistrement (il ne correspond plus à son empreinte)"),
    (r"it does not point at the digest of the fact before it",
     "elle ne renvoie pas à l'empreinte de l'entrée précédente : une entrée a été ajoutée, "
     "retirée ou réécrite avant elle"),
    (r"its stored form cannot be read", "sa forme enregistrée est illisible"),
    (r"its document (?P<sha>[0-9a-f]{64}) is missing from the store",
     "son document (SHA-256 {sha}) n'est plus dans la base"),
    (r"its document (?P<sha>[0-9a-f]{64}) no longer matches its digest",
     "son document (SHA-256 {sha}) a été modifié : son contenu ne correspond plus à son "
     "empreinte"),
    (r"it belongs to another file", "elle appartient à un autre dossier"),
    (r"its (?P<view>\w+) differs from its recorded content",
     "son champ « {view} » diffère de son contenu enregistré"),
    (r"a person it shows does not match its sealed data",
     "une personne qu'elle montre ne correspond pas à ses données scellées"),
    (r"its summary or label was changed after export",
     "son résumé ou son libellé a été modifié après l'export"),
    (r"its head is not its last fact \(facts cut off\?\)",
     "sa dernière empreinte n'est pas celle de sa dernière entrée : des entrées ont été "
     "retirées"),
    (r"its amounts, documents or promises were changed",
     "ses montants, documents ou promesses ont été modifiés"),
)
"""What is wrong with one entry or one file."""
_SENTENCES: tuple[tuple[str, str], ...] = (
    (r"the store up to position (?P<p>\d+) no longer gives root (?P<r>\S*) "
     r"\(it gives (?P<s>\S+)\)",
     "le registre jusqu'à la position {p} ne donne plus l'empreinte {r} (il donne {s})"),
    (r"(?P<k>\d+) file\(s\) appear before position (?P<p>\d+) that were not there",
     "{k} dossier(s) apparaissent avant la position {p} alors qu'ils n'y étaient pas"),
    (r"the root differs", "l'empreinte du registre diffère"),
    (r"files or facts were removed from or added to the export",
     "des dossiers ou des entrées ont été retirés de l'export ou y ont été ajoutés"),
    (r"the export digest does not match its content",
     "l'empreinte de l'export ne correspond pas à son contenu"),
    (r"unknown export format (?P<format>.*)", "format d'export inconnu : {format}"),
    (r"the export cannot be read as a relance export \(.*\)",
     "ce fichier ne se lit pas comme un export de relance"),
    (r"(?P<name>.+), fact (?P<n>\d+) \((?P<kind>\w+)\): (?P<why>.+)",
     "{name}, entrée n° {n}{kind} : {why}"),
    (r"(?P<name>.+): its history up to fact (?P<v>\d+) changed since the digest "
     r"\(now (?P<n>\d+) facts, head (?P<head>\S+)\)",
     "{name} : son historique jusqu'à l'entrée n° {v} a changé depuis l'empreinte (il compte "
     "maintenant {n} entrée(s), dernière empreinte {head})"),
    (r"(?P<name>.+): (?P<reason>.+)", "{name} : {reason}"),
)
"""A whole finding: about a store, an export, one of its entries or one of its files."""
_NAMES: tuple[tuple[str, str], ...] = (
    (r"the playbook of team (?P<q>['\"])(?P<team>.*)(?P=q)", "les réglages de l'équipe « {team} »"),
    (r"the register entry of export (?P<digest>\S+)", "l'entrée du registre des exports {digest}"),
    (r"the record of debtor (?P<q>['\"])(?P<account>.*)(?P=q)",
     "la fiche du débiteur « {account} »"),
    (r"file (?P<id>[0-9a-f]{32}) \(shown as (?P<q>['\"])(?P<number>.*)(?P=q)\)",
     "le dossier d'identifiant {id} (présenté comme « {number} »)"),
    (r"file (?P<id>[0-9a-f]{32})", "le dossier d'identifiant {id}"),
)
"""How a finding names what is not an invoice's file (an invoice number is said as is)."""
_VIEWS = {"version": "numéro", "occurred_at": "survenu le", "recorded_at": "enregistré le",
          "actor": "par", "prev_hash": "empreinte précédente", "kind": "fait",
          "fields": "contenu"}
"""The French name of each field an export shows beside a fact's content."""
UNDESCRIBED = "une anomalie que relance ne sait pas décrire en français (voir le journal)"
"""Said of a finding with no French sentence: people never read the English one."""


def french_finding(finding: str) -> str:
    """A finding of the chains, of a digest's comparison or of an export, in French."""
    return _said(_SENTENCES, finding) or UNDESCRIBED


def _said(sentences: tuple[tuple[str, str], ...], text: str) -> str | None:
    for pattern, french in sentences:
        found = re.fullmatch(pattern, text, re.DOTALL)
        if found is None:
            continue
        parts = {name: _part(name, value) for name, value in found.groupdict().items()}
        if None not in parts.values():
            return french.format(**parts)
    return None


def _part(name: str, value: str) -> str | None:
    """A named part of a finding in French; None for a `reason` that has no French."""
    if name == "name":
        return _said(_NAMES, value) or value
    if name == "kind":
        return f" ({BY_NAME[value].label})" if value in BY_NAME else ""
    if name == "why":
        return _said(_REASONS, value) or UNDESCRIBED
    if name == "reason":
        return _said(_REASONS, value)
    if name == "view":
        return _VIEWS.get(value, value)
    if name == "head":
        return "aucune" if value == "none" else value
    return value
