"""PostgreSQL only: how the JDE engines bind numbers (SQLite has no parameter types)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecgateway.accounts import WorkWithAccounts, filter_scope, list_accounts
from ecgateway.accounts.service import _encode_cursor
from ecgateway.config import Settings
from ecgateway.runtime import Runtime

# Overrides the two-backend `backend` fixture for this module (jde_db then seeds PostgreSQL;
# off CI without PostgreSQL that skips, naming it; on CI it fails).
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], scope="module")


def test_on_postgresql_every_page_of_a_query_is_one_prepared_statement(jde_db, tmp_path):
    """psycopg types ints by size (0 smallint, 40000 integer) and a prepared statement is per
    types; the JDE engines bind every int as bigint, so pages whose account numbers mix small and
    large values (a deep page binds the IN values before it as 0) share one statement."""
    assert jde_db.backend == "postgresql"
    settings = Settings(data_dir=tmp_path, jde_url=jde_db.url, jde_schema=jde_db.schema,
                        portal_url=f"sqlite:///{tmp_path / 'portal.sqlite'}")
    runtime = Runtime.from_settings(settings)
    try:
        wwa = WorkWithAccounts.load(settings, dialect="postgresql")
        with runtime.jde_reader.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_typeof(:a)::text, pg_typeof(:b)::text"),
                                {"a": 0, "b": 40_000}).one() == ("bigint", "bigint")
            numbers = [r.an8 for r in list_accounts(conn, wwa=wwa, scope=filter_scope("ABAT1 = 'C'", wwa=wwa),
                                                    limit=200).items]
            scope = filter_scope("ABAN8 IN (" + ", ".join(f"'{n}'" for n in numbers) + ", '40000')", wwa=wwa)
            first = list_accounts(conn, wwa=wwa, scope=scope, limit=10)
            beyond = _encode_cursor("number", None, 40_000)  # a key past a smallint: an integer before
            for _ in range(6):  # psycopg prepares a statement on its 5th run
                assert list_accounts(conn, wwa=wwa, scope=scope, limit=10) == first
                assert list_accounts(conn, wwa=wwa, scope=scope, limit=10, cursor=first.next_cursor).items
                assert list_accounts(conn, wwa=wwa, scope=scope, limit=10, cursor=beyond).items == []
            prepared = conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements "
                                            "WHERE statement LIKE '%F0150%'")).scalar_one()
            assert prepared == 1
    finally:
        runtime.dispose()
