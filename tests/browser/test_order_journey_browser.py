"""In Chromium: a rep acts on behalf, adds items at the borrowed prices, chooses a shipping
address and places the order; the customer signs in, sees the order, never saw the rep's cart."""

from __future__ import annotations

import re

import pytest

from browser.browser_support import sign_in
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.erp.base import PriceRequest, PriceRequestLine
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde

pytestmark = pytest.mark.browser


def test_rep_orders_on_behalf_and_the_customer_sees_the_order(served, browser, shots):
    gw, base = served
    account = gw.accounts[0]  # cust1's account, in sales1's list
    rt = gw.runtime
    with rt.jde_engine.connect() as jde:
        billing = billing_addresses(Jde(jde, rt.jde, rt.settings.company), account_an8=account)[0].an8
        ships = shipping_addresses(Jde(jde, rt.jde, rt.settings.company), billing_an8=billing)
    errors: list[str] = []

    rep = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    rep.on("pageerror", lambda e: errors.append(str(e)))
    rep.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    sign_in(rep, base, "sales1")
    rep.goto(f"{base}/accounts/{account}")
    rep.get_by_role("button", name="Act on behalf of this account").click()
    rep.wait_for_url(base + "/account")
    rep.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    rep.wait_for_url(base + "/catalog")
    assert f"Prices from JD Edwards for billing address {billing}" in rep.locator("main").inner_text()
    rows = rep.locator("#catalog-table tbody tr[data-item]")
    available = [rows.nth(i) for i in range(rows.count()) if rows.nth(i).get_by_role("button").count()]
    picked = [row.get_attribute("data-item") for row in available[:2]]
    # the price on the page is JDE's price for the borrowed billing address
    expected = gw.app.state.erp.price(PriceRequest(sold_to=billing, ship_to=billing, company=rt.settings.company,
                                                   branch="", currency=None,
                                                   lines=tuple(PriceRequestLine(i, 1) for i in picked)))
    for line in expected.lines:
        shown = rep.locator(f'#catalog-table tr[data-item="{line.item}"] td.num .price').inner_text()
        assert shown == f"{line.unit_price:,.4f} {line.currency}", (shown, line.unit_price)  # JDE's UPRC decimals
    shots("01-catalog-borrowed-prices", rep)
    # how the first price was made: a disclosure reached and opened with the keyboard
    first = expected.lines[0]
    summary = rep.get_by_text(f"How the price of {first.item} was made", exact=True)
    summary.focus()
    rep.keyboard.press("Enter")
    steps = rep.locator(f'details[data-explains="{first.item}"]')
    assert steps.get_attribute("open") is not None
    assert steps.get_by_role("table").get_by_role("rowheader").all_inner_texts() == [
        s.what for s in first.explanation]
    shots("01b-catalog-price-explained", rep)
    for item, qty in zip(picked, ("3", "5"), strict=True):
        rep.goto(base + "/catalog")
        row = rep.locator(f'#catalog-table tr[data-item="{item}"]')
        row.get_by_label(f"Quantity of {item}").fill(qty)
        row.get_by_role("button", name=f"Add {item} to the cart").click()
        rep.wait_for_function("i => document.getElementById('add-status').innerText.includes(i)", arg=item)
    rep.goto(base + "/cart")  # Add stays on the catalog (issue 15): the cart is one click away
    assert all(item in rep.locator("#cart-table").inner_text() for item in picked)
    shots("02-rep-cart", rep)

    # meanwhile the customer signs in: their cart does not show the rep's
    cust = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    cust.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(cust, base, "cust1")
    cust.goto(base + "/cart")
    assert "The cart is empty" in cust.locator("main").inner_text()
    assert not any(item in cust.content() for item in picked)
    shots("03-customer-cart-while-rep-shops", cust)

    rep.get_by_role("link", name="Check out").click()
    rep.wait_for_url(base + "/checkout")
    target = ships[-1]
    rep.locator(f"#ship-{target.an8}").check()  # its label is the address in full (issue 15)
    rep.get_by_label("Customer PO number").fill("PO-BROWSER-1")
    shots("04-checkout", rep)
    rep.get_by_role("button", name="Place order").click()
    rep.wait_for_url(re.compile(rf"{re.escape(base)}/orders/\d+$"))
    order_id = int(rep.url.rsplit("/", 1)[1])
    text = rep.locator("main").inner_text()
    assert "PO-BROWSER-1" in text and str(target.an8) in text and "waiting to be sent" in text
    assert "Sales1 Tester <sales1@example.com>" in text
    shots("05-order-placed", rep)

    Relay(sessions=rt.portal_sessions, erp=gw.app.state.erp, settings=OutboxSettings()).run_until_idle()

    cust.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    cust.wait_for_url(base + "/orders")
    row = cust.locator(f'#orders-table tr[data-order="{order_id}"]')
    assert "PO-BROWSER-1" in row.inner_text() and "sent" in row.locator("td.status").inner_text()
    shots("06-customer-order-history", cust)
    cust.goto(f"{base}/orders/{order_id}")
    assert "sent to JD Edwards" in cust.locator("#order-status").inner_text()
    cust.goto(base + "/cart")
    assert "The cart is empty" in cust.locator("main").inner_text()
    shots("07-customer-order", cust)
    assert errors == []
