"""`ecgateway outbox`: run the relay that sends committed orders to the ERP, and look at the outbox."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

outbox_app = typer.Typer(help="The order outbox and its relay to the ERP.", no_args_is_help=True)


@outbox_app.command("run")
def outbox_run(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then stop")] = False,
) -> None:
    """Run the relay until stopped (SIGINT/SIGTERM): claim due orders, send them, mark them sent.

    Any number of relays may run at once, in gateway processes and on their own; each order
    goes to the ERP under its key, so JD Edwards keeps one order even when a relay dies.
    Tuned by ECGW_OUTBOX_POLL_SECONDS, _LEASE_SECONDS, _BATCH_SIZE, _BACKOFF_BASE_SECONDS,
    _BACKOFF_CAP_SECONDS.
    """
    from ecgateway.commerce.outbox import OutboxSettings, Relay
    from ecgateway.config import get_settings
    from ecgateway.erp import make_erp
    from ecgateway.runtime import Runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = Runtime.from_settings(get_settings())
    erp = make_erp(runtime)
    relay = Relay(sessions=runtime.portal_sessions, erp=erp, settings=OutboxSettings())
    try:
        if once:
            result = relay.run_until_idle()
            typer.echo(f"sent {result.sent}, retried {result.retried}, rejected {result.rejected}")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        typer.echo(f"outbox relay {relay.name} running; stop with Ctrl-C", err=True)
        relay.run_forever(stop)
    finally:
        erp.close()
        runtime.dispose()


@outbox_app.command("status")
def outbox_status() -> None:
    """Rows per state (pending, done, dead), the oldest pending row's age and last error, and the
    latest orders JD Edwards refused with its reason."""
    from ecgateway.commerce.outbox import outbox_report
    from ecgateway.config import get_settings
    from ecgateway.runtime import Runtime

    runtime = Runtime.from_settings(get_settings())
    try:
        with runtime.portal_sessions() as session:
            lines = outbox_report(session)
        for line in lines:
            typer.echo(line)
        if runtime.settings.erp_mode == "local":
            _echo_edi_waiting(runtime)
    finally:
        runtime.dispose()


def _echo_edi_waiting(runtime) -> None:
    """Sent orders still in F47011 that batch R47011 has not processed: the local ERP's last step."""
    from ecgateway.erp.local import LocalErp

    erp = LocalErp(runtime.jde_engine, runtime.jde, runtime.settings)
    try:
        waiting = erp.waiting_for_r47011()
    except Exception as exc:  # noqa: BLE001 - a status command reports what it cannot read, it does not fail
        typer.echo(f"EDI inbound (F47011): cannot read it ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
        return
    minutes = runtime.settings.edi_wait_minutes
    line = f"EDI inbound (F47011): {waiting.unprocessed} unprocessed; waiting for R47011 over {minutes} min: {waiting.count}"
    if waiting.oldest is not None:
        line += f", the oldest for {int(waiting.oldest.total_seconds() // 60)} min: run R47011"
    typer.echo(line)
