"""PDF from HTML (WeasyPrint), fetching nothing but relance's own packaged assets.

WeasyPrint's default fetcher opens any URL a document names, `file:` and `http:`
included: a letter's text that slipped a `<link rel="attachment" href="file:///...">`
into the layout would attach server files to the PDF, and an `<img src="http://...">`
would make the server call out. Every PDF of relance (letters, the PDF/A dossier) is
rendered with the fetcher of `own_assets_only()`, which serves `relance-asset:NAME` from
the folder of assets shipped with relance and refuses every other URL.

WeasyPrint (with Pango and fontTools behind it) takes about 0.4 s to import: it is
imported with the first PDF a process renders, so that `relance` commands and servers that
render none start without it.
"""

from __future__ import annotations

import atexit
import mimetypes
import threading
import weakref
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

ASSETS = Path(__file__).parent / "document_templates" / "assets"
SCHEME = "relance-asset:"

log = structlog.get_logger("relance.pdf")


class FetchRefused(ValueError):
    """A document named a resource that is not one of relance's own assets."""


@cache
def own_assets_only() -> type[URLFetcher]:
    """`OwnAssetsOnly`: a WeasyPrint URL fetcher that serves relance's packaged assets and
    nothing else (made once WeasyPrint is imported)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OwnAssetsOnly(URLFetcher):
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

    return OwnAssetsOnly


_fonts: weakref.WeakKeyDictionary[threading.Thread, FontConfiguration] = (
    weakref.WeakKeyDictionary())
_fonts_lock = threading.Lock()


def _font_config() -> FontConfiguration:
    """This thread's font configuration, made once. Left to itself, WeasyPrint makes one
    for every document, and each keeps about 0.2 MiB for good: the daily run's letters
    grew a process by 600 MiB. One per thread, as Pango's objects are not shared across
    threads; forgotten with its thread."""
    thread = threading.current_thread()
    config = _fonts.get(thread)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = FontConfiguration()
        with _fonts_lock:
            _fonts[thread] = config
    return config


def _forget_fonts() -> None:
    """Free the font configurations while Pango is still loaded. Left to the interpreter's
    shutdown, a configuration could be freed after WeasyPrint's libraries were closed, and
    its Pango font map's release then jumped into unmapped code (a segmentation fault
    once everything else had finished)."""
    with _fonts_lock:
        _fonts.clear()


atexit.register(_forget_fonts)


def html_to_pdf(html: str, **options: Any) -> bytes:
    """The PDF of an HTML document, its resources limited to relance's own assets."""
    from weasyprint import HTML

    options.setdefault("font_config", _font_config())
    return HTML(string=html, base_url=None, url_fetcher=own_assets_only()()).write_pdf(**options)
