"""The OpenAPI document is the truth (issue 14, point 7): timestamps with their zone on every
database, every error status documented with its JSON shape, JSON for 500s (a page on pages),
405 with Allow for a wrong method, OPTIONS answered. schemathesis checks the rest
(tests/web/test_schemathesis.py)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi.testclient import TestClient

from ecgateway.auth.models import AuthSession
from ecgateway.portal.models import User
from web.web_env import BASE_URL, api_client


def test_portal_timestamps_come_back_aware_in_utc(gw):
    api_client(gw, "cust1")  # a session row
    with gw.portal() as db:
        user = db.scalar(sa.select(User).order_by(User.id).limit(1))
        session = db.scalar(sa.select(AuthSession).order_by(AuthSession.id.desc()).limit(1))
        for value in (user.created_at, session.created_at, session.last_seen_at):
            assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0), value


def test_every_api_operation_documents_its_errors_in_one_shape(gw):
    client, _ = api_client(gw, "admin1")
    spec = client.get("/api/openapi.json").json()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "405", "409", "422", "500"):
                ref = operation["responses"].get(status, {}).get("content", {}).get("application/json", {}) \
                    .get("schema", {}).get("$ref")
                if ref != "#/components/schemas/ErrorOut":
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
    assert set(spec["components"]["schemas"]["ErrorOut"]["required"]) == {"status", "message"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # the 422 is ErrorOut too


def test_a_wrong_method_answers_405_with_every_allowed_method(gw):
    client, token = api_client(gw, "admin1")
    r = client.patch("/api/v1/cart", headers={"X-CSRF-Token": token})
    assert r.status_code == 405 and r.json()["status"] == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}
    # a literal path beside a {parameter} one: GET reached .../{rep_id} and failed as a number (was 422)
    r = client.get("/api/v1/admin/restrictions/validate")
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == "POST, OPTIONS"
    page = gw.client("cust1").patch("/cart")
    assert page.status_code == 405 and "text/html" in page.headers["content-type"]


def test_options_answers_with_the_allowed_methods(gw):
    client, _ = api_client(gw, "cust1")
    r = client.options("/api/v1/orders")
    assert r.status_code == 204, r.text
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert client.options("/api/v1/no-such-thing").status_code == 404


def test_a_failure_is_json_on_the_api_and_a_page_on_pages(gw, monkeypatch):
    from ecgateway.commerce import orders

    def broken(*_args, **_kwargs):
        raise RuntimeError("the portal database went away")

    monkeypatch.setattr(orders, "list_orders", broken)
    client = TestClient(gw.app, base_url=BASE_URL, follow_redirects=False, raise_server_exceptions=False)
    r = client.post("/api/v1/session", json={"login": "cust1", "password": "correct horse battery 42"})
    assert r.status_code == 200
    api = client.get("/api/v1/orders")
    assert api.status_code == 500 and api.headers["content-type"] == "application/json"
    assert api.json()["status"] == 500 and "nothing was changed" in api.json()["message"]
    assert "database went away" not in api.text  # no internals shown
    page = client.get("/orders")
    assert page.status_code == 500 and "text/html" in page.headers["content-type"]
    assert "Something went wrong" in page.text and 'href="/"' in page.text
