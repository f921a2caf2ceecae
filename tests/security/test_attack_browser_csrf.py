"""In a real browser: another site tries to make a signed-in rep act on behalf of an account.

The gateway runs under uvicorn on http://127.0.0.1:A; the attacker's pages are served from
http://localhost:B (another site to Chromium). Debian's Chromium through Playwright. The
attacks: an auto-submitted cross-site form (with a guessed token), a GET through an image
and a top-level navigation, a credentialed fetch of the JSON API, and login CSRF (signing
the victim in as the attacker). Then stored markup in an account name must not run.
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from databases import CHROMIUM, CHROMIUM_ARGS, require_chromium
from ecgateway.jde.conventions import pad
from web.web_env import PASSWORD, build_gateway

pytestmark = pytest.mark.browser



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gateway(jde_db, portal_url, tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("sec-browser")
    gw = build_gateway(jde_db, portal_url, data_dir)
    port = _free_port()
    env = {**os.environ, "ECGW_DATA_DIR": str(data_dir), "ECGW_JDE_URL": jde_db.url, "ECGW_PORTAL_URL": portal_url,
           "ECGW_SECRET_KEY": "s" * 48, "ECGW_COOKIE_SECURE": "false"}
    if jde_db.schema:
        env["ECGW_JDE_SCHEMA"] = jde_db.schema
    log = open(data_dir / "uvicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "ecgateway.app:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("uvicorn did not start: " + (data_dir / "uvicorn.log").read_text()[-2000:])
        time.sleep(0.2)
    yield base, gw
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    gw.runtime.dispose()


@pytest.fixture(scope="module")
def attacker(tmp_path_factory):
    """A static site on http://localhost:B: another site than 127.0.0.1 to the browser."""
    root = tmp_path_factory.mktemp("attacker")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def _sign_in(context, base: str, login: str):
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _acting(page, base: str) -> dict:
    return page.evaluate("async (u) => (await fetch(u, {credentials: 'same-origin'})).json()", base + "/api/v1/obo")


def test_another_site_cannot_make_a_signed_in_rep_act_on_behalf(gateway, attacker):
    from playwright.sync_api import sync_playwright

    base, gw = gateway
    root, evil = attacker
    target = gw.allowed_for("sales1")[0]
    (root / "form.html").write_text(
        f'<form id="f" method="post" action="{base}/obo"><input name="an8" value="{target}">'
        f'<input name="csrf_token" value="guessed"></form><script>document.getElementById("f").submit()</script>')
    (root / "get.html").write_text(f'<img src="{base}/obo?an8={target}"><img src="{base}/obo/end">'
                                   f'<script>setTimeout(() => location = "{base}/obo?an8={target}", 300)</script>')
    (root / "fetch.html").write_text(
        "<script>window.done = Promise.allSettled(["
        f"fetch('{base}/api/v1/obo', {{method: 'POST', credentials: 'include', headers: {{'Content-Type': "
        f"'application/json', 'X-CSRF-Token': 'guessed'}}, body: JSON.stringify({{an8: {target}}})}}),"
        f"fetch('{base}/api/v1/obo', {{method: 'POST', credentials: 'include', mode: 'no-cors', headers: "
        f"{{'Content-Type': 'text/plain'}}, body: JSON.stringify({{an8: {target}}})}}),"
        f"fetch('{base}/api/v1/session', {{credentials: 'include'}}).then(r => r.text())"
        "]).then(rs => rs.map(r => r.status === 'fulfilled' ? 'answered' : 'blocked'));</script>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            rep = _sign_in(context, base, "sales1")
            assert _acting(rep, base)["acting"] is False
            evil_page = context.new_page()
            for name in ("form.html", "get.html"):
                evil_page.goto(f"{evil}/{name}")
                evil_page.wait_for_timeout(1200)
                assert _acting(rep, base)["acting"] is False, name
            evil_page.goto(f"{evil}/fetch.html")
            outcome = evil_page.evaluate("window.done")
            # the cross-origin reads are blocked by CORS, the no-cors POST is sent but refused
            assert outcome[0] == "blocked" and outcome[2] == "blocked", outcome
            assert _acting(rep, base)["acting"] is False
            # the rep's own page still works: the attack changed nothing
            rep.goto(base + "/accounts")
            rep.locator(f"tr[data-an8='{target}'] button[type=submit]").click()
            rep.wait_for_load_state("networkidle")
            assert _acting(rep, base)["account_an8"] == target
        finally:
            browser.close()


def test_another_site_cannot_sign_the_victim_in_as_the_attacker(gateway, attacker):
    from playwright.sync_api import sync_playwright

    base, _gw = gateway
    root, evil = attacker
    (root / "login.html").write_text(
        f'<form id="f" method="post" action="{base}/login"><input name="login" value="cust1">'
        f'<input name="password" value="{PASSWORD}"></form><script>document.getElementById("f").submit()</script>')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{evil}/login.html")
            page.wait_for_load_state("networkidle")
            assert not [c for c in context.cookies() if c["name"].endswith("ecgw_session")]
            page.goto(base + "/api/v1/obo")
            assert "401" in page.content() or "not signed in" in page.content()
        finally:
            browser.close()


def test_markup_in_an_account_name_does_not_run_in_the_picker_the_account_page_or_the_banner(gateway):
    from playwright.sync_api import sync_playwright

    base, gw = gateway
    an8 = gw.allowed_for("sales1")[1]
    f0101 = gw.runtime.jde.F0101
    with gw.runtime.jde_engine.begin() as jde:
        old = jde.scalar(sa.select(f0101.c.abalph).where(f0101.c.aban8 == an8))
        jde.execute(sa.update(f0101).where(f0101.c.aban8 == an8)
                    .values(abalph=pad("<img src=x onerror=alert(1)>O'Brien", 40)))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                rep = _sign_in(context, base, "sales1")
                dialogs: list[str] = []
                rep.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                rep.goto(base + "/accounts")
                rep.fill("#q", "Brien")  # search as you type: rows built by picker.js
                rep.wait_for_timeout(800)
                rep.goto(f"{base}/accounts/{an8}")
                rep.locator("form[action='/obo'] button[type=submit]").first.click()
                rep.wait_for_load_state("networkidle")
                assert "O'Brien" in rep.inner_text("body")
                assert rep.locator("img[src=x]").count() == 0
                assert dialogs == []
            finally:
                browser.close()
    finally:
        with gw.runtime.jde_engine.begin() as jde:
            jde.execute(sa.update(f0101).where(f0101.c.aban8 == an8).values(abalph=old))
