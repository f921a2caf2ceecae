"""Command line for admins and scripts: `restrictions check|set|show|clear` and `accounts --rep`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ecgateway.config import get_settings

restrictions_app = typer.Typer(help="Rep restrictions (EC_Impersonate_Restrictions).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `restrictions` group and the `accounts` command to the main CLI."""
    app.add_typer(restrictions_app, name="restrictions")
    app.command("accounts")(accounts)


@restrictions_app.command("check")
def check(filter_text: Annotated[str, typer.Argument(metavar="FILTER", help="The filter, e.g. \"ABAN8 in ('4242','1003')\"")]) -> None:
    """Check a filter: print the compiled SQL and parameters (exit 0) or the error and where (exit 2)."""
    from ecgateway.accounts.restrictions import RestrictionError
    from ecgateway.accounts.service import compiled_sql, filter_scope

    wwa = _work_with_accounts()
    try:
        scope = filter_scope(filter_text, wwa=wwa)
    except RestrictionError as exc:
        _refuse(exc, filter_text)
    sql, params = compiled_sql(wwa, scope)
    typer.echo(f"-- accepted; SQL for {wwa.dialect}:")
    typer.echo(sql)
    typer.echo("-- parameters:")
    for name, value in params.items():
        typer.echo(f"{name} = {value!r}")


@restrictions_app.command("set")
def set_(
    login: Annotated[str, typer.Argument(help="The rep's login")],
    filter_text: Annotated[str, typer.Argument(metavar="FILTER", help="The filter to save")],
    by: Annotated[str, typer.Option("--by", help="Who makes the change (recorded as changed_by)")] = "cli",
) -> None:
    """Validate a filter and save it as the rep's restriction (exit 2 and nothing saved when refused)."""
    from ecgateway.accounts.restrictions import RestrictionError
    from ecgateway.accounts.store import NotARepError, set_restriction

    with _portal() as portal:
        rep = _user(portal, login)
        try:
            row = set_restriction(portal, rep=rep, filter_text=filter_text, changed_by=by)
        except RestrictionError as exc:
            _refuse(exc, filter_text)
        except NotARepError as exc:
            _fail(str(exc))
        portal.commit()
        typer.echo(f"saved the restriction of {rep.login} (changed by {row.changed_by} at {row.changed_at:%Y-%m-%d %H:%M:%S} UTC)")


@restrictions_app.command("show")
def show(login: Annotated[str, typer.Argument(help="The rep's login")]) -> None:
    """Show the rep's restriction, or what the rep sees without one."""
    from ecgateway.accounts.store import get_restriction

    settings = get_settings()
    with _portal() as portal:
        rep = _user(portal, login)
        row = get_restriction(portal, rep=rep)
        if row is None:
            sees = "all accounts" if settings.restriction_default == "allow" else "no accounts"
            typer.echo(f"{rep.login} has no restriction: sees {sees} (ECGW_RESTRICTION_DEFAULT={settings.restriction_default})")
            return
        typer.echo(row.filter_text)
        typer.echo(f"-- changed by {row.changed_by} at {row.changed_at:%Y-%m-%d %H:%M:%S} UTC")


@restrictions_app.command("clear")
def clear(login: Annotated[str, typer.Argument(help="The rep's login")]) -> None:
    """Remove the rep's restriction (the rep then gets ECGW_RESTRICTION_DEFAULT)."""
    from ecgateway.accounts.store import clear_restriction

    with _portal() as portal:
        rep = _user(portal, login)
        removed = clear_restriction(portal, rep=rep)
        portal.commit()
        typer.echo(f"removed the restriction of {rep.login}" if removed else f"{rep.login} had no restriction")


def accounts(
    rep: Annotated[str, typer.Option("--rep", help="The rep's login: list what that rep may serve")],
    q: Annotated[str | None, typer.Option("--q", help="Search: account number, or name / city")] = None,
    sort: Annotated[str, typer.Option("--sort", help="number, name or city")] = "number",
    limit: Annotated[int, typer.Option("--limit", help="Accounts per page (at most 200)")] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="Continue after this cursor (printed under a page)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List the accounts a rep may act for, through the rep's compiled restriction."""
    from ecgateway.accounts.service import CursorError, list_accounts, rep_scope
    from ecgateway.db import make_engine

    settings = get_settings()
    wwa = _work_with_accounts()
    from ecgateway.accounts.search import SearchIndex

    with _portal() as portal:
        user = _user(portal, rep)
        scope = rep_scope(portal, rep=user, wwa=wwa)
        index = SearchIndex(portal.get_bind())
    engine = make_engine(settings.jde_database_url, jde=True)
    try:
        with engine.connect() as jde:
            page = list_accounts(jde, wwa=wwa, scope=scope, q=q, sort=sort, cursor=cursor, limit=limit, index=index)
    except (CursorError, ValueError) as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps({"rep": user.login, "scope": scope.kind, "reason": scope.reason,
                               "items": [item._asdict() for item in page.items], "next_cursor": page.next_cursor},
                              ensure_ascii=False, indent=2))
        return
    typer.echo(f"# {scope.reason}")
    for item in page.items:
        typer.echo(f"{item.an8:>8}  {item.name:<40}  {item.city:<20} {item.state:<3} {item.country:<3} {item.phone}")
    if not page.items:
        typer.echo("(no accounts)")
    if page.next_cursor:
        typer.echo(f"# more: --cursor {page.next_cursor}")


# --- helpers ------------------------------------------------------------------------------

def _work_with_accounts():
    from sqlalchemy.engine import make_url

    from ecgateway.accounts.query import WorkWithAccounts

    settings = get_settings()
    return WorkWithAccounts.load(settings, dialect=make_url(settings.jde_database_url).get_backend_name())


def _portal():
    from sqlalchemy.orm import Session

    from ecgateway.db import make_engine

    return Session(make_engine(get_settings().portal_database_url))


def _user(portal, login: str):
    from ecgateway.auth.users import get_by_login

    user = get_by_login(portal, login)
    if user is None:
        _fail(f"no user with login {login!r}; list users or add one with `ecgateway users add`")
    return user


def _refuse(exc, filter_text: str) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    typer.echo(exc.pointer(filter_text), err=True)
    raise typer.Exit(2)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
