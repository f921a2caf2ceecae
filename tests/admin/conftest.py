"""Fixtures for the admin console: settings over the seeded JDE db and a migrated portal."""

from __future__ import annotations

import pytest

from admin.admin_support import AdminEnv
from ecgateway.accounts import WorkWithAccounts, all_scope, list_accounts
from ecgateway.config import Settings
from ecgateway.db import make_engine


@pytest.fixture(scope="module")
def admin_env(jde_db, portal_url, tmp_path_factory) -> AdminEnv:
    settings = Settings(data_dir=tmp_path_factory.mktemp("admin"), jde_url=jde_db.url,
                        jde_schema=jde_db.schema, portal_url=portal_url, secret_key="x" * 48)
    wwa = WorkWithAccounts.load(settings, dialect=jde_db.engine.dialect.name)
    portal_engine = make_engine(portal_url)
    with jde_db.engine.connect() as jde:
        an8s = [row.an8 for row in list_accounts(jde, wwa=wwa, scope=all_scope(wwa), limit=200).items]
    assert len(an8s) >= 10, "the seeded JDE database should have customer accounts"
    yield AdminEnv(settings, wwa, jde_db.engine, portal_engine, an8s)
    portal_engine.dispose()



@pytest.fixture(scope="module")
def gw(jde_db, portal_url, tmp_path_factory):
    """The whole app over the seeded data with one user of each type (tests/web/web_env.py)."""
    from web.web_env import build_gateway

    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("admin-gw"))
    yield gateway
    gateway.runtime.dispose()
