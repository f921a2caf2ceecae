"""Fresh, throw-away databases for tests: a SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("ECGW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ON_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgresql")

# The seeded JDE database every module gets from the jde_db fixture.
SEED_ACCOUNTS = 40
SEED = 7


def postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


CHROMIUM = os.environ.get("ECGW_CHROMIUM", "/usr/bin/chromium")
# How the browser tests start it: headless in a container, no network of its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def require_chromium() -> None:
    """Skip off CI when Debian's Chromium is missing; on CI a missing Chromium is a failure."""
    if Path(CHROMIUM).exists():
        return
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    if ON_CI:
        pytest.fail(message + " (CI requires it)")
    pytest.skip(message)


def require_postgres() -> None:
    """Skip off CI when PostgreSQL is missing; on CI a missing PostgreSQL is a failure."""
    if postgres_reachable():
        return
    message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}"
    if ON_CI:
        pytest.fail(message + " (CI requires it)")
    pytest.skip(message)


@contextmanager
def fresh_database(backend: str, tmp_path: Path, name: str = "db") -> Iterator[str]:
    """Yield the URL of an empty database of the given backend; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / (name + '.sqlite')}"
        return
    require_postgres()
    dbname = f"ecgw_{name}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{dbname}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=dbname).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()
