"""`ecgateway outbox run` in AIS mode, as a real process against the strict fake AIS: one AIS
session for the whole run, logged out when it stops; orders JDE refuses are reported by
`ecgateway outbox status` with JDE's reason."""

from __future__ import annotations

import subprocess

import pytest
from commerce_procs import ECGATEWAY, place_orders, relay_env

from erp.fake_ais import ORDER, PASSWORD, USERNAME, FakeAis, serve

HOLD = "Customer on credit hold: Credit Control must release it"


@pytest.fixture
def ais(clean):
    fake = FakeAis(idle_timeout=600)
    with serve(fake) as url:
        env = relay_env(clean, ECGW_ERP_MODE="ais", ECGW_AIS_URL=url, ECGW_AIS_USERNAME=USERNAME,
                        ECGW_AIS_PASSWORD=PASSWORD, ECGW_AIS_DEVICE_NAME="ecgw-relay-1")
        yield clean, fake, env


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(ECGATEWAY), "outbox", *args], env=env, capture_output=True, text=True, timeout=120)


def test_one_relay_process_holds_one_ais_session_and_logs_it_out(ais):
    shop, fake, env = ais
    place_orders(shop, 3, prefix="ais-run")
    once = run(env, "run", "--once")
    assert once.returncode == 0 and "sent 3" in once.stdout, once.stderr[-2000:]
    assert len(fake.token_requests) == 1 and fake.token_requests[0]["deviceName"] == "ecgw-relay-1"
    assert len(fake.logouts) == 1 and fake.tokens == set()  # the process logged out as it ended
    assert fake.refused == [] and len(fake.orders) == 3


def test_refused_orders_are_listed_by_outbox_status_with_jdes_reason(ais):
    shop, fake, env = ais
    fake.hold(shop.billing, HOLD)
    placed = place_orders(shop, 2, prefix="ais-held")
    once = run(env, "run", "--once")
    assert once.returncode == 0 and "sent 0, retried 0, rejected 2" in once.stdout, once.stderr[-2000:]
    assert fake.calls_to(ORDER) == 2  # each tried once, never again
    status = run(env, "status")
    assert status.returncode == 0 and "pending 0, done 0, dead 2" in status.stdout
    for order in placed:
        assert f"order {order.id}, account {shop.account}, sold-to {shop.billing}, PO {order.customer_po}: {HOLD}" \
            in status.stdout
    again = run(env, "run", "--once")
    assert "sent 0, retried 0, rejected 0" in again.stdout and fake.calls_to(ORDER) == 2
