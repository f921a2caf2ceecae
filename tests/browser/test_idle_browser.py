"""The idle warning (issue 15, part 7): a dialog two minutes before the idle timeout offers to stay
signed in; after the timeout, signing in again returns to the page, acts again for the account and
puts back what was typed. The browser's clock is Playwright's (page.clock), the server's session is
moved into the past in the portal database: both sides see the same time pass."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from browser.browser_support import add_first_to_cart
from web.web_env import PASSWORD

pytestmark = pytest.mark.browser


def _session_row(gw, context):
    from ecgateway.auth.models import AuthSession

    cookie = next(c["value"] for c in context.cookies() if c["name"] == "ecgw_session")
    with gw.portal() as db:
        return db.scalar(sa.select(AuthSession).where(AuthSession.token_hash == hashlib.sha256(cookie.encode()).hexdigest()))


def _age_session(gw, context, minutes: float) -> None:
    from ecgateway.auth.models import AuthSession

    row = _session_row(gw, context)
    with gw.portal() as db:
        db.get(AuthSession, row.id).last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        db.commit()


def test_idle_warning_stay_then_timeout_and_back(served, browser, shots):
    gw, base = served
    idle = gw.settings.session_idle_minutes
    account = gw.allowed_for("sales1")[1]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.clock.install()

    page.goto(base + "/login")
    page.get_by_label("Login").fill("sales1")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/accounts")
    page.locator("#q").fill(str(account))
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/account")
    page.goto(base + "/catalog")
    add_first_to_cart(page)
    page.goto(base + "/checkout")
    po = page.get_by_label("Customer PO", exact=False)
    po.fill("PO-IDLE-15")

    # Two minutes before the timeout: the dialog, focus on "Stay signed in".
    page.clock.fast_forward((idle * 60 - 110) * 1000)
    dialog = page.get_by_role("dialog", name="Still there?")
    dialog.wait_for(state="visible", timeout=5000)
    assert page.evaluate("document.activeElement.id") == "idle-stay"
    shots("01-idle-warning", page)
    before = _session_row(gw, context).last_seen_at
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden", timeout=5000)
    assert _session_row(gw, context).last_seen_at > before  # the server counted it as activity
    assert page.evaluate("document.activeElement.name") == "customer_po"  # back where the rep was

    # The whole idle time passes with nothing sent: signed out, offered to sign in again.
    _age_session(gw, context, idle + 1)
    page.clock.fast_forward((idle * 60 + 5) * 1000)
    ended = page.get_by_role("dialog", name="You were signed out")
    ended.wait_for(state="visible", timeout=5000)
    assert page.evaluate("document.activeElement.id") == "idle-signin"
    shots("02-signed-out", page)
    page.keyboard.press("Enter")
    page.wait_for_url("**/login?**")
    assert "ended after" in page.locator(".notice").inner_text()  # the server says why
    page.get_by_label("Login").fill("sales1")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")

    # Back on the checkout, for the same account, with the PO typed before.
    page.wait_for_url(base + "/checkout")
    banner = page.get_by_role("region", name="On behalf of a customer").inner_text()
    assert f"({account})" in banner, banner
    assert page.get_by_label("Customer PO", exact=False).input_value() == "PO-IDLE-15"
    assert page.locator("#draft-restored").is_visible()
    assert "again" in page.locator(".notice").inner_text()
    shots("03-back-on-the-page", page)
    assert not errors, errors
    context.close()


def test_resume_needs_the_restriction_to_still_allow_the_account(served):
    """A rep whose list no longer holds the account signs in with resume=1: nothing is acted for."""
    from ecgateway.auth.models import AuthSession
    from web.web_env import session_cookie

    gw, _ = served
    rep, account = "ar1", gw.allowed_for("ar1")[2]
    client = gw.client(rep)
    token = client.get("/api/v1/session").json()["csrf_token"]
    assert client.post("/obo", data={"an8": account, "csrf_token": token}).status_code == 303
    with gw.portal() as db:
        row = db.scalar(sa.select(AuthSession).where(
            AuthSession.token_hash == hashlib.sha256(session_cookie(client).encode()).hexdigest()))
        row.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=gw.settings.session_idle_minutes + 1)
        db.commit()
    assert client.get("/login?resume=1&next=/cart").status_code == 200  # the old session ends: idle timeout
    gw.restrict(rep, f"ABAN8 IN ('{gw.allowed_for('ar1')[0]}')")
    try:
        r = client.post("/login", data={"login": rep, "password": PASSWORD, "next": "/cart", "resume": "1"})
        assert r.status_code == 303 and r.headers["location"] == "/cart"
        assert client.get("/api/v1/obo").json()["acting"] is False
    finally:
        quoted = ",".join(f"'{a}'" for a in gw.allowed_for("ar1"))
        gw.restrict(rep, f"ABAN8 IN ({quoted})")


def test_a_tab_left_alone_follows_the_tab_the_rep_works_in(served, browser):
    """Two tabs of one session: the rep works in tab B while tab A sits. Tab A's own clock reaches its
    warning, then its timeout; the session is alive (B's requests), so A must close its warning and never
    say "signed out". Before, each tab counted on its own: A warned, then showed "You were signed out"."""
    gw, base = served
    idle = gw.settings.session_idle_minutes
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    a, b = context.new_page(), context.new_page()
    errors: list[str] = []
    for page in (a, b):
        page.on("pageerror", lambda e: errors.append(str(e)))
    a.clock.install()  # one clock for the context: both tabs see it
    a.goto(base + "/login")
    a.get_by_label("Login").fill("cs1")
    a.get_by_label("Password").fill(PASSWORD)
    a.keyboard.press("Enter")
    a.wait_for_url(base + "/accounts")
    b.goto(base + "/orders")

    # The clock moves to A's warning time; then the rep, in B, gets an answer from the gateway.
    a.clock.fast_forward((idle * 60 - 110) * 1000)
    warning = a.get_by_role("dialog", name="Still there?")
    warning.wait_for(state="visible", timeout=5000)
    assert b.evaluate("fetch('/api/v1/session').then(r => r.status)") == 200
    warning.wait_for(state="hidden", timeout=5000)  # A learnt the later deadline from B

    # Past A's own deadline: the session lives on, A says nothing.
    a.clock.fast_forward(200 * 1000)
    a.clock.run_for(2000)
    assert not a.get_by_role("dialog", name="You were signed out").is_visible()
    assert not a.locator("#idle-dialog").evaluate("d => d.open")
    assert not errors, errors
    context.close()
