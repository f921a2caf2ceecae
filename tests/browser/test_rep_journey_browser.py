"""A rep in Chromium: sign in, search, act on behalf, see banner and addresses, switch, end."""

from __future__ import annotations

import pytest

from web.web_env import PASSWORD

pytestmark = pytest.mark.browser


def test_rep_journey_in_the_browser(served, browser, shots):
    gw, base = served
    first, second = gw.allowed_for("sales1")[1], gw.allowed_for("sales1")[4]
    with gw.runtime.jde_engine.connect() as jde:
        from ecgateway.jde.addresses import postal_addresses
        from ecgateway.jde.handle import Jde

        names = {a: p.name for a, p in postal_addresses(Jde(jde, gw.runtime.jde), an8s=[first, second]).items()}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 or r.status == 404 else None)

    # 1. Signing in: an anonymous visit to the picker lands on the sign-in page.
    page.goto(base + "/accounts")
    assert "/login" in page.url
    shots("01-sign-in", page)
    page.get_by_label("Login").fill("sales1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/accounts")
    assert "Sales1 Tester" in page.locator("header .who").inner_text()
    assert page.evaluate("document.activeElement.id") == "q"  # the search field has the focus
    shots("02-picker", page)

    # 2. Search as you type, then keyboard: the first row is highlighted, Enter acts on it.
    page.keyboard.type(str(first))
    page.wait_for_function(
        "n => { const r = document.querySelectorAll('#accounts-body tr[data-an8]'); return r.length === 1 && r[0].dataset.an8 === String(n); }",
        arg=first)
    assert page.locator('#accounts-body tr[aria-selected="true"]').get_attribute("data-an8") == str(first)
    shots("03-searched", page)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account")
    banner = page.get_by_role("region", name="On behalf of a customer")
    assert banner.is_visible()
    assert f"Acting on behalf of {names[first]} ({first})" in banner.inner_text()
    assert "Sales1 Tester" in page.locator("header .who").inner_text()  # still the rep in the top navigation
    assert page.get_by_role("heading", name="Billing addresses").is_visible()
    assert page.locator("article.billing").count() >= 1
    shots("04-acting-account-page", page)

    # 3. A shipping address from the billing address in use.
    page.get_by_role("button", name="Ship here").first.click()
    page.wait_for_url(base + "/account")
    assert "shipping" in page.get_by_role("region", name="On behalf of a customer").inner_text()
    shots("05-shipping-chosen", page)

    # 4. Switch to another account: Change, search by name, arrow down to it, Enter.
    page.get_by_role("region", name="On behalf of a customer").get_by_role("link", name="Change").click()
    page.wait_for_url(base + "/accounts")
    search = page.get_by_label("Search by number, name or city")
    search.fill(names[second].lower())  # by name this time, in lower case
    page.wait_for_function(
        "([n, name]) => { const rows = [...document.querySelectorAll('#accounts-body tr[data-an8]')];"
        " return rows.some(r => r.dataset.an8 === String(n))"
        " && rows.every(r => r.children[1].innerText.toLowerCase().includes(name)); }",
        arg=[second, names[second].lower()])
    rows = page.locator("#accounts-body tr[data-an8]")
    position = [rows.nth(i).get_attribute("data-an8") for i in range(rows.count())].index(str(second))
    for _ in range(position):
        search.press("ArrowDown")
    assert page.locator('#accounts-body tr[aria-selected="true"]').get_attribute("data-an8") == str(second)
    search.press("Enter")
    page.wait_for_url(base + "/account")
    text = page.get_by_role("region", name="On behalf of a customer").inner_text()
    assert f"({second})" in text and f"({first})" not in text
    shots("06-switched", page)

    # 5. Sort and keyboard over several rows: ArrowDown moves the highlight.
    page.goto(base + "/accounts")
    page.get_by_label("Sort by").select_option("name")
    page.wait_for_function("() => document.querySelectorAll('#accounts-body tr[data-an8]').length > 2"
                           " && document.getElementById('accounts-table').getAttribute('aria-busy') === 'false'")
    page.get_by_label("Search by number, name or city").press("ArrowDown")
    assert page.locator('#accounts-body tr[aria-selected="true"]').count() == 1
    assert page.locator('#accounts-body tr').nth(1).get_attribute("aria-selected") == "true"

    # 6. End acting on behalf from the banner.
    page.get_by_role("region", name="On behalf of a customer").get_by_role("button", name="End").click()
    page.wait_for_url(base + "/accounts")
    assert page.get_by_role("region", name="On behalf of a customer").count() == 0
    shots("07-ended", page)

    # 7. Sign out.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/login")
    shots("08-signed-out", page)
    page.goto(base + "/accounts")
    assert "/login" in page.url
    assert not errors, errors
    context.close()
    assert len(list(shots.folder.glob("*.png"))) == 8
