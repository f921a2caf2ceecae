"""Two real gateway processes (uvicorn on loopback) sharing one portal database: 50 concurrent
submits with one Idempotency-Key, spread over both, give exactly one order in JD Edwards."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa
from commerce_procs import free_port, gateway_env, serve, stop

from ecgateway.auth.models import AuthSession
from ecgateway.auth.sessions import TOUCH_EVERY
from ecgateway.clock import utcnow
from ecgateway.commerce.models import Order
from ecgateway.erp.references import external_reference
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from web.web_env import PASSWORD

SUBMITS = 50
TIMEOUT = 60  # seconds a request may take on a loaded CI machine (httpx's default 5 s timed out there)


def test_fifty_submits_with_one_key_over_two_gateway_processes_give_one_erp_order(gw):
    # Four worker processes share PostgreSQL with the other tests running at the same time: the smallest
    # pools (one connection and one more, per engine and process) keep them under max_connections and
    # make every request wait for the others' connections. Two requests never wait for each other
    # (get_auth: a request waits for a JDE connection only while it holds no portal connection); with
    # the circle CI found, this gave 38 503s of 50 here (pools timed out), and none without it.
    env = {**gateway_env(gw), "ECGW_DB_POOL_SIZE": "1", "ECGW_DB_MAX_OVERFLOW": "1"}
    ports = [free_port(), free_port()]
    servers = [serve(env, port) for port in ports]
    try:
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        # sign in on one process, act and fill the cart on the other: all state is in the database
        r = httpx.post(f"{a}/api/v1/session", json={"login": "sales1", "password": PASSWORD}, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        cookies = dict(r.cookies)
        r = httpx.post(f"{b}/api/v1/obo", json={"an8": gw.accounts[0]}, cookies=cookies,
                       headers={"X-CSRF-Token": r.json()["csrf_token"]}, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        cookies.update(dict(r.cookies))
        headers = {"X-CSRF-Token": r.json()["csrf_token"]}
        items = [i["item"] for i in httpx.get(f"{a}/api/v1/catalog", params={"limit": 40}, cookies=cookies,
                                                  timeout=TIMEOUT).json()["items"]
                 if i["available"]][:3]
        for item in items:
            assert httpx.post(f"{b}/api/v1/cart/lines", json={"item": item, "quantity": 2}, cookies=cookies,
                              headers=headers, timeout=TIMEOUT).status_code == 201
        with gw.runtime.jde_engine.connect() as jde:
            bill = billing_addresses(Jde(jde, gw.runtime.jde, "00000"), account_an8=gw.accounts[0])[0].an8
            ship = shipping_addresses(Jde(jde, gw.runtime.jde, "00000"), billing_an8=bill)[0].an8
            f47011 = gw.runtime.jde.F47011
            before = jde.scalar(sa.select(sa.func.count()).select_from(f47011))

        # As on a loaded CI machine, where the steps above took over TOUCH_EVERY: every submit below finds
        # the session's touch due and writes it (with the touch held open until the on-behalf re-check had
        # its JDE connection, the requests blocked one another until the pools timed out: 503s).
        with gw.portal() as db:
            db.execute(sa.update(AuthSession).where(AuthSession.user_id == gw.users["sales1"])
                       .values(last_seen_at=utcnow() - 2 * TOUCH_EVERY))
            db.commit()

        key = str(uuid.uuid4())
        body = {"ship_to": ship, "customer_po": "PO-TWO-GW"}

        def submit(n: int) -> tuple[int, str | None, int | None]:
            base = (a, b)[n % 2]
            resp = httpx.post(f"{base}/api/v1/orders", json=body, cookies=cookies,
                              headers={**headers, "Idempotency-Key": key}, timeout=TIMEOUT)
            order_id = resp.json().get("id") if resp.status_code == 201 else None
            return resp.status_code, resp.headers.get("Idempotent-Replayed"), order_id

        with ThreadPoolExecutor(SUBMITS) as pool:
            results = list(pool.map(submit, range(SUBMITS)))
        statuses = sorted({s for s, _, _ in results})
        assert set(statuses) <= {201, 409}, results
        first = [r for r in results if r[0] == 201 and r[1] is None]
        assert len(first) == 1, results  # one request made the order; the others replayed it or got 409
        assert {oid for _, _, oid in results if oid is not None} == {first[0][2]}

        deadline = time.monotonic() + 60
        while True:  # the relays in both processes race for the outbox row
            with gw.portal() as db:
                order = db.get(Order, first[0][2])
            if order.status == "sent":
                break
            assert time.monotonic() < deadline, f"order still {order.status} after 60 s: {order.status_detail}"
            time.sleep(0.2)
        with gw.runtime.jde_engine.connect() as jde:
            assert jde.scalar(sa.select(sa.func.count()).select_from(f47011)
                              .where(f47011.c.syvr02 == external_reference(order.erp_key))) == 1
            assert jde.scalar(sa.select(sa.func.count()).select_from(f47011)) == before + 1
    finally:
        for server in servers:
            print(stop(server)[-20000:])  # shown by pytest when the test fails
