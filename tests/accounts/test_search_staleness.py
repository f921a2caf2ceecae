"""A stale search index never shows an account a rep may no longer serve; a new JDE account is
found by number at once and by name after one refresh (issue 19), on SQLite and PostgreSQL,
through GET /api/v1/accounts of the real app."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.search_support import add_account, set_category
from ecgateway.accounts.search import state_table
from ecgateway.jde.conventions import pad, today_julian
from web.web_env import gw  # noqa: F401  the module's gateway fixture

NEW = 991000


def _search(gw, login, q):
    client, _ = _client(gw, login)
    r = client.get("/api/v1/accounts", params={"q": q, "limit": 50})
    assert r.status_code == 200, r.text
    return [(item["an8"], item["match"]) for item in r.json()["items"]]


_CLIENTS: dict = {}


def _client(gw, login):
    """One signed-in client per gateway and rep (signing in hashes a password: seconds here)."""
    from web.web_env import api_client

    key = (id(gw), login)
    if key not in _CLIENTS:
        _CLIENTS[key] = api_client(gw, login)
    return _CLIENTS[key]


def _built(gw):
    if not gw.runtime.search.ready():
        with gw.runtime.jde_reader.connect() as jde:
            gw.runtime.search.rebuild(jde, wwa=gw.runtime.accounts)


def test_removed_from_restriction_never_shows(gw):  # noqa: F811
    add_account(gw.runtime.jde_engine, gw.runtime.jde, an8=NEW, name="Zebulon Widgets", city="Denver", ac02="R01")
    _built(gw)
    gw.restrict("ar1", "ABAC02 = 'R01'")
    assert _search(gw, "ar1", "zebulon") == [(NEW, "name-prefix")]
    gw.restrict("ar1", "ABAC02 = 'R02'")  # the admin takes the account away: at once, no refresh
    assert _search(gw, "ar1", "zebulon") == []
    assert _search(gw, "ar1", str(NEW)) == []
    gw.restrict("ar1", "ABAC02 = 'R01'")
    set_category(gw.runtime.jde_engine, gw.runtime.jde, an8=NEW, ac02="R09")  # JDE moves it; index still says R01
    assert _search(gw, "ar1", "zebulon") == []
    assert _search(gw, "cs1", "zebulon") == [(NEW, "name-prefix")]  # still an account, for a rep who may serve all


def test_renamed_account_is_not_found_by_its_old_name(gw):  # noqa: F811
    _built(gw)
    with gw.runtime.jde_engine.begin() as conn:
        f0101 = gw.runtime.jde.F0101
        conn.execute(f0101.update().where(f0101.c.aban8 == NEW).values(abalph=pad("Yarrow Widgets", 40),
                                                                           abdc=pad("YARROWWIDGETS", 40)))
    assert _search(gw, "cs1", "zebulon") == []  # the index proposes it, JDE's current name decides
    gw.runtime.refresh_search()
    assert _search(gw, "cs1", "yarrow") == [(NEW, "name-prefix")]


def test_new_account_found_by_number_at_once_and_by_name_after_one_refresh(gw):  # noqa: F811
    _built(gw)
    new = NEW + 100
    add_account(gw.runtime.jde_engine, gw.runtime.jde, an8=new, name="Quixote Supply", city="Köln",
                email="orders@quixote.example.de")
    assert _search(gw, "cs1", str(new)) == [(new, "number")]  # exact number: JDE directly
    assert _search(gw, "cs1", "quixote") == []  # not in the index yet
    relay = gw.app.state.relay
    (chore,) = [c for c in relay.chores if c.name == "search index refresh"]
    assert chore.every == 60
    chore.due = 0
    _refreshed_long_ago(gw)
    relay.run_chores()  # what the relay loop does every 60 s
    assert _search(gw, "cs1", "quixote") == [(new, "name-prefix")]
    assert _search(gw, "cs1", "QUIXOTE.EXAMPLE") == [(new, "contains")]
    assert _search(gw, "cs1", "koln quix") == [(new, "contains")]
    status = gw.runtime.search.status()
    assert status.refreshed_accounts >= 2 and status.refreshed_at is not None


def test_address_that_becomes_effective_is_refreshed(gw):  # noqa: F811
    """A move entered long ago (old stamp) becomes current today: the refresh re-reads it."""
    _built(gw)
    account = gw.accounts[0]
    with gw.runtime.jde_engine.begin() as conn:
        conn.execute(gw.runtime.jde.F0116.insert().values(
            alan8=account, aleftb=today_julian(), aladd1=pad("9 Seestrasse", 40), alcty1=pad("Zürich", 25),
            aladds=pad("ZH", 3), aladdz=pad("8001", 12), alctr=pad("CH", 3)))
    with gw.runtime.portal_engine.begin() as conn:  # the last refresh was yesterday
        conn.execute(state_table.update().values(since_date=today_julian() - 1))
    assert account not in [a for a, _ in _search(gw, "cs1", "zurich")]
    result = gw.runtime.refresh_search()
    assert account in _changed(gw, result)
    assert account in [a for a, _ in _search(gw, "cs1", "zurich")]


def _changed(gw, result):
    assert result is not None and result.changed >= 1
    with gw.runtime.portal_engine.connect() as conn:
        return set(conn.scalars(sa.text("SELECT aban8 FROM ecgw_search_account WHERE hay LIKE '%zurich%'")))


def _refreshed_long_ago(gw):
    """As if the last refresh (the one an earlier test made) were an interval ago."""
    import datetime as dt

    from ecgateway.clock import utcnow

    with gw.runtime.portal_engine.begin() as conn:
        conn.execute(state_table.update().values(refreshed_at=utcnow() - dt.timedelta(minutes=5)))


def test_one_process_refreshes_in_an_interval_the_others_skip(gw):  # noqa: F811
    """Every gateway process runs the refresh chore; the one that comes second within half an interval
    reads nothing from JDE, and a change is still found by the next refresh after that."""
    _built(gw)
    _refreshed_long_ago(gw)
    relay = gw.app.state.relay
    (chore,) = [c for c in relay.chores if c.name == "search index refresh"]
    first = gw.runtime.refresh_search(fresh_within=chore.every / 2)  # process A
    assert first is not None and not first.skipped
    new = NEW + 200
    add_account(gw.runtime.jde_engine, gw.runtime.jde, an8=new, name="Ulysses Supply", city="Bonn")
    second = gw.runtime.refresh_search(fresh_within=chore.every / 2)  # process B, moments later
    assert second is not None and second.skipped and second.changed == 0
    assert _search(gw, "cs1", "ulysses") == []
    _refreshed_long_ago(gw)  # half an interval later: B's next turn reads the change
    third = gw.runtime.refresh_search(fresh_within=chore.every / 2)
    assert third is not None and not third.skipped and third.changed >= 1
    assert _search(gw, "cs1", "ulysses") == [(new, "name-prefix")]
    forced = gw.runtime.refresh_search()  # `ecgateway search refresh`: always reads
    assert forced is not None and not forced.skipped


def test_two_processes_refreshing_at_the_same_moment_read_jde_once(gw):  # noqa: F811
    """Both chores due at once (every process starts its relay loop at start-up): the claim is an
    UPDATE, so on SQLite too (where a read takes no lock) the second waits for the first and skips."""
    import threading

    from ecgateway.runtime import Runtime

    _built(gw)
    _refreshed_long_ago(gw)
    other = Runtime.from_settings(gw.settings)  # another gateway process: its own engines and index object
    try:
        start = threading.Barrier(2)
        results = []

        def refresh(runtime):
            start.wait()
            results.append(runtime.refresh_search(fresh_within=30))

        threads = [threading.Thread(target=refresh, args=(r,)) for r in (gw.runtime, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(r.skipped for r in results) == [False, True], results
    finally:
        other.dispose()


def test_a_number_list_held_in_memory_follows_each_refresh(gw):  # noqa: F811
    """A rep whose restriction is one short ABAN8 list is matched from the list's index rows held in
    memory (search.LIST_MEMORY_MAX): a refresh that adds or renames one of its accounts is seen by the
    next search, a rename in JDE before the refresh already hides the old name (JDE decides)."""
    _built(gw)
    new = NEW + 300
    listed = [gw.accounts[0], gw.accounts[1], new]
    gw.restrict("ar1", "ABAN8 IN (" + ",".join(f"'{n}'" for n in listed) + ")")
    assert _search(gw, "ar1", "vireo") == []  # reads the list's rows into memory: the new one is not there yet
    add_account(gw.runtime.jde_engine, gw.runtime.jde, an8=new, name="Vireo Fittings", city="Graz")
    assert _search(gw, "ar1", str(new)) == [(new, "number")]  # the exact number asks JDE at once
    assert _search(gw, "ar1", "vireo") == []
    gw.runtime.refresh_search()
    assert _search(gw, "ar1", "vireo") == [(new, "name-prefix")]
    assert _search(gw, "ar1", "ittings") == [(new, "contains")]
    with gw.runtime.jde_engine.begin() as conn:
        f0101 = gw.runtime.jde.F0101
        conn.execute(f0101.update().where(f0101.c.aban8 == new).values(
            abalph=pad("Wombat Fittings", 40), abdc=pad("WOMBATFITTINGS", 40), abupmj=today_julian()))
    assert _search(gw, "ar1", "vireo") == []  # the memory still proposes it; JDE's name decides
    assert _search(gw, "ar1", "wombat") == []
    gw.runtime.refresh_search()
    assert _search(gw, "ar1", "wombat") == [(new, "name-prefix")]
    assert _search(gw, "cs1", "wombat") == [(new, "name-prefix")]
    gw.restrict("ar1", f"ABAN8 IN ('{gw.accounts[0]}')")  # taken away: at once
    assert _search(gw, "ar1", "wombat") == []
