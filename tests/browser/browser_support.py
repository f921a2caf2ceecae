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
