"""The README's demo command: a real process serving /healthz on loopback."""

import os
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_creates_databases_prints_logins_and_serves(tmp_path):
    port = _free_port()
    env = {**os.environ, "ECGW_DATA_DIR": str(tmp_path / "var"), "ECGW_DEMO_PASSWORD": "demo-pass-from-env"}
    env.pop("ECGW_JDE_URL", None)
    env.pop("ECGW_PORTAL_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecgateway", "demo", "--accounts", "30", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert status is not None and status.status_code == 200, "demo did not start serving"
        assert status.json() == {"status": "ok", "jde": "ok", "portal": "ok"}
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert home.status_code == 200 and "ecgateway" in home.text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert (tmp_path / "var" / "jde.sqlite").exists()
    assert (tmp_path / "var" / "portal.sqlite").exists()
    for login in ("admin", "sales", "ar", "service", "buyer1"):
        assert login in out
    assert "demo-pass-from-env" in out


def test_a_jde_file_from_an_older_gateway_is_named_before_orders_fail(tmp_path):
    """A demo JDE file made before F47011/F47012 had their real columns (and F0002) is reported."""
    import sqlalchemy as sa

    from ecgateway.demo import _stale_edi_tables
    from ecgateway.jde.tables import jde_tables

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    old = sa.MetaData()
    sa.Table("f47011", old, sa.Column("syedoc", sa.Integer), sa.Column("syvr02", sa.String(25)))
    old.create_all(engine)
    tables = jde_tables(None)
    try:
        assert _stale_edi_tables(engine, tables) == "F47011, F47012, F0002"
        tables.metadata.create_all(engine)  # creates the missing ones; the old F47011 stays short
        assert _stale_edi_tables(engine, tables) == "F47011"
    finally:
        engine.dispose()


def test_the_demo_says_what_each_rep_serves_and_a_second_demo_refuses_without_resetting_passwords(tmp_path):
    """Issue 15, part 10: while a demo serves, another `ecgateway demo` on the same folder changes nothing."""
    port = _free_port()
    env = {**os.environ, "ECGW_DATA_DIR": str(tmp_path / "var")}
    env.pop("ECGW_JDE_URL", None)
    env.pop("ECGW_PORTAL_URL", None)
    env.pop("ECGW_DEMO_PASSWORD", None)  # random passwords: a second run would print (and set) new ones
    first = subprocess.Popen([sys.executable, "-m", "ecgateway", "demo", "--accounts", "30", "--port", str(port)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        second = subprocess.run([sys.executable, "-m", "ecgateway", "demo", "--accounts", "30", "--port",
                                 str(_free_port())], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 3, second.stdout + second.stderr
        assert "A demo is already running" in second.stderr and f"http://127.0.0.1:{port}/" in second.stderr
        assert "nothing was changed" in second.stderr and "password" not in second.stdout
    finally:
        first.terminate()
        out, _ = first.communicate(timeout=20)
    password = next(line.split()[-1] for line in out.splitlines() if line.startswith("sales "))
    import sqlalchemy as sa

    from ecgateway.auth.passwords import verify_password

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'var' / 'portal.sqlite'}")
    with engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT password_hash FROM users WHERE login = 'sales'"))
    engine.dispose()
    assert verify_password(stored, password)
    assert "may serve" in out and "Category code 2 is R01, R02 or R03" in out
    assert "ABAC02" not in out
    assert "belongs to account" in out and "reps who may serve it: sales, service" in out
