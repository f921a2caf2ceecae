"""16 shoppers at once and the order relay, over a real uvicorn on loopback: no errors (issue 14, point 2).

The black-box probe found 32 "database is locked" 500s in 60 cart updates with 4 concurrent
shoppers on SQLite, and a sequential add failing while the relay wrote. Here 16 customers,
each signed in through the API, read the catalog, add lines, change quantities, read their priced carts and
place an order, all at once (httpx with asyncio), while a relay thread sends the orders to
the local ERP. Any 5xx or broken connection is an error; there must be none, on SQLite and on
PostgreSQL. Bounded: 16 shoppers x 2 rounds, each request with a 60 s time-out, the whole
run within LOAD_SECONDS.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import sqlalchemy as sa

from browser.browser_support import serving
from ecgateway.auth.users import create_user
from ecgateway.commerce.models import Order
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.portal.models import User
from web.web_env import PASSWORD

SHOPPERS = 16
ROUNDS = 2
LOAD_SECONDS = 150


def test_sixteen_shoppers_and_the_relay_give_no_errors(gw):
    shoppers = _customers(gw, SHOPPERS)
    relay = Relay(sessions=gw.runtime.portal_sessions, erp=gw.app.state.erp,
                  settings=OutboxSettings(poll_seconds=0.05, batch_size=2))
    with serving(gw) as base:
        relay.start()
        try:
            started = time.monotonic()
            results = asyncio.run(asyncio.wait_for(_shop_all(base, shoppers), LOAD_SECONDS))
            elapsed = time.monotonic() - started
        finally:
            relay.stop()
    errors = [e for r in results for e in r["errors"]]
    requests = sum(r["requests"] for r in results)
    assert errors == [], f"{len(errors)} errors in {requests} requests ({elapsed:.1f} s): {errors[:5]}"
    placed = [oid for r in results for oid in r["orders"]]
    assert len(placed) == SHOPPERS, results
    relay.run_until_idle()
    with gw.portal() as db:
        sent = db.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.id.in_(placed),
                                                                           Order.status == "sent"))
    assert sent == SHOPPERS
    print(f"{SHOPPERS} shoppers, {requests} requests in {elapsed:.1f} s on {gw.runtime.portal_engine.dialect.name}")


def _customers(gw, n: int) -> list[dict]:
    """n customer users, each on its own account, with an item the ERP prices and a shipping address."""
    found = []
    with gw.runtime.jde_engine.connect() as conn, gw.portal() as db:
        jde = Jde(conn, gw.runtime.jde, gw.settings.company)
        for account in gw.accounts:
            bills = billing_addresses(jde, account_an8=account)
            ships = shipping_addresses(jde, billing_an8=bills[0].an8) if bills else []
            if not ships:
                continue
            login = f"load{account}"
            if db.scalar(sa.select(User).where(User.login == login)) is None:
                create_user(db, login=login, name=f"Load {account}", user_type="Customer",
                            email=f"{login}@example.com", password=PASSWORD, account_an8=account)
            found.append({"login": login, "ship_to": ships[0].an8})
            if len(found) == n:
                break
        db.commit()
    assert len(found) == n, f"only {len(found)} seeded accounts have a shipping address"
    return found


async def _shop_all(base: str, shoppers: list[dict]) -> list[dict]:
    clients = []
    for shopper in shoppers:  # one at a time: sign-in is the password hash, not what is measured
        client = httpx.AsyncClient(base_url=base, timeout=60)
        r = await client.post("/api/v1/session", json={"login": shopper["login"], "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        clients.append(client)
    try:
        return await asyncio.gather(*(_shop(c, s, n) for n, (c, s) in enumerate(zip(clients, shoppers, strict=True))))
    finally:
        for client in clients:
            await client.aclose()


async def _shop(client: httpx.AsyncClient, shopper: dict, n: int) -> dict:
    result = {"requests": 0, "errors": [], "orders": []}

    async def call(method: str, url: str, **kwargs) -> httpx.Response | None:
        result["requests"] += 1
        try:
            r = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            result["errors"].append(f"{method} {url}: {type(exc).__name__} {exc}")
            return None
        if r.status_code >= 500:
            result["errors"].append(f"{method} {url}: {r.status_code} {r.text[:200]}")
        return r

    r = await call("GET", "/api/v1/catalog", params={"limit": 20})
    items = [i["item"] for i in r.json()["items"] if i["available"]][:3] if r is not None and r.status_code == 200 else []
    if not items:
        result["errors"].append(f"no priced item in {shopper['login']}'s catalog")
        return result
    for round_no in range(ROUNDS):
        item = items[(n + round_no) % len(items)]
        await call("POST", "/api/v1/cart/lines", json={"item": item, "quantity": 1 + round_no})
        await call("PUT", f"/api/v1/cart/lines/{item}", json={"quantity": 2 + round_no})
        await call("GET", "/api/v1/cart")
    r = await call("POST", "/api/v1/orders", json={"ship_to": shopper["ship_to"], "customer_po": f"LOAD-{n}"},
                   headers={"Idempotency-Key": f"load-{shopper['login']}-{time.time_ns()}"})
    if r is not None and r.status_code == 201:
        result["orders"].append(r.json()["id"])
    elif r is not None and r.status_code < 500:
        result["errors"].append(f"order refused: {r.status_code} {r.text[:200]}")
    await call("GET", "/api/v1/orders")
    return result
