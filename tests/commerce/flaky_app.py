"""A tiny ASGI app for tests/commerce/test_serve_workers.py: its startup fails while the file named by
FLAKY_APP_MARKER exists (as a gateway whose database is away while a worker starts)."""

from __future__ import annotations

import os
from pathlib import Path


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if Path(os.environ["FLAKY_APP_MARKER"]).exists():
                    await send({"type": "lifespan.startup.failed", "message": "the marker says: fail"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
