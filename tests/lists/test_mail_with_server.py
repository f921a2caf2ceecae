"""The mail sender runs inside a served gateway (uvicorn with its lifespan, as `ecgateway serve`):
a message committed to the outbox reaches the SMTP server on loopback with no other process."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from ecgateway.mail import enqueue
from mail.smtp_server import SmtpServer
from web.web_env import build_gateway


@pytest.fixture(scope="module")
def backend() -> str:
    return "sqlite"  # the wiring is the same on both; the outbox itself is tested on both in tests/mail


def test_a_served_gateway_sends_its_outbox(jde_db, portal_url, tmp_path):
    smtp = SmtpServer().start()
    gw = build_gateway(jde_db, portal_url, tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                       mail_poll_seconds=0.2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(gw.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        with gw.portal() as db:
            enqueue(db, "ops@example.com", "mail_check", {"name": "Ops", "site": "test", "link": "", "link_expires": ""},
                    settings=gw.settings)
            db.commit()
        [got] = smtp.wait_for("ops@example.com", timeout=15)
        assert got.message["Subject"] == "ecgateway: test message for Ops"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        smtp.stop()
        gw.runtime.dispose()
    assert gw.app.state.mailer._thread is None  # stopped with the server
