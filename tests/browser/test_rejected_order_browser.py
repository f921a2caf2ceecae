"""In Chromium, the gateway in AIS mode against the strict fake AIS: JD Edwards refuses the rep's
order because the sold-to is on credit hold; the rep reads JDE's reason on the order, Credit
Control lifts the hold, the rep puts the lines back in the cart and places the order again."""

from __future__ import annotations

import re

import pytest

from browser.browser_support import serving, sign_in
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.jde.addresses import billing_addresses
from ecgateway.jde.handle import Jde
from erp.fake_ais import ORDER, PASSWORD, USERNAME, FakeAis, serve
from web.web_env import build_gateway

pytestmark = pytest.mark.browser

CREDIT_HOLD = "Customer on credit hold: Credit Control must release the hold before new orders"


@pytest.fixture(scope="module")
def ais_served(jde_db, portal_url, tmp_path_factory):
    """The strict fake AIS, and the gateway in AIS mode on it under uvicorn; yields (gateway, fake, base URL)."""
    fake = FakeAis(idle_timeout=600)
    with serve(fake) as ais_url:
        gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("browser-ais"), erp_mode="ais",
                                ais_url=ais_url, ais_username=USERNAME, ais_password=PASSWORD,
                                ais_device_name="ecgw-browser", ais_timeout_seconds=5.0)
        with serving(gateway) as base:
            yield gateway, fake, base
        gateway.app.state.erp.close()
        gateway.runtime.dispose()


def check_out(rep, base, po):
    rep.goto(base + "/cart")
    rep.get_by_role("link", name="Check out").click()
    rep.wait_for_url(base + "/checkout")
    rep.get_by_label("Customer PO number").fill(po)
    rep.get_by_role("button", name="Place order").click()
    rep.wait_for_url(re.compile(rf"{re.escape(base)}/orders/\d+$"))
    return int(rep.url.rsplit("/", 1)[1])


def test_a_refused_order_shows_jdes_reason_and_goes_through_after_the_fix(ais_served, browser, shots):
    gw, fake, base = ais_served
    account = gw.accounts[0]
    rt = gw.runtime
    with rt.jde_engine.connect() as jde:
        sold_to = billing_addresses(Jde(jde, rt.jde, rt.settings.company), account_an8=account)[0].an8
    fake.hold(sold_to, CREDIT_HOLD)
    relay = Relay(sessions=rt.portal_sessions, erp=gw.app.state.erp, settings=OutboxSettings())
    errors: list[str] = []

    rep = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    rep.on("pageerror", lambda e: errors.append(str(e)))
    rep.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    sign_in(rep, base, "sales1")
    rep.goto(f"{base}/accounts/{account}")
    rep.get_by_role("button", name="Act on behalf of this account").click()
    rep.wait_for_url(base + "/account")
    rep.goto(base + "/catalog")
    rows = rep.locator("#catalog-table tbody tr[data-item]")
    picked = [rows.nth(i).get_attribute("data-item") for i in range(2)]
    shots("01-catalog-priced-by-ais", rep)
    for item, qty in zip(picked, ("2", "4"), strict=True):
        rep.goto(base + "/catalog")
        row = rep.locator(f'#catalog-table tr[data-item="{item}"]')
        row.get_by_label(f"Quantity of {item}").fill(qty)
        row.get_by_role("button", name=f"Add {item} to the cart").click()
        rep.wait_for_function("i => document.getElementById('add-status').innerText.includes(i)", arg=item)
    rep.goto(base + "/cart")  # Add stays on the catalog (issue 15): the cart is one click away
    shots("02-cart", rep)
    first = check_out(rep, base, "PO-HOLD-1")
    shots("03-order-waiting", rep)

    relay.run_until_idle()  # JD Edwards refuses it: the sold-to is on credit hold
    rep.reload()
    assert CREDIT_HOLD in rep.locator("#order-reason").inner_text()
    assert "rejected by JD Edwards" in rep.locator("#order-status").inner_text()
    shots("04-order-rejected-with-jdes-reason", rep)
    rep.goto(base + "/orders")
    row = rep.locator(f'#orders-table tr[data-order="{first}"]')
    assert CREDIT_HOLD in row.inner_text()
    shots("05-order-history-shows-the-reason", rep)
    assert fake.calls_to(ORDER) == 1 and gw.app.state.erp.breaker.state == "closed"

    fake.release(sold_to)  # Credit Control lifts the hold in JD Edwards
    row.get_by_role("link", name=f"Place order {first} again").click()
    rep.wait_for_url(f"{base}/orders/{first}")
    rep.get_by_role("button", name="Put these lines back in the cart").click()
    rep.wait_for_url(base + "/cart")
    cart = rep.locator("#cart-table").inner_text()
    assert all(item in cart for item in picked)
    shots("06-lines-back-in-the-cart", rep)
    second = check_out(rep, base, "PO-HOLD-1")
    assert second != first
    relay.run_until_idle()
    rep.reload()
    assert "sent to JD Edwards" in rep.locator("#order-status").inner_text()
    shots("07-placed-again-and-sent", rep)
    rep.goto(base + "/orders")
    assert "sent" in rep.locator(f'#orders-table tr[data-order="{second}"] td.status').inner_text()
    assert "rejected" in rep.locator(f'#orders-table tr[data-order="{first}"] td.status').inner_text()
    shots("08-order-history-after", rep)
    assert len(fake.orders) == 1 and fake.calls_to(ORDER) == 2
    assert len(fake.token_requests) == 1 and fake.refused == []
    assert errors == []
