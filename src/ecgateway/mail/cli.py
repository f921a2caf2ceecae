"""`ecgateway mail`: run the sender that delivers the e-mail outbox, and look at it."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

mail_app = typer.Typer(help="The e-mail outbox and its sender.", no_args_is_help=True)


@mail_app.command("run")
def mail_run(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then stop")] = False,
) -> None:
    """Run the mail sender until stopped (SIGINT/SIGTERM); every `serve` process runs one too.

    SMTP from ECGW_SMTP_HOST, _PORT, _SECURITY, _USERNAME, _PASSWORD and ECGW_MAIL_FROM; without
    ECGW_SMTP_HOST each message is written as an .eml file under ECGW_MAIL_DIR (default var/mail).
    """
    from sqlalchemy.orm import sessionmaker

    from ecgateway.config import get_settings
    from ecgateway.db import make_engine
    from ecgateway.mail.outbox import MailSender

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    engine = make_engine(settings.portal_database_url)
    sender = MailSender(sessions=sessionmaker(engine, expire_on_commit=False), settings=settings)
    try:
        if once:
            result = sender.run_until_idle()
            typer.echo(f"sent {result.sent}, retried {result.retried}, refused {result.refused}")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        where = f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else str(settings.mail_folder)
        typer.echo(f"mail sender {sender.name} running, to {where}; stop with Ctrl-C", err=True)
        sender.run_forever(stop)
    finally:
        engine.dispose()


@mail_app.command("status")
def mail_status() -> None:
    """Messages per state (pending, sent, dead), the oldest pending one and its last error."""
    from sqlalchemy.orm import Session

    from ecgateway.config import get_settings
    from ecgateway.db import make_engine
    from ecgateway.mail.outbox import mail_report

    settings = get_settings()
    engine = make_engine(settings.portal_database_url)
    try:
        with Session(engine) as session:
            for line in mail_report(session):
                typer.echo(line)
    finally:
        engine.dispose()
