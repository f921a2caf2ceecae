"""Every page at 1280 px, at 390 px (a phone) and at 200% zoom, checked by axe-core (issue 15, part 9).

axe-core 4.14.1 (MPL-2.0, Deque Systems) is vendored for the tests only in tests/browser/vendor/
(axe.min.js from the npm package, its LICENSE beside it); it is injected into each page, never
served by the gateway. WCAG 2.0/2.1 A and AA rules. At the narrow sizes the page must not scroll
sideways and the header's Sign out, the switcher and the banner's Change and End must be on screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser.browser_support import add_first_to_cart, sign_in
from ecgateway.auth.models import RIGHT_REGISTER
from ecgateway.auth.rights import set_right

pytestmark = pytest.mark.browser

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
# width, height, device scale: 200% zoom of a 1280 x 900 window is 640 x 450 CSS px at scale 2.
SIZES = {"wide": (1280, 900, 1), "phone": (390, 844, 3), "zoom200": (640, 450, 2)}
REP_PAGES = ["/accounts", "/account", "/catalog", "/cart", "/checkout", "/orders", "/lists", "/api/docs", "/",
             "/accounts/{an8}", "/accounts/{an8}/contacts/new"]
ADMIN_PAGES = ["/admin", "/admin/users", "/admin/users/{rep_id}", "/admin/restrictions", "/admin/restrictions/{rep_id}",
               "/admin/audit", "/admin/supervisor"]
CUSTOMER_PAGES = ["/account", "/catalog", "/cart", "/orders", "/lists", "/account/access-history"]


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return result


# Pages allowed to be wider than a phone (paths ending so): none. The cart and the admin
# restrictions table were, until they scrolled inside .table-scroll.
NOT_YET_NARROW: tuple[str, ...] = ()


def _fits(page, width: int) -> list[str]:
    problems = []
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width + 1 and not page.url.split("?")[0].endswith(NOT_YET_NARROW):
        wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1 && e.parentElement.getBoundingClientRect().right <= w + 1)
            .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
                                  + ' ' + Math.round(e.getBoundingClientRect().right))""", width)
        problems.append(f"page is {scroll} px wide in a {width} px window: {wide}")
    for label, selector in (("Sign out", 'header button:has-text("Sign out")'), ("switcher", "#switcher-q"),
                            ("Change", '.obo-banner a:has-text("Change")'), ("End", '.obo-banner button:has-text("End")')):
        loc = page.locator(selector)
        if loc.count() == 0:
            continue
        box = loc.first.bounding_box()
        if box is None or box["x"] < 0 or box["x"] + box["width"] > width + 1:
            problems.append(f"{label} is cut off: {box}")
    return problems


def _visit_all(served, browser, size, check, shots, shoot=lambda name: True):
    """Each role's pages at one size; check(page) -> problems; returns {page: problems}."""
    gw, base = served
    width, height, scale = SIZES[size]
    found: dict[str, list] = {}
    with gw.portal() as db:  # the registration form is drawn for a rep who holds the right
        set_right(db, user_id=gw.users["sales1"], right=RIGHT_REGISTER, granted=True, by="test")
        db.commit()
    for login, pages in (("sales1", REP_PAGES), ("admin1", ADMIN_PAGES), ("cust1", CUSTOMER_PAGES), (None, ["/login", "/"])):
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                                      bypass_csp=True)  # to inject axe; the pages keep their own CSP otherwise
        page = context.new_page()
        if login:
            sign_in(page, base, login)
        if login == "sales1":
            page.locator("#q").fill(str(gw.allowed_for("sales1")[1]))
            page.keyboard.press("Enter")
            page.wait_for_url(base + "/account")
            page.goto(base + "/catalog")
            add_first_to_cart(page)
        for template in pages:
            path = template.format(an8=gw.allowed_for("sales1")[1], rep_id=gw.users["sales1"])
            response = page.goto(base + path)
            page.wait_for_load_state()
            name = f"{login or 'anonymous'}{template.replace('/', '-') if path != '/' else '-home'}"
            problems = check(page)
            if response is None or response.status != 200:
                problems = [f"{path} answered {response.status if response else 'nothing'}", *problems]
            if problems:
                found[name] = problems
            if shoot(name):
                shots(f"{size}-{name}", page)
        if login == "sales1":  # the switcher's list open, checked too
            page.goto(base + "/account")
            page.keyboard.press("Control+k")
            page.keyboard.type("a")
            page.wait_for_function("() => document.querySelectorAll('#switcher-list [role=option]').length > 0")
            problems = check(page)
            if problems:
                found["switcher-open"] = problems
            shots(f"{size}-switcher-open", page)
        context.close()
    return found


def test_axe_finds_no_violation_on_any_page(served, browser, shots):
    """Today's code had one: the account page's "Ship here" buttons were labelled "Ship to ..."."""
    found = _visit_all(served, browser, "wide", _axe, shots)
    assert not found, found


@pytest.mark.parametrize("size", ["phone", "zoom200"])
def test_pages_fit_a_phone_and_200_percent_zoom(served, browser, shots, size):
    width = SIZES[size][0]
    found = _visit_all(served, browser, size, lambda page: _fits(page, width), shots,
                       shoot=lambda name: name in ("sales1-account", "sales1-catalog", "sales1-checkout", "admin1-admin-audit"))
    assert not found, found
