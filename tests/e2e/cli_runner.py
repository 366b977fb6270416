"""Running the `relance` command as a person types it, on a store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

RELANCE = str(Path(sys.executable).parent / "relance")


def relance(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`relance ARGS` on the store at `url`, acting as marie.curie; its output."""
    env = {**os.environ, "RELANCE_DATABASE_URL": url, "RELANCE_ACTOR": "marie.curie",
           "COLUMNS": "200"}
    return subprocess.run([RELANCE, *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False, input=stdin)


def wait_for_log(log: Path, event: str, timeout: float = 60) -> dict:
    """The first line of a JSON log (`relance serve`'s) saying `event`, once it is written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line.startswith("{") and json.loads(line).get("event") == event:
                return json.loads(line)
        time.sleep(0.1)
    raise AssertionError(f"no {event!r} in the log:\n{log.read_text()}")
