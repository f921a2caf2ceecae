"""The gateway in AIS mode against the strict fake AIS (tests/erp/fake_ais.py), over HTTP.

A rep's journey (sign in, catalog, cart, checkout, the order sent by the server's own relay)
holds one AIS session: one token, logged out once when the server stops. An order JDE
refuses for a business reason is rejected with JDE's words, shown to the rep and the
customer, never retried, never counted by the breaker; its lines go back into the cart and
the order is placed again under a new key once the cause is fixed.
"""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from ecgateway.commerce.models import Cart, Order, OutboxMessage
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from erp.fake_ais import ORDER, PASSWORD, USERNAME, FakeAis, serve
from web.web_env import BASE_URL, build_gateway
from web.web_env import PASSWORD as USER_PASSWORD

DEVICE = "ecgw-journey"
CREDIT_HOLD = "Customer is on credit hold: Credit Control must release it before new orders"


class Switch:
    app: FakeAis | None = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def ais_server():
    switch = Switch()
    with serve(switch) as url:
        yield switch, url


@pytest.fixture
def ais_gw(ais_server, jde_db, portal_url, tmp_path, monkeypatch):
    """A fresh strict fake AIS (tokens idle out after 10 minutes) and a gateway in AIS mode on it."""
    switch, url = ais_server
    switch.app = FakeAis(idle_timeout=600)
    gateway = build_gateway(jde_db, portal_url, tmp_path, erp_mode="ais", ais_url=url, ais_username=USERNAME,
                            ais_password=PASSWORD, ais_device_name=DEVICE, ais_timeout_seconds=5.0)
    with gateway.portal() as db:
        for model in (OutboxMessage, Order, Cart):
            db.execute(sa.delete(model))
        db.commit()
    yield gateway, switch.app
    gateway.app.state.erp.close()
    gateway.runtime.dispose()


def sign_in(client: TestClient, login: str) -> None:
    r = client.post("/login", data={"login": login, "password": USER_PASSWORD})
    assert r.status_code == 303, r.text[:300]


def csrf(client: TestClient) -> str:
    return client.get("/api/v1/session").json()["csrf_token"]


def act_on_behalf(client: TestClient, account: int) -> None:
    r = client.post("/api/v1/obo", json={"an8": account}, headers={"X-CSRF-Token": csrf(client)})
    assert r.status_code == 200, r.text


def fill_cart(client: TestClient, n: int) -> list[str]:
    page = client.get("/catalog")
    assert page.status_code == 200, page.text[:500]
    items = re.findall(r'<tr data-item="([^"]+)"', page.text)[:n]
    assert len(items) == n, page.text[:500]
    for qty, item in enumerate(items, start=2):
        r = client.post("/cart/add", data={"item": item, "quantity": qty, "csrf_token": csrf(client)})
        assert r.status_code == 303, r.text[:300]
    assert client.get("/cart").status_code == 200
    return items


def check_out(client: TestClient, gw, po: str) -> int:
    page = client.get("/checkout")
    assert page.status_code == 200, page.text[:500]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    r = client.post("/orders", data={"idempotency_key": key, "ship_to": ship_to(gw), "customer_po": po,
                                     "csrf_token": csrf(client)})
    assert r.status_code == 303, r.text[:500]
    return int(r.headers["location"].rsplit("/", 1)[1])


def ship_to(gw) -> int:
    rt = gw.runtime
    with rt.jde_engine.connect() as jde:
        bill = billing_addresses(Jde(jde, rt.jde, rt.settings.company), account_an8=gw.accounts[0])[0].an8
        return shipping_addresses(Jde(jde, rt.jde, rt.settings.company), billing_an8=bill)[0].an8


def sold_to(gw) -> int:
    rt = gw.runtime
    with rt.jde_engine.connect() as jde:
        return billing_addresses(Jde(jde, rt.jde, rt.settings.company), account_an8=gw.accounts[0])[0].an8


def status_of(gw, order_id: int) -> str:
    with gw.portal() as db:
        return db.scalar(sa.select(Order.status).where(Order.id == order_id))


def relay(gw) -> Relay:
    return Relay(sessions=gw.runtime.portal_sessions, erp=gw.app.state.erp, settings=OutboxSettings())


def test_a_reps_journey_holds_one_ais_session_logged_out_at_shutdown(ais_gw):
    gw, fake = ais_gw
    with TestClient(gw.app, base_url=BASE_URL, follow_redirects=False) as rep:  # runs the lifespan: the relay too
        sign_in(rep, "sales1")
        act_on_behalf(rep, gw.accounts[0])
        fill_cart(rep, 2)
        order_id = check_out(rep, gw, "PO-AIS-1")
        deadline = time.monotonic() + 15
        while status_of(gw, order_id) != "sent":  # the server's own relay sends it
            assert time.monotonic() < deadline, "the relay did not send the order within 15 s"
            time.sleep(0.1)
        assert "sent to JD Edwards" in rep.get(f"/orders/{order_id}").text
        [token] = fake.tokens
        assert len(fake.token_requests) == 1 and fake.logouts == []
    assert fake.logouts == [token] and fake.tokens == set()  # logged out once, as the server stopped
    assert len(fake.token_requests) == 1
    assert fake.refused == [] and set(fake.devices_seen) == {DEVICE}
    assert len(fake.orders) == 1


