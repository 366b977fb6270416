"""Running the `relance` command as a person types it, on a store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RELANCE = str(Path(sys.executable).parent / "relance")


def relance(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`relance ARGS` on the store at `url`, acting as marie.curie; its output."""
    env = {**os.environ, "RELANCE_DATABASE_URL": url, "RELANCE_ACTOR": "marie.curie",
           "COLUMNS": "200"}
    return subprocess.run([RELANCE, *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False, input=stdin)
