"""The ecgateway command line: demo, serve, db, jde, users (other parts add their own groups)."""

from __future__ import annotations

from typing import Annotated

import typer

from ecgateway.clock import utcnow
from ecgateway.config import USER_TYPES, Settings, get_settings

app = typer.Typer(help="ecgateway: the on-behalf-of gateway for JD Edwards.", no_args_is_help=True)
db_app = typer.Typer(help="The portal database.", no_args_is_help=True)
jde_app = typer.Typer(help="The JDE database (demo and benchmark data).", no_args_is_help=True)
users_app = typer.Typer(help="Portal users.", no_args_is_help=True)
search_app = typer.Typer(help="The accounts search index (in the portal database).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(search_app, name="search")
app.add_typer(jde_app, name="jde")
app.add_typer(users_app, name="users")

from ecgateway.audit.cli import audit_app  # noqa: E402  registered here, defined with the audit log

app.add_typer(audit_app, name="audit")

from ecgateway.commerce.cli import outbox_app  # noqa: E402  the order outbox relay

app.add_typer(outbox_app, name="outbox")

from ecgateway.mail.cli import mail_app  # noqa: E402  the e-mail outbox and its sender

app.add_typer(mail_app, name="mail")

from ecgateway.accounts.cli import register as register_accounts  # noqa: E402  restrictions + accounts

register_accounts(app)

from ecgateway.accounts.cli import restrictions_app  # noqa: E402
from ecgateway.admin.cli import register as register_admin  # noqa: E402  restrictions import / export

register_admin(restrictions_app)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core, 2 to 8)")] = None,
) -> None:
    """Serve the gateway with uvicorn."""
    import uvicorn

    workers = workers or default_workers()
    settings = get_settings()
    for warning in exposure_warnings(settings, host):
        typer.echo(f"warning: {warning}", err=True)

    options = {"factory": True, "proxy_headers": True, "timeout_keep_alive": settings.keep_alive_seconds,
               "access_log": settings.access_log}
    if workers > 1:
        from ecgateway import workers as worker_processes

        if worker_processes.supported():  # a socket per worker (see ecgateway/workers.py)
            try:
                code = worker_processes.run("ecgateway.app:create_app", host=host, port=port, workers=workers, **options)
            except worker_processes.PortInUse as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from None
            raise typer.Exit(code)
    uvicorn.run("ecgateway.app:create_app", host=host, port=port, workers=workers, **options)


def default_workers() -> int:
    """One worker process per core, at least 2 and at most 8: a slow search in one process does not
    hold up the reps served by another, and the routes' thread pool serves the rest concurrently
    (bench/RESULTS-search.md: 8 clients on the picker mix)."""
    import os

    return max(2, min(8, os.cpu_count() or 1))


def exposure_warnings(settings: Settings, host: str) -> list[str]:
    """What is unsafe about serving settings on host to other machines (nothing on loopback)."""
    if host in ("127.0.0.1", "localhost", "::1"):
        return []
    warnings = []
    if not settings.cookie_secure:
        warnings.append(f"serving on {host} with ECGW_COOKIE_SECURE=false: session cookies would travel over plain "
                        "HTTP. Serve behind HTTPS and set ECGW_COOKIE_SECURE=true.")
    if not settings.public_url:
        warnings.append("ECGW_PUBLIC_URL is not set: forms are checked against the Host header the browser sends. "
                        "Set it to the address people open, e.g. https://portal.example.com.")
    return warnings


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(help="Customer accounts to generate when the demo JDE database is new")] = 300,
    seed: Annotated[int, typer.Option(help="Seed for the generator")] = 42,
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Prepare the databases and stop")] = False,
) -> None:
    """Create the demo JDE and portal databases when missing, print the logins, then serve."""
    from ecgateway.demo import DemoRunning, demo_lock, prepare_demo

    settings = get_settings()
    try:
        with demo_lock(settings, port=port):  # a second demo would reset the running one's passwords
            logins = prepare_demo(settings, accounts=accounts, seed=seed, echo=typer.echo)
            typer.echo("")
            typer.echo(f"ecgateway demo at http://127.0.0.1:{port}/")
            if not settings.smtp_host:
                typer.echo(f"e-mails are written as .eml files in {settings.mail_folder.resolve()} "
                           "(set ECGW_SMTP_HOST to send them)")
            typer.echo(f"{'login':<16} {'user type':<26} password")
            for login in logins:
                typer.echo(f"{login.login:<16} {login.user_type:<26} {login.password}")
                if login.serves:
                    typer.echo(f"{'':<16} {login.serves}")
            if not no_serve:
                serve(host="127.0.0.1", port=port, workers=1)
    except DemoRunning as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(3) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the portal migrations."""
    from ecgateway.portal.migrate import upgrade

    settings = get_settings()
    upgrade(settings.portal_database_url)
    typer.echo("portal database is up to date")


@jde_app.command("seed")
def jde_seed(
    accounts: Annotated[int, typer.Option(help="Customer accounts to generate")] = 300,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same data")] = 42,
) -> None:
    """Fill the configured JDE database with generated, realistic data."""
    from ecgateway.db import make_engine
    from ecgateway.jde.generator import seed_database
    from ecgateway.jde.tables import jde_tables

    settings = get_settings()
    engine = make_engine(settings.jde_database_url, jde=True)
    tables = jde_tables(settings.jde_schema, control_schema=settings.jde_control_schema)
    summary = seed_database(engine, tables, accounts=accounts, seed=seed, show_progress=True)
    typer.echo(summary.describe())


@search_app.command("rebuild")
def search_rebuild() -> None:
    """Copy every account of JDE's Work-with-Accounts query into the search index (with a progress bar)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ecgateway.runtime import Runtime

    runtime = Runtime.from_settings(get_settings())
    try:
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn()) as progress, runtime.jde_reader.connect() as jde:
            task = progress.add_task("accounts", total=None)
            count = runtime.search.rebuild(jde, wwa=runtime.accounts,
                                           on_progress=lambda done, total: progress.update(task, completed=done,
                                                                                           total=total))
        for line in runtime.search.status().describe(utcnow()):
            typer.echo(line)
        typer.echo(f"indexed {count:,} accounts")
    finally:
        runtime.dispose()


