"""PDF from HTML (WeasyPrint), fetching nothing but relance's own packaged assets.

WeasyPrint's default fetcher opens any URL a document names, `file:` and `http:`
included: a letter's text that slipped a `<link rel="attachment" href="file:///...">`
into the layout would attach server files to the PDF, and an `<img src="http://...">`
would make the server call out. Every PDF of relance (letters, the PDF/A dossier) is
rendered with `OwnAssetsOnly`, which serves `relance-asset:NAME` from the folder of
assets shipped with relance and refuses every other URL.
"""

from __future__ import annotations

import mimetypes
import threading
from pathlib import Path
from typing import Any

import structlog
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS = Path(__file__).parent / "document_templates" / "assets"
SCHEME = "relance-asset:"

log = structlog.get_logger("relance.pdf")


class FetchRefused(ValueError):
    """A document named a resource that is not one of relance's own assets."""


class OwnAssetsOnly(URLFetcher):
    """A WeasyPrint URL fetcher that serves relance's packaged assets and nothing else."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:  # noqa: ARG002
        if url.startswith(SCHEME):
            name = url[len(SCHEME):]
            path = (ASSETS / name).resolve()
            if path.parent == ASSETS.resolve() and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(),
                                          headers={"Content-Type": kind})
        log.warning("pdf resource refused", url=url[:200])
        raise FetchRefused(f"relance fetches only its own assets, not {url[:200]!r}")


_fonts = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's font configuration, made once. Left to itself, WeasyPrint makes one
    for every document, and each keeps about 0.2 MiB for good: the daily run's letters
    grew a process by 600 MiB. One per thread, as Pango's objects are not shared across
    threads."""
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def html_to_pdf(html: str, **options: Any) -> bytes:
    """The PDF of an HTML document, its resources limited to relance's own assets."""
    options.setdefault("font_config", _font_config())
    return HTML(string=html, base_url=None, url_fetcher=OwnAssetsOnly()).write_pdf(**options)
