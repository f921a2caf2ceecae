"""`SearchIndex.rebuild` (issue 19): the index it loads in bulk holds what the row-by-row copy
held, and a search running during a rebuild reads the previous index whole, never a half-built one.
On SQLite and PostgreSQL (the PostgreSQL rebuild builds a new table beside the old and swaps it in).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from accounts.search_support import add_account
from ecgateway.accounts import all_scope, list_accounts
from ecgateway.accounts import search as search_module
from ecgateway.accounts.query import Shape
from ecgateway.accounts.search import (
    SearchIndex,
    _build_text,
    _quick_fold,
    accounts_table,
    changed_accounts,
    fold,
    index_record,
    search_text,
)
from ecgateway.db import make_engine

LATE = 995000  # a number after every seeded account: the last page of the rebuild holds it


@pytest.fixture(scope="module")
def portal_engine(portal_url):
    engine = make_engine(portal_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def base_rows(jde_db, wwa) -> list[dict]:
    add_account(jde_db.engine, jde_db.tables, an8=LATE, name="Zebulon Quarry Ltd", city="Köln")
    with jde_db.engine.connect() as jde:
        params = wwa.base_params()
        params["k_an8"] = 0
        return [{k.upper(): v for k, v in r._mapping.items()}
                for r in jde.execute(wwa.statement(None, Shape("index", rows=100000)), params)]


@given(st.text())
def test_quick_fold_is_fold(text):
    assert _quick_fold(text) == fold(text)


def test_build_text_is_search_text(base_rows):
    for text in ("Köln", "São Paulo", "Ørsted  Æble", "O'Brien ", "Straße"):
        row = {**base_rows[0], "ABALPH": text, "ALCTY1": text}
        assert _build_text(row) == search_text(row)
    assert all(_build_text(row) == search_text(row) for row in base_rows)


def _stored(portal_engine) -> dict[int, dict]:
    with portal_engine.connect() as conn:
        return {r.aban8: dict(r._mapping) for r in conn.execute(sa.select(accounts_table))}


def test_rebuild_stores_every_account_as_index_record(jde_db, wwa, portal_engine, base_rows):
    index = SearchIndex(portal_engine)
    with jde_db.engine.connect() as jde:
        assert index.rebuild(jde, wwa=wwa) == len(base_rows)
        assert index.rebuild(jde, wwa=wwa) == len(base_rows)  # again, over a built index
    assert _stored(portal_engine) == {int(r["ABAN8"]): index_record(r) for r in base_rows}
    with jde_db.engine.connect() as jde:
        page = list_accounts(jde, wwa=wwa, scope=all_scope(wwa), q="zebulon quar", limit=10, index=index)
    assert [a.an8 for a in page.items] == [LATE]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # the swap of tables is PostgreSQL's
def test_postgresql_rebuild_leaves_the_migrations_names(jde_db, wwa, portal_engine, base_rows, backend):
    with jde_db.engine.connect() as jde:
        SearchIndex(portal_engine).rebuild(jde, wwa=wwa)
    with portal_engine.connect() as conn:
        names = set(conn.scalars(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = :t"),
                                 {"t": "ecgw_search_account"}))
        tables = set(conn.scalars(sa.text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'ecgw_search%'")))
        collations = dict(conn.execute(sa.text(
            "SELECT column_name, collation_name FROM information_schema.columns WHERE table_name = :t"
            " AND column_name IN ('name_key', 'abalph', 'alcty1', 'hay')"), {"t": "ecgw_search_account"}).all())
    assert names == {"ecgw_search_account_pkey", "ix_ecgw_search_name", "ix_ecgw_search_alph",
                     "ix_ecgw_search_city", "ix_ecgw_search_hay", "ix_ecgw_search_non_ascii"}
    with portal_engine.connect() as conn:  # the partial index keeps the predicate the searches name
        partial = conn.scalar(sa.text("SELECT pg_get_expr(indpred, indrelid) FROM pg_index"
                                      " WHERE indexrelid = 'ix_ecgw_search_non_ascii'::regclass"))
    assert "!~" in partial and "x01-" in partial and "x7f" in partial, partial
    assert tables == {"ecgw_search_account", "ecgw_search_state"}
    assert collations == {"name_key": "C", "abalph": "C", "alcty1": "C", "hay": None}


def test_a_search_during_a_rebuild_reads_the_previous_index_whole(jde_db, wwa, portal_engine, base_rows,
                                                                   monkeypatch):
    index = SearchIndex(portal_engine)
    reader = SearchIndex(portal_engine)  # another process's view: its own connections
    with jde_db.engine.connect() as jde:
        index.rebuild(jde, wwa=wwa)
    before = _stored(portal_engine)
    monkeypatch.setattr(search_module, "REBUILD_PAGE", 25)  # many pages; the late account in the last
    seen = []

    def during(done, total):
        with jde_db.engine.connect() as jde:
            page = list_accounts(jde, wwa=wwa, scope=all_scope(wwa), q="zebulon quar", limit=10, index=reader)
        seen.append((done, len(_stored(portal_engine)), [a.an8 for a in page.items]))

    with jde_db.engine.connect() as jde:
        index.rebuild(jde, wwa=wwa, on_progress=during)
    assert len(seen) >= len(base_rows) // 25
    assert all(rows == len(before) and found == [LATE] for _, rows, found in seen), seen[:3]
    assert _stored(portal_engine) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_refresh_reads_the_stamps_through_their_indexes(jde_db, backend):
    """changed_accounts asks each table for (UPMJ, UPMT) >= the last refresh's stamp: on SQLite
    (whose plan does not depend on the table's size) each of the six is a SEARCH on an index,
    not a SCAN of the table (bench/RESULTS-search.md: the refresh)."""
    # SQLite only: PostgreSQL's plan for a few hundred rows is a scan whatever the indexes.
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(jde_db.engine, "before_cursor_execute", keep)
    try:
        with jde_db.engine.connect() as jde:
            changed_accounts(jde, jde_db.tables, since=(126300, 120000), today=126335)
            sa.event.remove(jde_db.engine, "before_cursor_execute", keep)
            plans = [" ".join(r[-1] for r in jde.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
                     for statement, parameters in statements]
    finally:
        if sa.event.contains(jde_db.engine, "before_cursor_execute", keep):
            sa.event.remove(jde_db.engine, "before_cursor_execute", keep)
    assert len(plans) == 7  # six stamped tables, then the addresses that became effective (read whole:
    # an F0116 ALEFTB index made SQLite drive the base query's count from it, jde/tables.py)
    assert all("USING" in plan and "INDEX" in plan and "SCAN" not in plan for plan in plans[:6]), plans
