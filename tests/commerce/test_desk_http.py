"""The rep's desk over HTTP (issue 15, parts 3, 4, 6, 8): Empty Cart shows and tells, quick entry and
Add that stay on their page, errors in the page's words beside their field, the rep's list in words."""

from __future__ import annotations

import html
import json
import re

import sqlalchemy as sa

from ecgateway.audit.models import AuditEntry
from ecgateway.commerce.carts import MAX_QUANTITY
from ecgateway.commerce.models import Cart, CartNotice, Order
from web.web_env import PASSWORD, csrf_of


def acting(gw, login="sales1", an8=None):
    c = gw.client(login)
    token = csrf_of(c)
    r = c.post("/api/v1/obo", json={"an8": an8 or gw.accounts[0]}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    return c, r.json()["csrf_token"]


def priced_items(client, n):
    r = client.get("/api/v1/catalog", params={"limit": 40})
    return [i["item"] for i in r.json()["items"] if i["available"]][:n]


def clear(gw):
    with gw.portal() as db:
        db.execute(sa.delete(Order))
        db.execute(sa.delete(Cart))
        db.execute(sa.delete(CartNotice))
        db.commit()


def field(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def test_empty_cart_lists_what_it_deletes_reports_it_and_the_customer_is_told(gw):
    clear(gw)
    rep, token = acting(gw)
    cust = gw.client("cust1")
    cust_token = csrf_of(cust)
    a, b, c = priced_items(rep, 3)
    for item, qty in ((a, 2), (b, 5)):
        assert cust.post("/api/v1/cart/lines", json={"item": item, "quantity": qty},
                         headers={"X-CSRF-Token": cust_token}).status_code == 201
    rep.post("/cart/add", data={"csrf_token": token, "item": c, "quantity": "1"})
    page = rep.get("/cart").text
    preview = page.split('id="empty-preview"')[1].split("</table>")[0]
    assert "Empty Cart deletes 2 carts of account" in page and "3 lines in all" in page
    assert "The customer&#39;s own cart" in preview and f"2 × {a}" in preview and f"5 × {b}" in preview
    assert "Your cart" in preview and f"1 × {c}" in preview
    assert "not shown" not in page  # the old page said the customer's cart was separate and not shown
    seen = field(page, "seen")

    # the customer changes their cart meanwhile: the rep's confirmation no longer matches, nothing goes
    cust.post("/api/v1/cart/lines", json={"item": c, "quantity": 1}, headers={"X-CSRF-Token": cust_token})
    r = rep.post("/cart/empty", data={"csrf_token": token, "confirm": "yes", "seen": seen})
    assert r.status_code == 422 and "changed since they were listed" in r.text and 'id="empty-preview"' in r.text
    assert len(cust.get("/api/v1/cart").json()["lines"]) == 3

    r = rep.post("/cart/empty", data={"csrf_token": token, "confirm": "yes", "seen": field(r.text, "seen")})
    assert r.status_code == 303
    after = rep.get("/cart").text
    assert f"Emptied 2 carts of account {gw.accounts[0]}, 4 lines in all" in html.unescape(after)
    assert "the customer's own cart (3 lines)" in html.unescape(after) and "your cart (1 line)" in html.unescape(after)
    assert "has no cart: there is nothing to empty" in after
    assert "Emptied" not in rep.get("/cart").text  # told once
    with gw.portal() as db:
        entry = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "cart.empty")
                           .order_by(AuditEntry.seq.desc()).limit(1)).one()
    detail = json.loads(entry.detail) if isinstance(entry.detail, str) else entry.detail
    assert entry.outcome == "ok" and detail["customer_lines"] == 3 and detail["lines"] == 4

    # the customer's next sign-in says a rep emptied their cart, once
    again = gw.client()
    r = again.post("/login", data={"login": "cust1", "password": PASSWORD})
    landing = html.unescape(again.get(r.headers["location"]).text)
    assert "a representative (Sales1 Tester) emptied your cart" in landing and f"{a}" in landing
    assert "emptied your cart" not in again.get("/account").text


def test_quick_entry_adds_the_line_and_the_cart_page_keeps_the_focus_on_item_number(gw):
    clear(gw)
    rep, token = acting(gw)
    (a,) = priced_items(rep, 1)
    page = rep.get("/cart").text
    assert re.search(r'id="quick-item"[^>]*autofocus', page)
    assert f'id="quick-quantity" name="quantity" min="1" max="{MAX_QUANTITY}"' in page  # the server's own bound
    r = rep.post("/cart/add", data={"csrf_token": token, "item": a, "quantity": "4", "back": "cart"})
    assert r.status_code == 303 and r.headers["location"] == f"/cart?added={a}"
    page = rep.get(r.headers["location"]).text
    assert f"Added {a}" in page and re.search(r'id="quick-item"[^>]*value=""[^>]*autofocus', page)
    assert rep.get("/api/v1/cart").json()["lines"][0]["quantity"] == 4
    assert re.search(r'id="cart-count"[^>]*>1<', page)  # the header's count


