"""The text of an email that came back, made safe to show and to record: lines cleaned of
control and direction-override characters, bytes decoded in their declared charset (or a
recorded guess), HTML reduced to the text a reader sees (through html-text, built on lxml:
scripts, styles and the head dropped, no URL ever loaded), and the writer's own words
without the quoted history.

Quote headers ("Le ... a écrit :", "De : ... Envoyé : ...") are recognised by
mail-parser-reply's patterns, plus the forms it misses (a header wrapped over two lines,
"-----Message d'origine-----", a non-breaking space before the colon). Only the first
_SCAN_CHARS characters are searched and lines over _LONG_LINE characters skipped: the
library's patterns get slow on long lines, and no quote header is that long.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import html_text
from mailparser_reply.parser import EmailMessage as QuotedMail

_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LATIN1 = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819"}
_SLOW_CODECS = {"punycode", "idna"}  # pure Python and quadratic: no mail uses them


def clean_line(text: str) -> str:
    """One line of text, safe to show: no control, direction-override or lone surrogate
    character, whitespace collapsed, Unicode composed (NFC)."""
    text = _INVISIBLE.sub("", re.sub(r"\s+", " ", text))
    return unicodedata.normalize("NFC", text).strip()


def clean_text(text: str) -> str:
    """Lines of text, safe to show (as `clean_line`, newlines and tabs kept), trailing
    spaces and runs of blank lines removed."""
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in unicodedata.normalize("NFC", text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def decode_bytes(data: bytes, charset: str | None, problems: list[str] | None = None,
                 what: str = "text") -> str:
    """Bytes as text in their declared charset; Latin-1 labels are read as Windows-1252,
    the superset such senders use (the euro sign). Bytes without a usable charset are read
    as UTF-8 when they are valid UTF-8, else as Windows-1252; such a guess is recorded."""
    name = (charset or "").strip().strip("\"'").lower()
    if name in _LATIN1:
        return data.decode("cp1252", errors="replace")
    note = None
    if name and name not in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        try:
            if codecs.lookup(name).name in _SLOW_CODECS:
                raise LookupError(name)
            return data.decode(name)
        except LookupError:
            note = f"unknown charset {charset!r} in {what}: read as UTF-8 or Windows-1252"
        except (UnicodeError, ValueError):
            note = f"{what} is not valid {charset}: read as UTF-8 or Windows-1252"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        note = note or f"{what} in an undeclared charset: read as Windows-1252"
    if note and problems is not None:
        problems.append(note)
    return text


def html_to_text(html: str, problems: list[str]) -> str:
    """The text a reader sees in an HTML message, as html-text extracts it: the head,
    scripts, styles, comments and <noscript> dropped, nothing loaded (lxml's parser reads
    no URL), block elements on lines of their own."""
    try:
        tree = html_text.parse_html(html)
        for hidden in tree.xpath("//head | //title | //noscript | //template"):
            hidden.drop_tree()
        return html_text.extract_text(tree, guess_layout=True)
    except Exception as error:  # noqa: BLE001 - lxml refuses some documents; recorded
        problems.append(f"unreadable HTML ({type(error).__name__}): its text was left out")
        return ""


# Quoted history

_QUOTE_HEADERS = QuotedMail(text="", languages=["fr", "en", "de", "es", "it", "nl"]).HEADER_REGEX
_SCAN_CHARS = 60_000
_LONG_LINE = 300
_WROTE = re.compile(r"^(?:> ?)*(?:le|on)\s.*\s(?:a\s+écrit|wrote)\s?:$", re.IGNORECASE)
_WROTE_START = re.compile(r"^(?:> ?)*(?:le|on)\s", re.IGNORECASE)
_WHEN = re.compile(r"\d{1,2}[:h]\d{2}|\b(?:19|20)\d\d\b|\d{1,2}/\d{1,2}/\d{2}")
_SEPARATOR = re.compile(r"^-{2,}\s*(?:original message|message d'origine|message original"
                        r"|message initial|forwarded message|message transféré)\s*-{2,}$",
                        re.IGNORECASE)
_FROM = re.compile(r"^(?:> ?)*\**(?:de|from)\**\s?:", re.IGNORECASE)
_NEXT_FIELD = re.compile(r"^(?:> ?)*\**(?:envoyé|date|sent|à|a|to|objet|subject|cc)\**\s?:",
                         re.IGNORECASE)


def own_words(text: str) -> str:
    """The writer's own words in a reply: the text before the quoted history ("Le ... a
    écrit :", an Outlook "De : ... Envoyé : ..." block, "-----Original Message-----"),
    without "> " lines. When nothing stands before the history (an answer written below
    the quote), the whole text without its quoted lines and quote header."""
    lines = text.split("\n")
    start = _history_start([line.strip() for line in lines])
    own = [line for line in lines[:start] if not line.lstrip().startswith(">")]
    if start is not None and not "".join(own).strip():
        own = [line for n, line in enumerate(lines)
               if n != start and not line.lstrip().startswith(">")]
    return clean_text("\n".join(own))


def _history_start(lines: list[str]) -> int | None:
    """The number of the line where the quoted history begins, if it does. Only the first
    _SCAN_CHARS characters are searched, lines longer than _LONG_LINE blanked: no quote
    header is that long, and the library's patterns get slow on long lines."""
    scanned: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > _SCAN_CHARS:
            break
        scanned.append(line if len(line) <= _LONG_LINE else "")
    starts = []
    joined = "\n".join(scanned)
    found = _QUOTE_HEADERS.search(joined)
    if found:
        begin = found.start() + (1 if found.group().startswith("\n") else 0)
        starts.append(joined.count("\n", 0, begin))
    for n, line in enumerate(scanned):
        if (_SEPARATOR.match(line) or _wrote(line) or _wrapped_wrote(scanned, n)
                or (_FROM.match(line) and any(map(_NEXT_FIELD.match, scanned[n + 1:n + 4])))):
            starts.append(n)
            break
    return min(starts, default=None)


def _wrote(line: str) -> bool:
    """Whether a line is a "Le ... a écrit :" / "On ... wrote:" header: such a header
    says when (an hour or a date), which "On vous a écrit :" in a reply does not."""
    return bool(_WROTE.match(line) and _WHEN.search(line))


def _wrapped_wrote(lines: list[str], n: int) -> bool:
    """Whether lines n and n + 1 are one such header wrapped in two (the next line being
    no header of its own)."""
    return (n + 1 < len(lines) and not _WROTE_START.match(lines[n + 1])
            and _wrote(f"{lines[n]} {lines[n + 1]}"))
