"""`ecgateway audit ...`: check the audit log's hash chain."""

from __future__ import annotations

import typer

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain: print OK, or the first entry altered, inserted or removed (exit 1)."""
    from sqlalchemy.orm import Session

    from ecgateway.audit.service import verify
    from ecgateway.config import get_settings
    from ecgateway.db import make_engine

    engine = make_engine(get_settings().portal_database_url)
    try:
        with Session(engine) as session:
            result = verify(session)
    finally:
        engine.dispose()
    if result.ok:
        typer.echo(result.message)
        return
    typer.echo(f"TAMPERED: {result.message} (checked {result.checked} entries). "
               "Compare the portal database with a backup from before that entry's time.", err=True)
    raise typer.Exit(1)
