"""In Chromium, both sides of a managed list: an admin grants the right on the user's page; the rep
saves the on-behalf cart as a list with a quoted price; the customer follows the e-mail's link (a
real SMTP server on loopback), signs in, changes a quantity and adds the list to the cart, at 390 px;
a second list is rejected with a reason and the rep reads it in the e-mail and on the list's page."""

from __future__ import annotations

import re

import pytest

from browser.browser_support import serving, sign_in
from mail.smtp_server import running_smtp, smtp_settings
from web.web_env import PASSWORD, build_gateway

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def smtp():
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="module")
def served_mail(jde_db, portal_url, tmp_path_factory, smtp):
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("browser-lists"), **smtp_settings(smtp))
    with serving(gateway) as base:
        yield gateway, base
    gateway.runtime.dispose()


def test_rep_prepares_a_list_and_the_customer_accepts_or_rejects_it(served_mail, browser, shots, smtp):
    gw, base = served_mail
    account = gw.accounts[0]
    errors: list[str] = []

    def watch(page):
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        return page

    admin = watch(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(admin, base, "admin1")
    admin.goto(f"{base}/admin/users/{gw.users['sales1']}")
    assert admin.locator("#right-lists-create").inner_text() == "not granted"
    admin.get_by_role("button", name="Prepare lists for customers").click()  # one Grant button per right, each named
    admin.wait_for_load_state()
    assert admin.locator("#right-lists-create").inner_text() == "granted"
    shots("01-admin-grants-the-right", admin)

    rep = watch(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(rep, base, "sales1")
    rep.goto(f"{base}/accounts/{account}")
    rep.get_by_role("button", name="Act on behalf of this account").click()
    rep.wait_for_url(base + "/account")
    rep.goto(base + "/catalog")
    rows = rep.locator("#catalog-table tbody tr[data-item]")
    available = [rows.nth(i) for i in range(rows.count()) if rows.nth(i).get_by_role("button").count()]
    picked = [row.get_attribute("data-item") for row in available[:2]]
    for item, qty in zip(picked, ("3", "5"), strict=True):
        rep.goto(base + "/catalog")
        row = rep.locator(f'#catalog-table tr[data-item="{item}"]')
        row.get_by_label(f"Quantity of {item}").fill(qty)
        row.get_by_role("button", name=f"Add {item} to the cart").click()
        rep.wait_for_function("i => document.getElementById('add-status').innerText.includes(i)", arg=item)
    rep.goto(base + "/cart")  # Add stays on the catalog (issue 15): the cart is one click away
    rep.get_by_label("Name of the list").fill("Spring restock")
    rep.get_by_label("Note to the customer (optional)").fill("As agreed on the phone, Tuesday.")
    rep.get_by_label(re.compile(rf"^{re.escape(picked[0])} at ")).check()
    shots("02-rep-saves-the-cart-as-a-list", rep)
    rep.get_by_role("button", name="Save as a list and e-mail the customer").click()
    rep.wait_for_url(re.compile(rf"{re.escape(base)}/lists/\d+\?saved=1$"))
    list_id = int(re.search(r"/lists/(\d+)", rep.url).group(1))
    assert "The list is saved and the customer is e-mailed." in rep.locator("main").inner_text()
    assert rep.locator(f'#list-table tr[data-item="{picked[0]}"] .tag').inner_text() == "quoted"
    shots("03-rep-sees-the-saved-list", rep)
    rep.goto(base + "/cart")
    assert all(item in rep.locator("#cart-table").inner_text() for item in picked)  # the rep's cart is unchanged

    gw.app.state.mailer.run_until_idle()
    [mail] = smtp.wait_for("cust1@example.com")
    link = re.search(r"(http://\S+/lists/open\?t=\S+)", mail.text).group(1)

    # The customer, on a phone-sized screen, follows the link: sign-in first, then the list.
    cust = watch(browser.new_context(viewport={"width": 390, "height": 844}).new_page())
    cust.goto(link)
    cust.wait_for_url(re.compile(r".*/login\?next="))
    cust.get_by_label("Login").fill("cust1")
    cust.get_by_label("Password").fill(PASSWORD)
    cust.get_by_role("button", name="Sign in").click()
    cust.wait_for_url(f"{base}/lists/{list_id}")
    main = cust.locator("main").inner_text()
    assert "Spring restock" in main and "As agreed on the phone, Tuesday." in main
    wide = cust.evaluate("""[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)
        .concat([...document.querySelectorAll('.table-scroll')].map(d => getComputedStyle(d).overflowX + ' ' + d.clientWidth + '/' + d.scrollWidth + ' ' + d.getBoundingClientRect().right))
        .concat([document.body.scrollWidth, document.querySelector('main').getBoundingClientRect().right, document.querySelector('header').scrollWidth])""")
    assert cust.evaluate("document.documentElement.scrollWidth") <= 390, " | ".join(map(str, wide))  # the lines scroll in their own box
    shots("04-customer-opens-the-list-390px", cust)
    quantity = cust.get_by_label(f"Quantity of {picked[1]} (0 drops it)")
    quantity.fill("8")
    quantity.press("Enter")  # keyboard: the form submits
    cust.wait_for_url(f"{base}/lists/{list_id}")
    assert cust.get_by_label(f"Quantity of {picked[1]} (0 drops it)").input_value() == "8"
    assert "proposed 5" in cust.locator(f'#list-table tr[data-item="{picked[1]}"]').inner_text()
    shots("05-customer-changed-a-quantity", cust)
    cust.get_by_role("button", name="Add to my cart").click()
    cust.wait_for_url(base + "/cart")
    cart = cust.locator("#cart-table").inner_text()
    assert picked[0] in cart and picked[1] in cart
    assert cust.locator(f'#cart-table tr[data-item="{picked[1]}"] input.qty').input_value() == "8"
    assert f"from list {list_id}" in cust.locator(f'#cart-table tr[data-item="{picked[0]}"]').inner_text()
    assert cust.evaluate("document.documentElement.scrollWidth") <= 390
    shots("06-customer-cart-from-the-list", cust)

    # A second list, rejected with a reason; the rep is e-mailed and sees it on the list's page.
    rep.goto(base + "/cart")
    rep.get_by_label("Name of the list").fill("Autumn offer")
    rep.get_by_role("button", name="Save as a list and e-mail the customer").click()
    rep.wait_for_url(re.compile(rf"{re.escape(base)}/lists/\d+\?saved=1$"))
    second = int(re.search(r"/lists/(\d+)", rep.url).group(1))
    cust.goto(base + "/account")
    open_lists = cust.locator("#open-lists")
    assert "Autumn offer" in open_lists.inner_text() and "Spring restock" not in open_lists.inner_text()
    shots("07-customer-home-with-an-open-list", cust)
    open_lists.get_by_role("link", name="Autumn offer").click()
    cust.wait_for_url(f"{base}/lists/{second}")
    cust.get_by_label(re.compile("^Reason for rejecting")).fill("Budget is frozen until March")
    cust.get_by_role("button", name="Reject the list").click()
    cust.wait_for_url(f"{base}/lists/{second}")
    assert cust.locator("#list-status").inner_text().startswith("rejected")
    shots("08-customer-rejected-the-list", cust)

    gw.app.state.mailer.run_until_idle()
    rejected = next(m for m in smtp.wait_for("sales1@example.com") if "Autumn offer" in m.message["Subject"])
    assert "Budget is frozen until March" in rejected.text
    rep.goto(f"{base}/lists/{second}")
    assert rep.locator("#reject-reason").inner_text() == "Budget is frozen until March"
    history = rep.locator("#list-history").inner_text()
    assert "List prepared" in history and "List opened" in history and "List rejected" in history
    shots("09-rep-reads-the-rejection-and-history", rep)
    assert errors == []
