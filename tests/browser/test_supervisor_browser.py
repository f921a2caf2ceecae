"""In Chromium: the supervisor's view with generated activity (issue 18). The alert is at the top, a
rep's new session appears without reloading, the admin ends one from the keyboard and the rep reads
why; axe-core finds no violation on the view (1280 px and 390 px) nor on one account's page.

axe-core 4.14.1 (MPL-2.0, Deque Systems; `npm pack axe-core@4.14.1`, its LICENSE beside it) is
vendored for the tests only in tests/browser/vendor/ and evaluated in the page through the DevTools
protocol, so the gateway's content security policy stays in force while it runs. Screenshots in
test-artefacts/browser/<test>/.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser.browser_support import serving, sign_in
from ecgateway.audit import record
from ecgateway.clock import frozen, utcnow
from ecgateway.obo.context import Actor
from web.web_env import REP_LOGINS, build_gateway

pytestmark = pytest.mark.browser

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def supervised(jde_db, portal_url, tmp_path_factory):
    """The gateway under uvicorn, refreshing the live list every 2 s, with two weeks of activity."""
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("supervisor-browser"),
                            supervisor_refresh_seconds=2, supervisor_alert_refusals=4)
    _generate(gateway)
    with serving(gateway) as base:
        yield gateway, base
    gateway.runtime.dispose()


def _generate(gw) -> None:
    """Sessions, orders on behalf and by the customer, refusals over 14 days; ar1 probing now."""
    rng = random.Random(18)
    now = utcnow()
    with gw.portal() as db:
        actors = {login: Actor.of(gw.user(login)) for login in (*REP_LOGINS, "cust1")}
        cust_an8 = gw.user("cust1").account_an8
        for _ in range(220):
            at = now - dt.timedelta(minutes=rng.randrange(90, 14 * 24 * 60))
            rep = rng.choice(REP_LOGINS)
            an8 = rng.choice(gw.accounts[:8])
            kind = rng.choice(["start", "start", "order", "customer_order", "refused"])
            with frozen(at):
                if kind == "start":
                    record(db, actor=actors[rep], subject_an8=an8, action="obo.start", object=f"account {an8}",
                           outcome="ok", detail={"billing_an8": an8})
                elif kind == "order":
                    record(db, actor=actors[rep], subject_an8=an8, action="order.place", object="order 1", outcome="ok",
                           detail={"on_behalf": True, "total": f"{rng.randrange(500, 90000) / 100:.2f}", "currency": "USD"})
                elif kind == "customer_order":
                    record(db, actor=actors["cust1"], subject_an8=cust_an8, action="order.place", object="order 2",
                           outcome="ok", detail={"on_behalf": False, "total": f"{rng.randrange(500, 90000) / 100:.2f}",
                                                 "currency": "USD"})
                else:
                    record(db, actor=actors[rep], subject_an8=gw.accounts[-1], action="obo.start",
                           object=f"account {gw.accounts[-1]}", outcome="refused", detail={"reason": "not in the list"})
        for i in range(4):  # ar1 probes accounts outside their list, within the hour: the alert
            with frozen(now - dt.timedelta(minutes=20 - i)):
                record(db, actor=actors["ar1"], subject_an8=gw.accounts[-1 - i], action="obo.start",
                       object=f"account {gw.accounts[-1 - i]}", outcome="refused",
                       detail={"reason": "account not in the rep's list"})
        db.commit()


def _axe(page) -> list[dict]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""", WCAG)


def _act(browser, base, login, an8):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, login)
    page.goto(f"{base}/accounts/{an8}")
    page.get_by_role("button", name="Act on behalf of this account").click()
    page.wait_for_url(base + "/account")
    return page


def test_the_supervisors_view_in_chromium(supervised, browser, shots):
    gw, base = supervised
    errors: list[str] = []
    rep = _act(browser, base, "sales1", gw.accounts[1])

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.on("pageerror", lambda e: errors.append(str(e)))
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # CSP refusals land here
    admin.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    sign_in(admin, base, "admin1")
    admin.goto(base + "/admin/supervisor")
    alert = admin.locator(".alerts")
    assert "ar1" in alert.inner_text() and "4 refused attempts" in alert.inner_text()
    first_box = alert.bounding_box()
    assert first_box["y"] < admin.locator("#live-sessions").bounding_box()["y"]  # at the top of the view
    assert admin.locator('#live-sessions tr[data-session]').count() == 1
    assert admin.locator("#chart-sessions rect").count() > 5
    assert int(admin.locator("#table-orders tbody tr").count()) == 2  # on behalf, customer
    shots("01-view-with-activity", admin)
    assert _axe(admin) == []

    # a second rep starts acting: the list shows it without a reload
    second = _act(browser, base, "cs1", gw.accounts[3])
    expect(admin.locator("#live-sessions tr[data-session]")).to_have_count(2, timeout=15000)
    assert "Updated at" in admin.locator("#live-status").inner_text()
    shots("02-refreshed-without-reloading", admin)

    # the admin ends sales1's session from the keyboard; the rep reads why on the next page
    reason = admin.get_by_label("Reason shown to sales1")
    reason.focus()
    admin.keyboard.type("ticket 4711: customer asked us to stop")
    admin.keyboard.press("Tab")
    assert "End sales1" in admin.evaluate("document.activeElement.textContent")
    admin.keyboard.press("Enter")
    admin.wait_for_load_state()
    assert "sales1 no longer acts on behalf of account" in admin.locator(".flash").inner_text()
    assert admin.locator('#live-sessions tr[data-session]').count() == 1
    shots("03-session-ended", admin)
    rep.goto(base + "/catalog")
    notice = rep.locator(".notice")
    assert "ticket 4711: customer asked us to stop" in notice.inner_text()
    assert rep.locator(".obo-banner").count() == 0
    shots("04-rep-reads-why", rep)

    # one account, seen from the admin side
    admin.goto(f"{base}/admin/supervisor/accounts/{gw.accounts[1]}")
    assert "sales1" in admin.locator("#account-reps").inner_text()
    shots("05-one-account", admin)
    assert _axe(admin) == []

    # a phone: no sideways scroll, axe clean
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2).new_page()
    sign_in(phone, base, "admin1")
    phone.goto(base + "/admin/supervisor")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
    shots("06-view-at-390px", phone)
    assert _axe(phone) == []
    second.context.close()
    assert errors == []
