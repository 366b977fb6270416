"""Configuration, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///var/relance.db"


@dataclass(frozen=True)
class Settings:
    """Everything relance reads from its environment.

    - RELANCE_DATABASE_URL: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`
      or `postgresql://user[:password]@host[:port]/dbname[?schema=name]`.
    - RELANCE_LOG_FORMAT: `json` (default when not on a terminal) or `console`.
    - RELANCE_LOG_LEVEL: `INFO` by default.
    - RELANCE_HOST / RELANCE_PORT: where `relance serve` listens (127.0.0.1:8000).
    - RELANCE_RATES_DIR: a folder of CSV rate tables completing the shipped ones.
    - RELANCE_PROJECTIONS: `embedded` (default: the web process keeps the read models up
      to date) or `external` (a separate `relance projections run` does).
    """

    database_url: str = DEFAULT_DATABASE_URL
    log_format: str = ""
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    projections: str = "embedded"
    rates_dir: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads the settings from the environment (the process's by default)."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("RELANCE_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            log_format=env.get("RELANCE_LOG_FORMAT", "").strip().lower(),
            log_level=env.get("RELANCE_LOG_LEVEL", "INFO").strip().upper() or "INFO",
            host=env.get("RELANCE_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=int(env.get("RELANCE_PORT", "8000") or 8000),
            projections=env.get("RELANCE_PROJECTIONS", "embedded").strip() or "embedded",
            rates_dir=env.get("RELANCE_RATES_DIR", "").strip(),
        )
