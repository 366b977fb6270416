"""Colleagues recording on the same file at once never lose a fact."""

import logging
from concurrent.futures import ThreadPoolExecutor

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from domain.invoice import invoice_id
from tests.builders import register_kwargs

THREADS = 8
COMMANDS = 50


def test_eight_workers_times_fifty_commands_on_one_file_record_exactly_400_facts(
    store_url, clock, caplog
):
    """Each worker has its own service and connections, like separate web workers."""
    caplog.set_level(logging.INFO, logger="relance.commands")
    runtimes = [bootstrap(Settings(database_url=store_url), clock=clock) for _ in range(THREADS)]
    try:
        runtimes[0].files.register_invoice("alice", **register_kwargs())

        def work(worker: int) -> int:
            files = runtimes[worker].files
            for n in range(COMMANDS):
                files.add_note(f"agent{worker}", "FA-2026-0001", text=f"note {worker}/{n}")
            return COMMANDS

        with ThreadPoolExecutor(THREADS) as pool:
            done = sum(pool.map(work, range(THREADS)))
        stored = runtimes[0].files.recorder.select_events(invoice_id("FA-2026-0001"))
        assert done == THREADS * COMMANDS
        assert [s.originator_version for s in stored] == list(range(1, 2 + THREADS * COMMANDS))
        notes = {e.data["text"] for e in runtimes[0].files.history("FA-2026-0001")[1:]}
        assert len(notes) == THREADS * COMMANDS
        assert runtimes[0].files.broken_link("FA-2026-0001") is None
        retries = [r for r in caplog.records if r.getMessage() == "version conflict, retrying"]
        assert retries, "the workers never collided: the test did not test concurrency"
    finally:
        for runtime in runtimes:
            runtime.close()
