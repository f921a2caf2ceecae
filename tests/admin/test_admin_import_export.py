"""`ecgateway restrictions import/export`: every row checked, nothing saved when one fails, reasons per row."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from admin.admin_support import context_of, make_user, unique
from ecgateway.admin import restrictions as r
from ecgateway.admin import transfer
from ecgateway.cli import app
from ecgateway.portal.models import ImpersonateRestriction, RestrictionChange, User


@pytest.fixture(scope="module")
def admin(admin_env):
    return make_user(admin_env, "Admin")


@pytest.fixture()
def cli(admin_env, monkeypatch):
    monkeypatch.setenv("ECGW_PORTAL_URL", admin_env.settings.portal_url)
    monkeypatch.setenv("ECGW_JDE_URL", admin_env.settings.jde_url)
    if admin_env.settings.jde_schema:
        monkeypatch.setenv("ECGW_JDE_SCHEMA", admin_env.settings.jde_schema)
    monkeypatch.setenv("ECGW_DATA_DIR", str(admin_env.settings.data_dir))
    return CliRunner()


def _filters(env, *reps: User) -> list[str | None]:
    with env.portal() as s:
        return [s.scalar(select(ImpersonateRestriction.filter_text).where(ImpersonateRestriction.rep_id == rep.id))
                for rep in reps]


def test_bad_rows_are_reported_with_row_rep_and_reason_and_nothing_is_saved(admin_env, admin, cli, tmp_path):
    good1, good2 = make_user(admin_env, "Internal_AR"), make_user(admin_env, "Internal_SalesRep")
    customer = make_user(admin_env, "Customer", account_an8=admin_env.an8s[0])
    subquery = "ABAN8 IN (SELECT ABAN8 FROM F0101)"  # refused by the compiler
    csv_text = (
        "USERID,RESTRICTION,COMMENT\n"
        f"{good1.login},\"ABAN8 IN ('1001','1002')\",ok\n"
        f"{good2.login},ABAC01 = 'NTH',ok\n"
        "nobody-here,ABAC01 = 'NTH',unknown rep\n"
        f"{customer.login},ABAC01 = 'NTH',a customer\n"
        f"{good1.login},ABAC01 = 'STH',twice\n"
        f"{good2.login},\"{subquery}\",subquery\n"
        f"{good2.login},,empty\n"
    )
    path = tmp_path / "legacy.csv"
    path.write_text(csv_text)
    result = cli.invoke(app, ["restrictions", "import", str(path), "--by", admin.login])
    assert result.exit_code == 2, result.output
    out = result.output
    assert "row 4 (rep nobody-here): there is no user with login 'nobody-here'" in out
    assert f"row 5 (rep {customer.login}): {customer.login} is Customer; only" in out
    assert f"row 6 (rep {good1.login}): {good1.login} already appears in row 2" in out
    assert f"row 7 (rep {good2.login}): the filter is refused:" in out and "(line 1, col" in out
    assert f"row 8 (rep {good2.login}): the filter is empty" in out
    assert "5 of 7 rows refused; nothing saved" in out
    assert _filters(admin_env, good1, good2) == [None, None]

    saved = cli.invoke(app, ["restrictions", "import", str(path), "--by", admin.login, "--save-valid"])
    assert saved.exit_code == 2 and "2 restrictions saved, 0 unchanged, 5 rows refused (of 7)" in saved.output
    assert _filters(admin_env, good1, good2) == ["ABAN8 IN ('1001','1002')", "ABAC01 = 'NTH'"]
    with admin_env.portal() as s:
        sources = s.scalars(select(RestrictionChange.source).where(RestrictionChange.rep_id == good1.id)).all()
        assert sources == ["import legacy.csv row 2"]


def test_export_then_import_round_trips(admin_env, admin, cli, tmp_path):
    rep = make_user(admin_env, "Internal_CustomerService", login=unique("round"))
    with admin_env.portal() as s:
        r.save_restriction(s, ctx=context_of(admin), rep=s.get(User, rep.id),
                           filter_text="ABAC01 = 'NTH'\nAND ABAC03 <> 'GOV'")
        s.commit()
    out = tmp_path / "export.csv"
    result = cli.invoke(app, ["restrictions", "export", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.splitlines()[0] == "rep_login,filter_text,changed_by,changed_at"
    assert f"{rep.login},\"ABAC01 = 'NTH'\nAND ABAC03 <> 'GOV'\",{admin.login}," in text
    stdout = cli.invoke(app, ["restrictions", "export"])
    assert stdout.exit_code == 0 and stdout.output == text

    with admin_env.portal() as s:  # change it, then restore it from the export
        r.save_restriction(s, ctx=context_of(admin), rep=s.get(User, rep.id), filter_text="ABAC01 = 'STH'")
        s.commit()
    checked = cli.invoke(app, ["restrictions", "import", str(out), "--by", admin.login, "--check"])
    assert checked.exit_code == 0 and "nothing saved (--check)" in checked.output
    assert _filters(admin_env, rep) == ["ABAC01 = 'STH'"]
    restored = cli.invoke(app, ["restrictions", "import", str(out), "--by", admin.login])
    assert restored.exit_code == 0, restored.output
    assert _filters(admin_env, rep) == ["ABAC01 = 'NTH'\nAND ABAC03 <> 'GOV'"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("name;where\nx;ABAC01 = 'NTH'\n", "has no rep column"),
        ("login,comment\nx,y\n", "has no filter column"),
    ],
)
def test_unusable_files_say_what_to_fix(admin_env, admin, text, message):
    with admin_env.portal() as s, pytest.raises(transfer.ImportFileError, match=message):
        transfer.import_restrictions(s, ctx=context_of(admin), text=text)


def test_semicolon_file_with_user_ids(admin_env, admin):
    rep = make_user(admin_env, "Internal_AR")
    text = f"\ufeffRep ID;Where Clause\n{rep.id};ABAC02 IN ('R01','R02')\n"
    with admin_env.portal() as s:
        report = transfer.import_restrictions(s, ctx=context_of(admin), text=text, name="ids.csv")
        s.commit()
    assert report.ok and report.saved == 1
    assert _filters(admin_env, rep) == ["ABAC02 IN ('R01','R02')"]


def test_import_needs_an_active_admin(admin_env, cli, tmp_path):
    rep = make_user(admin_env, "Internal_AR")
    path = tmp_path / "one.csv"
    path.write_text(f"rep_login,filter_text\n{rep.login},ABAC01 = 'NTH'\n")
    result = cli.invoke(app, ["restrictions", "import", str(path), "--by", rep.login])
    assert result.exit_code == 2 and "pass the login of an active Admin user" in result.output


def test_changes_made_outside_the_console_are_in_the_history_too(admin_env, admin, cli):
    rep = make_user(admin_env, "Internal_SalesRep")
    first = cli.invoke(app, ["restrictions", "set", rep.login, "ABAC01 = 'NTH'", "--by", "script-x"])
    assert first.exit_code == 0, first.output
    cli.invoke(app, ["restrictions", "set", rep.login, "ABAC01 = 'STH'", "--by", "script-x"])
    cleared = cli.invoke(app, ["restrictions", "clear", rep.login])
    assert cleared.exit_code == 0, cleared.output
    with admin_env.portal() as s:
        rows = r.history(s, rep_id=rep.id)
    assert [(c.old_filter, c.new_filter) for c in rows] == [
        ("ABAC01 = 'STH'", None), ("ABAC01 = 'NTH'", "ABAC01 = 'STH'"), (None, "ABAC01 = 'NTH'")]
    assert rows[-1].changed_by == "script-x" and rows[-1].source == "outside the admin console"
    with admin_env.portal() as s:  # and they can be reverted like any other
        r.revert(s, ctx=context_of(admin), change_id=rows[0].id)
        s.commit()
    assert _filters(admin_env, rep) == ["ABAC01 = 'STH'"]
