"""Commerce over HTTP (the app in-process): the JSON API and the pages, for a rep and a customer."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from ecgateway.audit.models import AuditEntry
from ecgateway.commerce.models import Cart, Order
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from web.web_env import csrf_of


def acting(gw, login="sales1", an8=None):
    """A client of a rep acting on behalf of the customer user's account, and its CSRF header."""
    c = gw.client(login)
    token = csrf_of(c)
    r = c.post("/api/v1/obo", json={"an8": an8 or gw.accounts[0]}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def customer(gw):
    c = gw.client("cust1")
    return c, {"X-CSRF-Token": csrf_of(c)}


def priced_items(gw, client, n):
    r = client.get("/api/v1/catalog", params={"limit": 40})
    assert r.status_code == 200, r.text
    return [i["item"] for i in r.json()["items"] if i["available"]][:n]


def ship_tos(gw):
    with gw.runtime.jde_engine.connect() as jde:
        bill = billing_addresses(Jde(jde, gw.runtime.jde, "00000"), account_an8=gw.accounts[0])[0].an8
        return [a.an8 for a in shipping_addresses(Jde(jde, gw.runtime.jde, "00000"), billing_an8=bill)]


def clear(gw):
    with gw.portal() as db:
        db.execute(sa.delete(Order))
        db.execute(sa.delete(Cart))
        db.commit()


def test_rep_cart_is_apart_from_the_customers_and_orders_are_shared(gw):
    clear(gw)
    rep, rep_h = acting(gw)
    cust, cust_h = customer(gw)
    a, b = priced_items(gw, rep, 2)
    assert rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 2}, headers=rep_h).status_code == 201
    assert rep.post("/api/v1/cart", json={"lines": [{"item": b, "quantity": 3}]}, headers=rep_h).status_code == 200
    assert cust.post("/api/v1/cart/lines", json={"item": b, "quantity": 1}, headers=cust_h).status_code == 201
    rep_cart = rep.get("/api/v1/cart").json()
    cust_cart = cust.get("/api/v1/cart").json()
    assert {(ln["item"], ln["quantity"]) for ln in rep_cart["lines"]} == {(a, 2), (b, 3)} and rep_cart["on_behalf"]
    assert [(ln["item"], ln["quantity"]) for ln in cust_cart["lines"]] == [(b, 1)] and not cust_cart["on_behalf"]
    # prices are the ERP's: the client sent none, and a price sent anyway is ignored
    r = rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 1, "unit_price": "0.01"}, headers=rep_h)
    assert r.status_code == 201 and r.json() == {"item": a, "quantity": 3}
    assert all(ln["unit_price"] != "0.01" for ln in rep.get("/api/v1/cart").json()["lines"])

    key = str(uuid.uuid4())
    body = {"ship_to": ship_tos(gw)[0], "customer_po": "PO-HTTP-1"}
    first = rep.post("/api/v1/orders", json=body, headers={**rep_h, "Idempotency-Key": key})
    assert first.status_code == 201, first.text
    order = first.json()
    assert order["on_behalf"] and order["rep_name"] == "Sales1 Tester" and order["rep_email"] == "sales1@example.com"
    assert order["status"] == "waiting" and len(order["lines"]) == 2
    again = rep.post("/api/v1/orders", json=body, headers={**rep_h, "Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == order["id"]
    other = rep.post("/api/v1/orders", json={**body, "customer_po": "PO-HTTP-2"}, headers={**rep_h, "Idempotency-Key": key})
    assert other.status_code == 422 and "different order request" in other.json()["message"]
    missing = rep.post("/api/v1/orders", json=body, headers=rep_h)
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json()["message"]

    assert rep.get("/api/v1/cart").json()["lines"] == []  # ordered lines left the rep's cart
    assert [ln["item"] for ln in cust.get("/api/v1/cart").json()["lines"]] == [b]  # the customer's cart untouched
    # the customer sees the order the rep placed, with who placed it
    mine = cust.get("/api/v1/orders").json()["items"]
    assert [o["id"] for o in mine] == [order["id"]] and mine[0]["rep_name"] == "Sales1 Tester"
    Relay(sessions=gw.runtime.portal_sessions, erp=gw.app.state.erp, settings=OutboxSettings()).run_until_idle()
    seen = cust.get(f"/api/v1/orders/{order['id']}").json()
    assert seen["status"] == "sent" and seen["erp_reference"].startswith("EDI ")


def test_line_changes_and_refusals_over_the_api(gw):
    clear(gw)
    rep, rep_h = acting(gw)
    (a,) = priced_items(gw, rep, 1)
    rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 2}, headers=rep_h)
    r = rep.put(f"/api/v1/cart/lines/{a}", json={"quantity": 7}, headers=rep_h)
    assert r.status_code == 200 and r.json()["quantity"] == 7
    assert rep.put(f"/api/v1/cart/lines/{a}", json={"quantity": 0}, headers=rep_h).status_code == 204
    assert rep.get("/api/v1/cart").json()["lines"] == []
    r = rep.post("/api/v1/cart/lines", json={"item": "NO-SUCH-ITEM", "quantity": 1}, headers=rep_h)
    assert r.status_code == 404 and "item master" in r.json()["message"]
    r = rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 0}, headers=rep_h)
    assert r.status_code == 422
    r = rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 1})  # no CSRF token
    assert r.status_code == 403
    with gw.portal() as db:
        refused = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "cart.add", AuditEntry.outcome == "refused")
                             .order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert refused.actor_login == "sales1" and refused.subject_an8 == gw.accounts[0]


