"""Rebuilding read models from the first fact, in one process or split across several.

Split `n` ways (PostgreSQL only), each of `n` processes applies the facts of its share of
the debtors (`projections.runner.Partition`) up to the same head, with its own positions;
this process follows them, and once all have reached the head, joins their positions into
each projection's. If one fails, the others are stopped and the read models stay behind
(a new rebuild starts them again); nothing is ever half-joined.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import IO

from adapters.bootstrap import Runtime
from projections.runner import Follower, Partition, join_partitions, partition_names
from projections.schema import Projection

POLL_S = 0.2
"""How often the shares' progress is read."""
READY = b"ready"
"""What a share writes once it has started."""


class SplitRefused(ValueError):
    """A rebuild split across processes on a store that has one writer at a time."""


class ShareFailed(RuntimeError):
    """A process of a split rebuild stopped before the head; its last words."""


def chosen(runtime: Runtime, names: Sequence[str]) -> list[Projection]:
    """The projections named (every one if none), in the order they are applied."""
    known = {p.name: p for p in runtime.follower.projections}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [p for p in runtime.follower.projections if not names or p.name in names]


def rebuild(runtime: Runtime, names: Sequence[str] = (), processes: int = 1,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Empties the projections named (all if none) and applies every fact to them again,
    in `processes` processes; returns the head reached."""
    projections = chosen(runtime, names)
    if processes > 1 and not runtime.store.is_postgres:
        raise SplitRefused("SQLite has one writer at a time: a rebuild there runs in one "
                           "process")
    for projection in projections:
        runtime.views.reset(projection)
    head = runtime.files.recorder.max_notification_id() or 0
    if processes <= 1:
        Follower(runtime.files, runtime.views, projections).catch_up(progress, head=head)
        return head
    _run_shares(runtime, projections, processes, head, progress)
    join_partitions(runtime.views, projections, processes, head)
    runtime.views.analyze([t for p in projections for t in p.tables])
    return head


def catch_up_share(runtime: Runtime, names: Sequence[str], index: int, count: int,
                   head: int, ready: Callable[[], None] = lambda: None) -> None:
    """One process's share of a split rebuild: its debtors' facts up to `head`, once
    `ready` returns (when every share has started, see `_run_shares`)."""
    follower = Follower(runtime.files, runtime.views, chosen(runtime, names),
                        partition=Partition(index, count))
    ready()
    follower.catch_up(head=head)


def _run_shares(runtime: Runtime, projections: Sequence[Projection], count: int, head: int,
                progress: Callable[[int, int], None] | None) -> None:
    with ExitStack() as stack:  # what each share writes on stderr, read if it fails
        said = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(count)]
        _follow_shares(runtime, [p.name for p in projections], count, head, progress, said)


def _follow_shares(runtime: Runtime, names: list[str], count: int, head: int,
                   progress: Callable[[int, int], None] | None, said: list[IO[bytes]]) -> None:
    env = {**os.environ, "RELANCE_DATABASE_URL": runtime.settings.database_url}
    shares: list[subprocess.Popen[bytes]] = []
    tracked = [n for name in names for n in partition_names(name, count)]

    def reached() -> int:  # the slowest share's slowest read model
        kept = runtime.views.share_positions(names)
        return min(kept.get(n, 0) for n in tracked)

    try:
        # One after the other, each says it has started, then all go: starting checks
        # the views' tables and indexes, which two processes at once cannot do (« tuple
        # concurrently updated »), and which waits for any share already writing.
        for index in range(count):
            share = subprocess.Popen(  # noqa: S603 - our own module; names checked by `chosen`
                [sys.executable, "-m", "adapters.cli", "projections", "part", str(index),
                 str(count), str(head), *names], env=env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=said[index])
            shares.append(share)
            if share.stdout.readline().strip() != READY:  # type: ignore[union-attr]
                share.wait()
                raise ShareFailed(f"share {index} of {count} did not start (exit "
                                  f"{share.returncode}): {_last_words(said[index])}")
        for share in shares:
            share.stdin.write(b"go\n")  # type: ignore[union-attr]
            share.stdin.close()  # type: ignore[union-attr]
        while True:
            codes = [share.poll() for share in shares]
            failed = next((i for i, code in enumerate(codes) if code not in (None, 0)), None)
            if failed is not None:
                raise ShareFailed(f"share {failed} of {count} stopped (exit "
                                  f"{codes[failed]}): {_last_words(said[failed])}")
            if progress is not None:
                progress(reached(), head)
            if all(code == 0 for code in codes):
                return
            time.sleep(POLL_S)
    finally:
        for share in shares:
            if share.poll() is None:
                share.kill()
            share.wait()
            for stream in (share.stdin, share.stdout):
                if stream is not None and not stream.closed:
                    stream.close()


def _last_words(kept: IO[bytes]) -> str:
    """The end of what a share wrote on stderr (its error's trace)."""
    kept.seek(0)
    return kept.read().decode(errors="replace").strip()[-500:]
