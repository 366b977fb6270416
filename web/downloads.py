"""Downloads: the `Content-Disposition` of a file handed over (RFC 6266)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment` (or `inline`) with the name in two forms: a plain ASCII fallback
    (quotes, backslashes and controls replaced) and the exact name, UTF-8 and
    percent-encoded (RFC 5987), so nothing in it can add a parameter of its own."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in plain)[:150] \
        or "document"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
