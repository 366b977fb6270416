"""The API's commands run in threads of their own (`web.routes.in_thread`), but hold the
same tokens as every other request's thread: never more requests at work at once than
there are tokens, whichever way they came in, so that the database's connections last."""

from __future__ import annotations

import asyncio
import contextvars
import threading

from anyio import to_thread

from web.routes import in_thread

WHO = contextvars.ContextVar("who", default="nobody")


async def _until(condition, what: str) -> None:
    """Waits (10 s at most) for something the test then asserts on."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"never came: {what}")


def test_requests_past_the_tokens_wait_for_one_and_each_runs_in_its_own_context():
    inside, most, lock = [], [0], threading.Lock()
    go = threading.Event()

    def command(n: int) -> str:
        with lock:
            inside.append(n)
            most[0] = max(most[0], len(inside))
        go.wait(timeout=30)
        with lock:
            inside.remove(n)
        return f"{n}:{WHO.get()}"

    async def request(n: int) -> str:
        WHO.set(f"agent-{n}")
        return await in_thread(command, {"n": n})

    async def scenario() -> None:
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = 2
        tasks = [asyncio.create_task(request(n)) for n in range(5)]
        await _until(lambda: limiter.statistics().tasks_waiting + len(inside) == 5,
                     "every request in a thread or waiting for a token")
        assert limiter.borrowed_tokens == 2
        with lock:
            assert len(inside) == 2  # three wait for a token, none runs past them
        page = asyncio.create_task(to_thread.run_sync(lambda: "page"))
        await _until(lambda: limiter.statistics().tasks_waiting == 4, "the page waiting")
        assert not page.done()  # a page's thread waits for a token too
        go.set()
        assert sorted(await asyncio.gather(*tasks)) == [f"{n}:agent-{n}" for n in range(5)]
        assert await page == "page"
        assert limiter.borrowed_tokens == 0
        assert most[0] == 2

    asyncio.run(scenario())


def test_a_request_cancelled_while_its_command_runs_gives_its_token_back_when_it_ends():
    started, finish = threading.Event(), threading.Event()

    def command() -> str:
        started.set()
        finish.wait(timeout=30)
        return "recorded"

    async def scenario() -> None:
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = 1
        task = asyncio.create_task(in_thread(command, {}))
        await _until(started.is_set, "the command started")
        task.cancel()
        await _until(task.done, "the request cancelled")
        assert limiter.borrowed_tokens == 1  # the command still runs in its thread
        finish.set()
        await _until(lambda: limiter.borrowed_tokens == 0, "the token given back")
        assert await in_thread(lambda: "next", {}) == "next"

    asyncio.run(scenario())
