"""The ERP, the order relay and the mail sender inside the web app: one ERP client per process, the
outbox relay thread and the mail sender thread.

`install(app)` is called by the app factory; `running(app)` wraps the app's lifespan, so
the relay starts with the server and stops (after its current send) when it shuts down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from ecgateway.admin import rollup
from ecgateway.admin.supervisor import AlertWatcher
from ecgateway.commerce.outbox import Chore, OutboxSettings, Relay
from ecgateway.erp import make_erp
from ecgateway.jde.addresses import postal_addresses
from ecgateway.mail import MailSender
from ecgateway.obo.receipts import ReceiptingMailSender
from ecgateway.runtime import Runtime

ROLLUP_BATCHES = 4  # of rollup.BATCH entries per run of the chore


def install(app: FastAPI, runtime: Runtime) -> None:
    """Give the app its ERP client and a relay (started by `running`)."""
    app.state.erp = make_erp(runtime)
    # The search index refresh rides on the relay loop: one thread per process for background work.
    # So does the supervisor's daily roll-up (the audit entries of the days before today, admin/rollup.py).
    # One process refreshes in each interval: the others find the state refreshed within half of it and skip.
    every = runtime.settings.search_refresh_seconds
    chores = [Chore("search index refresh", every, lambda: runtime.refresh_search(fresh_within=every / 2)),
              Chore("supervisor roll-up", runtime.settings.supervisor_rollup_seconds, lambda: _roll_up(runtime))]
    app.state.relay = Relay(sessions=runtime.portal_sessions, erp=app.state.erp, settings=OutboxSettings(),
                            chores=chores)
    app.state.mailer = ReceiptingMailSender(sessions=runtime.portal_sessions, settings=runtime.settings,
                                            account_name=lambda an8: _account_name(runtime, an8))
    app.state.alerts = AlertWatcher(sessions=runtime.portal_sessions, settings=runtime.settings)


@contextmanager
def running(app: FastAPI) -> Iterator[None]:
    """Run the relay and the mail sender while the server runs (unless ECGW_OUTBOX_RUN_WITH_SERVER=false,
    ECGW_MAIL_RUN_WITH_SERVER=false)."""
    relay: Relay = app.state.relay
    mailer: MailSender = app.state.mailer
    if relay.settings.run_with_server:
        relay.start()
    if mailer.settings.mail_run_with_server:
        mailer.start()
    alerts: AlertWatcher = app.state.alerts
    if alerts.settings.supervisor_alert_run_with_server:
        alerts.start()  # the supervisor's alerts, e-mailed with nobody looking at the view
    try:
        yield
    finally:
        alerts.stop()
        mailer.stop()
        relay.stop()
        app.state.erp.close()



def _roll_up(runtime: Runtime) -> int:
    """One run of the supervisor's roll-up: at most ROLLUP_BATCHES batches, so orders keep flowing while a
    large log is first rolled up (the next run goes on; the view counts what is not rolled up yet live)."""
    with runtime.portal_sessions() as portal:
        return rollup.catch_up(portal, max_batches=ROLLUP_BATCHES)


def _account_name(runtime: Runtime, an8: int) -> str:
    """The account's JDE name for a receipt (its number when JDE has none)."""
    with runtime.reading_jde() as jde:
        found = postal_addresses(jde, an8s=[an8]).get(an8)
    return found.name if found else f"account {an8}"
