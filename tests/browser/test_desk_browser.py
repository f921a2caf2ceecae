"""In Chromium, the rep's desk (issue 15, parts 3, 4 and 6): Add stays on the catalog and counts in the
header, quick entry by item number keeps the focus, errors beside their field with what was typed kept,
a bad page parameter goes back with a message, Empty Cart shows what it deletes and tells the customer."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from browser.browser_support import sign_in
from ecgateway.commerce.models import Cart, CartNotice
from web.web_env import csrf_of

pytestmark = pytest.mark.browser


def _priced(gw, n: int) -> list[str]:
    client = gw.client("cust1")
    items = client.get("/api/v1/catalog", params={"limit": 40}).json()["items"]
    return [i["item"] for i in items if i["available"]][:n]


def test_the_reps_desk_in_the_browser(served, browser, shots):
    gw, base = served
    account = gw.accounts[0]  # cust1's account, in sales1's list
    with gw.portal() as db:
        db.execute(sa.delete(Cart))
        db.execute(sa.delete(CartNotice))
        db.commit()
    a, b, c, d = _priced(gw, 4)
    cust_api = gw.client("cust1")  # the customer's own cart, filled meanwhile
    token = csrf_of(cust_api)
    for item, qty in ((a, 2), (b, 1)):
        assert cust_api.post("/api/v1/cart/lines", json={"item": item, "quantity": qty},
                             headers={"X-CSRF-Token": token}).status_code == 201
    errors: list[str] = []
    rep = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    rep.on("pageerror", lambda e: errors.append(str(e)))
    rep.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    sign_in(rep, base, "sales1")

    # 6. A search too long for the picker: back on the picker with the reason in words
    rep.goto(base + "/accounts?q=" + "x" * 150)
    assert rep.url == base + "/accounts"
    assert "The search can be at most 100 characters (it had 150)." in rep.locator("body").inner_text()
    shots("01-long-search-sent-back", rep)

    rep.goto(f"{base}/accounts/{account}")
    rep.get_by_role("button", name="Act on behalf of this account").click()
    rep.wait_for_url(base + "/account")
    count = rep.locator("#cart-count")
    assert count.inner_text() == "0"

    # 4. Add from the catalog stays on the catalog, with its search, and counts in the header
    rep.goto(f"{base}/catalog?q={a}")
    row = rep.locator(f'#catalog-table tr[data-item="{a}"]')
    row.get_by_label(f"Quantity of {a}").fill("3")
    row.get_by_role("button", name=f"Add {a} to the cart").click()
    rep.wait_for_function("() => document.getElementById('cart-count').innerText === '1'")
    assert rep.url == f"{base}/catalog?q={a}" and rep.get_by_label("Item number or description").input_value() == a
    assert f"Added 3 x {a} to the cart" in rep.locator("#add-status").inner_text()
    shots("02-catalog-add-stays", rep)

    # 6. A quantity the browser lets through only when its bound is taken away: the server's words, beside it
    qty = row.get_by_label(f"Quantity of {a}")
    qty.fill("-2")
    row.get_by_role("button", name=f"Add {a} to the cart").click()
    assert rep.evaluate("el => !el.validity.valid", qty.element_handle())  # the form's own bound (min 1) holds it
    qty.evaluate("el => el.removeAttribute('min')")
    row.get_by_role("button", name=f"Add {a} to the cart").click()
    beside = row.locator(".field-error")
    beside.wait_for()
    assert "Quantity must be a whole number from 1 to 99,999, not '-2'" in beside.inner_text()
    assert qty.input_value() == "-2" and qty.get_attribute("aria-invalid") == "true"
    assert rep.evaluate("document.activeElement.id") == qty.get_attribute("id")
    assert count.inner_text() == "1"
    shots("03-catalog-error-beside-the-quantity", rep)

    # 4. Quick entry on the cart page: item number, Tab, quantity, Enter; the focus comes back to Item number
    rep.get_by_role("navigation", name="Main").get_by_role("link", name="Cart").click()
    rep.wait_for_url(base + "/cart")
    assert rep.evaluate("document.activeElement.id") == "quick-item"
    for item, n in ((c, "4"), (d, "6")):
        rep.keyboard.type(item)
        rep.keyboard.press("Tab")
        rep.keyboard.press("Control+A")
        rep.keyboard.type(n)
        rep.keyboard.press("Enter")
        rep.wait_for_url(f"{base}/cart?added={item}")
        assert rep.evaluate("document.activeElement.id") == "quick-item"
        assert rep.locator(f'#cart-table tr[data-item="{item}"] input[name=quantity]').input_value() == n
    assert rep.locator("#cart-count").inner_text() == "3"
    shots("04-quick-entry", rep)

    # 6. An item number that does not exist: beside the field, what was typed kept, on the same page
    rep.keyboard.type("NOPE-0001")
    rep.keyboard.press("Tab")
    rep.keyboard.press("Control+A")
    rep.keyboard.type("5")
    rep.keyboard.press("Enter")
    rep.wait_for_url(base + "/cart/add")  # the cart page drawn again by the form's own answer
    error = rep.locator("#quick-item-error")
    assert "'NOPE-0001' is not in the JD Edwards item master" in error.inner_text()
    assert rep.get_by_label("Quantity", exact=True).input_value() == "5"
    assert rep.get_by_label("Item number").input_value() == "NOPE-0001"
    assert rep.locator("#cart-table tr[data-item]").count() == 3  # the cart is still there, under the form
    shots("05-quick-entry-unknown-item", rep)

    # 3. Empty Cart: what it deletes, the customer's lines included, before the confirmation
    rep.goto(base + "/cart")
    preview = rep.locator("#empty-preview")
    customer_row = preview.locator('tr[data-cart="customer"]')
    assert "The customer's own cart" in customer_row.inner_text()
    assert f"2 × {a}" in customer_row.inner_text() and f"1 × {b}" in customer_row.inner_text()
    assert "Empty Cart deletes 2 carts" in rep.locator("#empty-summary").inner_text()
    assert "5 lines in all" in rep.locator("#empty-summary").inner_text()
    rep.locator("#empty-cart").scroll_into_view_if_needed()
    shots("06-empty-cart-preview", rep)
    rep.get_by_label("I understand").check()
    rep.get_by_role("button", name="Empty Cart").click()
    rep.wait_for_url(base + "/cart")
    told = rep.locator(".notice").inner_text()
    assert f"Emptied 2 carts of account {account}, 5 lines in all" in told
    assert "the customer's own cart (2 lines)" in told and "your cart (3 lines)" in told
    assert rep.locator("#cart-count").inner_text() == "0"
    shots("07-empty-cart-done", rep)

    # 3. The customer's next sign-in says so
    cust = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    cust.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(cust, base, "cust1")
    notice = cust.locator(".notice").inner_text()
    assert "a representative (Sales1 Tester) emptied your cart" in notice and f"2 x {a}" in notice
    shots("08-customer-told", cust)
    cust.reload()
    assert cust.locator(".notice").count() == 0  # once
    assert not errors, errors
    assert len(list(shots.folder.glob("*.png"))) == 8