@search_app.command("refresh")
def search_refresh() -> None:
    """Re-read the accounts JDE changed since the last refresh (update stamps), once."""
    from ecgateway.runtime import Runtime

    runtime = Runtime.from_settings(get_settings())
    try:
        result = runtime.refresh_search()
        if result is None:
            typer.echo("error: the search index is not built; run `ecgateway search rebuild` first", err=True)
            raise typer.Exit(2)
        typer.echo(f"refreshed {result.changed:,} changed accounts ({result.stored:,} stored, {result.removed:,} "
                   f"no longer accounts) in {result.seconds:.2f} s")
    finally:
        runtime.dispose()


@search_app.command("status")
def search_status() -> None:
    """The search index's age and size."""
    from ecgateway.accounts.search import SearchIndex
    from ecgateway.db import make_engine

    engine = make_engine(get_settings().portal_database_url)
    try:
        status = SearchIndex(engine).status()
    finally:
        engine.dispose()
    for line in status.describe(utcnow()):
        typer.echo(line)
    if not status.built:
        raise typer.Exit(1)


@users_app.command("add")
def users_add(
    login: str,
    user_type: Annotated[str, typer.Option("--type", help=f"One of {', '.join(USER_TYPES)}")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    email: Annotated[str, typer.Option(help="E-mail address")] = "",
    account: Annotated[int | None, typer.Option(help="JDE account number (Customer users)")] = None,
    password: Annotated[str | None, typer.Option(help="Password; asked for when not given", envvar="ECGW_NEW_PASSWORD")] = None,
    confirm_dual_role: Annotated[bool, typer.Option(
        "--confirm-dual-role", help="With ECGW_ALLOW_DUAL_ROLE=true: confirm that this person is both Admin and a rep")] = False,
) -> None:
    """Add a portal user. One person may not be both Admin and a rep (same e-mail or name), as in the admin console."""
    from sqlalchemy.orm import Session

    from ecgateway.admin.users import (
        DualRoleRefused,
        DualRoleWarning,
        check_dual_role,
        dual_role_conflicts,
    )
    from ecgateway.auth.users import UserError, create_user
    from ecgateway.db import make_engine

    settings = get_settings()
    if user_type == "Customer" and account is not None and not _is_customer_account(settings, account):
        typer.echo(f"error: {account} is not a customer account in the JDE database at {settings.jde_database_url} "
                   "(a parent account of search type C); check the number", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.portal_database_url)
    with Session(engine) as session:
        conflicts = dual_role_conflicts(session, user_type=user_type, email=email, name=name or login)
        try:
            warnings = check_dual_role(user_type, conflicts, allow=settings.allow_dual_role, acknowledged=confirm_dual_role)
        except DualRoleRefused as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(2) from None
        except DualRoleWarning as exc:
            typer.echo(f"error: {exc.message} To confirm, run the command again with --confirm-dual-role.", err=True)
            raise typer.Exit(2) from None
        for warning in warnings:
            typer.echo(warning, err=True)
        if password is None:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = create_user(session, login=login, name=(name or login).strip(), user_type=user_type,
                               email=email.strip(), password=password, account_an8=account)
        except UserError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        session.commit()
        typer.echo(f"added {user.login} ({user.user_type})")


def _is_customer_account(settings, an8: int) -> bool:
    from ecgateway.accounts import is_customer_account
    from ecgateway.runtime import Runtime

    runtime = Runtime.from_settings(settings)
    try:
        with runtime.jde_engine.connect() as jde:
            return is_customer_account(jde, wwa=runtime.accounts, an8=an8)
    finally:
        runtime.dispose()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
