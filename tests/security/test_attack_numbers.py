"""Out-of-range and odd numbers in every kind of input (path, query, form, JSON) are refused
with a 422 that names the field: never a driver error (500) from the database."""

from __future__ import annotations

import pytest

from web.web_env import api_client, csrf_of

HUGE = [0, -1, 100_000_000, 2**31, 2**63, 10**30]  # none is an account number (1 to 99,999,999)
ROW_ID_OK = 100_000_000  # a possible portal row id (they go to 2**31 - 1)


def _refused(r, field: str) -> None:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert field in r.text


@pytest.mark.parametrize("value", HUGE)
def test_rep_api_numbers(gw, value):
    client, token = api_client(gw, "cs1")
    h = {"X-CSRF-Token": token}
    _refused(client.post("/api/v1/obo", json={"an8": value}, headers=h), "an8")
    _refused(client.post("/api/v1/obo", json={"an8": gw.accounts[0], "billing_an8": value}, headers=h), "billing_an8")
    started = client.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers=h)
    assert started.status_code == 200
    h = {"X-CSRF-Token": started.json()["csrf_token"]}
    _refused(client.post("/api/v1/obo/addresses", json={"shipping_an8": value}, headers=h), "shipping_an8")
    if value >= 0:  # a minus sign is not part of the path's number
        _refused(client.get(f"/api/v1/accounts/{value}"), "an8")
    if value >= 0 and value != ROW_ID_OK:
        _refused(client.get(f"/api/v1/orders/{value}"), "order_id")
    if value != ROW_ID_OK:
        _refused(client.get(f"/api/v1/orders?before_id={value}"), "before_id")
    _refused(client.post("/api/v1/orders", json={"ship_to": value}, headers=h), "ship_to")


def _sent_back(r, location: str, client, words: str) -> None:
    """A page's bad query parameter: back to the page without it, the reason shown there (issue 15)."""
    assert r.status_code == 303 and r.headers["location"] == location, (r.status_code, r.text[:300])
    assert words in client.get(location).text


@pytest.mark.parametrize("value", HUGE)
def test_rep_pages_numbers(gw, value):
    client = gw.client("cs1")
    token = csrf_of(client)
    # pages name the field in their own words (issue 15): "The account number must be 1 or more, not 0."
    _refused(client.post("/obo", data={"an8": str(value), "csrf_token": token}), "The account number must be")
    assert client.post("/obo", data={"an8": str(gw.accounts[0]), "csrf_token": token}).status_code == 303
    token = csrf_of(client)
    _refused(client.post("/obo/billing", data={"billing_an8": str(value), "csrf_token": token}), "The billing address")
    _refused(client.post("/obo/shipping", data={"shipping_an8": str(value), "csrf_token": token}),
             "The shipping address")
    page = client.get(f"/accounts/{value}")
    assert page.status_code in (404, 422) and "text/html" in page.headers["content-type"]
    _sent_back(client.get(f"/checkout?ship_to={value}"), "/checkout", client, "The shipping address must be")
    if value != ROW_ID_OK:
        _sent_back(client.get(f"/orders?before_id={value}"), "/orders", client, "The position in the list of orders")


@pytest.mark.parametrize("value", HUGE)
def test_admin_numbers(gw, value):
    admin, token = api_client(gw, "admin1")
    h = {"X-CSRF-Token": token}
    if value >= 0 and value != ROW_ID_OK:
        _refused(admin.get(f"/api/v1/admin/users/{value}"), "user_id")
        _refused(admin.get(f"/api/v1/admin/restrictions/{value}"), "rep_id")
        _refused(admin.post(f"/api/v1/admin/restrictions/history/{value}/revert", headers=h), "change_id")
    _refused(admin.post("/api/v1/admin/users", headers=h, json={
        "login": "numbers1", "name": "Numbers", "email": "n@example.com", "user_type": "Customer",
        "account_an8": value}), "account_an8")
    page = gw.client("admin1")
    r = page.post("/admin/users", data={"login": "numbers2", "name": "Numbers", "email": "n2@example.com",
                                        "user_type": "Customer", "account_an8": str(value),
                                        "csrf_token": csrf_of(page)})
    assert r.status_code in (400, 422) and "account_an8" in r.text and "not an account number" in r.text


@pytest.mark.parametrize("digits", ["４２４２", "٤٢٤٢", "4242²"])
def test_unicode_digits_are_not_account_numbers(gw, digits):
    page = gw.client("admin1")
    r = page.post("/admin/users", data={"login": "numbers3", "name": "Numbers", "email": "n3@example.com",
                                        "user_type": "Customer", "account_an8": digits, "csrf_token": csrf_of(page)})
    assert r.status_code in (400, 422) and "not an account number" in r.text
