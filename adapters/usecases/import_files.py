"""Reading a file to import (CSV or text): its bytes become numbered rows of {field: text}.

Columns are recognised by their usual French or English names; amounts and dates in
French ("1 500,00", "31/03/2026") or ISO form; `;`, `,` or tab separated; UTF-8,
UTF-16 with its mark, or Windows-1252. The rules:
- A file that is not text (an image, a PDF, an Excel workbook...), an empty file, and a
  file with a header but no line are refused whole: an export that failed must not look
  like an import with nothing new.
- A line whose bytes do not read in the file's encoding, or with a field over the CSV
  reader's limit, is a bad line: it comes out as an `UnreadableRow` carrying its reason,
  in French, and the lines after it are read on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from adapters.parsing import parse_date
from domain.values import Money

INVOICE_COLUMNS = {
    "number": ("number", "invoice_number", "numero", "numero_facture", "facture", "n_facture"),
    "debtor_account": ("debtor_account", "account", "compte", "compte_client", "code_client"),
    "debtor_name": ("debtor_name", "debtor", "client", "raison_sociale", "nom_client"),
    "siren": ("siren", "debtor_siren"),
    "amount": ("amount", "amount_incl_tax", "montant", "montant_ttc", "ttc"),
    "currency": ("currency", "devise"),
    "issued_on": ("issued_on", "issue_date", "date", "date_facture", "date_emission"),
    "due_on": ("due_on", "due_date", "echeance", "date_echeance"),
    "po_reference": ("po_reference", "po", "reference_commande", "commande", "bon_de_commande"),
    "contact_name": ("contact_name", "contact", "destinataire", "nom_contact"),
    "contact_email": ("contact_email", "email", "courriel", "e_mail"),
    "contact_phone": ("contact_phone", "phone", "telephone", "tel"),
    "contact_function": ("contact_function", "fonction_contact", "fonction"),
    "contact_role": ("contact_role", "role_contact", "role"),
    "siret": ("siret", "debtor_siret", "siret_client"),
    "legal_form": ("legal_form", "forme_juridique"),
    "office_street": ("office_address", "registered_office", "adresse_siege",
                      "siege_social", "siege"),
    "office_street_2": ("office_address_2", "complement_siege", "adresse_siege_2"),
    "office_postcode": ("office_postcode", "code_postal_siege", "cp_siege"),
    "office_city": ("office_city", "ville_siege"),
    "office_country": ("office_country", "pays_siege"),
    "billing_street": ("billing_address", "address", "adresse_facturation", "adresse",
                       "adresse_1"),
    "billing_street_2": ("billing_address_2", "address_2", "adresse_facturation_2",
                         "complement_adresse", "adresse_2"),
    "billing_postcode": ("billing_postcode", "postcode", "zip", "code_postal",
                         "code_postal_facturation", "cp"),
    "billing_city": ("billing_city", "city", "ville", "ville_facturation"),
    "billing_country": ("billing_country", "country", "pays", "pays_facturation"),
}
"""Invoice columns. The contact's columns name the invoice's billing contact (a function
or a role records them among the debtor's people too); the SIRET, legal form and the two
postal addresses (siège social, adresse de facturation: street lines, postcode, city,
country) go to the debtor's identity."""
PAYMENT_COLUMNS = {
    "number": INVOICE_COLUMNS["number"],
    "amount": ("amount", "montant", "montant_regle"),
    "received_on": ("received_on", "date", "date_paiement", "date_reglement", "date_avoir"),
    "means": ("means", "mode", "moyen", "mode_de_reglement", "moyen_de_paiement"),
    "reference": ("reference", "ref", "libelle", "reference_paiement"),
    "kind": ("kind", "nature", "type", "type_de_piece", "type_piece"),
}
LABELS = {
    "number": "numéro de facture", "debtor_account": "compte client",
    "debtor_name": "nom du débiteur", "siren": "SIREN", "amount": "montant",
    "currency": "devise", "issued_on": "date de facture", "due_on": "échéance",
    "po_reference": "référence de commande", "contact_name": "nom du contact",
    "contact_email": "e-mail du contact", "contact_phone": "téléphone du contact",
    "received_on": "date", "means": "mode de règlement", "reference": "référence",
    "kind": "nature", "name": "nom du contact", "function": "fonction du contact",
    "email": "e-mail du contact", "phone": "téléphone du contact", "reason": "motif",
    "contact_function": "fonction du contact", "contact_role": "rôle du contact",
    "role": "rôle du contact", "siret": "SIRET", "legal_form": "forme juridique",
    "legal_name": "raison sociale", "registered_office": "adresse du siège",
    "billing_address": "adresse de facturation", "office_street": "adresse du siège",
    "office_street_2": "complément d'adresse du siège", "office_postcode": "code postal du siège",
    "office_city": "ville du siège", "office_country": "pays du siège",
    "billing_street": "adresse de facturation",
    "billing_street_2": "complément d'adresse de facturation", "billing_postcode": "code postal",
    "billing_city": "ville", "billing_country": "pays",
}
"""The French name of each column and of each field a refusal may name."""
NOT_TEXT = {
    b"%PDF": "un PDF", b"PK\x03\x04": "une archive ZIP ou un classeur Excel (.xlsx)",
    b"\xd0\xcf\x11\xe0": "un classeur Excel (.xls)", b"\x89PNG": "une image PNG",
    b"\xff\xd8\xff": "une image JPEG", b"GIF8": "une image GIF",
}
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class BadRow(ValueError):
    """A row, or a whole file, that cannot be read; its message says why, in French."""


class UnreadableRow(dict[str, str]):
    """A row the CSV reader could not read: rejected with its reason, the others go on."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def read_file(path: Path) -> bytes:
    """The bytes of a file to import, or a clear error."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadRow(f"fichier illisible : {path} n'existe pas") from None
    except IsADirectoryError:
        raise BadRow(f"fichier illisible : {path} est un dossier") from None
    except PermissionError:
        raise BadRow(f"fichier illisible : lecture de {path} non autorisée") from None
    except OSError as error:
        raise BadRow(f"fichier illisible : erreur système n° {error.errno}") from None


# -- text lines -------------------------------------------------------------------------


@dataclass(frozen=True)
class TextLines:
    """A file's lines as text, and the numbers (from 1) of those that did not decode."""

    lines: list[str]
    undecodable: frozenset[int]
    encoding: str


def text_lines(data: bytes) -> TextLines:
    """The lines of a text file; one that is empty or not text is refused whole. The
    encoding is UTF-8 when at least as many of the lines beyond ASCII read as UTF-8 as do
    not, else Windows-1252; a line that does not read in it is marked, for its row to be
    rejected."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = _from_utf16(data)
    data = data.removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        raise BadRow("fichier vide")
    _refuse_if_not_text(data)
    try:
        return TextLines(data.decode("utf-8").split("\n"), frozenset(), "UTF-8")
    except UnicodeDecodeError:
        pass
    raw = data.split(b"\n")
    encoding = _encoding_of(raw)
    lines, undecodable = [], set()
    for number, line in enumerate(raw, start=1):
        try:
            lines.append(line.decode(encoding))
        except UnicodeDecodeError:
            lines.append(line.decode(encoding, errors="replace"))
            undecodable.add(number)
    return TextLines(lines, frozenset(undecodable),
                     "UTF-8" if encoding == "utf-8" else "Windows-1252")


def _from_utf16(data: bytes) -> bytes:
    try:
        return data.decode("utf-16").encode("utf-8")
    except UnicodeDecodeError:
        raise BadRow("fichier UTF-16 illisible : enregistrez-le en UTF-8") from None


def _refuse_if_not_text(data: bytes) -> None:
    kind = next((kind for mark, kind in NOT_TEXT.items() if data.startswith(mark)), None)
    if kind is None and _CONTROL_BYTES.search(data[:4096].split(b"\n", 1)[0]):
        kind = "un fichier binaire"  # a text file's first line has no control byte
    if kind is not None:
        raise BadRow(f"ce fichier n'est pas du texte ({kind}) : un export CSV ou texte "
                     "est attendu")


def _encoding_of(lines: Sequence[bytes]) -> str:
    utf8 = other = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other += 1
        else:
            utf8 += 1
    return "utf-8" if utf8 and utf8 >= other else "cp1252"


# -- rows -------------------------------------------------------------------------------


def plain_name(name: str) -> str:
    """A name as columns and words are compared: no accents, no case, `_` for the rest
    ("Mode de règlement" is "mode_de_reglement")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "_" for c in plain.strip().lower()).strip("_")