def test_empty_cart_is_staff_only_and_removes_every_cart_of_the_account(gw):
    clear(gw)
    rep, rep_h = acting(gw)
    cust, cust_h = customer(gw)
    (a,) = priced_items(gw, rep, 1)
    rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 1}, headers=rep_h)
    cust.post("/api/v1/cart/lines", json={"item": a, "quantity": 1}, headers=cust_h)
    r = cust.delete("/api/v1/cart", headers=cust_h)
    assert r.status_code == 403 and "staff only" in r.json()["message"]
    # the page asks to confirm first
    page = rep.get("/cart").text
    assert "Empty Cart" in page and 'name="confirm"' in page and "Empty Cart" not in cust.get("/cart").text
    r = rep.post("/cart/empty", data={"csrf_token": rep_h["X-CSRF-Token"]})
    assert r.status_code == 422 and "tick the box" in r.text
    r = rep.post("/cart/empty", data={"csrf_token": rep_h["X-CSRF-Token"], "confirm": "yes"})
    assert r.status_code == 303
    assert rep.get("/api/v1/cart").json()["lines"] == [] and cust.get("/api/v1/cart").json()["lines"] == []
    with gw.portal() as db:
        entries = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "cart.empty")
                             .order_by(AuditEntry.seq)).all()
    assert [(e.actor_login, e.outcome) for e in entries][-3:] == [("cust1", "refused"), ("sales1", "refused"), ("sales1", "ok")]


def test_pages_catalog_cart_checkout_and_a_double_submitted_form_makes_one_order(gw):
    clear(gw)
    rep, rep_h = acting(gw)
    token = rep_h["X-CSRF-Token"]
    catalog = rep.get("/catalog")
    assert catalog.status_code == 200 and "Prices from JD Edwards for billing address" in catalog.text
    (a,) = priced_items(gw, rep, 1)
    assert rep.post("/cart/add", data={"csrf_token": token, "item": a, "quantity": "4"}).status_code == 303
    cart = rep.get("/cart").text
    assert a in cart and "Your cart for account" in cart
    checkout = rep.get("/checkout")
    assert checkout.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', checkout.text).group(1)
    ship = int(re.search(r'name="ship_to" value="(\d+)" checked', checkout.text).group(1))
    assert ship in ship_tos(gw)
    form = {"csrf_token": token, "idempotency_key": key, "ship_to": str(ship), "customer_po": "PO-PAGE"}
    bad = rep.post("/orders", data={**form, "customer_po": ""})
    assert bad.status_code == 422 and "customer PO number must be 1 to 25" in bad.text
    first, second = rep.post("/orders", data=form), rep.post("/orders", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    page = rep.get(first.headers["location"])
    assert "PO-PAGE" in page.text and "Sales1 Tester &lt;sales1@example.com&gt;" in page.text
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    cust, _ = customer(gw)
    history = cust.get("/orders")
    assert history.status_code == 200 and "PO-PAGE" in history.text and "Sales1 Tester (representative)" in history.text
    assert cust.get(first.headers["location"]).status_code == 200


def test_card_number_typed_as_po_is_refused_and_not_echoed(gw):
    clear(gw)
    rep, rep_h = acting(gw)
    (a,) = priced_items(gw, rep, 1)
    rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 1}, headers=rep_h)
    checkout = rep.get("/checkout").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', checkout).group(1)
    r = rep.post("/orders", data={"csrf_token": rep_h["X-CSRF-Token"], "idempotency_key": key,
                                  "ship_to": str(ship_tos(gw)[0]), "customer_po": "4111 1111 1111 1111"})
    assert r.status_code == 422 and "looks like a card number" in r.text
    # no digit of the card comes back; the page's fresh idempotency key (a random UUID) may hold any digits
    page = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "", r.text)
    assert "4111" not in page


