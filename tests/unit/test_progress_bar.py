"""The progress bar of long commands (an import, a campaign), as a terminal shows it."""

import io

from rich.console import Console

from adapters.cli import common


def test_a_progress_bar_shows_its_french_description_and_nothing_of_its_styles(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=screen, force_terminal=True, width=100,
                                               markup=False, emoji=False))
    with common.progress_bar("Import des factures [lot 1]", total=3000) as update:
        update(1499, None)
    shown = screen.getvalue()
    assert "Import des factures [lot 1]" in shown
    assert "1499/3000" in shown
    assert "[progress" not in shown
