"""A relay process that stops dead at a chosen point, for crash drills: run by test_relay_processes.

Usage: python relay_drill.py claimed|sent
Settings come from the ECGW_* environment, as for `ecgateway outbox run`. The relay prints
"CLAIMED <ids>" after its claim commits (or "SENT <id>" after the ERP accepted an order)
and then hangs there until it is killed.
"""

from __future__ import annotations

import sys
import time

from ecgateway.commerce.outbox import OutboxSettings, Relay, RelayHooks
from ecgateway.config import get_settings
from ecgateway.erp import make_erp
from ecgateway.runtime import Runtime


def hang(label: str, detail: object) -> None:
    print(label, detail, flush=True)
    while True:
        time.sleep(60)


def main(stop_at: str) -> None:
    runtime = Runtime.from_settings(get_settings())
    hooks = RelayHooks()
    if stop_at == "claimed":
        hooks.on_claimed = lambda ids: hang("CLAIMED", ids)
    else:
        hooks.on_sent = lambda outbox_id, receipt: hang("SENT", outbox_id)
    relay = Relay(sessions=runtime.portal_sessions, erp=make_erp(runtime), settings=OutboxSettings(), hooks=hooks)
    print("READY", flush=True)
    relay.run_forever()


if __name__ == "__main__":
    main(sys.argv[1])
