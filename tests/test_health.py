"""GET /healthz answers for both databases and names the one that fails."""

import socket

from fastapi.testclient import TestClient

from ecgateway.app import create_app
from ecgateway.config import Settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthy_when_both_answer(tmp_path):
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "jde": "ok", "portal": "ok"}


def test_unhealthy_names_the_database_that_is_down(tmp_path):
    down = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nothing"
    app = create_app(Settings(data_dir=tmp_path, jde_url=down))
    with TestClient(app) as client:
        r = client.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "error" and body["portal"] == "ok"
    assert body["jde"].startswith("error: "), body
    assert "127.0.0.1" not in body["jde"], "no connection details leak to the caller"
