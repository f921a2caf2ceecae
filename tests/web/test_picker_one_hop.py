"""GET /api/v1/accounts, the picker's every keystroke, does its blocking work in one hop to the thread
pool: who is signed in (load_auth), the access check, the rep's restriction and JDE, in that order.

As a plain `def` route with `def` dependencies it took seven hops a request (the portal session's
enter and exit, get_auth, the JDE handle's enter and exit, the route, the answer's validation), and
each cost the gateway about 1 ms of CPU on the 8-client picker mix (bench/RESULTS-search.md). The
checks that the hops carried still hold: 401, 403, the order of the errors, a session ended elsewhere.
"""

from __future__ import annotations

import anyio.to_thread
import pytest
import sqlalchemy as sa

from ecgateway.auth.models import AuthSession
from web.web_env import api_client, session_cookie


@pytest.fixture
def hops(monkeypatch):
    """Count the calls into anyio's thread pool (Starlette's run_in_threadpool and FastAPI's `def`
    dependencies and routes all go through it)."""
    seen = []
    real = anyio.to_thread.run_sync

    async def counting(func, *args, **kwargs):
        seen.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return seen


@pytest.mark.parametrize("params", [{}, {"q": "a"}, {"q": "1"}, {"sort": "name", "limit": 5}])
def test_a_picker_request_takes_one_hop(gw, hops, params):
    client = gw.client("cs1")
    hops.clear()
    r = client.get("/api/v1/accounts", params=params)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["items"], params
    assert len(hops) == 1, hops


def test_nobody_signed_in_is_refused_before_anything_is_read(gw, hops):
    client = gw.client()
    r = client.get("/api/v1/accounts", params={"sort": "nonsense", "q": "a"})
    assert r.status_code == 401, r.text  # not the 422 of the sort: nothing is said to a stranger
    assert r.json()["message"].startswith("You are not signed in")


def test_a_customer_is_refused(gw):
    r = gw.client("cust1").get("/api/v1/accounts", params={"q": "a"})
    assert r.status_code == 403, r.text
    assert "internal representatives" in r.json()["message"]


def test_a_reps_bad_sort_is_named(gw):
    r = gw.client("ar1").get("/api/v1/accounts", params={"sort": "nonsense"})
    assert r.status_code == 422, r.text
    assert "'nonsense'" in r.json()["message"]


def test_a_session_ended_elsewhere_no_longer_lists(gw):
    client = gw.client("sales1")
    assert client.get("/api/v1/accounts").status_code == 200
    with gw.portal() as db:  # signed out in another tab, or ended by an administrator
        db.execute(sa.delete(AuthSession).where(AuthSession.user_id == gw.users["sales1"]))
        db.commit()
    r = client.get("/api/v1/accounts")
    assert r.status_code == 401, r.text
    assert session_cookie(client) in (None, "")  # the browser is told to drop the dead cookie


def test_a_deactivated_rep_no_longer_lists(gw):
    client, _csrf = api_client(gw, "ar1")
    assert client.get("/api/v1/accounts").status_code == 200
    with gw.portal() as db:
        db.execute(sa.text("UPDATE users SET active = :f WHERE id = :id"), {"f": False, "id": gw.users["ar1"]})
        db.commit()
    try:
        r = client.get("/api/v1/accounts")
        assert r.status_code == 401, r.text
    finally:
        with gw.portal() as db:
            db.execute(sa.text("UPDATE users SET active = :t WHERE id = :id"), {"t": True, "id": gw.users["ar1"]})
            db.commit()


def test_a_state_change_still_needs_its_token(gw):
    """The guard loads who is signed in for every POST (the CSRF check) before the route runs."""
    client, _csrf = api_client(gw, "cs1")
    r = client.post("/api/v1/obo", json={"an8": gw.accounts[0], "reason": "phone"})
    assert r.status_code == 403, r.text
    assert "security token" in r.json()["message"]


def test_the_user_comes_with_the_session_in_one_statement(gw):
    """load_session reads the session and its user together. The user was read a second time on every
    request (db.get), because the Session's identity map holds objects weakly and nothing kept it."""
    client = gw.client("sales1")
    assert client.get("/api/v1/accounts", params={"q": "a"}).status_code == 200
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(gw.runtime.portal_engine, "before_cursor_execute", seen)
    try:
        assert client.get("/api/v1/accounts", params={"q": "a"}).status_code == 200
    finally:
        sa.event.remove(gw.runtime.portal_engine, "before_cursor_execute", seen)
    with_users = [s for s in statements if " users" in s.lower()]
    assert len(with_users) == 1, with_users
    assert "auth_sessions" in with_users[0].lower()
