"""The authorization matrix, generated from one table: every route x every kind of user,
and every actor type x target type for starting on-behalf-of.

To add a route: add one `Route(...)` row to ROUTES with its access level (see
ecgateway.auth.roles.ACCESS_LEVELS); give `expect` only where a kind differs from what the
level implies (e.g. an object check answering 404), `body` when the route needs one to get
past validation, and a PATH_PARAMS entry for a new {placeholder}. A test fails if an app
route has no row, or if its declared level differs from the row's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute, iter_route_contexts

from ecgateway.audit.models import AuditEntry
from ecgateway.web.deps import access_level_of
from web.web_env import PASSWORD, Gateway

ALLOW, DENY_401, DENY_403, DENY_404 = "allow", "401", "403", "404"

# Kinds of user: anonymous, each user type, and a rep while acting on behalf.
KINDS = {
    "anonymous": None,
    "Internal_AR": "ar1",
    "Internal_SalesRep": "sales1",
    "Internal_CustomerService": "cs1",
    "Admin": "admin1",
    "Customer": "cust1",
    "rep acting": "sales1",
}
REPS = ("Internal_AR", "Internal_SalesRep", "Internal_CustomerService", "rep acting")


def implied(level: str, kind: str) -> str:
    """What an access level means for a kind of user."""
    if level == "public":
        return ALLOW
    if kind == "anonymous":
        return DENY_401
    allowed = {
        "user": True,
        "rep": kind in REPS,
        "admin": kind == "Admin",
        "customer": kind == "Customer",
        "shopper": kind in ("Customer", "rep acting"),
    }[level]
    return ALLOW if allowed else DENY_403


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    level: str
    body: Callable[[Gateway], dict] | None = None
    expect: dict[str, str] = field(default_factory=dict)  # kind -> outcome, where it differs from the level
    # past=True: for the kinds the level admits, any answer but 401/403 passes (the route then
    # checks its own body or ids: 404/422 are fine). Denied kinds must still get 401/403.
    past: bool = False


def _first(gw: Gateway) -> int:
    return gw.accounts[0]


# {placeholder} -> value, from the gateway under test.
PATH_PARAMS: dict[str, Callable[[Gateway], object]] = {
    "an8": _first,
    "user_id": lambda gw: gw.users["ar1"],
    "rep_id": lambda gw: gw.users["ar1"],
    "change_id": lambda gw: 999_999,
    "order_id": lambda gw: 999_999,
    "token": lambda gw: "no-such-token",
    "item": lambda gw: "NO-SUCH-ITEM",
}

ROUTES: list[Route] = [
    Route("GET", "/healthz", "public"),
    Route("GET", "/api/openapi.json", "user"),  # the API schema: signed-in users only
    Route("GET", "/api/docs", "user"),  # the API documentation, drawn from it without outside assets (issue 15)
    Route("GET", "/", "public"),
    Route("GET", "/login", "public"),
    Route("POST", "/login", "public", body=lambda gw: {"login": "cust1", "password": PASSWORD}),
    Route("POST", "/logout", "user"),
    Route("GET", "/accounts", "rep"),
    # An account in the URL: reps whose list holds it, the customer it belongs to; else 404.
    Route("GET", "/accounts/{an8}", "user", expect={"Admin": DENY_404}),
    Route("GET", "/account", "user", expect={"Admin": DENY_404}),
    # Open to signed-in users so the service refuses and audits non-reps itself (403).
    Route("POST", "/obo", "user", body=lambda gw: {"an8": gw.accounts[0]}, expect={"Admin": DENY_403, "Customer": DENY_403}),
    Route("POST", "/obo/billing", "shopper", body=lambda gw: {"billing_an8": gw.billing_child_an8}),
    Route("POST", "/obo/shipping", "shopper", body=lambda gw: {"shipping_an8": 1}, expect={
        "Customer": "422", "rep acting": "422"}),  # past authorization: 1 is not a shipping address
    Route("POST", "/obo/end", "rep"),
    Route("POST", "/api/v1/session", "public", body=lambda gw: {"login": "cust1", "password": PASSWORD}),
    Route("GET", "/api/v1/session", "user"),
    Route("DELETE", "/api/v1/session", "user"),
    Route("GET", "/api/v1/accounts", "rep"),
    Route("GET", "/api/v1/accounts/{an8}", "user", expect={"Admin": DENY_404}),
    Route("GET", "/api/v1/obo", "user"),
    Route("POST", "/api/v1/obo", "user", body=lambda gw: {"an8": gw.accounts[0]},
          expect={"Admin": DENY_403, "Customer": DENY_403}),
    Route("POST", "/api/v1/obo/addresses", "shopper", body=lambda gw: {"billing_an8": gw.billing_child_an8}),
    Route("DELETE", "/api/v1/obo", "rep"),
    Route("GET", "/api/v1/desk/search", "rep"),  # the header switcher (issue 15)
    Route("GET", "/api/v1/session/idle", "user"),  # the idle warning's "Stay signed in" (issue 15)
    # --- admin console (issue 6): admin only; bodies left empty, so admitted requests stop at validation.
    *[Route(m, p, "admin", past=True) for m, p in (
        ("GET", "/admin"), ("GET", "/admin/users"), ("POST", "/admin/users"), ("GET", "/admin/users/{user_id}"),
        ("POST", "/admin/users/{user_id}/type"), ("POST", "/admin/users/{user_id}/active"),
        ("POST", "/admin/users/{user_id}/link"), ("GET", "/admin/restrictions"), ("GET", "/admin/restrictions/{rep_id}"),
        ("POST", "/admin/restrictions/{rep_id}/preview"), ("POST", "/admin/restrictions/{rep_id}/search"),
        ("POST", "/admin/restrictions/{rep_id}/pick"), ("POST", "/admin/restrictions/{rep_id}"),
        ("POST", "/admin/restrictions/history/{change_id}/revert"), ("GET", "/admin/audit"), ("GET", "/admin/audit.csv"),
        ("GET", "/admin/orders/{order_id}/audit"), ("GET", "/api/v1/admin/users"), ("POST", "/api/v1/admin/users"),
        ("GET", "/api/v1/admin/users/{user_id}"), ("PATCH", "/api/v1/admin/users/{user_id}"),
        ("POST", "/api/v1/admin/users/{user_id}/set-password-link"), ("GET", "/api/v1/admin/restrictions"),
        ("POST", "/api/v1/admin/restrictions/validate"), ("POST", "/api/v1/admin/restrictions/preview"),
        ("POST", "/api/v1/admin/restrictions/compose"), ("GET", "/api/v1/admin/restrictions/history"),
        ("POST", "/api/v1/admin/restrictions/history/{change_id}/revert"), ("GET", "/api/v1/admin/restrictions/export"),
        ("POST", "/api/v1/admin/restrictions/import"), ("GET", "/api/v1/admin/restrictions/{rep_id}"),
        ("PUT", "/api/v1/admin/restrictions/{rep_id}"), ("GET", "/api/v1/admin/accounts"), ("GET", "/api/v1/admin/audit"),
        ("GET", "/api/v1/admin/audit.csv"))],
    # A set-password link is its own credential: public, and the link's token is checked by the route.
    Route("GET", "/set-password", "public", past=True),
    Route("POST", "/set-password", "public", past=True),
    # --- shopping (issue 5): a customer, or a rep acting on behalf. Empty Cart is staff only
    # (a customer gets 403 from the service): its two routes have their own rows further down.
    *[Route(m, p, "shopper", past=True) for m, p in (
        ("GET", "/catalog"), ("GET", "/cart"), ("POST", "/cart/add"), ("POST", "/cart/update"), ("POST", "/cart/remove"),
        ("GET", "/checkout"), ("POST", "/orders"), ("GET", "/orders"),
        ("GET", "/orders/{order_id}"), ("POST", "/orders/{order_id}/cart"), ("GET", "/api/v1/catalog"),
        ("GET", "/api/v1/cart"), ("POST", "/api/v1/cart"),
        ("POST", "/api/v1/cart/lines"), ("PUT", "/api/v1/cart/lines/{item}"), ("DELETE", "/api/v1/cart/lines/{item}"),
        ("POST", "/api/v1/orders"), ("GET", "/api/v1/orders"),
        ("GET", "/api/v1/orders/{order_id}"))],
]

# Admin console (issue 6, ecgateway.admin): every route refuses everyone but Admin. Admin posts
# that would change the shared users or filters get no body here: past authorization, 422.
for _name, _value in {"user_id": lambda gw: gw.users["ar1"], "rep_id": lambda gw: gw.users["ar1"],
                      "change_id": lambda gw: 999_999, "token": lambda gw: "not-a-real-link",
                      "order_id": lambda gw: 1}.items():
    PATH_PARAMS.setdefault(_name, _value)
_NO_LINK = {kind: DENY_404 for kind in KINDS}  # an unknown set-password link: 404 for everyone
ROUTES += [
    Route("GET", "/admin", "admin"),
    Route("GET", "/admin/users", "admin"),
    Route("POST", "/admin/users", "admin", body=lambda gw: {"login": "matrix-page", "user_type": "Internal_AR"}),
    Route("GET", "/admin/users/{user_id}", "admin"),
    Route("POST", "/admin/users/{user_id}/type", "admin", expect={"Admin": "422"}),
    Route("POST", "/admin/users/{user_id}/active", "admin", expect={"Admin": "422"}),
    Route("POST", "/admin/users/{user_id}/link", "admin"),
    Route("GET", "/set-password", "public"),
    Route("POST", "/set-password", "public", expect=_NO_LINK),
    Route("GET", "/admin/restrictions", "admin"),
    Route("GET", "/admin/restrictions/{rep_id}", "admin"),
    Route("POST", "/admin/restrictions/{rep_id}", "admin", expect={"Admin": "422"}),
    Route("POST", "/admin/restrictions/{rep_id}/preview", "admin", body=lambda gw: {"filter_text": "ABAC01 = 'NTH'"}),
    Route("POST", "/admin/restrictions/{rep_id}/search", "admin", body=lambda gw: {"aq": "a"}),
    Route("POST", "/admin/restrictions/{rep_id}/pick", "admin", body=lambda gw: {"an8": str(gw.accounts[0])}),
    Route("POST", "/admin/restrictions/history/{change_id}/revert", "admin", expect={"Admin": DENY_404}),
    Route("GET", "/admin/audit", "admin"),
    Route("GET", "/admin/audit.csv", "admin"),
    Route("GET", "/admin/orders/{order_id}/audit", "admin"),
    Route("GET", "/api/v1/admin/users", "admin"),
    Route("POST", "/api/v1/admin/users", "admin", body=lambda gw: {"login": "matrix-api", "user_type": "Internal_AR"}),
    Route("GET", "/api/v1/admin/users/{user_id}", "admin"),
    Route("PATCH", "/api/v1/admin/users/{user_id}", "admin", expect={"Admin": "422"}),
    Route("POST", "/api/v1/admin/users/{user_id}/set-password-link", "admin"),
    Route("GET", "/api/v1/admin/restrictions", "admin"),
    Route("GET", "/api/v1/admin/restrictions/{rep_id}", "admin"),
    Route("PUT", "/api/v1/admin/restrictions/{rep_id}", "admin", expect={"Admin": "422"}),
    Route("POST", "/api/v1/admin/restrictions/validate", "admin", body=lambda gw: {"filter_text": "ABAN8 = 1"}),
    Route("POST", "/api/v1/admin/restrictions/preview", "admin", body=lambda gw: {"filter_text": "ABAN8 = 1"}),
    Route("POST", "/api/v1/admin/restrictions/compose", "admin", body=lambda gw: {"an8": [gw.accounts[0]]}),
    Route("GET", "/api/v1/admin/restrictions/history", "admin"),
    Route("POST", "/api/v1/admin/restrictions/history/{change_id}/revert", "admin", expect={"Admin": DENY_404}),
    Route("GET", "/api/v1/admin/restrictions/export", "admin"),
    Route("POST", "/api/v1/admin/restrictions/import", "admin", expect={"Admin": "422"}),
    Route("GET", "/api/v1/admin/accounts", "admin"),
    Route("GET", "/api/v1/admin/audit", "admin"),
    Route("GET", "/api/v1/admin/audit.csv", "admin"),
]

# The supervisor's view (issue 18, admin.supervisor): admin only. Ending a session without a reason,
# or the account form without a number, stops at validation (422) for the admin.
PATH_PARAMS.setdefault("session_id", lambda gw: 999_999)
PATH_PARAMS.setdefault("figure", lambda gw: "sessions")
ROUTES += [
    Route("GET", "/admin/supervisor", "admin"),
    Route("GET", "/admin/supervisor/live", "admin"),
    Route("POST", "/admin/supervisor/sessions/{session_id}/end", "admin", expect={"Admin": "422"}),
    Route("GET", "/admin/supervisor/{figure}.csv", "admin"),
    Route("GET", "/admin/supervisor/accounts", "admin"),  # empty: back to the view (303)
    Route("GET", "/admin/supervisor/accounts/{an8}", "admin"),
    Route("GET", "/api/v1/admin/supervisor/figures", "admin"),
    Route("GET", "/api/v1/admin/supervisor/sessions", "admin"),
    Route("POST", "/api/v1/admin/supervisor/sessions/{session_id}/end", "admin", expect={"Admin": "422"}),
    Route("GET", "/api/v1/admin/supervisor/alerts", "admin"),
    Route("GET", "/api/v1/admin/supervisor/accounts/{an8}", "admin"),
]

# Commerce (issue 5, ecgateway.commerce.views): shoppers only (a customer, or a rep acting).
# Lines named in the path are never in a cart here (404 past authorization); Empty Cart is
# staff only (the customer gets 403 from the service); an order without key or ship-to is 422.
def _an_item(gw: Gateway) -> str:
    f4101 = gw.runtime.jde.F4101
    with gw.runtime.jde_engine.connect() as jde:
        return jde.scalar(sa.select(f4101.c.imlitm).order_by(f4101.c.imitm).limit(1))


PATH_PARAMS.setdefault("item", lambda gw: "NOT-IN-CART")
_SHOPPERS_404 = {"Customer": DENY_404, "rep acting": DENY_404}
_SHOPPERS_422 = {"Customer": "422", "rep acting": "422"}
ROUTES += [
    Route("GET", "/catalog", "shopper"),
    Route("GET", "/cart", "shopper"),
    Route("POST", "/cart/add", "shopper", body=lambda gw: {"item": _an_item(gw), "quantity": 1}),
    Route("POST", "/cart/update", "shopper", body=lambda gw: {"item": "NOT-IN-CART", "quantity": 2}, expect=_SHOPPERS_404),
    Route("POST", "/cart/remove", "shopper", body=lambda gw: {"item": "NOT-IN-CART"}, expect=_SHOPPERS_404),
    Route("POST", "/cart/empty", "shopper", body=lambda gw: {"confirm": "yes"}, expect={"Customer": DENY_403}),
    Route("GET", "/checkout", "shopper"),
    Route("POST", "/orders", "shopper", expect=_SHOPPERS_422),
    Route("GET", "/orders", "shopper"),
    Route("GET", "/orders/{order_id}", "shopper", expect=_SHOPPERS_404),
    Route("POST", "/orders/{order_id}/cart", "shopper", expect=_SHOPPERS_404),  # issue 12: a rejected order back in the cart
    Route("GET", "/api/v1/catalog", "shopper"),
    Route("GET", "/api/v1/cart", "shopper"),
    Route("POST", "/api/v1/cart", "shopper", body=lambda gw: {"lines": [{"item": _an_item(gw), "quantity": 1}]}),
    Route("POST", "/api/v1/cart/lines", "shopper", body=lambda gw: {"item": _an_item(gw), "quantity": 1}),
    Route("PUT", "/api/v1/cart/lines/{item}", "shopper", body=lambda gw: {"quantity": 2}, expect=_SHOPPERS_404),
    Route("DELETE", "/api/v1/cart/lines/{item}", "shopper", expect=_SHOPPERS_404),
    Route("DELETE", "/api/v1/cart", "shopper", expect={"Customer": DENY_403}),
    Route("POST", "/api/v1/orders", "shopper", body=lambda gw: {"ship_to": 1, "customer_po": "PO-1"}, expect=_SHOPPERS_422),
    Route("GET", "/api/v1/orders", "shopper"),
    Route("GET", "/api/v1/orders/{order_id}", "shopper", expect=_SHOPPERS_404),
]

# Managed lists (issue 16, commerce.lists): shoppers only, each for their own account (an unknown or
# another account's list is 404). Saving is a rep's with the right lists.create (no one here holds
# it: 403, the customer too); changing, accepting and rejecting are the customer's (403 for a rep).
PATH_PARAMS.setdefault("list_id", lambda gw: 999_999)
_LIST_DECIDE = {"Customer": DENY_404, "rep acting": DENY_403}
ROUTES += [
    Route("GET", "/lists", "shopper"),
    Route("GET", "/lists/open", "shopper", past=True),  # no link token: 400 with the way back
    Route("GET", "/lists/{list_id}", "shopper", expect=_SHOPPERS_404),
    Route("POST", "/lists", "shopper", body=lambda gw: {"name": "matrix"},
          expect={"Customer": DENY_403, "rep acting": DENY_403}),
    Route("POST", "/lists/{list_id}/lines", "shopper", body=lambda gw: {"item": "X", "quantity": 1}, expect=_LIST_DECIDE),
    Route("POST", "/lists/{list_id}/accept", "shopper", expect=_LIST_DECIDE),
    Route("POST", "/lists/{list_id}/reject", "shopper", expect=_LIST_DECIDE),
    Route("GET", "/api/v1/lists", "shopper"),
    Route("POST", "/api/v1/lists", "shopper", body=lambda gw: {"name": "matrix"},
          expect={"Customer": DENY_403, "rep acting": DENY_403}),
    Route("GET", "/api/v1/lists/{list_id}", "shopper", expect=_SHOPPERS_404),
    Route("PUT", "/api/v1/lists/{list_id}/lines/{item}", "shopper", body=lambda gw: {"quantity": 1}, expect=_LIST_DECIDE),
    Route("POST", "/api/v1/lists/{list_id}/accept", "shopper", expect=_LIST_DECIDE),
    Route("POST", "/api/v1/lists/{list_id}/reject", "shopper", body=lambda gw: {}, expect=_LIST_DECIDE),
    # the right itself is granted by an admin on the user's page
    Route("POST", "/admin/users/{user_id}/rights", "admin", expect={"Admin": "422"}),
    Route("GET", "/api/v1/admin/users/{user_id}/rights", "admin"),
    Route("POST", "/api/v1/admin/users/{user_id}/rights", "admin", expect={"Admin": "422"}),
]

# Sessions and registration (issue 17): extending an on-behalf-of session is a rep's (409 past
# authorization when not acting); the access history and the receipts setting are the customer's own.
ROUTES += [
    Route("POST", "/obo/extend", "rep", past=True),
    Route("POST", "/api/v1/obo/extend", "rep", past=True),
    Route("GET", "/account/access-history", "customer"),
    Route("POST", "/account/receipts", "customer", body=lambda gw: {"obo_receipts": ""}),
    Route("GET", "/api/v1/account/access-history", "customer"),
    Route("GET", "/api/v1/account/settings", "customer"),
    Route("PUT", "/api/v1/account/settings", "customer", body=lambda gw: {"obo_receipts": False}),
    # Registering a contact: reps only, and then only with the register right (none of the matrix's
    # reps holds it: 403 from the service; tests/obo/test_register_contact.py grants it).
    *[Route(m, p, "rep", body=b, expect={k: DENY_403 for k in REPS}) for m, p, b in (
        ("GET", "/accounts/{an8}/contacts/new", None),
        ("POST", "/accounts/{an8}/contacts", lambda gw: {"name": "Matrix", "email": "matrix@example.com"}),
        ("POST", "/api/v1/accounts/{an8}/contacts", lambda gw: {"name": "Matrix", "email": "matrix@example.com"}))],
]


def app_routes(gw: Gateway) -> dict[tuple[str, str], APIRoute]:
    found = {}
    for rc in iter_route_contexts(gw.app.routes):
        route = rc.original_route
        if isinstance(route, APIRoute):
            for method in sorted(rc.methods or ()):
                found[(method, rc.path)] = route
    return found


def test_every_route_is_in_the_table(gw):
    table = {(r.method, r.path) for r in ROUTES}
    missing = sorted(set(app_routes(gw)) - table)
    assert not missing, f"routes without a row in ROUTES (add them, with their access level): {missing}"
    stale = sorted(table - set(app_routes(gw)))
    assert not stale, f"rows in ROUTES for routes the app does not have: {stale}"


@pytest.mark.parametrize("row", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_route_declares_the_tables_level(gw, row):
    route = app_routes(gw)[(row.method, row.path)]
    declared = access_level_of(route)
    if row.path == "/healthz":
        assert declared is None  # public by the guard's short list of routes other parts own
    else:
        assert declared == row.level


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("row", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_matrix(gw, row, kind):
    expected = row.expect.get(kind, implied(row.level, kind))
    client = gw.client(KINDS[kind])
    headers = {}
    if KINDS[kind]:
        token = client.get("/api/v1/session").json()["csrf_token"]
        if kind == "rep acting":
            r = client.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": token})
            assert r.status_code == 200, r.text
            token = r.json()["csrf_token"]
        headers["X-CSRF-Token"] = token
    path = row.path.format(**{k: f(gw) for k, f in PATH_PARAMS.items() if "{" + k + "}" in row.path})
    kwargs = {}
    if row.body is not None:
        kwargs["json" if path.startswith("/api/") else "data"] = row.body(gw)
    response = client.request(row.method, path, headers=headers, **kwargs)
    got = outcome(response)
    if row.past and expected == ALLOW and got not in (DENY_401, DENY_403) and response.status_code < 500:
        got = ALLOW  # admitted: what the route then says about its body or ids is its own business
    assert got == expected, (kind, row.method, path, response.status_code, response.text[:300])


def outcome(response) -> str:
    status = response.status_code
    if status == 303 and response.headers.get("location", "").startswith("/login?next="):
        return DENY_401  # a page asking an anonymous visitor to sign in
    if status in (401, 403, 404, 422):
        return str(status)
    return ALLOW if status < 400 else f"unexpected {status}"


# --- actor type x target type: who may start acting for what ------------------------------

TARGETS: dict[str, Callable[[Gateway], int]] = {
    "customer account in the rep's list": lambda gw: gw.accounts[0],
    "customer account outside ar1's list": lambda gw: gw.accounts[-1],
    "the customer user's own account": lambda gw: gw.accounts[0],
    "employee address (internal party)": lambda gw: gw.employee_an8,
    "billing address (not an account)": lambda gw: gw.billing_child_an8,
    "number that does not exist": lambda gw: 99_999_999,
}
TARGET_OK = {  # actor kind -> targets it may act for
    "Internal_AR": {"customer account in the rep's list", "the customer user's own account"},
    "Internal_SalesRep": {"customer account in the rep's list", "the customer user's own account"},
    "Internal_CustomerService": {"customer account in the rep's list", "the customer user's own account",
                                 "customer account outside ar1's list"},  # cs1 has no restriction: every account
}


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "rep acting"])
def test_actor_x_target(gw, kind, target):
    an8 = TARGETS[target](gw)
    client = gw.client(KINDS[kind])
    headers = {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]} if KINDS[kind] else {}
    with gw.portal() as db:
        before = db.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "obo.start", AuditEntry.outcome == "refused"))
    r = client.post("/api/v1/obo", json={"an8": an8}, headers=headers)
    if target in TARGET_OK.get(kind, set()):
        assert r.status_code == 200, r.text
        assert r.json()["acting"] is True and r.json()["account_an8"] == an8
        return
    assert r.status_code in (401, 403, 404), (kind, target, r.status_code, r.text)
    assert client.get("/api/v1/obo").status_code in (200, 401)
    if KINDS[kind]:
        assert client.get("/api/v1/obo").json()["acting"] is False
        with gw.portal() as db:  # every refusal of a signed-in user is on record
            after = db.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "obo.start", AuditEntry.outcome == "refused"))
        assert after == before + 1