def test_a_second_click_while_the_first_is_running_shows_the_same_order(gw):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    clear(gw)
    rep, rep_h = acting(gw)
    (a,) = priced_items(gw, rep, 1)
    rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 1}, headers=rep_h)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', rep.get("/checkout").text).group(1)
    form = {"csrf_token": rep_h["X-CSRF-Token"], "idempotency_key": key, "ship_to": str(ship_tos(gw)[0]),
            "customer_po": "PO-CLICK"}
    real, pricing, release = gw.app.state.erp, threading.Event(), threading.Event()

    class HeldAtPricing:  # the real ERP, held while the first click prices the cart
        def __getattr__(self, name):
            return getattr(real, name)

        def price(self, request):
            if not pricing.is_set():
                pricing.set()
                assert release.wait(30)
            return real.price(request)

    second = gw.client()
    second.cookies = rep.cookies
    gw.app.state.erp = HeldAtPricing()
    try:
        with ThreadPoolExecutor(2) as pool:
            first_click = pool.submit(rep.post, "/orders", data=form)
            assert pricing.wait(30)
            second_click = pool.submit(second.post, "/orders", data=form)
            threading.Timer(1.0, release.set).start()  # the first finishes while the second waits
            one, two = first_click.result(60), second_click.result(60)
    finally:
        gw.app.state.erp = real
    assert one.status_code == two.status_code == 303, (one.text[:300], two.text[:300])
    assert one.headers["location"] == two.headers["location"]
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_checkout_while_the_erp_cannot_price_keeps_cart_and_key(gw, tmp_path):
    from commerce_procs import free_port

    from ecgateway.config import Settings
    from ecgateway.erp.ais import AisErp
    from erp.fake_ais import PASSWORD as AIS_PASSWORD
    from erp.fake_ais import USERNAME as AIS_USER

    clear(gw)
    rep, rep_h = acting(gw)
    (a,) = priced_items(gw, rep, 1)
    rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 2}, headers=rep_h)
    down = AisErp(Settings(data_dir=tmp_path, erp_mode="ais", ais_url=f"http://127.0.0.1:{free_port()}",
                           ais_username=AIS_USER, ais_password=AIS_PASSWORD, ais_timeout_seconds=2.0),
                  max_attempts=1)
    real, gw.app.state.erp = gw.app.state.erp, down
    key = str(uuid.uuid4())
    body = {"ship_to": ship_tos(gw)[0], "customer_po": "PO-DOWN"}
    try:
        r = rep.post("/api/v1/orders", json=body, headers={**rep_h, "Idempotency-Key": key})
        assert r.status_code == 503 and "try again in a minute" in r.json()["message"]
        cart = rep.get("/api/v1/cart")
        assert cart.status_code == 200 and cart.json()["priced"] is False
        assert [ln["item"] for ln in cart.json()["lines"]] == [a]
        page = rep.get("/cart")
        assert page.status_code == 200 and "cannot be fetched from JD Edwards" in page.text
    finally:
        gw.app.state.erp = real
        down.close()
    r = rep.post("/api/v1/orders", json=body, headers={**rep_h, "Idempotency-Key": key})
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


def test_order_history_marks_orders_r47011_has_not_taken(gw):
    clear(gw)
    rep, rep_h = acting(gw)
    (a,) = priced_items(gw, rep, 1)
    assert rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 1}, headers=rep_h).status_code == 201
    body = {"ship_to": ship_tos(gw)[0], "customer_po": "PO-R47011"}
    placed = rep.post("/api/v1/orders", json=body, headers={**rep_h, "Idempotency-Key": str(uuid.uuid4())})
    assert placed.status_code == 201, placed.text
    Relay(sessions=gw.runtime.portal_sessions, erp=gw.app.state.erp, settings=OutboxSettings()).run_until_idle()
    cust, _ = customer(gw)
    history = cust.get("/orders").text
    assert "PO-R47011" in history and "waiting for R47011" not in history
    h = gw.runtime.jde.F47011
    with gw.runtime.jde_engine.begin() as jde:  # written yesterday, and R47011 has not run since
        jde.execute(sa.update(h).where(h.c.syvr01 == "PO-R47011").values(syupmj=h.c.syupmj - 1))
    history = cust.get("/orders").text
    assert "waiting for R47011" in history
    page = cust.get(f"/orders/{placed.json()['id']}").text
    assert "waiting for R47011" in page and "ask JDE operations to run it" in page


def test_price_explanation_for_the_rep_in_the_api_and_on_the_pages(gw):
    """The rep sees how each price was made (JSON and a labelled disclosure per line); the customer does not."""
    clear(gw)
    rep, rep_h = acting(gw)
    items = rep.get("/api/v1/catalog", params={"limit": 40}).json()["items"]
    priced = [i for i in items if i["available"]]
    assert priced
    for line in priced:
        steps = line["explanation"]
        assert steps[0]["what"] == "base price" and steps[0]["source"].startswith("F4106 ")
        assert sum(float(s["amount"]) for s in steps) == pytest.approx(float(line["unit_price"]))
        assert steps[-1]["unit_price"] == line["unit_price"]
    a = priced[0]["item"]
    rep.post("/api/v1/cart/lines", json={"item": a, "quantity": 3}, headers=rep_h)
    cart_line = rep.get("/api/v1/cart").json()["lines"][0]
    assert cart_line["explanation"] and cart_line["explanation"][0]["what"] == "base price"
    for page in (rep.get("/catalog").text, rep.get("/cart").text):
        assert f'<details class="price-explanation" data-explains="{a}">' in page
        assert f"<summary>How the price of {a} was made</summary>" in page
    cust, _ = customer(gw)
    assert all(i["explanation"] == [] for i in cust.get("/api/v1/catalog", params={"limit": 40}).json()["items"])
    assert "price-explanation" not in cust.get("/catalog").text
