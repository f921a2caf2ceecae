"""`ecgateway search rebuild|refresh|status`, and `accounts --q` through the index."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accounts.search_support import add_account
from ecgateway.auth.users import create_user
from ecgateway.cli import app
from ecgateway.db import make_engine


@pytest.fixture(scope="module")
def env(jde_db, portal_url, tmp_path_factory) -> dict[str, str]:
    engine = make_engine(portal_url)
    with Session(engine) as session:
        create_user(session, login="cli-rep", name="Rep", user_type="Internal_CustomerService")
        session.commit()
    engine.dispose()
    values = {"ECGW_DATA_DIR": str(tmp_path_factory.mktemp("cli")), "ECGW_JDE_URL": jde_db.url,
              "ECGW_PORTAL_URL": portal_url}
    if jde_db.schema:
        values["ECGW_JDE_SCHEMA"] = jde_db.schema
    return values


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def test_status_rebuild_refresh(env, jde_db):
    result = run(env, "search", "status")
    assert result.exit_code == 1 and "not built (run `ecgateway search rebuild`)" in result.output
    assert run(env, "search", "refresh").exit_code == 2
    add_account(jde_db.engine, jde_db.tables, an8=992000, name="Müller Fasteners GmbH", city="Köln")
    result = run(env, "search", "rebuild")
    assert result.exit_code == 0, result.output
    assert "indexed" in result.output and "search index:" in result.output
    status = run(env, "search", "status")
    assert status.exit_code == 0 and "built:" in status.output and "refreshed:" in status.output
    found = json.loads(run(env, "accounts", "--rep", "cli-rep", "--q", "MULLER koln", "--json").output)
    assert [item["an8"] for item in found["items"]] == [992000]
    add_account(jde_db.engine, jde_db.tables, an8=992010, name="Säo Zephyr Ltd", city="Köln")
    result = run(env, "search", "refresh")
    assert result.exit_code == 0 and "refreshed" in result.output, result.output
    found = json.loads(run(env, "accounts", "--rep", "cli-rep", "--q", "sao zeph", "--json").output)
    assert [item["an8"] for item in found["items"]] == [992010]
