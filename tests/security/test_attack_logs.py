"""No session id, CSRF token or password in the server's log or the audit log.

A real uvicorn on loopback with its access log on (log level info); a rep signs in, acts on
behalf, changes account, ends and signs out over plain HTTP; a failed sign-in is added.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
import sqlalchemy as sa

from ecgateway.audit.models import AuditEntry
from web.web_env import PASSWORD, build_gateway


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(jde_db, portal_url, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("sec-logs")
    gw = build_gateway(jde_db, portal_url, data_dir)
    port = _free_port()
    env = {**os.environ, "ECGW_DATA_DIR": str(data_dir), "ECGW_JDE_URL": jde_db.url, "ECGW_PORTAL_URL": portal_url,
           "ECGW_SECRET_KEY": "l" * 48}
    if jde_db.schema:
        env["ECGW_JDE_SCHEMA"] = jde_db.schema
    log_path = data_dir / "uvicorn.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "ecgateway.app:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "debug"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("uvicorn did not start: " + log_path.read_text()[-2000:])
        time.sleep(0.2)
    yield base, gw, log_path
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    gw.runtime.dispose()


def test_no_secret_reaches_the_server_log_or_the_audit_log(served):
    base, gw, log_path = served
    secrets_seen: set[str] = {PASSWORD, "wrong-password-9f3k"}
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        assert client.post("/login", data={"login": "sales1", "password": "wrong-password-9f3k"}).status_code == 401
        r = client.post("/login", data={"login": "sales1", "password": PASSWORD})
        assert r.status_code == 303
        a, b = gw.allowed_for("sales1")[:2]
        for step in ({"an8": a}, {"an8": b}):
            session = client.get("/api/v1/session").json()
            secrets_seen.add(client.cookies.get("ecgw_session"))
            secrets_seen.add(session["csrf_token"])
            assert client.post("/obo", data={**step, "csrf_token": session["csrf_token"]}).status_code == 303
        token = client.get("/api/v1/session").json()["csrf_token"]
        secrets_seen.update({client.cookies.get("ecgw_session"), token})
        assert client.post("/obo/end", data={"csrf_token": token}).status_code == 303
        token = client.get("/api/v1/session").json()["csrf_token"]
        secrets_seen.update({client.cookies.get("ecgw_session"), token})
        assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    time.sleep(0.5)
    server_log = log_path.read_text()
    assert '"POST /obo HTTP/1.1" 303' in server_log  # the access log is on
    with gw.portal() as db:
        audit = "\n".join(f"{e.actor_login} {e.action} {e.object} {e.detail}" for e in db.scalars(sa.select(AuditEntry)))
    assert "obo.start" in audit and "auth.sign_in" in audit
    for secret in filter(None, secrets_seen):
        assert secret not in server_log, "a secret is in the server log"
        assert secret not in audit, "a secret is in the audit log"