def test_a_bad_quantity_is_told_beside_the_field_with_what_was_typed_kept(gw):
    clear(gw)
    rep, token = acting(gw)
    (a,) = priced_items(rep, 1)
    for typed in ("-1", "abc", str(MAX_QUANTITY + 1), "2.5"):
        r = rep.post("/cart/add", data={"csrf_token": token, "item": a, "quantity": typed, "back": "cart"})
        assert r.status_code == 422, (typed, r.status_code)
        assert "Please check the form" not in r.text and 'id="quick-entry"' in r.text
        error = re.search(r'<p class="field-error" id="quick-quantity-error">([^<]*)</p>', r.text).group(1)
        assert f"Quantity must be a whole number from 1 to {MAX_QUANTITY:,}" in html.unescape(error)
        assert f'value="{a}"' in r.text and f'value="{typed}"' in r.text
        assert 'aria-describedby="quick-quantity-error"' in r.text
    r = rep.post("/cart/add", data={"csrf_token": token, "item": "NO-SUCH-ITEM", "quantity": "2", "back": "cart"})
    assert r.status_code == 404 and 'id="quick-item-error"' in r.text and "NO-SUCH-ITEM" in r.text
    # a line's quantity: beside that line
    rep.post("/cart/add", data={"csrf_token": token, "item": a, "quantity": "2"})
    r = rep.post("/cart/update", data={"csrf_token": token, "item": a, "quantity": "-3"})
    assert r.status_code == 422 and 'value="-3"' in r.text and 'id="q-1-error"' in r.text
    assert rep.get("/api/v1/cart").json()["lines"][0]["quantity"] == 2
    # the catalog's Add: drawn again with its search kept and the error beside that row
    r = rep.post("/cart/add", data={"csrf_token": token, "item": a, "quantity": "0", "back": "catalog", "q": a})
    assert r.status_code == 422 and 'id="catalog-table"' in r.text and f'name="q" value="{a}"' in r.text
    assert "Quantity must be a whole number" in r.text


