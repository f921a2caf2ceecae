"""`ecgateway restrictions import FILE` and `ecgateway restrictions export [FILE]`.

Attached to the accounts part's `restrictions` group by register(); exit codes: 0 when
every row was fine, 2 when any row (or the file) was refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

EXIT_REFUSED = 2


def register(restrictions_app: typer.Typer) -> None:
    """Add import and export to the `restrictions` command group."""
    restrictions_app.command("import")(restrictions_import)
    restrictions_app.command("export")(restrictions_export)


def restrictions_import(
    file: Annotated[Path, typer.Argument(help="CSV file: as `restrictions export` writes it, or exported from an existing EC_Impersonate_Restrictions table")],
    by: Annotated[str, typer.Option("--by", envvar="ECGW_ADMIN_LOGIN", help="Your admin login: recorded as who changed each restriction")],
    save_valid: Annotated[bool, typer.Option("--save-valid", help="Save the rows that pass even when others fail")] = False,
    check: Annotated[bool, typer.Option("--check", help="Check every row and save nothing")] = False,
) -> None:
    """Check every row, then save them all; if any row fails, save nothing (unless --save-valid)."""
    from sqlalchemy.orm import Session

    from ecgateway.admin.transfer import ImportFileError, import_restrictions
    from ecgateway.config import get_settings
    from ecgateway.db import make_engine

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {file}: {exc}. Give the path of a UTF-8 CSV file.", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    engine = make_engine(get_settings().portal_database_url)
    try:
        with Session(engine) as portal:
            ctx = _admin_context(portal, by)
            try:
                report = import_restrictions(portal, ctx=ctx, text=text, name=file.name, save_valid=save_valid)
            except ImportFileError as exc:
                typer.echo(f"error: {file}: {exc}", err=True)
                raise typer.Exit(EXIT_REFUSED) from None
            if check:
                portal.rollback()
            else:
                portal.commit()
    finally:
        engine.dispose()
    for failure in report.failures:
        typer.echo(f"{file}: {failure.describe()}", err=True)
    if check:
        typer.echo(f"checked {report.rows} rows: {report.rows - len(report.failures)} valid, "
                   f"{len(report.failures)} refused; nothing saved (--check)")
    elif report.failures and not save_valid:
        typer.echo(f"{len(report.failures)} of {report.rows} rows refused; nothing saved. Correct those rows and "
                   "import again, or pass --save-valid to save the others.", err=True)
    else:
        typer.echo(f"{report.saved} restrictions saved, {report.unchanged} unchanged, "
                   f"{len(report.failures)} rows refused (of {report.rows})")
    if report.failures:
        raise typer.Exit(EXIT_REFUSED)


def restrictions_export(
    file: Annotated[Path | None, typer.Argument(help="Where to write the CSV; standard output when left out")] = None,
) -> None:
    """Write every rep's restriction as CSV (rep_login, filter_text, changed_by, changed_at)."""
    from sqlalchemy.orm import Session

    from ecgateway.admin.transfer import export_csv, export_rows
    from ecgateway.config import get_settings
    from ecgateway.db import make_engine

    engine = make_engine(get_settings().portal_database_url)
    try:
        with Session(engine) as portal:
            text = export_csv(portal)
            count = len(export_rows(portal))
    finally:
        engine.dispose()
    if file is None:
        sys.stdout.write(text)
        return
    file.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {count} restrictions to {file}", err=True)


def _admin_context(portal, login: str):
    """The acting context of the admin named by --by: an active Admin user, else exit 2."""
    from ecgateway.auth.users import get_by_login
    from ecgateway.obo.context import ActingContext, Actor

    user = get_by_login(portal, login.strip())
    if user is None or not user.active or not user.is_admin:
        what = "no user" if user is None else ("not active" if not user.active else f"a {user.user_type} user")
        typer.echo(f"error: --by {login!r} is {what}; pass the login of an active Admin user "
                   "(or set ECGW_ADMIN_LOGIN)", err=True)
        raise typer.Exit(EXIT_REFUSED)
    return ActingContext(actor=Actor.of(user), subject_an8=None)
