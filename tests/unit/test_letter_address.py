"""A printed letter puts the debtor's postal address in the window of a French envelope."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from pypdf import PdfReader

from adapters.infra.documents import Creditor, Documents, document_context
from adapters.infra.rates import load_law_rates
from domain.invoice import Invoice
from domain.values import Stamp
from tests.builders import eur, register_kwargs

MM = 72 / 25.4
"""PDF points in a millimetre."""
ADDRESS = ["ACME SARL", "Service comptabilité fournisseurs", "Bâtiment B",
           "12 rue de la Paix", "75002 PARIS"]
WINDOW = ((100, 200), (50, 90))
"""Where the window of a DL envelope (window on the right) falls on the folded A4 page:
from 100 to 200 mm from the left edge, from 50 to 90 mm from the top (the window's 45 mm,
less the play of the letter in the envelope)."""


def formal_notice(postal: list[str]) -> bytes:
    stamp = Stamp("bruno", datetime(2025, 9, 1, 10, tzinfo=UTC),
                  datetime(2025, 12, 1, tzinfo=UTC))
    invoice = Invoice.register(stamp, **register_kwargs(
        "FA-2025-0077", amount=eur("2400.00"), issued_on=date(2025, 9, 1),
        due_on=date(2025, 10, 1)))
    context = document_context(invoice, date(2025, 11, 20), load_law_rates(),
                               Creditor(name="Menuiseries Arnaud SAS", city="Lyon",
                                        address="12 quai Perrache, 69002 Lyon"),
                               "Bruno Petit", postal=postal)
    return Documents().render("formal_notice", context).pdf()


def placed_lines(pdf: bytes) -> dict[str, tuple[float, float]]:
    """Each line of text of the first page, with where it starts: (mm from the left edge,
    mm from the top edge to its baseline)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        if text.strip():
            found.setdefault(text.strip(), (x / MM, (height - y) / MM))

    page.extract_text(visitor_text=visit)
    return found


def test_the_formal_notice_shows_the_postal_address_in_the_envelope_window():
    lines = placed_lines(formal_notice(ADDRESS))
    window = [ADDRESS[0], "À l'attention de Jean Dupont", *ADDRESS[1:]]
    (left, right), (top, bottom) = WINDOW
    for line in window:
        x, y = lines[line]
        assert left <= x <= right - 60, (line, x)
        assert top <= y <= bottom, (line, y)
    assert [lines[line][1] for line in window] == sorted(lines[line][1] for line in window)
    sender = lines["Menuiseries Arnaud SAS"]
    assert max(sender) < 30                                       # top left, out of the window
    subject = next(v for k, v in lines.items() if k.startswith("Mise en demeure de payer"))
    assert subject[1] > bottom                                    # the text starts below it


def test_without_a_known_address_the_window_still_names_the_debtor():
    lines = placed_lines(formal_notice([]))
    x, y = lines["ACME SARL"]
    assert x >= 100
    assert 50 <= y <= 60
