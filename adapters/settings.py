"""Configuration, read once from the environment."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

DEFAULT_DATABASE_URL = "sqlite:///var/relance.db"


class ConfigurationError(ValueError):
    """A setting of the environment cannot be read. One line, no trace."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    try:
        return int(text) if text else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {text!r}") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes")


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if not 1 <= value <= 60:
        raise ConfigurationError(f"{name} must be from 1 to 60 seconds, got {value}")
    return value


def _time_of_day(env: Mapping[str, str], name: str) -> time | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})[:hH](\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigurationError(f"{name} must be a time of day HH:MM (Paris), got {text!r}")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Settings:
    """Everything relance reads from its environment.

    - RELANCE_DATABASE_URL: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`
      or `postgresql://user[:password]@host[:port]/dbname[?schema=name]`.
    - RELANCE_LOG_FORMAT: `json` (default when not on a terminal) or `console`.
    - RELANCE_LOG_LEVEL: `INFO` for the server, `WARNING` for other commands, by default.
    - RELANCE_ACTOR: who acts for commands typed in a terminal (the system user).
    - RELANCE_HOST / RELANCE_PORT: where `relance serve` listens (127.0.0.1:8000).
    - RELANCE_RATES_DIR: a folder of CSV rate tables completing the shipped ones.
    - RELANCE_SMTP_URL: where emails go (`smtp://host:port`, or `file://var/outbox`).
    - RELANCE_TEMPLATES_DIR: a folder of document templates overriding the shipped ones.
    - RELANCE_CREDITOR_NAME, _ADDRESS, _CITY, _SIREN, _EMAIL, _PHONE, _IBAN: who collects,
      as the letters present it.
    - RELANCE_API_TOKEN: a deployment-wide bearer token for scripts on /api, acting as an
      administrator; RELANCE_API_TOKEN_FILE: a file holding it (one or more, one per
      line), read again when it changes, to rotate it without a restart.
    - RELANCE_SESSION_IDLE_MINUTES (120) / RELANCE_SESSION_HOURS (12): session timeouts.
    - RELANCE_SECURE_COOKIES: `1` behind HTTPS (cookies then carry the Secure flag).
    - RELANCE_FORWARDED_ALLOW_IPS: the addresses of the reverse proxies whose
      X-Forwarded-For and X-Forwarded-Proto are believed (none by default).
    - RELANCE_AGENTS_MAY_CLOSE: `1` lets agents write off, close and hand over files
      (by default only supervisors and administrators do).
    - RELANCE_DATABASE_WAIT: whole seconds a request waits for a database that stopped
      answering before it answers 503 (2 by default).
    - RELANCE_PROJECTIONS: `embedded` (default: the web process keeps the read models up
      to date) or `external` (a separate `relance projections run` does).
    - RELANCE_RUN_AT: `HH:MM`, Paris time: `relance serve` runs the day's automatic
      sending once a day from that time (empty, the default: never by itself).
    - RELANCE_INBOX_URL: the mailbox replies come back to, read by `relance serve`
      (`imap://user:password@host:port/INBOX`, `imaps://…`, or `maildir:///path`); empty:
      none is read. RELANCE_INBOX_EVERY: seconds between two readings (60).
    - RELANCE_REPLY_ADDRESS: the address our e-mails ask to be answered at (Reply-To),
      with each message's reply token added to it (`relance+r0123456789ab@…`); empty:
      replies go to the creditor's address.
    - RELANCE_PORTAL_URL: the address debtors open their page at, as reminders, letters
      and call confirmations print it (`https://paiement.exemple.fr`; by default the
      app's own `http://HOST:PORT`); the links are `<URL>/p/<token>`.
    - RELANCE_PORTAL_HOST: a host name (`paiement.exemple.fr`) on which only the debtors'
      pages are served; the staff's pages are not served on it, and the debtors' pages
      are served on it only. Empty (default): both on every host name.
    - RELANCE_PORTAL_DAYS: how many days a link works after it is issued (90).
    """

    database_url: str = DEFAULT_DATABASE_URL
    log_format: str = ""
    log_level: str = ""
    """Empty: the server logs from INFO, other commands from WARNING."""
    actor: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    projections: str = "embedded"
    rates_dir: str = ""
    smtp_url: str = "file://var/outbox"
    templates_dir: str = ""
    creditor: dict[str, str] = field(default_factory=dict)
    api_token: str = field(default="", repr=False)
    api_token_file: str = ""
    session_idle_minutes: int = 120
    session_hours: int = 12
    retention_days_business: int = 5 * 365
    """Days a person at a business debtor is kept once all its files ended (README)."""
    retention_days_consumer: int = 2 * 365
    """Days a consumer debtor's people are kept once all its files ended (README)."""
    secure_cookies: bool = False
    forwarded_allow_ips: str = ""
    agents_may_close: bool = False
    database_wait: int = 2
    run_at: time | None = None
    """When `relance serve` starts the daily run (Paris time); None: it does not."""
    inbox_url: str = field(default="", repr=False)
    inbox_every: int = 60
    reply_address: str = ""
    portal_url: str = ""
    portal_host: str = ""
    portal_days: int = 90

    @property
    def portal_base(self) -> str:
        """The address the debtors' links start with (no trailing slash)."""
        if self.portal_url:
            return self.portal_url.rstrip("/")
        if self.portal_host:
            return f"https://{self.portal_host}"
        return f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads the settings from the environment (the process's by default)."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("RELANCE_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            log_format=env.get("RELANCE_LOG_FORMAT", "").strip().lower(),
            log_level=env.get("RELANCE_LOG_LEVEL", "").strip().upper(),
            actor=env.get("RELANCE_ACTOR", "").strip() or getpass.getuser(),
            host=env.get("RELANCE_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=_int(env, "RELANCE_PORT", 8000),
            projections=env.get("RELANCE_PROJECTIONS", "embedded").strip() or "embedded",
            rates_dir=env.get("RELANCE_RATES_DIR", "").strip(),
            smtp_url=env.get("RELANCE_SMTP_URL", "").strip() or "file://var/outbox",
            templates_dir=env.get("RELANCE_TEMPLATES_DIR", "").strip(),
            api_token=env.get("RELANCE_API_TOKEN", "").strip(),
            api_token_file=env.get("RELANCE_API_TOKEN_FILE", "").strip(),
            forwarded_allow_ips=env.get("RELANCE_FORWARDED_ALLOW_IPS", "").strip(),
            agents_may_close=_flag(env, "RELANCE_AGENTS_MAY_CLOSE"),
            database_wait=_seconds(env, "RELANCE_DATABASE_WAIT", 2),
            run_at=_time_of_day(env, "RELANCE_RUN_AT"),
            inbox_url=env.get("RELANCE_INBOX_URL", "").strip(),
            inbox_every=_seconds(env, "RELANCE_INBOX_EVERY", 60),
            reply_address=env.get("RELANCE_REPLY_ADDRESS", "").strip(),
            portal_url=env.get("RELANCE_PORTAL_URL", "").strip(),
            portal_host=env.get("RELANCE_PORTAL_HOST", "").strip().lower(),
            portal_days=_int(env, "RELANCE_PORTAL_DAYS", 90),
            session_idle_minutes=_int(env, "RELANCE_SESSION_IDLE_MINUTES", 120),
            session_hours=_int(env, "RELANCE_SESSION_HOURS", 12),
            retention_days_business=_int(env, "RELANCE_RETENTION_DAYS_BUSINESS", 5 * 365),
            retention_days_consumer=_int(env, "RELANCE_RETENTION_DAYS_CONSUMER", 2 * 365),
            secure_cookies=_flag(env, "RELANCE_SECURE_COOKIES"),
            creditor={key: env[f"RELANCE_CREDITOR_{key.upper()}"]
                      for key in ("name", "address", "city", "siren", "email", "phone", "iban")
                      if env.get(f"RELANCE_CREDITOR_{key.upper()}")},
        )
