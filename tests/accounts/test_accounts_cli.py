"""The `restrictions` and `accounts` commands: output and exit codes (0 done, 2 refused)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ecgateway.auth.users import create_user
from ecgateway.cli import app
from ecgateway.db import make_engine


@pytest.fixture(scope="module")
def env(jde_db, portal_url, tmp_path_factory) -> dict[str, str]:
    engine = make_engine(portal_url)
    with Session(engine) as session:
        create_user(session, login="cli-rep", name="Rep", user_type="Internal_AR")
        create_user(session, login="cli-admin", name="Admin", user_type="Admin")
        session.commit()
    engine.dispose()
    values = {"ECGW_DATA_DIR": str(tmp_path_factory.mktemp("cli")), "ECGW_JDE_URL": jde_db.url,
              "ECGW_PORTAL_URL": portal_url, "ECGW_RESTRICTION_DEFAULT": "allow"}
    if jde_db.schema:
        values["ECGW_JDE_SCHEMA"] = jde_db.schema
    return values


def run(env: dict[str, str], *args: str, **extra_env: str):
    return CliRunner().invoke(app, list(args), env={**env, **extra_env})


def test_check_prints_the_compiled_sql_and_parameters(env, jde_db):
    result = run(env, "restrictions", "check", "ABAN8 in ('4242','1003')")
    assert result.exit_code == 0, result.output
    dialect = "postgres" if jde_db.backend == "postgresql" else "sqlite"
    assert f"-- accepted; SQL for {dialect}:" in result.output
    assert "AND (AB.ABAN8 IN (:f1, :f2))" in result.output
    assert "f1 = 4242" in result.output and "f2 = 1003" in result.output
    assert ("PRODDTA.F0101" in result.output) == bool(jde_db.schema)


def test_check_refuses_with_the_position_and_exit_2(env):
    result = run(env, "restrictions", "check", "ABAN8 = 1 OR ABPASS = 'x'")
    assert result.exit_code == 2
    assert "error: column ABPASS is not allowed (line 1, col 14); allowed: ABAN8" in result.output
    assert "ABAN8 = 1 OR ABPASS = 'x'\n             ^^^^^^" in result.output
    injected = run(env, "restrictions", "check", "ABAN8 = 1; DROP TABLE users")
    assert injected.exit_code == 2 and "only one condition is allowed (line 1, col 10)" in injected.output


def test_set_show_accounts_and_clear(env):
    empty = run(env, "restrictions", "show", "cli-rep")
    assert empty.exit_code == 0 and "cli-rep has no restriction: sees all accounts" in empty.output
    denied = run(env, "restrictions", "show", "cli-rep", ECGW_RESTRICTION_DEFAULT="deny")
    assert "sees no accounts (ECGW_RESTRICTION_DEFAULT=deny)" in denied.output

    saved = run(env, "restrictions", "set", "cli-rep", "ABAC01 = 'NTH'", "--by", "cli-admin")
    assert saved.exit_code == 0 and "saved the restriction of cli-rep (changed by cli-admin at" in saved.output
    shown = run(env, "restrictions", "show", "cli-rep")
    assert shown.output.splitlines()[0] == "ABAC01 = 'NTH'" and "-- changed by cli-admin at" in shown.output

    refused = run(env, "restrictions", "set", "cli-rep", "ABAC01 = 'NTH' -- widen")
    assert refused.exit_code == 2 and "comments are not allowed" in refused.output
    assert run(env, "restrictions", "show", "cli-rep").output.splitlines()[0] == "ABAC01 = 'NTH'"

    listed = run(env, "accounts", "--rep", "cli-rep", "--json", "--limit", "200")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["scope"] == "filter" and data["items"]
    assert {"an8", "name", "city", "state", "country", "phone", "email"} <= set(data["items"][0])
    everyone = json.loads(run(env, "accounts", "--rep", "cli-admin", "--json").output)
    assert everyone["scope"] == "none" and everyone["items"] == []

    page = run(env, "accounts", "--rep", "cli-rep", "--limit", "2", "--sort", "name")
    assert page.exit_code == 0 and page.output.startswith("# restriction of cli-rep")
    assert "# more: --cursor " in page.output
    cursor = page.output.rsplit("--cursor ", 1)[1].strip()
    second = run(env, "accounts", "--rep", "cli-rep", "--limit", "2", "--sort", "name", "--cursor", cursor)
    assert second.exit_code == 0 and second.output != page.output

    cleared = run(env, "restrictions", "clear", "cli-rep")
    assert cleared.exit_code == 0 and "removed the restriction of cli-rep" in cleared.output


def test_errors_exit_2_with_a_message(env):
    unknown = run(env, "restrictions", "show", "nobody")
    assert unknown.exit_code == 2 and "no user with login 'nobody'" in unknown.output
    admin = run(env, "restrictions", "set", "cli-admin", "ABAN8 = 1")
    assert admin.exit_code == 2 and "cli-admin has user type Admin; restrictions are for Internal_AR" in admin.output
    bad_cursor = run(env, "accounts", "--rep", "cli-rep", "--cursor", "nonsense")
    assert bad_cursor.exit_code == 2 and "the page cursor is not valid" in bad_cursor.output
    bad_sort = run(env, "accounts", "--rep", "cli-rep", "--sort", "ABPASS")
    assert bad_sort.exit_code == 2 and "sort 'ABPASS' is not one of number, name, city" in bad_sort.output


def test_users_add_checks_a_customer_account_against_jde(env, jde_db):
    from ecgateway.accounts import all_scope, list_accounts
    from ecgateway.accounts.query import WorkWithAccounts
    from ecgateway.config import Settings

    with jde_db.engine.connect() as conn:
        wwa = WorkWithAccounts.load(Settings(jde_url=jde_db.url, jde_schema=jde_db.schema),
                                    dialect=jde_db.engine.dialect.name)
        first = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), limit=1).items[0].an8
    refused = run(env, "users", "add", "cli-cust-bad", "--type", "Customer", "--account", "99999998",
                  ECGW_NEW_PASSWORD="a long password for tests")
    assert refused.exit_code == 2 and "99999998 is not a customer account" in refused.output
    added = run(env, "users", "add", "cli-cust", "--type", "Customer", "--account", str(first),
                ECGW_NEW_PASSWORD="a long password for tests")
    assert added.exit_code == 0 and "added cli-cust (Customer)" in added.output, added.output


def test_users_add_refuses_one_person_as_admin_and_rep_as_the_console_does(env):
    """The console's dual-role rule (issue 14) holds for `ecgateway users add` too: a rep with the name
    (or e-mail) of an active Admin is refused; with ECGW_ALLOW_DUAL_ROLE=true it needs --confirm-dual-role."""
    password = {"ECGW_NEW_PASSWORD": "a long password for tests"}
    refused = run(env, "users", "add", "cli-dual", "--type", "Internal_SalesRep", "--name", "admin", **password)
    assert refused.exit_code == 2, refused.output
    assert "cli-admin (Admin)" in refused.output and "may not be both Admin and a rep" in refused.output
    unconfirmed = run(env, "users", "add", "cli-dual", "--type", "Internal_SalesRep", "--name", "Admin",
                      ECGW_ALLOW_DUAL_ROLE="true", **password)
    assert unconfirmed.exit_code == 2 and "--confirm-dual-role" in unconfirmed.output, unconfirmed.output
    engine = make_engine(env["ECGW_PORTAL_URL"])
    with Session(engine) as session:
        from ecgateway.portal.models import User

        assert session.query(User).filter_by(login="cli-dual").count() == 0  # nothing saved when refused
    confirmed = run(env, "users", "add", "cli-dual", "--type", "Internal_SalesRep", "--name", "Admin",
                    "--confirm-dual-role", ECGW_ALLOW_DUAL_ROLE="true", **password)
    assert confirmed.exit_code == 0 and "added cli-dual (Internal_SalesRep)" in confirmed.output, confirmed.output
    assert "Warning: making this person an Internal_SalesRep" in confirmed.output
    with Session(engine) as session:
        from ecgateway.portal.models import User

        session.query(User).filter_by(login="cli-dual").update({"active": False})  # out of the other tests' way
        session.commit()
    engine.dispose()
