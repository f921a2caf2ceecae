"""Helpers of the commerce tests that run real processes: relays, gateways, orders to send."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from ecgateway.commerce import carts, orders
from ecgateway.commerce.models import Order
from ecgateway.jde.handle import Jde

HERE = Path(__file__).parent
ECGATEWAY = Path(sys.executable).with_name("ecgateway")


def relay_env(shop, **extra) -> dict[str, str]:
    """The environment of a gateway or relay process on the shop's databases."""
    env = dict(os.environ)
    env.update({
        "ECGW_JDE_URL": shop.settings.jde_database_url, "ECGW_PORTAL_URL": shop.settings.portal_database_url,
        "ECGW_DATA_DIR": str(shop.settings.data_dir), "ECGW_COMPANY": "00000", "ECGW_ERP_MODE": "local",
        "ECGW_OUTBOX_POLL_SECONDS": "0.1", "ECGW_OUTBOX_LEASE_SECONDS": "2",
    })
    if shop.settings.jde_schema:
        env["ECGW_JDE_SCHEMA"] = shop.settings.jde_schema
    env.update(extra)
    return env


def place_orders(shop, n, *, prefix, who="rep"):
    made = []
    for i in range(n):
        with shop.session() as s, shop.jde_engine.connect() as jde:
            carts.add_item(s, Jde(jde, shop.tables), ctx=shop.ctx(who), item=shop.items[i % 5], quantity=1 + i)
            s.commit()
            made.append(orders.place_order(
                s, Jde(jde, shop.tables, "00000"), shop.erp, ctx=shop.ctx(who),
                idempotency_key=f"{prefix}-{i}", ship_to=shop.ships[0].an8, customer_po=f"{prefix}-{i}").order)
    return made


def wait_until_sent(shop, ids, timeout=60.0, procs=()):
    deadline = time.monotonic() + timeout
    while True:
        with shop.session() as s:
            left = s.scalar(sa.select(sa.func.count()).select_from(Order)
                            .where(Order.id.in_(ids), Order.status != "sent"))
        if not left:
            return
        for p in procs:
            assert p.poll() is None, f"process exited early with {p.returncode}: {p.stdout.read() if p.stdout else ''}"
        assert time.monotonic() < deadline, f"{left} order(s) still not sent after {timeout} s"
        time.sleep(0.1)


def start(args, env) -> subprocess.Popen:
    return subprocess.Popen([str(a) for a in args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_until(proc, prefix, timeout=60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"process ended before printing {prefix!r} (exit {proc.wait()})")
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no {prefix!r} line within {timeout} s")


def stop(proc) -> str:
    """SIGTERM, wait, and return what the process printed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)[0] or ""
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0] or ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env, port: int) -> subprocess.Popen:
    """A real gateway (uvicorn) on a loopback port, answering /healthz."""
    proc = start([ECGATEWAY, "serve", "--port", port], env)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the gateway exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the gateway did not answer /healthz within 60 s"
        time.sleep(0.2)


def gateway_env(gw) -> dict[str, str]:
    """The environment of an `ecgateway serve` on gw's databases, with the local ERP."""
    s = gw.settings
    env = dict(os.environ)
    env.update({"ECGW_JDE_URL": s.jde_database_url, "ECGW_PORTAL_URL": s.portal_database_url,
                "ECGW_DATA_DIR": str(s.data_dir), "ECGW_SECRET_KEY": "t" * 48, "ECGW_COOKIE_SECURE": "false",
                "ECGW_ERP_MODE": "local", "ECGW_OUTBOX_POLL_SECONDS": "0.2"})
    if s.jde_schema:
        env["ECGW_JDE_SCHEMA"] = s.jde_schema
    return env
