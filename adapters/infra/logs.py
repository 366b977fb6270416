"""Structured logs: configured once at start, JSON in production, colour in a terminal.

Every line carries `request_id` and `actor` (bound through contextvars by the web
middleware or the CLI), and secrets are masked before rendering.
"""

from __future__ import annotations

import logging
import random
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(
    r"^(?!.*_id$).*(pass(word)?|secret|token|session|cookie|authorization|csrf)", re.I)
"""Keys whose values are masked; a key ending in `_id` names a session or a token by its
public id (a prefix of its SHA-256), which is no secret."""
URL_PASSWORD = re.compile(r"(://[^:/@\s]{1,256}+:)([^@\s/]{1,256}+)(@)")
"""A password inside a URL. Both parts are bounded, so that matching stays linear in the
length of the text whatever it holds: an unbounded pattern backtracked quadratically on
a long path without '@' and froze the server."""
MAX_VALUE = 4096
"""Longer string values are cut (and say so) before they are matched or written."""
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""A request id a client may choose; any other value is replaced by a fresh one."""


def _defaults(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event.setdefault("request_id", "-")
    event.setdefault("actor", "-")
    return event


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if SECRET_KEYS.search(key):
            event[key] = "***"
        elif isinstance(event[key], str):
            event[key] = redact(event[key])
    return event


def redact(text: str) -> str:
    """The text, cut to MAX_VALUE characters, with passwords inside URLs masked."""
    if len(text) > MAX_VALUE:
        text = f"{text[:MAX_VALUE]}… [{len(text) - MAX_VALUE} more characters]"
    return URL_PASSWORD.sub(r"\1***\3", text)


def configure_logging(log_format: str = "", level: str = "INFO") -> None:
    """Routes structlog and the standard library's loggers through one renderer."""
    use_json = log_format == "json" or (log_format != "console" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _defaults,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # A line below the level is dropped before anything is added to it: else every
        # processor ran for it (the request's context copied, a timestamp written) and
        # the standard library's logger dropped it only then.
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.processors.format_exc_info,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = False
    # WeasyPrint warns about its font subsetting on every PDF: not the user's business.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def safe_request_id(candidate: str | None) -> str:
    """The client's request id if it is 1-64 safe characters, else a fresh one: 128
    random bits, as `uuid4().hex` has 122 of them. An id names a request in the logs and
    is no secret, so it is drawn from the process's pseudo-random generator (seeded from
    the system's at start, and again in a forked child): `os.urandom` lets the event loop
    go of the interpreter lock for its system call, and the loop then waits for a
    request's thread to hand it back."""
    if candidate and REQUEST_ID.fullmatch(candidate):
        return candidate
    return f"{random.getrandbits(128):032x}"


def bind_context(*, actor: str, request_id: str | None = None) -> str:
    """Binds who acts and a request id to every log line of this context; returns the id.

    A request id that is not 1-64 safe characters is replaced by a fresh one."""
    request_id = safe_request_id(request_id)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, actor=actor)
    return request_id


def bind_actor(actor: str) -> None:
    """Who acts, once known (a request's session or token), on this context's next lines:
    its request id stays."""
    structlog.contextvars.bind_contextvars(actor=actor)
