"""NUL characters anywhere in a request get a 400 that says what and where, never a driver
error: PostgreSQL cannot store NUL in text, so without the guard these were 500s there."""

from __future__ import annotations

from web.web_env import api_client, csrf_of


def _refused(r, where: str) -> None:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "NUL character" in r.text and where in r.text


def test_sign_in_with_a_nul_is_refused_and_nothing_is_saved(gw):
    anonymous = gw.client()
    _refused(anonymous.post("/login", data={"login": "ar1\x00", "password": "x"}), "the form or body")
    _refused(anonymous.post("/api/v1/session", json={"login": "ar1\x00", "password": "x"}), "the form or body")
    _refused(anonymous.post("/api/v1/session", content=b'{"login": "ar1\\u0000", "password": "x"}',
                            headers={"content-type": "application/json"}), "the form or body")


def test_search_cart_and_admin_fields_with_a_nul_are_refused(gw):
    rep = gw.client("cs1")
    _refused(rep.get("/accounts?q=ab%00c"), "the address")
    _refused(rep.get("/api/v1/accounts", params={"q": "ab\x00c"}), "the address")
    client, token = api_client(gw, "cs1")
    started = client.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": token})
    token = started.json()["csrf_token"]
    _refused(client.post("/api/v1/cart/lines", json={"item": "A\x00", "quantity": 1}, headers={"X-CSRF-Token": token}),
             "the form or body")
    _refused(client.post("/api/v1/orders", json={"ship_to": gw.accounts[0], "customer_po": "PO\x00"},
                         headers={"X-CSRF-Token": token, "Idempotency-Key": "nul-1"}), "the form or body")
    admin = gw.client("admin1")
    _refused(admin.post("/admin/users", data={"csrf_token": csrf_of(admin), "login": "nul\x00", "user_type": "Admin"}),
             "the form or body")
    # and the gateway still answers normally afterwards
    assert rep.get("/accounts?q=ab").status_code == 200