def test_add_from_the_catalog_stays_on_the_catalog(gw):
    clear(gw)
    rep, token = acting(gw)
    a, b = priced_items(rep, 2)
    r = rep.post("/cart/add", data={"csrf_token": token, "item": a, "quantity": "3", "back": "catalog", "q": "FAS",
                                    "offset": "0"})
    assert r.status_code == 303 and r.headers["location"].startswith("/catalog?q=FAS&offset=0&added=")
    assert f"Added {a} to the cart" in rep.get(r.headers["location"]).text
    r = rep.post("/cart/add", data={"csrf_token": token, "item": b, "quantity": "2", "back": "catalog"},
                 headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["cart_lines"] == 2 and f"2 x {b}" in r.json()["message"]
    r = rep.post("/cart/add", data={"csrf_token": token, "item": b, "quantity": "-2", "back": "catalog"},
                 headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "quantity" and r.json()["message"].startswith("Quantity")
    page = rep.get("/catalog").text
    assert re.search(r'id="cart-count"[^>]*>2<', page) and "cart.js" in page and "data-add-to-cart" in page


def test_bad_query_parameters_on_pages_go_back_with_a_message(gw):
    rep, _ = acting(gw)
    r = rep.get("/accounts", params={"q": "x" * 150, "sort": "name"})
    assert r.status_code == 303 and r.headers["location"] == "/accounts?sort=name"
    page = rep.get(r.headers["location"]).text
    assert "The search can be at most 100 characters (it had 150)." in page
    assert "String should have" not in page and "q:" not in page
    r = rep.get("/orders", params={"before_id": "abc"})
    assert r.status_code == 303 and r.headers["location"] == "/orders"
    assert "The position in the list of orders must be a whole number" in html.unescape(rep.get("/orders").text)
    r = rep.get("/catalog", params={"q": "y" * 61})
    assert r.status_code == 303 and "The search can be at most 60 characters" in rep.get("/catalog").text
    admin = gw.client("admin1")
    r = admin.get("/admin/audit", params={"account": "12a", "rep": "sales1"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/audit?rep=sales1"
    assert "is not an account number" in html.unescape(admin.get(r.headers["location"]).text)
    r = rep.get("/orders/not-a-number")
    assert r.status_code == 422 and "The order number must be a whole number" in html.unescape(r.text)
    assert 'href="/orders"' in r.text and "order_id" not in r.text
    assert rep.get("/api/v1/orders", params={"before_id": "abc"}).status_code == 422  # the API keeps its JSON


def test_the_reps_list_is_described_in_words_and_the_admin_still_sees_the_filter(gw):
    text = "ABAC02 IN ('R01','R02','R03')"
    from ecgateway.portal.models import ImpersonateRestriction

    with gw.portal() as db:
        before = db.scalar(sa.select(ImpersonateRestriction.filter_text)
                           .where(ImpersonateRestriction.rep_id == gw.users["ar1"]))
    gw.restrict("ar1", text)
    try:
        page = gw.client("ar1").get("/accounts").text
        assert "You may serve the customer accounts where Category code 2 is R01, R02 or R03." in page
        assert "ABAC02" not in page and "IN (" not in page
        admin = gw.client("admin1").get(f"/admin/restrictions/{gw.users['ar1']}").text
        assert html.escape(text) in admin or text in html.unescape(admin)
    finally:
        gw.restrict("ar1", before)


def test_addresses_in_full_where_a_rep_chooses_or_reads_one_and_amounts_with_the_currencys_decimals(gw):
    import uuid

    from ecgateway.jde.addresses import billing_addresses, postal_addresses, shipping_addresses
    from ecgateway.jde.handle import Jde

    clear(gw)
    rep, token = acting(gw)
    a, b = priced_items(rep, 2)
    rep.post("/cart/add", data={"csrf_token": token, "item": a, "quantity": "3"})
    rep.post("/cart/add", data={"csrf_token": token, "item": b, "quantity": "7"})
    with gw.runtime.jde_engine.connect() as conn:
        jde = Jde(conn, gw.runtime.jde, gw.settings.company)
        sold_to = billing_addresses(jde, account_an8=gw.accounts[0])[0].an8
        ships = shipping_addresses(jde, billing_an8=sold_to)
        postal = postal_addresses(jde, an8s=[gw.accounts[0], sold_to, *(s.an8 for s in ships)])
    page = html.unescape(rep.get("/checkout").text)
    for ship in ships:
        full = postal[ship.an8]
        label = page.split(f'<label for="ship-{ship.an8}">')[1].split("</label>")[0]
        assert f"{full.name}</span> <span class=\"jde-number\">(JDE {ship.an8})" in label
        for part in full.postal_block:  # street lines, "city, state postal code", country
            assert part in label, (part, label)
        assert full.lines and full.postal_code and full.postal_code in label
    # unit prices with JDE's four decimals every time, amounts with the currency's two
    prices = re.findall(r'<td class="num">([\d,]+\.\d+)</td>\s*<td class="num">([\d,]+\.\d+)</td></tr>', page)
    assert prices and all(len(u.split(".")[1]) == 4 and len(x.split(".")[1]) == 2 for u, x in prices), prices
    key = str(uuid.uuid4())
    r = rep.post("/orders", data={"csrf_token": token, "idempotency_key": key, "ship_to": ships[-1].an8,
                                  "customer_po": "PO-ADDR-1"})
    assert r.status_code == 303, r.text[:500]
    order = html.unescape(rep.get(r.headers["location"]).text)
    for an8, where in ((sold_to, "order-sold-to"), (ships[-1].an8, "order-ship-to"), (gw.accounts[0], "order-account")):
        shown = order.split(f'id="{where}"')[1].split("</dd>")[0]
        assert f"(JDE {an8})" in shown and postal[an8].name in shown
        assert all(part in shown for part in postal[an8].postal_block)
    history = html.unescape(rep.get("/orders").text)
    row = history.split("PO-ADDR-1")[1].split("</tr>")[0]
    assert postal[ships[-1].an8].name in row and postal[ships[-1].an8].postal_block[0] in row


def test_amount_and_unit_price_filters():
    from decimal import Decimal

    from ecgateway.config import Settings
    from ecgateway.web.templating import amount, make_templates

    assert amount(Decimal("1974.089"), "USD") == "1,974.09"
    assert amount(Decimal("1974.5"), "JPY") == "1,974" and amount(Decimal("12.3456"), "KWD") == "12.346"
    unit = make_templates(Settings()).env.filters["unit_price"]
    assert unit(Decimal("1909.5711")) == "1,909.5711" and unit(Decimal("1974.089")) == "1,974.0890"
    unpriced = make_templates(Settings()).env.filters["unpriced"]
    said = unpriced("no F4106 price for FAS-00005 in BX CAD effective today (searched: item)")
    assert "F4106" not in said and "No price is set up in JD Edwards for this item" in said
