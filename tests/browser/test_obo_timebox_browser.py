"""In Chromium: a rep gives a reason in the picker and acts on behalf; the banner shows the reason and
the countdown; two minutes before the limit the warning appears (the page's clock run forward with
Playwright's clock), the rep extends once; then the customer's access history lists the session."""

from __future__ import annotations

import re

import pytest

from browser.browser_support import sign_in

pytestmark = pytest.mark.browser


def test_countdown_warning_extension_and_the_customers_access_history(served, browser, shots):
    gw, base = served
    # The page's clock jumps 58 minutes: a rep that busy never sees the idle warning (static/js/idle.js),
    # whose dialog would otherwise cover the banner; the idle timeout is made longer than the time box here.
    idle_before = gw.settings.session_idle_minutes
    gw.settings.session_idle_minutes = 240
    try:
        _walk(gw, base, browser, shots)
    finally:
        gw.settings.session_idle_minutes = idle_before


def _walk(gw, base, browser, shots):
    account = gw.accounts[0]  # cust1's account, in sales1's list
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.clock.install()  # the page's Date and timers, driven by the test (the server keeps real time)

    sign_in(page, base, "sales1")
    page.goto(base + "/accounts")
    page.get_by_label("Reason or ticket number (optional)").fill("Ticket 4711: phone order")
    page.get_by_label("Search by number, name or city").fill(str(account))
    page.wait_for_function(
        "n => { const r = document.querySelectorAll('#accounts-body tr[data-an8]'); return r.length === 1 && r[0].dataset.an8 === String(n); }",
        arg=account)
    shots("01-picker-with-reason", page)
    page.get_by_label("Search by number, name or city").press("Enter")  # picker.js sends the row's form
    page.wait_for_url(base + "/account")
    banner = page.get_by_role("region", name="On behalf of a customer")
    assert "reason: Ticket 4711: phone order" in banner.inner_text()
    countdown = page.get_by_test_id("obo-countdown")
    assert countdown.is_visible() and re.fullmatch(r"(60:00|59:[0-5]\d)", countdown.inner_text())
    warning = page.get_by_test_id("obo-warning")
    assert not warning.is_visible()
    shots("02-banner-countdown", page)

    page.clock.run_for("58:05")  # 1:55 left on the page's clock
    page.wait_for_function("() => !document.querySelector('.obo-warning').hidden")
    assert warning.is_visible() and "ends at" in warning.inner_text()
    assert re.fullmatch(r"1:5\d", countdown.inner_text())
    shots("03-warning-two-minutes-before", page)
    page.set_viewport_size({"width": 390, "height": 844})
    shots("04-warning-at-390px", page)
    box = warning.bounding_box()  # the warning and its button fit (the header's own overflow is issue 15's)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_test_id("obo-extend").click()  # the one extension (audited); back on the same page
    page.wait_for_url(base + "/account")
    assert "extended" in page.get_by_test_id("obo-timebox").inner_text()
    assert page.get_by_test_id("obo-extend").count() == 0
    minutes = int(page.get_by_test_id("obo-countdown").inner_text().split(":")[0])
    assert 118 <= minutes <= 120
    shots("05-extended", page)
    page.get_by_role("region", name="On behalf of a customer").get_by_role("button", name="End").click()
    page.wait_for_url(base + "/accounts")
    context.close()

    # The customer signs in and sees who acted for their account, when, why, what was done.
    cust = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(cust, base, "cust1")
    cust.goto(base + "/account")
    history = cust.get_by_test_id("access-history")
    assert history.is_visible()
    row = history.locator("tbody tr").first
    text = row.inner_text()
    assert "Sales1 Tester" in text and "Ticket 4711: phone order" in text and "(extended)" in text
    shots("06-customer-access-history", cust)
    cust.get_by_role("link", name="All sessions, and e-mailed receipts").click()
    cust.wait_for_url(base + "/account/access-history")
    cust.get_by_role("button", name="E-mail me a receipt of each session").click()
    cust.wait_for_url(base + "/account/access-history")
    assert cust.get_by_role("button", name="Stop the receipts").is_visible()
    shots("07-access-history-page-receipts-on", cust)
    assert errors == []
