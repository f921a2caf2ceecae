"""Shared fixtures: real SQLite and PostgreSQL databases, seeded JDE data, a migrated portal."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from databases import BACKENDS, SEED, SEED_ACCOUNTS, fresh_database
from ecgateway.db import make_engine
from ecgateway.jde.tables import JdeTables, jde_tables


@dataclass
class JdeDb:
    backend: str
    url: str
    schema: str | None
    engine: sa.Engine
    tables: JdeTables


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def jde_db(backend, tmp_path_factory) -> JdeDb:
    """A JDE database seeded with SEED_ACCOUNTS accounts; on PostgreSQL in schema proddta."""
    from ecgateway.jde.generator import seed_database

    tmp = tmp_path_factory.mktemp("jde")
    with fresh_database(backend, tmp, "jde") as url:
        schema = "proddta" if backend == "postgresql" else None
        engine = make_engine(url, jde=True)
        if schema:
            with engine.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        tables = jde_tables(schema)
        seed_database(engine, tables, accounts=SEED_ACCOUNTS, seed=SEED)
        yield JdeDb(backend, url, schema, engine, tables)
        engine.dispose()


@pytest.fixture(scope="module")
def portal_url(backend, tmp_path_factory) -> str:
    """A portal database with every migration applied."""
    from ecgateway.portal.migrate import upgrade

    tmp = tmp_path_factory.mktemp("portal")
    with fresh_database(backend, tmp, "portal") as url:
        upgrade(url)
        yield url
