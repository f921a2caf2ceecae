"""The picker acts only on what is on screen, with a slowed server (issue 15, part 1).

The account search API is held back on purpose (SlowApi), so the rep types and presses Enter
while the answer for the new text is still on its way: the rows on screen are then those of the
previous text, and acting on them would serve the wrong customer.
"""

from __future__ import annotations

import time

import pytest

from browser.browser_support import sign_in

pytestmark = pytest.mark.browser

API = "/api/v1/accounts"
ROWS = "#accounts-body tr[data-an8]"


@pytest.fixture()
def page(slow_served, browser):
    gw, base, slow = slow_served
    slow.delays.clear()
    slow.by_query.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, "cs1")  # cs1 may serve every account
    page.wait_for_url(base + "/accounts")
    yield page
    context.close()
    assert not errors, errors


def _target(gw) -> int:
    """An account that is not on the first rows, whose number is no other account's prefix."""
    numbers = [str(a) for a in gw.accounts]
    for a in gw.accounts[7:]:
        if not any(n != str(a) and n.startswith(str(a)) for n in numbers):
            return a
    raise AssertionError("no suitable account in the seeded data")


def _banner(page) -> str:
    return page.get_by_role("region", name="On behalf of a customer").inner_text()


def _names(gw, an8s):
    from ecgateway.jde.addresses import postal_addresses
    from ecgateway.jde.handle import Jde

    with gw.runtime.jde_engine.connect() as jde:
        return {a: p.name for a, p in postal_addresses(Jde(jde, gw.runtime.jde), an8s=an8s).items()}


def test_enter_while_the_answer_loads_acts_on_the_typed_number(slow_served, page, shots):
    """The issue's race: the number is typed, the search is in flight, Enter is pressed. Today's code
    acted for the first row of the previous list; the typed account must be the one served."""
    gw, base, slow = slow_served
    target = _target(gw)
    first = page.locator(ROWS).first.get_attribute("data-an8")
    assert first == str(gw.accounts[0]) and int(first) != target
    slow.delays[API] = 1.5
    page.locator("#q").type(str(target))
    time.sleep(0.5)  # past the debounce: the request is on its way, the old rows are still shown
    shots("01-typed-loading", page)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account")
    assert f"({target})" in _banner(page), _banner(page)
    shots("02-acting-for-the-typed-number", page)


def test_enter_within_the_debounce_acts_once_the_row_is_shown(slow_served, page, shots):
    """Typed and confirmed at once (before any request left): today's Enter did nothing."""
    gw, base, slow = slow_served
    target = _target(gw)
    slow.delays[API] = 1.0
    page.locator("#q").type(str(target), delay=20)
    page.keyboard.press("Enter")
    shots("01-typed-and-entered", page)
    page.wait_for_url(base + "/account")
    assert f"({target})" in _banner(page), _banner(page)
    shots("02-acting", page)


def test_enter_on_a_name_still_loading_acts_on_nothing_until_shown(slow_served, page, shots):
    """A name is no exact account number: Enter while its results load must not act on the old rows; the
    new rows are shown with the first highlighted, and a second Enter acts on that row."""
    gw, base, slow = slow_served
    target = _target(gw)
    name = _names(gw, [target])[target]
    slow.delays[API] = 1.2
    page.locator("#q").type(name.lower())
    time.sleep(0.5)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "name => { const r = [...document.querySelectorAll('#accounts-body tr[data-an8]')];"
        " return r.length > 0 && r.every(t => t.children[1].innerText.toLowerCase().includes(name)); }",
        arg=name.lower())
    assert page.url.startswith(base + "/accounts"), page.url  # nothing was acted on
    assert "Enter" in page.locator("#picker-status").inner_text()  # told to confirm again
    shots("01-name-results-shown", page)
    chosen = page.locator(f'{ROWS}[aria-selected="true"]').get_attribute("data-an8")
    slow.delays[API] = 0
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account")
    assert f"({chosen})" in _banner(page)


def test_an_answer_older_than_the_latest_keystroke_is_discarded(slow_served, page, shots):
    """The first text's answer comes back after the second's: the rows shown stay the second's."""
    gw, base, slow = slow_served
    target = _target(gw)
    other = str(gw.accounts[1])
    slow.by_query[(API, other)] = 2.0
    q = page.locator("#q")
    q.type(other)
    time.sleep(0.5)  # the slow request for `other` is out
    q.fill(str(target))
    page.wait_for_function(
        "n => { const r = document.querySelectorAll('#accounts-body tr[data-an8]'); return r.length && r[0].dataset.an8 === n; }",
        arg=str(target))
    time.sleep(2.0)  # the older answer has arrived by now
    numbers = page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.an8)")
    assert numbers[0] == str(target) and other not in numbers, numbers
    shots("01-newest-answer-kept", page)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account")
    assert f"({target})" in _banner(page)
