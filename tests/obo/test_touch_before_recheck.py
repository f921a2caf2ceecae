"""No row lock is held while a request waits for a JDE connection.

CI (stop 22) saw 503s when 50 order submits of one signed-in rep hit two gateway processes with
small pools: every request of the session wrote its touch (last_seen_at, once TOUCH_EVERY had
passed), the UPDATE went out with the on-behalf re-check's first query, and the re-check then
waited for a JDE connection while holding the session row's lock. The requests queued on that
lock held the portal connections; those already past it held the JDE connections and waited for a
portal one: a circle, broken only by the pool's 30 s timeout. Now the touch is committed before
the re-check asks for a JDE connection, so another connection already sees it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ecgateway.auth.models import AuthSession
from obo.test_obo_lifecycle import new_rep
from web.web_env import api_client


def test_the_session_touch_is_committed_before_the_recheck_takes_a_jde_connection(gw, monkeypatch):
    new_rep(gw, "touch1", accounts=gw.accounts[:2])
    client, token = api_client(gw, "touch1")
    assert client.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": token}).status_code == 200
    with gw.portal() as db:
        row = db.scalar(sa.select(AuthSession).where(AuthSession.user_id == gw.users["touch1"]))
        row.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)  # the next request touches it
        stale = row.last_seen_at
        session_id = row.id
        db.commit()

    seen: list[dt.datetime] = []
    reader = gw.runtime.jde_reader
    connect = reader.connect

    def watching_connect(*args, **kwargs):
        # Read the session row the way another request would: on its own portal connection.
        with gw.runtime.portal_engine.connect() as other:
            value = other.scalar(sa.select(AuthSession.last_seen_at).where(AuthSession.id == session_id))
        seen.append(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
        return connect(*args, **kwargs)

    monkeypatch.setattr(reader, "connect", watching_connect)
    r = client.get("/api/v1/cart")
    assert r.status_code == 200, r.text
    assert seen, "the request took no JDE connection: the on-behalf re-check did not run"
    # Every JDE connection of the request was asked for after the touch was committed.
    assert all(value > stale + dt.timedelta(seconds=60) for value in seen), (stale, seen)


def test_a_request_asks_for_a_jde_connection_only_while_it_holds_no_portal_connection(gw, monkeypatch):
    """The rule that keeps two full pools from waiting on each other: a request waits for a JDE connection
    only with no portal connection checked out (the re-check's, and the route's own from get_jde). Then
    a request holding a JDE connection and waiting for a portal one always gets it. CI broke on the
    circle twice: requests in the re-check held portal connections and waited for JDE ones, requests past
    it held JDE connections and waited for portal ones, until a pool's 30 s timeout (503s)."""
    new_rep(gw, "touch2", accounts=gw.accounts[:2])
    rep, token = api_client(gw, "touch2")
    assert rep.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": token}).status_code == 200
    customer, _ = api_client(gw, "cust1")
    pool = gw.runtime.portal_engine.pool
    held: list[int] = []
    reader = gw.runtime.jde_reader
    connect = reader.connect

    def watching_connect(*args, **kwargs):
        held.append(pool.checkedout())
        return connect(*args, **kwargs)

    monkeypatch.setattr(reader, "connect", watching_connect)
    for client, path in ((rep, "/api/v1/cart"), (rep, "/api/v1/catalog"), (customer, "/api/v1/catalog")):
        held.clear()
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert held and set(held) == {0}, (path, held)  # the acting rep's: the re-check's and the route's
