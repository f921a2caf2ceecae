"""Relays as real processes: killed with SIGKILL mid-way, or two at once on one database."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa
from commerce_procs import (
    ECGATEWAY,
    HERE,
    place_orders,
    read_until,
    relay_env,
    start,
    stop,
    wait_until_sent,
)

from ecgateway.commerce.models import OutboxMessage
from ecgateway.erp.references import external_reference


@pytest.mark.parametrize("stop_at", ["claimed", "sent"])
def test_a_relay_killed_mid_way_then_restarted_gives_exactly_one_erp_order(clean, stop_at):
    shop = clean
    (order,) = place_orders(shop, 1, prefix=f"kill-{stop_at}")
    reference = external_reference(order.erp_key)
    drill = start([sys.executable, str(HERE / "relay_drill.py"), stop_at], relay_env(shop))
    try:
        read_until(drill, "CLAIMED" if stop_at == "claimed" else "SENT")
        drill.send_signal(signal.SIGKILL)  # no clean-up: the lease is left held, the row pending
        drill.wait(10)
    finally:
        stop(drill)
    # between commit and send nothing reached JDE; after send, exactly the one order
    assert shop.f47011_count(reference) == (0 if stop_at == "claimed" else 1)
    with shop.session() as s:
        row = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.order_id == order.id)).one()
        assert row.state == "pending" and row.claimed_by is not None
    relay = start([str(ECGATEWAY), "outbox", "run"], relay_env(shop))
    try:
        wait_until_sent(shop, [order.id], procs=[relay])
    finally:
        stop(relay)
    assert shop.f47011_count(reference) == 1
    assert relay.returncode == 0  # SIGTERM stops the relay cleanly


def test_two_relay_processes_share_the_outbox_and_send_each_order_once(clean):
    shop = clean
    placed = place_orders(shop, 30, prefix="two")
    env = relay_env(shop, ECGW_OUTBOX_BATCH_SIZE="3", ECGW_OUTBOX_LEASE_SECONDS="30")
    relays = [start([str(ECGATEWAY), "outbox", "run"], env) for _ in range(2)]
    try:
        wait_until_sent(shop, [o.id for o in placed], procs=relays)
    finally:
        for p in relays:
            stop(p)
    for order in placed:
        assert shop.f47011_count(external_reference(order.erp_key)) == 1
    with shop.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "done")) == 30


def test_outbox_run_once_and_status(clean):
    shop = clean
    place_orders(shop, 2, prefix="once")
    status = subprocess.run([str(ECGATEWAY), "outbox", "status"], env=relay_env(shop), capture_output=True, text=True)
    assert status.returncode == 0 and "pending 2" in status.stdout and "oldest pending" in status.stdout
    once = subprocess.run([str(ECGATEWAY), "outbox", "run", "--once"], env=relay_env(shop), capture_output=True, text=True)
    assert once.returncode == 0 and "sent 2" in once.stdout, once.stderr
    status = subprocess.run([str(ECGATEWAY), "outbox", "status"], env=relay_env(shop), capture_output=True, text=True)
    assert "pending 0, done 2" in status.stdout
