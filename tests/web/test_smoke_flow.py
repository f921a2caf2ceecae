"""The rep journey through the pages: sign in, pick, act, see, end."""

from __future__ import annotations

from web.web_env import session_cookie


def test_rep_journey_pages(gw):
    c = gw.client()
    assert c.get("/accounts").status_code == 303  # to the sign-in page
    r = c.post("/login", data={"login": "sales1", "password": "correct horse battery 42"})
    assert r.status_code == 303 and r.headers["location"] == "/accounts"
    page = c.get("/accounts")
    assert page.status_code == 200, page.text
    assert "Sales1 Tester" in page.text
    allowed = gw.allowed_for("sales1")
    assert str(allowed[0]) in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post("/obo", data={"an8": allowed[1], "csrf_token": token})
    assert r.status_code == 303, r.text
    acc = c.get("/account")
    assert acc.status_code == 200, acc.text
    assert "Acting on behalf of" in acc.text and f"({allowed[1]})" in acc.text
    assert session_cookie(c)
