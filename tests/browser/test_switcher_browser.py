"""The header's account switcher (issue 15, part 2): on every page, Ctrl+K or "/", recent accounts,
search as you type, by a customer PO or an order number, Enter only on what is on screen."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from browser.browser_support import sign_in

pytestmark = pytest.mark.browser

OPTIONS = '#switcher-list [role="option"]'


def _order(gw, *, an8: int, po: str) -> int:
    from ecgateway.commerce.models import Order

    with gw.portal() as db:
        order = Order(erp_key=f"T-{po}", account_an8=an8, sold_to=an8, ship_to=an8, company="00000", branch="M30",
                      currency="USD", customer_po=po, total=Decimal("10.00"), placed_by_login="cust1", on_behalf=False)
        db.add(order)
        db.commit()
        return order.id


def _banner(page) -> str:
    return page.get_by_role("region", name="On behalf of a customer").inner_text()


def _options(page) -> list[str]:
    return page.locator(OPTIONS).evaluate_all("o => o.map(x => x.dataset.an8)")


@pytest.fixture()
def page(slow_served, browser):
    gw, base, slow = slow_served
    slow.delays.clear()
    slow.by_query.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def test_switch_account_from_the_header(slow_served, page, shots):
    gw, base, slow = slow_served
    allowed = gw.allowed_for("sales1")
    first, second = allowed[2], allowed[5]
    outside = gw.accounts[-1]  # not in sales1's list
    po_in = _order(gw, an8=first, po="PO-SWITCH-1")
    _order(gw, an8=outside, po="PO-SWITCH-2")
    sign_in(page, base, "sales1")
    page.wait_for_url(base + "/accounts")

    # Ctrl+K from anywhere focuses the switcher; nothing recent yet.
    page.keyboard.press("Control+k")
    assert page.evaluate("document.activeElement.id") == "switcher-q"
    page.wait_for_function("() => document.getElementById('switcher-status').innerText.includes('No recent')")

    # By customer PO, any case: only the account the restriction allows is offered.
    page.keyboard.type("po-switch")
    page.wait_for_function("() => document.querySelectorAll('#switcher-list [role=option]').length > 0"
                           " && document.getElementById('switcher-list').getAttribute('aria-busy') === 'false'")
    assert _options(page) == [str(first)], _options(page)
    assert "PO PO-SWITCH-1" in page.locator(OPTIONS).first.inner_text()
    assert page.locator("#switcher-q").get_attribute("aria-expanded") == "true"
    shots("01-found-by-po", page)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account")
    assert f"({first})" in _banner(page)

    # By order number, from another page, with "/".
    page.goto(base + "/catalog")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "switcher-q"
    page.wait_for_function("() => document.getElementById('switcher-status').innerText.includes('recent')")
    assert _options(page) == [str(first)]  # the account just served is the recent one
    shots("02-recent", page)
    page.keyboard.type(str(po_in))
    page.wait_for_function(f"() => [...document.querySelectorAll('{OPTIONS}')].some(o => o.innerText.includes('order {po_in}'))")
    shots("03-found-by-order-number", page)
    page.keyboard.press("Escape")
    assert page.locator("#switcher-pop").is_hidden()

    # The race, in the header: a number typed and Enter pressed while the answer is held back.
    slow.delays["/api/v1/desk/search"] = 1.2
    page.keyboard.press("Control+k")
    page.keyboard.press("Control+a")
    page.keyboard.type(str(second))
    time.sleep(0.4)
    page.keyboard.press("Enter")
    shots("04-entered-while-loading", page)
    page.wait_for_url(base + "/account", timeout=8000)
    assert f"({second})" in _banner(page), _banner(page)
    shots("05-switched", page)


def test_a_name_entered_while_loading_waits_for_a_second_enter(slow_served, page):
    gw, base, slow = slow_served
    sign_in(page, base, "sales1")
    page.wait_for_url(base + "/accounts")
    page.keyboard.press("Control+k")
    page.wait_for_function("() => document.getElementById('switcher-list').getAttribute('aria-busy') === 'false'")
    slow.delays["/api/v1/desk/search"] = 1.0
    page.keyboard.type("a")
    time.sleep(0.3)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('switcher-status').innerText.includes('Enter again')", timeout=8000)
    assert page.url.startswith(base + "/accounts")
    chosen = page.locator(f'{OPTIONS}[aria-selected="true"]').get_attribute("data-an8")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account", timeout=8000)
    assert f"({chosen})" in _banner(page)


def test_a_required_reason_is_asked_in_the_switcher_and_goes_with_the_start(slow_served, page, shots):
    """With ECGW_OBO_REASON=required the switcher asks for the reason before acting (it used to send
    none and land on a refusal page), and the reason typed there is stored with the session."""
    import sqlalchemy as sa

    from ecgateway.auth.models import AuthSession

    gw, base, slow = slow_served
    before = gw.settings.obo_reason
    gw.settings.obo_reason = "required"
    try:
        target = gw.allowed_for("sales1")[3]
        sign_in(page, base, "sales1")
        page.wait_for_url(base + "/accounts")
        page.keyboard.press("Control+k")
        page.keyboard.type(str(target))
        page.wait_for_function(f"() => [...document.querySelectorAll('{OPTIONS}')].some(o => o.dataset.an8 === '{target}')")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.id === 'switcher-reason'")
        assert "reason" in page.locator("#switcher-status").inner_text().lower()
        assert page.url.startswith(base + "/accounts")  # nothing was started without the reason
        shots("06-reason-asked", page)
        page.keyboard.type("Ticket 9001: phone order")
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/account", timeout=8000)
        assert f"({target})" in _banner(page)
        with gw.portal() as db:
            row = db.scalar(sa.select(AuthSession).where(AuthSession.user_id == gw.users["sales1"],
                                                         AuthSession.obo_an8 == target))
            assert row is not None and row.obo_reason == "Ticket 9001: phone order"
    finally:
        gw.settings.obo_reason = before
