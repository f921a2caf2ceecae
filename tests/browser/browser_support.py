"""What the browser tests share beside their fixtures: a gateway served on loopback, signing in."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from web.web_env import PASSWORD, Gateway


@contextmanager
def serving(gateway: Gateway, app=None) -> Iterator[str]:
    """The gateway's app (or app, an ASGI wrapper of it) under uvicorn on 127.0.0.1:<free port> while the
    block runs; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app or gateway.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", timeout_keep_alive=gateway.settings.keep_alive_seconds))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not answer on {base} within 20 s")
        time.sleep(0.1)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in(page, base: str, login: str) -> None:
    """Sign in through the login page with the test users' password."""
    page.goto(base + "/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def add_first_to_cart(page) -> None:
    """Press the catalog's first Add and wait for the gateway's answer: the add is sent with fetch
    (static/cart.js), so the page does not load again and a goto right after the click could leave
    before the line is in the cart (CI once drew an empty checkout that way)."""
    page.get_by_role("button", name="Add").first.click()
    # A locator's wait, not wait_for_function: it runs outside the page's JavaScript, so it also works
    # under page.clock (the idle test), whose timers do not run on their own.
    page.locator("#add-status:not(:empty), [aria-invalid=true]").first.wait_for()
    assert page.locator("[aria-invalid=true]").count() == 0, page.locator("#add-status").inner_text()


class SlowApi:
    """An ASGI wrapper that holds back the answers of chosen API paths: delays[path] seconds, or
    by_query[(path, q)] for one search text. The tests change the dicts while the server runs."""

    def __init__(self, app):
        self.app = app
        self.delays: dict[str, float] = {}
        self.by_query: dict[tuple[str, str], float] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            from urllib.parse import parse_qs

            path = scope["path"]
            q = parse_qs(scope.get("query_string", b"").decode()).get("q", [""])[0]
            delay = self.by_query.get((path, q), self.delays.get(path, 0.0))
            if delay:
                import asyncio

                await asyncio.sleep(delay)
        await self.app(scope, receive, send)
