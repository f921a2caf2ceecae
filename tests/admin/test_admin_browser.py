"""Browser: an admin edits a rep's filter (error with position, fix, preview, save); the rep's picker follows.

Real uvicorn on a loopback port, Debian's Chromium through Playwright; screenshots of each
step in test-artefacts/admin/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from databases import CHROMIUM, CHROMIUM_ARGS, require_chromium
from web.web_env import PASSWORD, build_gateway

pytestmark = pytest.mark.browser

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "admin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(jde_db, portal_url, tmp_path_factory):
    """The gateway under uvicorn on 127.0.0.1, over the seeded data with one user of each type."""
    require_chromium()
    data_dir = tmp_path_factory.mktemp("admin-browser")
    gw = build_gateway(jde_db, portal_url, data_dir)
    gw.runtime.dispose()
    port = _free_port()
    env = {**os.environ, "ECGW_DATA_DIR": str(data_dir), "ECGW_JDE_URL": jde_db.url, "ECGW_PORTAL_URL": portal_url,
           "ECGW_SECRET_KEY": "b" * 48, "ECGW_COOKIE_SECURE": "false"}
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


def _sign_in(browser, base: str, login: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _picker_numbers(page) -> list[int]:
    return [int(n) for n in page.locator("#accounts-body tr[data-an8]").evaluate_all(
        "rows => rows.map(r => r.dataset.an8)")]


def test_admin_edits_a_filter_and_the_reps_picker_follows(server, backend):
    from playwright.sync_api import expect, sync_playwright

    base, gw = server
    shots = ARTEFACTS / backend
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    before = gw.allowed_for("sales1")
    new_list = [before[0], gw.accounts[-1]]  # one account kept, one from outside the old list
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            rep = _sign_in(browser, base, "sales1")
            rep.goto(base + "/accounts")
            assert _picker_numbers(rep) == before
            rep.screenshot(path=str(shots / "1-rep-picker-before.png"), full_page=True)

            admin = _sign_in(browser, base, "admin1")
            admin.goto(base + "/admin/restrictions")
            row = admin.locator("#reps-table tr[data-rep=sales1]")
            expect(row.locator("[data-count]")).to_have_text(str(len(before)))
            admin.screenshot(path=str(shots / "2-assign-page.png"), full_page=True)
            row.get_by_role("link", name="Edit").click()
            expect(admin.locator("h1")).to_contain_text("Sales1 Tester")

            box = admin.locator("#filter_text")
            box.fill("")
            wrong = " OR ABXX = 1"  # not a column a filter may use
            box.press_sequentially(f"ABAN8 IN ('{new_list[0]}',\n  '{new_list[1]}'){wrong}", delay=15)
            check = admin.locator("#filter-check")
            col = len(f"  '{new_list[1]}') OR ") + 1
            expect(check).to_contain_text(re.compile(rf"Line 2, column {col}: column ABXX is not allowed"))
            expect(box).to_have_attribute("aria-invalid", "true")
            expect(admin.locator("#preview-count")).to_contain_text("correct the filter first")
            admin.screenshot(path=str(shots / "3-validation-error.png"), full_page=True)

            for _ in range(len(wrong)):
                box.press("Backspace")
            expect(check).to_contain_text("Filter is valid.")
            expect(admin.locator("#preview-count")).to_contain_text("2 accounts with this filter")
            expect(admin.locator("#preview-body tr")).to_have_count(2)
            expect(admin.locator("#preview-body")).to_contain_text(str(new_list[1]))
            admin.screenshot(path=str(shots / "4-preview.png"), full_page=True)

            admin.click("#save-button")
            expect(admin.locator("#editor-message")).to_contain_text("Saved.")
            expect(admin.locator("#now-count")).to_have_text("2")
            expect(admin.locator("#history-table tbody tr").first).to_contain_text("admin1")
            admin.screenshot(path=str(shots / "5-saved-with-history.png"), full_page=True)

            rep.reload()
            assert _picker_numbers(rep) == new_list
            rep.screenshot(path=str(shots / "6-rep-picker-after.png"), full_page=True)

            admin.get_by_role("link", name="Transaction log of sales1").click()
            admin.goto(base + "/admin/audit")
            admin.select_option("#action", "admin")
            admin.click("#log-filter button[type=submit]")
            expect(admin.locator("#action")).to_have_value("admin")
            expect(admin.locator("#log-table tbody tr").first).to_contain_text(
                "Restriction changed: admin1 changes the restriction of sales1 (editor)")
            admin.screenshot(path=str(shots / "6b-transaction-log.png"), full_page=True)
        finally:
            browser.close()
    assert {f.name for f in shots.iterdir()} >= {
        "1-rep-picker-before.png", "2-assign-page.png", "3-validation-error.png", "4-preview.png",
        "5-saved-with-history.png", "6-rep-picker-after.png"}


def test_new_user_sets_a_password_through_the_link(server, backend):
    from playwright.sync_api import expect, sync_playwright

    base, gw = server
    shots = ARTEFACTS / backend
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            admin = _sign_in(browser, base, "admin1")
            admin.goto(base + "/admin/users")
            admin.fill("#new-login", "linkuser")
            admin.fill("#new-name", "Link User")
            admin.select_option("#new-type", "Internal_AR")
            admin.click("text=Add user and make a set-password link")
            link = admin.locator("#link").input_value()
            assert link.startswith(base + "/set-password#")
            admin.screenshot(path=str(shots / "7-new-user-link.png"), full_page=True)

            visitor = browser.new_context().new_page()
            visitor.goto(link)
            expect(visitor.locator("#token-field")).to_be_hidden()
            assert "#" not in visitor.url, "the code is dropped from the address bar"
            visitor.fill("#password", "a long new password")
            visitor.fill("#confirm", "a long new password")
            visitor.click("button[type=submit]")
            expect(visitor.locator("#pw-done")).to_contain_text("Your password is set, linkuser")
            visitor.screenshot(path=str(shots / "8-password-set.png"), full_page=True)
        finally:
            browser.close()
    assert httpx.post(base + "/login", data={"login": "linkuser", "password": "a long new password"}).status_code == 303
