"""Keyboard only, no mouse (issue 15, done-when): from sign-in to a placed order for an account found
with the header switcher. Every step is a key press (Tab, Enter, Ctrl+K, typing); the mouse is never
used, and the focus is checked before each Enter so the test goes where a person's Tab would."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from web.web_env import PASSWORD

pytestmark = pytest.mark.browser


def tab_to(page, predicate: str, *, limit: int = 120, shift: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element satisfies predicate (JS, given the element)."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if shift else "Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!el && ({predicate})(el); }}"):
            return
    raise AssertionError(f"Tab never reached an element for {predicate}")


def test_keyboard_only_from_sign_in_to_a_placed_order(served, browser, shots):
    gw, base = served
    account = gw.allowed_for("sales1")[3]
    from ecgateway.jde.addresses import postal_addresses
    from ecgateway.jde.handle import Jde

    with gw.runtime.jde_engine.connect() as jde:
        name = postal_addresses(Jde(jde, gw.runtime.jde), an8s=[account])[account].name
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Sign in: the login field has the focus; Tab to the password, Enter.
    page.goto(base + "/login")
    assert page.evaluate("document.activeElement.id") == "login"
    page.keyboard.type("sales1")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/accounts")
    shots("01-signed-in", page)

    # Ctrl+K: the header switcher; search by name, the account's row highlighted, Enter.
    page.keyboard.press("Control+k")
    page.keyboard.type(name.lower())
    page.wait_for_function(
        "n => { const o = document.querySelector('#switcher-list [role=option][aria-selected=true]');"
        " return o && o.dataset.an8 === n && document.getElementById('switcher-list').getAttribute('aria-busy') === 'false'; }",
        arg=str(account))
    shots("02-switcher-found", page)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account")
    assert f"({account})" in page.get_by_role("region", name="On behalf of a customer").inner_text()

    # To the catalog through the header's link, add the first item.
    tab_to(page, "el => el.tagName === 'A' && el.textContent.trim() === 'Catalog'")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/catalog**")
    tab_to(page, "el => el.tagName === 'BUTTON' && el.textContent.trim() === 'Add'")
    shots("03-catalog-add-focused", page)
    try:  # Add goes to the cart, or (catalog that stays on the page) updates the header's count
        with page.expect_navigation(timeout=3000):
            page.keyboard.press("Enter")
    except PlaywrightTimeout:
        pass

    # To the cart (the header's link), then Check out.
    if not page.url.startswith(base + "/cart"):
        tab_to(page, "el => el.tagName === 'A' && el.getAttribute('href') === '/cart'", shift=True)
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/cart**")
    tab_to(page, "el => el.tagName === 'A' && el.textContent.trim() === 'Check out'")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/checkout**")

    # The PO, then Place order.
    tab_to(page, "el => el.name === 'customer_po'")
    page.keyboard.type("KBD-WALK-15")
    tab_to(page, "el => el.tagName === 'BUTTON' && el.textContent.trim() === 'Place order'")
    shots("04-checkout", page)
    page.keyboard.press("Enter")
    page.wait_for_url("**/orders/**")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Order ")
    assert "KBD-WALK-15" in page.locator("main").inner_text()
    assert f"({account})" in page.get_by_role("region", name="On behalf of a customer").inner_text()
    shots("05-order-placed", page)
    assert not errors, errors
    context.close()