def read_rows(data: bytes, columns: dict[str, Sequence[str]]
              ) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as {field: text}, with their line numbers (header is line 1);
    a file without any row after its header is refused whole."""
    text = text_lines(data)
    content = "\n".join(text.lines)
    reader = csv.reader(io.StringIO(content), _dialect(content[:4096]))
    mapping = _mapping(_header(reader), columns)
    rows = 0
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # e.g. a field over the csv module's 128 KiB limit
            rows += 1
            yield reader.line_num, UnreadableRow(f"ligne illisible ({_csv_error(error)})")
            continue
        if text.undecodable and (bad := sorted(
                text.undecodable.intersection(range(start, reader.line_num + 1)))):
            rows += 1
            yield bad[0], UnreadableRow(f"ligne illisible (caractères invalides en "
                                        f"{text.encoding})")
        elif "".join(cells).strip():  # a line of blank cells is no row
            rows += 1
            yield reader.line_num, {name: cells[i].strip() for i, name in mapping.items()
                                    if name and i < len(cells)}
    if not rows:
        raise BadRow("aucune ligne à importer : le fichier n'a que son en-tête")


def cells_by_line(data: bytes) -> tuple[list[str], dict[int, list[str]]]:
    """A CSV file's header and each line's cells as written, read as `read_rows` reads
    them, under every line number a row spans (to give a rejected row back as it was)."""
    text = text_lines(data)
    content = "\n".join(text.lines)
    reader = csv.reader(io.StringIO(content), _dialect(content[:4096]))
    header, cells = _header(reader), {}
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return header, cells
        except csv.Error:
            row = [text.lines[reader.line_num - 1]] if reader.line_num <= len(text.lines) else []
        cells.update(dict.fromkeys(range(start, reader.line_num + 1), row))


def _dialect(sample: str) -> Any:
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        delimiter = ";" if sample.count(";") >= sample.count(",") else ","
        return type("Guessed", (csv.excel,), {"delimiter": delimiter})


def _header(reader: Any) -> list[str]:
    try:
        return next(reader)
    except csv.Error as error:
        raise BadRow(f"en-tête illisible ({_csv_error(error)})") from None


def _mapping(header: Sequence[str], columns: dict[str, Sequence[str]]) -> dict[int, str | None]:
    aliases = {alias: name for name, names in columns.items() for alias in names}
    mapping = {i: aliases.get(plain_name(h)) for i, h in enumerate(header)}
    missing = [name for name in ("number", "amount") if name not in mapping.values()]
    if missing:
        raise BadRow(f"colonnes introuvables : {', '.join(LABELS[m] for m in missing)}")
    return mapping


def _csv_error(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return f"un champ dépasse {csv.field_size_limit() // 1024} Kio"
    return "guillemets ou séparateurs mal placés"


# -- cells ------------------------------------------------------------------------------


def row_money(row: dict[str, str], currency: str = "EUR") -> Money:
    """The row's amount (French or ISO form), refused in French when missing."""
    text = row.get("amount", "")
    if not text:
        raise BadRow("montant manquant")
    return Money.parse(text, currency)


def row_date(row: dict[str, str], name: str, label: str) -> date:
    """The row's date in column `name` (French or ISO form); `label` names it in the
    refusal when it is missing or does not read."""
    text = row.get(name, "")
    if not text:
        raise BadRow(f"{label} manquante")
    try:
        return parse_date(text)
    except ValueError:
        raise BadRow(f"{label} illisible : {text!r}") from None
