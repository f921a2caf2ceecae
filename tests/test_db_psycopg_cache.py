"""db.cache_long_statements: psycopg caches the conversion of the long statements too (issue 19).

psycopg re-parses a statement's %(name)s placeholders on every execution when it is over its
cache's limits (4,096 characters, 50 parameters); the composed Work-with-Accounts statement with
a rep's 1,000 values and the search's 100 candidates is over both.
"""

from __future__ import annotations

from psycopg import (
    _queries,  # private: db.py raises its limits; a psycopg without it fails here, loudly
)

from ecgateway.db import PSYCOPG_CACHED_LENGTH, PSYCOPG_CACHED_PARAMS, make_engine


def test_a_postgresql_engine_lets_psycopg_cache_long_statements(monkeypatch):
    monkeypatch.setattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", 4096)
    monkeypatch.setattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", 50)
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # no connection is made
    engine.dispose()
    assert _queries.MAX_CACHED_STATEMENT_LENGTH == PSYCOPG_CACHED_LENGTH
    assert _queries.MAX_CACHED_STATEMENT_PARAMS == PSYCOPG_CACHED_PARAMS
    statement = "SELECT 1 WHERE 1 IN (" + ", ".join(f"%(c{i})s" for i in range(1000)) + ")"
    assert len(statement) > 4096
    converter = _queries.PostgresQuery(_transformer())
    params = {f"c{i}": i for i in range(1000)}
    _queries._query2pg.cache_clear()
    for _ in range(3):
        converter.convert(statement, params)
    assert _queries._query2pg.cache_info().hits == 2  # converted once, then taken from the cache


def _transformer():
    from psycopg.adapt import Transformer

    return Transformer()
