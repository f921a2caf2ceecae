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


def test_every_route_that_loads_auth_itself_refuses_strangers(gw):
    """A loads_auth route checks who is signed in in its own code: each one must refuse a request with
    no session cookie and one with a cookie that names no session, whatever its query string says."""
    from fastapi.routing import iter_route_contexts

    routes = [(rc.path, rc.methods) for rc in iter_route_contexts(gw.app.routes)
              if getattr(getattr(rc.original_route, "endpoint", None), "loads_auth", False)]
    assert routes, "no route is marked loads_auth"
    for route_path, methods in routes:
        assert set(methods) <= {"GET", "HEAD"}, (route_path, methods)
        path = route_path.replace("{an8}", str(gw.accounts[0]))
        for cookies in ({}, {"ecgw_session": "no-such-session"}):
            client = gw.client()
            for name, value in cookies.items():
                client.cookies.set(name, value)
            r = client.get(path, params={"q": "x" * 500, "limit": 10**9})
            assert r.status_code == 401 or (cookies and r.status_code == 422), (route_path, cookies, r.status_code)
            if not cookies:
                assert r.status_code == 401, (route_path, r.text)


def test_declare_counts_only_for_a_route_that_checks(gw):
    """declare() loads and checks nothing: on a route not marked loads_auth it declares no level, so the
    request guard refuses the route (deny by default) instead of serving it to anyone."""
    from fastapi import Depends
    from fastapi.routing import APIRoute

    from ecgateway.web.deps import access_level_of, declare

    async def unchecked() -> dict:
        return {}

    route = APIRoute("/x", unchecked, dependencies=[Depends(declare("admin"))])
    assert access_level_of(route) is None


def _session_dependency(gw):
    """get_portal_session as FastAPI drives it, for a request that has only its state."""
    from types import SimpleNamespace

    from ecgateway.web.deps import get_portal_session

    return get_portal_session(SimpleNamespace(state=SimpleNamespace()), gw.runtime)


def test_a_cancelled_request_still_gives_its_portal_connection_back(gw):
    """The session dependency closes a session left in a transaction in a thread of its own, shielded:
    in the shared pool it waited behind requests waiting for the connection it held, and a cancelled
    request skipped the close."""
    import anyio

    pool = gw.runtime.portal_engine.pool
    before = pool.checkedout()

    async def run():
        gen = _session_dependency(gw)
        session = await gen.__anext__()
        await anyio.to_thread.run_sync(lambda: session.execute(sa.text("SELECT 1")))
        assert session.in_transaction() and pool.checkedout() == before + 1
        with anyio.CancelScope() as scope:
            scope.cancel()
            await gen.aclose()  # the close runs although the scope around it is cancelled

    anyio.run(run)
    assert pool.checkedout() == before


def test_the_close_does_not_wait_for_the_shared_thread_pool(gw):
    """With every thread of the shared pool taken (by requests that, under load, wait for a portal
    connection), a session that holds one must still be closed: it has a thread of its own."""
    import threading

    import anyio
    import anyio.to_thread

    pool = gw.runtime.portal_engine.pool
    before = pool.checkedout()
    closed = threading.Event()

    async def run():
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, lambda: closed.wait(10))  # the pool's only thread, held
            await anyio.sleep(0.05)
            gen = _session_dependency(gw)
            session = await gen.__anext__()
            session.execute(sa.text("SELECT 1"))
            try:
                with anyio.fail_after(5):
                    await gen.aclose()
                assert pool.checkedout() == before
            finally:
                closed.set()

    anyio.run(run)


def test_a_search_reads_the_portal_in_two_transactions(gw):
    """Who is signed in (ended before JDE is asked for), then one transaction for the restriction and
    every group the index proposes from. Each group took a connection and a transaction of its own,
    and the restriction another: 3.55 transactions a request on the benchmark's keystrokes, now 2.08."""
    if not gw.runtime.search.ready():
        with gw.runtime.jde_reader.connect() as jde:
            gw.runtime.search.rebuild(jde, wwa=gw.runtime.accounts)
    client = gw.client("cs1")
    first = client.get("/api/v1/accounts", params={"q": "a", "limit": 50})
    assert first.status_code == 200
    matches = {item["match"] for item in first.json()["items"]}
    assert {"name-prefix", "contains"} <= matches, matches  # two groups of the index
    pool = gw.runtime.portal_engine.pool
    checkouts = []

    def counted(*_args):
        checkouts.append(1)

    sa.event.listen(pool, "checkout", counted)
    try:
        r = client.get("/api/v1/accounts", params={"q": "a", "limit": 50})
    finally:
        sa.event.remove(pool, "checkout", counted)
    assert r.status_code == 200 and r.json() == first.json()
    assert len(checkouts) == 2, len(checkouts)
