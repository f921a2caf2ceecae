"""A page holds one portal connection at a time: what it reads while it is drawn (the header's cart
count, the account page's access history and "Register a contact") goes through the route's own
session (web/deps.py request_session), not a second one from the same pool.

With a second session, every request under load held one connection and waited for another; with all
of the pool's connections held that way, none came back until the pool's timeout (503s).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from web.web_env import csrf_of


@pytest.fixture
def most_held(gw):
    """The most portal connections checked out at once while the block runs."""
    pool = gw.runtime.portal_engine.pool
    seen = {"now": 0, "most": 0}

    def checkout(*_args):
        seen["now"] += 1
        seen["most"] = max(seen["most"], seen["now"])

    def checkin(*_args):
        seen["now"] -= 1

    sa.event.listen(pool, "checkout", checkout)
    sa.event.listen(pool, "checkin", checkin)

    def measure(call):
        seen.update(now=pool.checkedout(), most=pool.checkedout())
        result = call()
        return result, seen["most"]

    yield measure
    sa.event.remove(pool, "checkout", checkout)
    sa.event.remove(pool, "checkin", checkin)


def test_a_customers_pages_hold_one_portal_connection(gw, most_held):
    client = gw.client("cust1")
    account = gw.user("cust1").account_an8
    for path in ("/catalog", "/cart", "/orders", "/lists", f"/accounts/{account}", "/account/access-history"):
        r, most = most_held(lambda p=path: client.get(p))
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert "Cart" in r.text
        assert most == 1, (path, most)


def test_an_acting_reps_pages_hold_one_portal_connection(gw, most_held):
    client = gw.client("cs1")
    r = client.post("/obo", data={"an8": str(gw.accounts[0]), "csrf_token": csrf_of(client), "reason": "phone"})
    assert r.status_code == 303, r.text[:300]
    for path in ("/catalog", "/cart", f"/accounts/{gw.accounts[0]}"):
        r, most = most_held(lambda p=path: client.get(p))
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert most == 1, (path, most)


def test_a_pool_of_one_connection_serves_every_page(jde_db, portal_url, tmp_path_factory):
    """The smallest pools (one connection each, no overflow): every page is drawn. With the second
    session, /cart waited for a connection its own route held and answered 503 after the pool's timeout."""
    from web.web_env import build_gateway

    small = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("one"), db_pool_size=1, db_max_overflow=0,
                          db_pool_timeout=2)
    try:
        client = small.client("cust1")
        for path in ("/catalog", "/cart", "/orders", "/lists", "/account/access-history"):
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
    finally:
        small.runtime.dispose()