def test_a_token_that_idled_out_is_replaced_without_the_rep_noticing(ais_gw):
    gw, fake = ais_gw
    rep = gw.client("sales1")
    act_on_behalf(rep, gw.accounts[0])
    fill_cart(rep, 1)
    fake.idle_for(601)
    assert rep.get("/cart").status_code == 200
    assert rep.get("/catalog").status_code == 200
    assert len(fake.token_requests) == 2
    assert [why for _path, why in fake.refused] == ["the session timed out"]


def test_a_refused_order_shows_jdes_reason_and_is_placed_again_after_the_fix(ais_gw):
    gw, fake = ais_gw
    fake.hold(sold_to(gw), CREDIT_HOLD)
    rep = gw.client("sales1")
    act_on_behalf(rep, gw.accounts[0])
    items = fill_cart(rep, 2)
    order_id = check_out(rep, gw, "PO-HELD-1")
    erp = gw.app.state.erp
    for _ in range(3):  # the relay keeps going: nothing is retried, nothing counted
        relay(gw).run_until_idle()
    assert status_of(gw, order_id) == "rejected"
    assert fake.calls_to(ORDER) == 1 and fake.orders == {}
    assert erp.breaker.state == "closed" and erp.breaker._failures == 0

    page = rep.get(f"/orders/{order_id}").text
    assert CREDIT_HOLD in page and "Put these lines back in the cart" in page
    assert CREDIT_HOLD in rep.get("/orders").text
    customer = gw.client("cust1")
    assert CREDIT_HOLD in customer.get(f"/orders/{order_id}").text and CREDIT_HOLD in customer.get("/orders").text
    from ecgateway.commerce.outbox import outbox_report

    with gw.portal() as db:
        report = "\n".join(outbox_report(db))
    assert f"order {order_id}" in report and CREDIT_HOLD in report and "dead 1" in report

    assert rep.get("/cart").text.count('<tr data-item="') == 0  # ordered lines left the cart
    r = rep.post(f"/orders/{order_id}/cart", data={"csrf_token": csrf(rep)})
    assert r.status_code == 303 and r.headers["location"] == "/cart"
    again = rep.post(f"/orders/{order_id}/cart", data={"csrf_token": csrf(rep)})  # a second click adds nothing
    assert again.status_code == 303
    cart = rep.get("/api/v1/cart").json()
    assert [(ln["item"], ln["quantity"]) for ln in cart["lines"]] == [(item, n) for n, item in enumerate(items, 2)]

    fake.release(sold_to(gw))
    second = check_out(rep, gw, "PO-HELD-1")
    relay(gw).run_until_idle()
    assert second != order_id and status_of(gw, second) == "sent" and status_of(gw, order_id) == "rejected"
    assert len(fake.orders) == 1 and fake.calls_to(ORDER) == 2
    with gw.portal() as db:
        keys = db.scalars(sa.select(Order.erp_key).where(Order.id.in_([order_id, second]))).all()
    assert len(set(keys)) == 2  # placed again under a new key


def test_a_cart_jde_refuses_to_price_shows_why_and_the_line_can_be_removed(ais_gw):
    gw, fake = ais_gw
    rep = gw.client("sales1")
    act_on_behalf(rep, gw.accounts[0])
    good, bad = fill_cart(rep, 2)
    reason = f"Item {bad} may not be sold to this customer (export restriction)"
    fake.block(bad, reason)
    page = rep.get("/cart")
    assert page.status_code == 200 and reason in page.text  # the cart, unpriced, with JDE's words
    assert f'<tr data-item="{bad}">' in page.text and f'<tr data-item="{good}">' in page.text
    checkout = rep.get("/checkout")
    assert reason in checkout.text and "The cart is empty" not in checkout.text
    api = rep.get("/api/v1/cart").json()
    assert api["priced"] is False and reason in api["message"]
    assert gw.app.state.erp.breaker.state == "closed"
    r = rep.post("/cart/remove", data={"item": bad, "csrf_token": csrf(rep)})
    assert r.status_code == 303
    page = rep.get("/cart")
    assert page.status_code == 200 and reason not in page.text and 'id="cart-total"' in page.text
    order_id = check_out(rep, gw, "PO-BLOCKED-1")
    relay(gw).run_until_idle()
    assert status_of(gw, order_id) == "sent"


def test_putting_back_a_sent_order_or_anothers_order_is_refused(ais_gw):
    gw, fake = ais_gw
    rep = gw.client("sales1")
    act_on_behalf(rep, gw.accounts[0])
    fill_cart(rep, 1)
    order_id = check_out(rep, gw, "PO-SENT-1")
    relay(gw).run_until_idle()
    r = rep.post(f"/orders/{order_id}/cart", data={"csrf_token": csrf(rep)})
    assert r.status_code == 422 and "only a rejected order" in r.text
    other = gw.client("sales1")
    act_on_behalf(other, gw.accounts[1])
    assert other.post(f"/orders/{order_id}/cart", data={"csrf_token": csrf(other)}).status_code == 404
    no_csrf = rep.post(f"/orders/{order_id}/cart", data={})
    assert no_csrf.status_code == 403
