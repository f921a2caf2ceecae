"""With the ERP down, orders wait in the outbox and go through once it is back.

The ERP is the real AIS client pointed at a loopback port where nothing listens (connection
refused); "back" is the fake AIS server (tests/erp/fake_ais.py) starting on that very port.
"""

from __future__ import annotations

import socket
import threading
import time

import sqlalchemy as sa
import uvicorn
from commerce_procs import free_port, place_orders

from ecgateway.commerce.models import Order, OutboxMessage
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.config import Settings
from ecgateway.erp.ais import AisErp
from ecgateway.erp.references import external_reference
from erp.fake_ais import PASSWORD, USERNAME, FakeAis


class FakeAisOn:
    """The fake AIS server on a chosen port, started and stopped on demand."""

    def __init__(self, port: int):
        self.port, self.app = port, FakeAis()
        self.server: uvicorn.Server | None = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="critical", lifespan="off", access_log=False))
        threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the fake AIS server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True


def statuses(shop) -> dict[int, str]:
    with shop.session() as s:
        return dict(s.execute(sa.select(Order.id, Order.status)).all())


def test_orders_wait_while_the_erp_is_down_and_go_through_when_it_is_back(clean, tmp_path):
    shop = clean
    port = free_port()  # nothing listens here: every connection is refused
    settings = Settings(data_dir=tmp_path, erp_mode="ais", ais_url=f"http://127.0.0.1:{port}", ais_username=USERNAME,
                        ais_password=PASSWORD, ais_timeout_seconds=2.0, ais_order_drops_duplicates=True)
    ais = AisErp(settings, max_attempts=2, backoff_base=0.05, backoff_cap=0.1, failure_threshold=2, reset_after=0.5)
    placed = place_orders(shop, 4, prefix="down")
    relay = Relay(sessions=shop.sessions, erp=ais,
                  settings=OutboxSettings(poll_seconds=0.1, batch_size=10, backoff_base_seconds=0.2, backoff_cap_seconds=1.0))
    fake = FakeAisOn(port)
    relay.start()
    try:
        time.sleep(2.5)  # the ERP stays down for a while
        assert set(statuses(shop).values()) == {"waiting"}
        with shop.session() as s:
            rows = s.scalars(sa.select(OutboxMessage)).all()
        assert all(r.state == "pending" for r in rows)
        assert any("ErpUnavailable" in r.last_error for r in rows)
        # backed off, not hammering: one order tried per pass, capped waits between passes
        assert sum(r.attempts for r in rows) <= 12, [r.attempts for r in rows]
        with shop.session() as s:
            detail = s.get(Order, placed[0].id).status_detail
        assert detail.startswith("waiting for JD Edwards")

        fake.start()  # the ERP is back
        deadline = time.monotonic() + 30
        while set(statuses(shop).values()) != {"sent"}:
            assert time.monotonic() < deadline, f"orders not sent 30 s after the ERP came back: {statuses(shop)}"
            time.sleep(0.1)
    finally:
        relay.stop()
        fake.stop()
        ais.close()
    # each order exactly once in the ERP, under its own key
    assert sorted(fake.app.orders) == sorted(external_reference(o.erp_key) for o in placed)
    assert fake.app.calls_to("EC_SubmitOrder") >= len(placed)
    with shop.session() as s:
        refs = s.scalars(sa.select(Order.erp_reference)).all()
    assert all(ref.startswith("SO ") for ref in refs)
    assert all(shop.f47011_count(external_reference(o.erp_key)) == 0 for o in placed)  # they went through AIS only
