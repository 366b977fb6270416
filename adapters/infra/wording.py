"""A team's own wordings, rendered in child processes bounded in time and memory.

Supervisors write document wordings in Jinja2 (Réglages). Jinja2's immutable sandbox
stops a wording from reaching Python's internals or changing what it is given, but not
from looping 10^8 times or building a string of 200 MB. So a wording is rendered in a
child process of its own (`python -m adapters.infra.wording`): with an address-space limit,
killed when it runs past its time, on a copy of the file's context. It hands back only
two strings, the subject and the text; the letter's layout is then built by the server
from its own context, so nothing a wording does can reach the layout.

Workers are started on demand and kept for the next render; one that overran is killed
and replaced.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TIMEOUT = 2.0
"""Seconds a wording may take to render."""
MEMORY = 256 * 1024 * 1024
"""Address space of a worker, in bytes: Python, Jinja2 and Babel take ~40 MiB of it."""
MAX_TEXT = 200_000
"""Characters a rendered wording may produce."""
MAX_SUBJECT = 300
WORKERS = 2
HEADER = struct.Struct("!I")


class WordingFailed(Exception):
    """A wording that cannot be rendered: the English detail, and the French sentence."""

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail)
        self.french = french


class WordingSandbox:
    """Renders wordings in bounded child processes (see the module's doc)."""

    def __init__(self, *, workers: int = WORKERS, timeout: float = TIMEOUT,
                 memory: int = MEMORY) -> None:
        self.timeout = timeout
        self.memory = memory
        self.workers = workers
        self._idle: list[_Worker] = []
        self._started = 0
        self._lock = threading.Condition()
        self._closed = False

    def render(self, source: str, context: dict[str, Any]) -> tuple[str, str]:
        """The wording's subject and text, or WordingFailed."""
        request = pickle.dumps((source, context), protocol=pickle.HIGHEST_PROTOCOL)
        with self._worker() as worker:
            answer = worker.ask(request, self.timeout)
        if answer[0] == "ok":
            return answer[1], answer[2]
        raise WordingFailed(answer[1], answer[2])

    @contextmanager
    def _worker(self) -> Iterator[_Worker]:
        worker = self._take()
        try:
            yield worker
        except BaseException:
            worker.kill()
            with self._lock:
                self._started -= 1
                self._lock.notify()
            raise
        with self._lock:
            self._idle.append(worker)
            self._lock.notify()

    def _take(self) -> _Worker:
        deadline = time.monotonic() + self.timeout
        with self._lock:
            while True:
                if self._closed:
                    raise WordingFailed("the wording sandbox is closed",
                                        "Le service de mise en forme est arrêté.")
                if self._idle:
                    return self._idle.pop()
                if self._started < self.workers:
                    self._started += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WordingFailed("every wording worker is busy",
                                        "Trop de documents sont en cours de mise en forme : "
                                        "réessayez dans un instant.")
                self._lock.wait(left)
        try:
            return _Worker(self.memory)
        except BaseException:
            with self._lock:
                self._started -= 1
            raise

    def close(self) -> None:
        """Stops every worker."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


class _Worker:
    """One child process, spoken to with length-prefixed pickles over its pipes."""

    STARTUP = 15.0
    """Seconds a new worker may take to start (Python, Jinja2, Babel)."""

    def __init__(self, memory: int) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "adapters.infra.wording", str(memory)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.ready = False

    def ask(self, request: bytes, timeout: float) -> tuple[str, ...]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        try:
            if not self.ready:  # the child says it is ready with an empty message
                _read(self.process.stdout, HEADER.size, time.monotonic() + self.STARTUP)
                self.ready = True
            deadline = time.monotonic() + timeout
            self.process.stdin.write(HEADER.pack(len(request)) + request)
            self.process.stdin.flush()
            size = HEADER.unpack(_read(self.process.stdout, HEADER.size, deadline))[0]
            return pickle.loads(_read(self.process.stdout, size, deadline))  # noqa: S301 - our child
        except TimeoutError:
            raise WordingFailed(f"the wording took more than {timeout:g} s",
                                "Le modèle met trop de temps à se mettre en forme (une boucle "
                                "trop longue ?).") from None
        except (OSError, EOFError, struct.error, pickle.UnpicklingError):
            raise WordingFailed("the wording's worker stopped (memory?)",
                                "Le modèle demande trop de mémoire pour être mis en forme."
                                ) from None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def _read(stream: Any, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    fd = stream.fileno()
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- the child's side ---------------------------------------------------------------------

def _environment():  # type: ignore[no-untyped-def]
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from projections import french

    # Text, not HTML: the layout escapes it when it puts it in the letter.
    env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined,
                                        trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=french.money, day=french.day, percent=french.percent)
    return env


def render_wording(env: Any, source: Any, context: dict[str, Any]) -> tuple[str, ...]:
    """("ok", subject, text), or ("error", English detail, French sentence); `source` is
    a wording's text or a compiled template."""
    try:
        template = env.from_string(source) if isinstance(source, str) else source
        module = template.make_module(vars=context)
        text = str(module).strip() + "\n"
        subject = str(getattr(module, "subject", "")).strip()
    except MemoryError:
        return ("error", "the wording needs too much memory",
                "Le modèle demande trop de mémoire pour être mis en forme.")
    except Exception as error:  # noqa: BLE001 - anything a wording raises is its own fault
        detail = f"{type(error).__name__}: {error}"[:300]
        return ("error", f"the wording cannot be rendered: {detail}",
                f"Le modèle ne peut pas être mis en forme ({detail}).")
    if not subject:
        return ("error", "the wording sets no subject",
                "Le modèle doit définir son objet : {% set subject = \"…\" %}.")
    if "\n" in subject or "\r" in subject or len(subject) > MAX_SUBJECT:
        return ("error", "the subject is not one line of at most 300 characters",
                "L'objet du document tient sur une ligne de 300 caractères au plus.")
    if len(text) > MAX_TEXT:
        return ("error", f"the wording produces more than {MAX_TEXT} characters",
                "Le texte produit par ce modèle est trop long.")
    return ("ok", subject, text)


def main() -> None:
    """Limits its own memory, then answers render requests on stdin until it closes."""
    memory = int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    env = _environment()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(HEADER.pack(0))
    stdout.flush()
    while True:
        header = stdin.read(HEADER.size)
        if len(header) < HEADER.size:
            return
        source, context = pickle.loads(stdin.read(HEADER.unpack(header)[0]))  # noqa: S301 - our parent
        try:
            answer = pickle.dumps(render_wording(env, source, context))
        except MemoryError:
            answer = pickle.dumps(("error", "the wording needs too much memory",
                                   "Le modèle demande trop de mémoire pour être mis en forme."))
        stdout.write(HEADER.pack(len(answer)) + answer)
        stdout.flush()


if __name__ == "__main__":
    main()
