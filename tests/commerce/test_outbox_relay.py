"""The outbox relay in-process: sends once, marks done after success, backs off, rejects for good."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from ecgateway.audit.models import AuditEntry
from ecgateway.commerce import carts, orders
from ecgateway.commerce.models import Order, OutboxMessage
from ecgateway.commerce.outbox import OutboxSettings, Relay, outbox_counts
from ecgateway.db import make_engine
from ecgateway.erp.local import LocalErp
from ecgateway.erp.references import external_reference
from ecgateway.jde.handle import Jde
from ecgateway.leased import backoff_seconds

FAST = OutboxSettings(poll_seconds=0.05, lease_seconds=30, batch_size=5, backoff_base_seconds=0.2,
                      backoff_cap_seconds=2.0, run_with_server=False)


def make_orders(shop, n, who="rep"):
    made = []
    for i in range(n):
        with shop.session() as s, shop.jde_engine.connect() as jde:
            carts.add_item(s, Jde(jde, shop.tables), ctx=shop.ctx(who), item=shop.items[i % 4], quantity=i + 1)
            s.commit()
            made.append(orders.place_order(
                s, Jde(jde, shop.tables, "00000"), shop.erp, ctx=shop.ctx(who), idempotency_key=f"o-{i}",
                ship_to=shop.ships[0].an8, customer_po=f"PO-{i}").order)
    return made


def order_rows(shop):
    with shop.session() as s:
        return {o.id: o for o in s.scalars(sa.select(Order))}


def test_relay_sends_each_order_once_and_marks_it_sent(clean):
    shop = clean
    placed = make_orders(shop, 7)
    relay = Relay(sessions=shop.sessions, erp=shop.erp, settings=FAST)
    total = relay.run_until_idle()
    assert total.sent == 7 and total.retried == 0
    assert relay.run_until_idle().claimed == 0  # nothing left: done rows are never sent again
    rows = order_rows(shop)
    for order in placed:
        assert shop.f47011_count(external_reference(order.erp_key)) == 1
        assert rows[order.id].status == "sent" and rows[order.id].erp_reference.startswith("EDI ")
    with shop.session() as s:
        assert outbox_counts(s) == {"done": 7}
        sent = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "order.sent",
                                                     AuditEntry.object == f"order {placed[0].id}")).all()
        assert len(sent) == 1 and sent[0].subject_an8 == shop.account and sent[0].actor_user_id is None


def test_a_row_sent_but_not_marked_is_sent_again_and_the_erp_keeps_one(clean):
    shop = clean
    (order,) = make_orders(shop, 1)
    died = Relay(sessions=shop.sessions, erp=shop.erp, settings=OutboxSettings(lease_seconds=0.2, batch_size=5))

    def crash(_outbox_id, _receipt):
        raise KeyboardInterrupt  # as if the process died right after the ERP accepted

    died.hooks.on_sent = crash
    with pytest.raises(KeyboardInterrupt):
        died.run_once()
    assert order_rows(shop)[order.id].status == "waiting"
    relay = Relay(sessions=shop.sessions, erp=shop.erp, settings=FAST)
    assert relay.run_once().claimed == 0  # the dead relay's lease still holds the row
    with shop.session() as s:  # let the lease run out
        s.execute(sa.update(OutboxMessage).values(claimed_until=orders.utcnow() - dt.timedelta(seconds=1)))
        s.commit()
    assert relay.run_until_idle().sent == 1
    assert shop.f47011_count(external_reference(order.erp_key)) == 1
    assert order_rows(shop)[order.id].status == "sent"


def test_two_relays_never_claim_the_same_row(clean):
    shop = clean
    make_orders(shop, 6)
    a = Relay(sessions=shop.sessions, erp=shop.erp, settings=OutboxSettings(batch_size=3))
    b = Relay(sessions=shop.sessions, erp=shop.erp, settings=OutboxSettings(batch_size=3))
    first, second = a._claim(), b._claim()
    assert len(first) == 3 and len(second) == 3 and not set(first) & set(second)
    assert b._claim() == []


def test_with_the_erp_down_orders_wait_then_go_through_when_it_is_back(clean):
    shop = clean
    placed = make_orders(shop, 3)
    # the real local ERP, its JDE database behind a port where nothing listens
    down_engine = make_engine("postgresql://postgres@127.0.0.1:9/jde", connect_args={"connect_timeout": 2})
    down = LocalErp(down_engine, shop.tables, shop.settings)
    patient = OutboxSettings(batch_size=5, backoff_base_seconds=5.0, backoff_cap_seconds=60.0)
    relay = Relay(sessions=shop.sessions, erp=down, settings=patient, rng=random.Random(1))
    result = relay.run_once()
    assert result.claimed == 3 and result.sent == 0 and result.retried == 1
    assert 2.5 <= result.pause_seconds <= 5.0  # first backoff: half to all of the base
    with shop.session() as s:
        rows = {r.order_id: r for r in s.scalars(sa.select(OutboxMessage))}
    # one call made, the rest given back without an attempt counted: no hammering
    assert sorted(r.attempts for r in rows.values()) == [0, 0, 1]
    assert all(r.state == "pending" and r.claimed_by is None for r in rows.values())
    assert "ErpUnavailable" in rows[placed[0].id].last_error
    assert relay.run_once().claimed == 0  # nothing is due during the pause
    assert all(o.status == "waiting" for o in order_rows(shop).values())
    assert "waiting for JD Edwards" in order_rows(shop)[placed[0].id].status_detail
    down_engine.dispose()

    with shop.session() as s:  # the pause is over
        s.execute(sa.update(OutboxMessage).values(next_attempt_at=orders.utcnow()))
        s.commit()
    back = Relay(sessions=shop.sessions, erp=shop.erp, settings=FAST)
    assert back.run_until_idle().sent == 3
    for order in placed:
        assert shop.f47011_count(external_reference(order.erp_key)) == 1
    assert all(o.status == "sent" for o in order_rows(shop).values())


def test_an_order_the_erp_refuses_is_rejected_and_never_retried(clean):
    shop = clean
    (order,) = make_orders(shop, 1)
    with shop.session() as s:  # an item JDE does not know, as if it was deleted from F4101 meanwhile
        row = s.scalars(sa.select(OutboxMessage)).one()
        payload = dict(row.payload)
        payload["lines"] = [dict(payload["lines"][0], item="GONE-00000")]
        row.payload = payload
        s.commit()
    relay = Relay(sessions=shop.sessions, erp=shop.erp, settings=FAST)
    assert relay.run_once().rejected == 1
    assert relay.run_once().claimed == 0
    got = order_rows(shop)[order.id]
    assert got.status == "rejected" and "GONE-00000" in got.status_detail
    with shop.session() as s:
        assert outbox_counts(s) == {"dead": 1}
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "order.rejected", AuditEntry.object == f"order {order.id}")) == 1


def test_the_relay_thread_sends_soon_after_a_wake(clean):
    shop = clean
    relay = Relay(sessions=shop.sessions, erp=shop.erp, settings=OutboxSettings(poll_seconds=30))
    relay.start()
    try:
        (order,) = make_orders(shop, 1)
        relay.wake()
        deadline = dt.datetime.now() + dt.timedelta(seconds=10)
        while order_rows(shop)[order.id].status != "sent":
            assert dt.datetime.now() < deadline, "the woken relay did not send within 10 s"
            import time

            time.sleep(0.05)
    finally:
        relay.stop()


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (9, 256.0), (10, 300.0), (40, 300.0)],
)
def test_backoff_doubles_up_to_the_cap_with_jitter_over_the_upper_half(attempt, ceiling):
    rng = random.Random(attempt)
    values = [backoff_seconds(attempt, base=1.0, cap=300.0, rng=rng) for _ in range(200)]
    assert all(ceiling / 2 <= v <= ceiling for v in values)
    assert len(set(values)) > 150  # jittered, so relays that failed together do not retry together
