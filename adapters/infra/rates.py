"""The rate tables the law refers to, shipped as data and extendable by users.

`adapters/data/*.csv` holds the published rates, each with its period and source. A
team adds a new half-year (or corrects one) by putting a CSV of the same name and
columns in the directory named by RELANCE_RATES_DIR: its rows replace shipped rows
that start on the same day, and add the others.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from domain.penalties import LawRates, Rate, RateTable

SHIPPED = Path(__file__).parent / "data"
TABLES = {"ecb_refinancing": "ecb_refinancing_rate.csv",
          "legal_interest": "legal_interest_rate.csv"}


def _read(path: Path) -> dict[date, Rate]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            date.fromisoformat(row["start"]): Rate(
                start=date.fromisoformat(row["start"]), end=date.fromisoformat(row["end"]),
                percent=Decimal(row["percent"]), source=row["source"].strip())
            for row in csv.DictReader(handle)
        }


def load_law_rates(extra_dir: Path | None = None) -> LawRates:
    """The shipped tables, completed by the team's own files if any."""
    tables = {}
    for name, filename in TABLES.items():
        rates = _read(SHIPPED / filename)
        if extra_dir is not None and (extra_dir / filename).exists():
            rates.update(_read(extra_dir / filename))
        tables[name] = RateTable(name, rates.values())
    return LawRates(**tables)
