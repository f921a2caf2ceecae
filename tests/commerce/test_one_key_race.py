"""50 concurrent submits with one Idempotency-Key give exactly one ERP order (run on both backends)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from ecgateway.commerce import carts, orders
from ecgateway.commerce.errors import IdempotencyKeyInFlight
from ecgateway.commerce.models import Order
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.erp.references import external_reference
from ecgateway.jde.handle import Jde

SUBMITS = 50


def test_fifty_concurrent_submits_with_one_key_give_one_erp_order(clean):
    shop = clean
    with shop.session() as s, shop.jde_engine.connect() as jde:
        for item in shop.items[:3]:
            carts.add_item(s, Jde(jde, shop.tables), ctx=shop.ctx("rep"), item=item, quantity=2)
        s.commit()
    erp_orders_before = shop.f47011_count()
    barrier = threading.Barrier(SUBMITS)

    def submit(_):
        barrier.wait(60)
        with shop.session() as s, shop.jde_engine.connect() as jde:
            try:
                placed = orders.place_order(s, Jde(jde, shop.tables, "00000"), shop.erp,
                                            ctx=shop.ctx("rep"), idempotency_key="one-key-50",
                                            ship_to=shop.ships[0].an8, customer_po="PO-RACE")
            except IdempotencyKeyInFlight:
                return "409", None
            return ("replayed" if placed.replayed else "placed"), placed.order.id

    with ThreadPoolExecutor(SUBMITS) as pool:
        results = list(pool.map(submit, range(SUBMITS)))
    kinds = [k for k, _ in results]
    assert kinds.count("placed") == 1, kinds
    assert len({oid for _, oid in results if oid is not None}) == 1
    # relays in two threads at once, as two processes would
    relays = [Relay(sessions=shop.sessions, erp=shop.erp, settings=OutboxSettings(batch_size=1)) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda r: r.run_until_idle(), relays))
    with shop.session() as s:
        (order,) = s.scalars(sa.select(Order)).all()
    assert order.status == "sent"
    assert shop.f47011_count(external_reference(order.erp_key)) == 1
    assert shop.f47011_count() == erp_orders_before + 1
