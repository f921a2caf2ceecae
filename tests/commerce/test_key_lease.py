"""In-flight Idempotency-Keys carry a lease (issue 14, point 6): after a crash, a retry past the
lease re-runs safely, and the relay removes the keys that dead requests left in flight.

The probe found such keys answering 409 for 120 s and staying in the table for ever.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from commerce.test_orders import count, fill, place
from ecgateway.clock import utcnow
from ecgateway.commerce import orders
from ecgateway.commerce.models import IdempotencyKey, Order, OutboxMessage
from ecgateway.commerce.outbox import OutboxSettings, Relay


def _dead_request_key(shop, key: str, *, died_ago: dt.timedelta, po: str = "PO-1001") -> None:
    """The row a request killed mid-checkout leaves: in flight, claimed when it started."""
    body = orders.request_fingerprint(ctx=shop.ctx("rep"), ship_to=shop.ships[-1].an8, customer_po=po)
    started = utcnow() - died_ago
    with shop.session() as s:
        s.add(IdempotencyKey(user_id=shop.users["rep"].user_id, key=key, request_hash=body, state="in_flight",
                             claim_token="killed", claimed_until=started + orders.KEY_LEASE, created_at=started))
        s.commit()


def test_a_retry_a_minute_after_a_crash_makes_the_order_once(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 1)])
    _dead_request_key(shop, "crashed", died_ago=dt.timedelta(seconds=60))
    first = place(shop, "rep", "crashed")  # the lease ran out: the retry runs the checkout itself
    assert not first.replayed
    again = place(shop, "rep", "crashed")  # and from then on the key returns that order
    assert again.replayed and again.order.id == first.order.id
    assert count(shop, Order) == 1 and count(shop, OutboxMessage) == 1


def test_the_relay_removes_keys_left_in_flight_past_their_lease(clean):
    shop = clean
    _dead_request_key(shop, "dead-long-ago", died_ago=dt.timedelta(hours=3))
    _dead_request_key(shop, "dead-just-now", died_ago=orders.KEY_LEASE + dt.timedelta(seconds=1), po="PO-2")
    _dead_request_key(shop, "still-running", died_ago=dt.timedelta(seconds=1), po="PO-3")
    fill(shop, "rep", [(shop.items[1], 2)])
    placed = place(shop, "rep", "done-key", po="PO-4")
    Relay(sessions=shop.sessions, erp=shop.erp, settings=OutboxSettings()).run_until_idle()
    with shop.session() as s:
        left = dict(s.execute(sa.select(IdempotencyKey.key, IdempotencyKey.state)).all())
        assert s.get(Order, placed.order.id).status == "sent"
    # a key whose request may still be running, and a done key (it answers retries), stay
    assert left == {"still-running": "in_flight", "done-key": "done"}
