"""Carts: one per (account, acting rep or none), items only, audited; Empty Cart is staff-only."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ecgateway.audit.models import AuditEntry
from ecgateway.commerce import carts
from ecgateway.commerce.errors import Invalid, NoAccount, NotAllowed, NotFound
from ecgateway.commerce.models import Cart, CartLine
from ecgateway.jde.handle import Jde
from ecgateway.obo.context import ActingContext


def add(shop, who, item, quantity=1, **kw):
    with shop.session() as s, shop.jde_engine.connect() as jde:
        line = carts.add_item(s, Jde(jde, shop.tables), ctx=shop.ctx(who, **kw), item=item, quantity=quantity)
        s.commit()
        return line


def items(shop, who, **kw):
    with shop.session() as s:
        return {i.item: i.quantity for i in carts.cart_items(s, ctx=shop.ctx(who, **kw))}


def test_rep_and_customer_carts_are_apart(clean):
    shop = clean
    a, b, c = shop.items[:3]
    add(shop, "cust", a, 2)
    add(shop, "rep", b, 5)
    add(shop, "rep2", c, 7)
    assert items(shop, "cust") == {a: 2}  # the customer never sees a rep's cart
    assert items(shop, "rep") == {b: 5}
    assert items(shop, "rep2") == {c: 7}


def test_rep_finds_the_cart_as_left_when_back_on_the_account(clean):
    shop = clean
    a, b = shop.items[:2]
    add(shop, "rep", a, 3)
    add(shop, "rep", b, 1)
    # the rep serves another account meanwhile: a different cart
    other = shop.account + 1
    add(shop, "rep", a, 9, account=other, billing=other)
    assert items(shop, "rep", account=other, billing=other) == {a: 9}
    # back on the first account (a new acting context, as after a new on-behalf-of session)
    assert items(shop, "rep") == {a: 3, b: 1}


def test_add_change_remove(clean):
    shop = clean
    a, b = shop.items[:2]
    add(shop, "cust", a, 2)
    add(shop, "cust", a, 3)  # adding again adds up
    add(shop, "cust", b, 1)
    with shop.session() as s:
        assert carts.set_quantity(s, ctx=shop.ctx("cust"), item=b, quantity=4).quantity == 4
        carts.remove_item(s, ctx=shop.ctx("cust"), item=a)
        s.commit()
    assert items(shop, "cust") == {b: 4}
    with shop.session() as s:
        assert carts.set_quantity(s, ctx=shop.ctx("cust"), item=b, quantity=0) is None
        s.commit()
    assert items(shop, "cust") == {}


@pytest.mark.parametrize(
    ("item", "quantity", "error", "says"),
    [
        ("NOPE-99999", 1, NotFound, "not in the JD Edwards item master"),
        ("", 1, Invalid, "2nd item number"),
        ("x" * 26, 1, Invalid, "1 to 25 characters"),
        (None, 0, Invalid, "quantity must be a whole number from 1 to 99999"),
        (None, -1, Invalid, "quantity"),
        (None, 100_000, Invalid, "quantity"),
        (None, 1.5, Invalid, "quantity"),
        (None, True, Invalid, "quantity"),
    ],
)
def test_add_refuses_bad_input(clean, item, quantity, error, says):
    shop = clean
    with pytest.raises(error) as info:
        add(shop, "cust", item if item is not None else shop.items[0], quantity)
    assert says in str(info.value)
    assert items(shop, "cust") == {}


def test_change_of_an_item_not_in_the_cart_is_not_found(clean):
    shop = clean
    with shop.session() as s, pytest.raises(NotFound, match="is not in the cart"):
        carts.set_quantity(s, ctx=shop.ctx("cust"), item=shop.items[0], quantity=2)


def test_a_rep_not_acting_on_behalf_has_no_cart(clean):
    shop = clean
    ctx = ActingContext(actor=shop.users["rep"], subject_an8=None)
    with shop.session() as s, shop.jde_engine.connect() as jde, pytest.raises(NoAccount, match="acting on behalf"):
        carts.add_item(s, Jde(jde, shop.tables), ctx=ctx, item=shop.items[0], quantity=1)


def test_empty_cart_is_staff_only_and_removes_every_cart_of_the_account(clean):
    shop = clean
    a, b = shop.items[:2]
    add(shop, "cust", a, 1)
    add(shop, "rep", b, 1)
    add(shop, "rep2", b, 2)
    other = shop.account + 1
    add(shop, "rep", a, 1, account=other, billing=other)
    with shop.session() as s, pytest.raises(NotAllowed, match="staff only"):
        carts.empty_account_carts(s, ctx=shop.ctx("cust"))
    with shop.session() as s:
        assert carts.empty_account_carts(s, ctx=shop.ctx("rep")).cart_count == 3
        s.commit()
    assert items(shop, "cust") == {} and items(shop, "rep") == {} and items(shop, "rep2") == {}
    assert items(shop, "rep", account=other, billing=other) == {a: 1}  # other accounts keep theirs


def test_cart_tables_have_no_place_for_prices_or_cards(shop):
    columns = {c.name for c in Cart.__table__.columns} | {c.name for c in CartLine.__table__.columns}
    # list_id: the managed list a line came from (a reference, not a price: a quote stays on the list);
    # last_order_id: the order last made from the cart (one cart, one order at a time)
    assert columns == {"id", "account_an8", "rep_id", "created_at", "updated_at", "last_order_id", "cart_id", "item",
                       "quantity", "list_id"}


def test_one_cart_per_account_and_owner_is_enforced_by_the_database(clean):
    shop = clean
    with shop.session() as s:
        s.add(Cart(account_an8=shop.account, rep_id=None))
        s.commit()
        s.add(Cart(account_an8=shop.account, rep_id=None))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()


def test_price_cart_prices_every_line_in_one_call_for_the_borrowed_billing_address(clean):
    shop = clean
    for item in shop.items[:4]:
        add(shop, "rep", item, 2)

    calls = []

    class Counting:
        def price(self, request):
            calls.append(request)
            return shop.erp.price(request)

    with shop.session() as s, shop.jde_engine.connect() as jde:
        priced = carts.price_cart(s, Jde(jde, shop.tables, "00000"), Counting(), ctx=shop.ctx("rep"))
    assert len(calls) == 1 and calls[0].sold_to == shop.billing
    assert [ln.item for ln in priced.lines.lines] == shop.items[:4]
    assert priced.lines.total == sum(ln.extended for ln in priced.lines.lines)


def test_every_cart_action_is_audited_with_actor_and_subject(clean):
    shop = clean
    with shop.session() as s:
        start = s.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.seq), 0)))
    add(shop, "rep", shop.items[0], 2)
    with shop.session() as s:
        carts.set_quantity(s, ctx=shop.ctx("rep"), item=shop.items[0], quantity=3)
        carts.remove_item(s, ctx=shop.ctx("rep"), item=shop.items[0])
        carts.empty_account_carts(s, ctx=shop.ctx("rep"))
        s.commit()
    with shop.session() as s:
        entries = s.scalars(sa.select(AuditEntry).where(AuditEntry.seq > start).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["cart.add", "cart.change", "cart.remove", "cart.empty"]
    for e in entries:
        assert e.actor_login == "rep" and e.subject_an8 == shop.account and e.outcome == "ok"
        assert json.loads(e.detail)["on_behalf"] is True
