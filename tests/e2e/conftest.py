"""A real relance web server on a free loopback port, for real HTTP clients."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from adapters.settings import Settings
from tests.builders import free_port
from tests.e2e.campaign_setup import Mailbox
from web.app import create_app
from web.protocol import HttpProtocol

API_TOKEN = "jeton-de-test-0123456789"


@dataclass
class Server:
    """A served app: its base URL and the app object (to reach its runtime)."""

    url: str
    app: object




def _serve(store_url: str, **settings: object) -> tuple[Server, uvicorn.Server, threading.Thread]:
    app = create_app(Settings(**{"database_url": store_url, "log_format": "json",
                                 "api_token": API_TOKEN, **settings}))  # type: ignore[arg-type]
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                            access_log=False, lifespan="on", server_header=False,
                            proxy_headers=False, http=HttpProtocol)  # as `relance serve`
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the relance server did not start")
        time.sleep(0.02)
    return Server(f"http://127.0.0.1:{port}", app), uv, thread


@pytest.fixture
def server_on() -> Iterator[Callable[..., str]]:
    """Serves relance on a given store (with other settings if given) until the test
    ends; gives its base URL."""
    running: list[tuple[Server, uvicorn.Server, threading.Thread]] = []

    def start(store_url: str, **settings: object) -> str:
        running.append(_serve(store_url, **settings))
        return running[-1][0].url

    yield start
    for _, uv, thread in running:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    """relance served on the store under test until the test ends."""
    served, uv, thread = _serve(store_url)
    yield served
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client talking to the served app."""
    with httpx.Client(base_url=server.url, timeout=10, follow_redirects=False) as http:
        yield http


PASSWORD = "mot-de-passe-de-test"


def log_in(server: Server, login: str, role: str) -> httpx.Client:
    """A new HTTP client logged in as a new account of that role."""
    from adapters.infra.accounts import Role

    server.app.state.runtime.accounts.add(login, login.title(), Role(role), PASSWORD)
    http = httpx.Client(base_url=server.url, timeout=10, follow_redirects=False)
    answer = submit_login(http, login, PASSWORD)
    assert answer.status_code == 303, answer.text
    return http


def submit_login(http: httpx.Client, login: str, password: str, **extra: str) -> httpx.Response:
    """Fills and sends the login form as a browser does: the form first (its CSRF token
    and cookie), then the post."""
    page = http.get("/connexion")
    return http.post("/connexion", data={"login": login, "password": password, "suite": "/",
                                         "csrf": hidden(page.text), **extra})


@pytest.fixture
def agent(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client logged in as an agent."""
    http = log_in(server, "agent.test", "agent")
    yield http
    http.close()


def browser_log_in(page, base: str, login: str) -> None:
    """Logs a person in through the login form of a Chromium page, as they would."""
    page.goto(f"{base}/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def hidden(page: str, name: str = "csrf") -> str:
    """The value of a hidden field of a page's first form carrying it (csrf, cle)."""
    return page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A counting SMTP server on a free loopback port (the daily run's tests)."""
    box = Mailbox().start()
    yield box
    box.stop()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    """Debian's headless Chromium, driven by Playwright."""
    if CHROMIUM is None:
        message = "Debian's chromium is not installed (make test installs it as root)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()
