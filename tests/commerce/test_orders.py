"""Checkout: ship-to from the billing address's list, customer PO, repricing, idempotency keys."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from ecgateway.audit import verify
from ecgateway.audit.models import AuditEntry
from ecgateway.commerce import carts, orders
from ecgateway.commerce.errors import IdempotencyKeyInFlight, IdempotencyKeyReused, Invalid
from ecgateway.commerce.models import IdempotencyKey, Order, OutboxMessage
from ecgateway.commerce.outbox import submission_from_json
from ecgateway.jde import addresses
from ecgateway.jde.handle import Jde


def fill(shop, who, lines):
    with shop.session() as s, shop.jde_engine.connect() as jde:
        for item, qty in lines:
            carts.add_item(s, Jde(jde, shop.tables), ctx=shop.ctx(who), item=item, quantity=qty)
        s.commit()


def place(shop, who, key, *, ship_to=None, po="PO-1001", erp=None, **kw):
    with shop.session() as s, shop.jde_engine.connect() as jde:
        return orders.place_order(s, Jde(jde, shop.tables, "00000"), erp or shop.erp, ctx=shop.ctx(who),
                                  idempotency_key=key, ship_to=ship_to or shop.ships[-1].an8, customer_po=po, **kw)


def count(shop, model):
    with shop.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def test_rep_places_an_order_for_the_account_with_repriced_lines(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 2), (shop.items[1], 5)])
    placed = place(shop, "rep", "k-1", po="PO-77")
    order = placed.order
    assert not placed.replayed
    assert (order.account_an8, order.sold_to, order.ship_to) == (shop.account, shop.billing, shop.ships[-1].an8)
    assert order.on_behalf and (order.rep_name, order.rep_email) == ("Ravi Rep", "ravi.rep@example.com")
    assert order.status == "waiting" and order.customer_po == "PO-77"
    # prices are the ERP's at submit, not anything the client sent
    expected = shop.erp.price(_request(shop, [(shop.items[0], 2), (shop.items[1], 5)]))
    assert [(ln.item, ln.quantity, ln.unit_price) for ln in order.lines] == [
        (ln.item, ln.quantity, ln.unit_price) for ln in expected.lines]
    assert order.total == expected.total
    with shop.session() as s:
        outbox = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.order_id == order.id)).one()
        sent = submission_from_json(outbox.payload)
    assert sent.erp_key == order.erp_key and sent.placed_by == "Ravi Rep <ravi.rep@example.com>"
    assert sent.sold_to == shop.billing and sent.parent == shop.account
    assert carts_items(shop, "rep") == {}  # the ordered lines left the cart


def test_customer_order_has_no_rep(clean):
    shop = clean
    fill(shop, "cust", [(shop.items[0], 1)])
    order = place(shop, "cust", "c-1").order
    assert not order.on_behalf and order.rep_name is None and order.rep_email is None
    assert order.placed_by_login == "cust"


def test_same_key_returns_the_first_order_and_makes_no_second(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 2)])
    first = place(shop, "rep", "same")
    fill(shop, "rep", [(shop.items[1], 1)])  # even with a cart that changed since
    again = place(shop, "rep", "same")
    assert again.replayed and again.order.id == first.order.id
    assert [ln.item for ln in again.order.lines] == [shop.items[0]]
    assert count(shop, Order) == 1 and count(shop, OutboxMessage) == 1
    assert carts_items(shop, "rep") == {shop.items[1]: 1}


def test_same_key_with_a_different_body_is_refused(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 2)])
    place(shop, "rep", "k", po="PO-1")
    with pytest.raises(IdempotencyKeyReused) as info:
        place(shop, "rep", "k", po="PO-2")
    assert info.value.status == 422 and "different order request" in str(info.value)
    with pytest.raises(IdempotencyKeyReused):
        place(shop, "rep", "k", po="PO-1", ship_to=shop.ships[0].an8)
    assert count(shop, Order) == 1


def test_keys_are_per_user(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 1)])
    fill(shop, "rep2", [(shop.items[1], 1)])
    a = place(shop, "rep", "shared-key").order
    b = place(shop, "rep2", "shared-key").order
    assert a.id != b.id and a.erp_key != b.erp_key


def test_a_duplicate_while_the_first_is_in_flight_gets_409(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 3)])
    pricing, release = threading.Event(), threading.Event()

    class SlowPricing:  # the real local ERP, held at pricing until the test lets go
        def price(self, request):
            pricing.set()
            assert release.wait(30)
            return shop.erp.price(request)

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(place, shop, "rep", "dup", erp=SlowPricing())
        assert pricing.wait(30)
        with pytest.raises(IdempotencyKeyInFlight) as info:
            place(shop, "rep", "dup")
        assert info.value.status == 409
        release.set()
        placed = first.result(30)
    assert place(shop, "rep", "dup").order.id == placed.order.id
    assert count(shop, Order) == 1


def test_concurrent_submits_with_one_key_make_one_order(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 1), (shop.items[2], 4)])
    outcomes = _race(shop, "rep", key="race", n=12)
    assert outcomes["placed"] == 1
    assert outcomes["placed"] + outcomes["replayed"] + outcomes["in_flight"] == 12
    assert count(shop, Order) == 1 and count(shop, OutboxMessage) == 1


def test_a_key_left_in_flight_by_a_dead_request_is_taken_over_after_its_lease(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 1)])
    body = orders.request_fingerprint(ctx=shop.ctx("rep"), ship_to=shop.ships[-1].an8, customer_po="PO-1001")
    with shop.session() as s:
        s.add(IdempotencyKey(user_id=shop.users["rep"].user_id, key="orphan", request_hash=body, state="in_flight",
                             claim_token="dead", claimed_until=orders.utcnow() + orders.KEY_LEASE))
        s.commit()
    with pytest.raises(IdempotencyKeyInFlight):
        place(shop, "rep", "orphan")
    with shop.session() as s:
        s.execute(sa.update(IdempotencyKey).values(claimed_until=orders.utcnow() - orders.KEY_LEASE))
        s.commit()
    assert not place(shop, "rep", "orphan").replayed


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("foreign ship-to", "is not one of billing address"),
        ("empty PO", "customer PO number must be 1 to 25"),
        ("long PO", "customer PO number must be 1 to 25"),
        ("card PO", "looks like a card number"),
        ("empty cart", "the cart is empty"),
        ("no key", "Idempotency-Key header is missing"),
    ],
)
def test_checkout_refusals_say_what_to_do_and_release_the_key(clean, case, message):
    shop = clean
    if case != "empty cart":
        fill(shop, "rep", [(shop.items[0], 1)])
    kwargs = {
        "foreign ship-to": {"ship_to": shop.account + 999_999},
        "empty PO": {"po": "  "},
        "long PO": {"po": "P" * 26},
        "card PO": {"po": "4111 1111 1111 1111"},
    }.get(case, {})
    key = None if case == "no key" else f"refused-{case}"
    with pytest.raises(Invalid) as info:
        place(shop, "rep", key, **kwargs)
    assert message in str(info.value)
    assert count(shop, Order) == 0 and count(shop, IdempotencyKey) == 0
    if case == "foreign ship-to":  # fixed and sent again with the same key: accepted
        assert not place(shop, "rep", key).replayed


def test_ship_to_list_is_the_billing_address_children_and_itself_when_x(shop):
    f0150, f03012 = shop.tables.F0150, shop.tables.F03012
    with shop.jde_engine.connect() as jde:
        expected = set(jde.execute(
            sa.select(f0150.c.maan8).join(f03012, f03012.c.aian8 == f0150.c.maan8)
            .where(f0150.c.mapa8 == shop.billing, f03012.c.aico == "00000", f03012.c.aibadt.in_(["S", "X"]))
        ).scalars())
        own = jde.scalar(sa.select(f03012.c.aibadt).where(f03012.c.aian8 == shop.billing, f03012.c.aico == "00000"))
    if own == "X":
        expected.add(shop.billing)
    assert {a.an8 for a in shop.ships} == expected


def test_order_actions_are_audited_with_actor_and_subject(clean):
    shop = clean
    with shop.session() as s:
        start = s.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.seq), 0)))
    fill(shop, "rep", [(shop.items[0], 1)])
    order = place(shop, "rep", "audited").order
    place(shop, "rep", "audited")
    with pytest.raises(IdempotencyKeyReused):
        place(shop, "rep", "audited", po="other")
    with shop.session() as s:
        entries = s.scalars(sa.select(AuditEntry).where(AuditEntry.seq > start, AuditEntry.action.like("order.%"))
                            .order_by(AuditEntry.seq)).all()
    assert [(e.action, e.outcome) for e in entries] == [
        ("order.place", "ok"), ("order.replay", "ok"), ("order.place", "refused")]
    assert all(e.actor_login == "rep" and e.subject_an8 == shop.account for e in entries)
    assert entries[0].object == f"order {order.id}"
    assert json.loads(entries[0].detail)["erp_key"] == order.erp_key


def test_history_shows_the_account_orders_to_customer_and_rep(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 1)])
    by_rep = place(shop, "rep", "h1").order
    fill(shop, "cust", [(shop.items[1], 1)])
    by_cust = place(shop, "cust", "h2").order
    with shop.session() as s:
        for who in ("cust", "rep", "rep2"):
            assert [o.id for o in orders.list_orders(s, ctx=shop.ctx(who))] == [by_cust.id, by_rep.id]
        assert orders.get_order(s, ctx=shop.ctx("cust"), order_id=by_rep.id).rep_name == "Ravi Rep"
        with pytest.raises(orders.NotFound):
            orders.get_order(s, ctx=shop.ctx("other", account=shop.account + 100000), order_id=by_rep.id)


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("4111111111111111", True), ("4111 1111 1111 1111", True), ("4111-1111-1111-1111", True),
        ("378282246310005", True), ("PO 4012888888881881 x", True),
        ("4111111111111112", False), ("PO-2026-0001", False), ("123456789012", False), ("", False),
    ],
)
def test_card_shaped_text(text, card):
    assert orders.looks_like_card_number(text) is card


# --- helpers ----------------------------------------------------------------------------

def carts_items(shop, who):
    with shop.session() as s:
        return {i.item: i.quantity for i in carts.cart_items(s, ctx=shop.ctx(who))}


def _request(shop, lines):
    from ecgateway.erp.base import PriceRequest, PriceRequestLine

    with shop.jde_engine.connect() as jde:
        branch = addresses.branch_of(Jde(jde, shop.tables), an8=shop.billing)
    return PriceRequest(sold_to=shop.billing, ship_to=shop.ships[-1].an8, company="00000", branch=branch,
                        currency=None, lines=tuple(PriceRequestLine(i, q) for i, q in lines))


def _race(shop, who, *, key, n):
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait(30)
        try:
            return "replayed" if place(shop, who, key).replayed else "placed"
        except IdempotencyKeyInFlight:
            return "in_flight"

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    return {k: results.count(k) for k in ("placed", "replayed", "in_flight")}


def test_no_order_and_no_outbox_row_without_its_audit_entry(clean):
    shop = clean
    fill(shop, "rep", [(shop.items[0], 1)])
    with shop.portal_engine.begin() as conn:  # the audit log cannot be written
        conn.execute(sa.text("ALTER TABLE audit_entries RENAME TO audit_entries_away"))
    try:
        with pytest.raises(sa.exc.DBAPIError):
            place(shop, "rep", "no-audit")
    finally:
        with shop.portal_engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE audit_entries_away RENAME TO audit_entries"))
    assert count(shop, Order) == 0 and count(shop, OutboxMessage) == 0
    assert carts_items(shop, "rep") == {shop.items[0]: 1}  # the cart is kept
    assert not place(shop, "rep", "no-audit").replayed  # the key was released: the retry makes the order
    with shop.session() as s:
        assert verify(s).ok


def test_outbox_rows_written_before_the_erp_key_rename_still_send():
    from ecgateway.commerce.outbox import submission_to_json

    new = submission_to_json(submission_from_json({
        "idempotency_key": "EC-OLDROW", "sold_to": 1, "ship_to": 2, "parent": 3, "company": "00000", "branch": "30",
        "currency": "USD", "customer_po": "PO", "placed_by": "x", "lines": [{"item": "A", "quantity": 1, "uom": "EA",
                                                                             "unit_price": "1.50"}]}))
    assert new["erp_key"] == "EC-OLDROW" and "idempotency_key" not in new
    assert submission_from_json(new).erp_key == "EC-OLDROW"
