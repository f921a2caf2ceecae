"""Checkout and orders: place an order under an Idempotency-Key, list and read orders.

`place_order` owns its transactions, because an idempotency key has to be visible to other
requests while the first one is still pricing:

1. claim the key (user, key, hash of the request) in a short transaction of its own; a key
   already done returns the first order, a key held by a running request is refused
   (409), a key that came with a different request is refused (422);
2. check the ship-to and the customer PO, read the cart and end that transaction, reprice
   the cart in one ERP call (no portal transaction is open meanwhile);
3. commit the order, its lines, its outbox row, the audit entry and the key's "done" in
   one transaction, and empty the cart. The relay (commerce/outbox.py) sends it.

One cart, one order at a time: step 3 records the order on the cart (`last_order_id`) only
if the cart's last order is still the one step 2 saw, so of several checkouts of the same
cart with different keys, one makes the order and the others get 409 "this cart was just
ordered" with the order's address (CartJustOrdered). On PostgreSQL that UPDATE waits for the
row lock of a checkout committing the same cart, then sees its order; on SQLite the writes
run one at a time (BEGIN IMMEDIATE).

If step 2 or 3 fails the key is released, so the client may retry with the same key. A key
whose request died holds its lease (commerce/keys.py), then is taken over or cleaned up.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ecgateway.audit.service import looks_like_card_number, record
from ecgateway.clock import utcnow
from ecgateway.commerce.carts import (
    CartItem,
    account_of,
    add_item,
    cart_items,
    find_cart,
    price_items,
    set_quantity,
    sold_to_of,
)
from ecgateway.commerce.errors import (
    CartJustOrdered,
    CommerceError,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    Invalid,
    NotFound,
)
from ecgateway.commerce.keys import KEY_LEASE
from ecgateway.commerce.models import (
    KEY_DONE,
    KEY_IN_FLIGHT,
    ORDER_REJECTED,
    ORDER_WAITING,
    Cart,
    CartLine,
    IdempotencyKey,
    Order,
    OrderLine,
    OutboxMessage,
)
from ecgateway.commerce.outbox import submission_to_json
from ecgateway.db import in_values
from ecgateway.erp.base import Erp, OrderSubmission
from ecgateway.erp.base import OrderLine as ErpOrderLine
from ecgateway.jde.addresses import shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.obo.context import ActingContext

# An empty cart whose last order is this recent answers "just ordered" (409, the order's link), not "empty".
JUST_ORDERED = dt.timedelta(minutes=10)
MAX_KEY_LENGTH = 255
PO_WIDTH = 25  # F47011 SYVR01 / F4201 SHVR01


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    replayed: bool  # True: the key was seen before and this is the first request's order


def place_order(
    session: Session, jde: Jde, erp: Erp, *,
    ctx: ActingContext, idempotency_key: str | None, ship_to: int, customer_po: str,
    after_commit: Callable[[], None] | None = None,
) -> PlacedOrder:
    """Turn the acting context's cart into an order, once per idempotency key; commits."""
    account = account_of(ctx)
    key = _check_key(idempotency_key)
    fingerprint = request_fingerprint(ctx=ctx, ship_to=ship_to, customer_po=customer_po)
    claim = _claim_key(session, ctx=ctx, account=account, key=key, fingerprint=fingerprint)
    if isinstance(claim, Order):
        return PlacedOrder(claim, replayed=True)
    key_id, token = claim
    try:
        order = _checkout(session, jde, erp, ctx=ctx, account=account,
                          ship_to=ship_to, customer_po=customer_po, key_id=key_id, token=token)
    except CommerceError as exc:
        session.rollback()
        _release_key(session, key_id=key_id, token=token)
        record(session, actor=ctx.actor, subject_an8=account, action="order.place", object="checkout",
               outcome="refused", detail={"on_behalf": ctx.on_behalf, "reason": exc.message[:300]})
        session.commit()
        raise
    except BaseException:
        session.rollback()
        _release_key(session, key_id=key_id, token=token)
        session.commit()
        raise
    if after_commit is not None:
        after_commit()
    return PlacedOrder(order, replayed=False)


def request_fingerprint(*, ctx: ActingContext, ship_to: int, customer_po: str) -> str:
    """SHA-256 of what makes two order requests the same: account, sold-to, ship-to, PO."""
    canonical = json.dumps(
        {"account": ctx.subject_an8, "sold_to": ctx.billing_an8 or ctx.subject_an8,
         "ship_to": ship_to, "customer_po": (customer_po or "").strip()},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def list_orders(session: Session, *, ctx: ActingContext, limit: int = 50, before_id: int | None = None) -> list[Order]:
    """The account's orders, newest first: the customer and the reps serving it see the same list."""
    account = account_of(ctx)
    stmt = sa.select(Order).where(Order.account_an8 == account)
    if before_id is not None:
        stmt = stmt.where(Order.id < before_id)
    return list(session.scalars(stmt.order_by(Order.id.desc()).limit(max(1, min(limit, 200)))))


def get_order(session: Session, *, ctx: ActingContext, order_id: int) -> Order:
    """One order of the account, with its lines; another account's order is not found."""
    account = account_of(ctx)
    order = session.scalars(
        sa.select(Order).where(Order.id == order_id, Order.account_an8 == account).options(selectinload(Order.lines))
    ).one_or_none()
    if order is None:
        raise NotFound(f"order {order_id} is not one of account {account}'s orders; open the order history to find it")
    return order


def put_back_in_cart(session: Session, jde: Jde, *, ctx: ActingContext, order_id: int) -> int:
    """A rejected order's lines back into the acting context's cart, to fix and place again; the caller commits.

    Each line ends up with at least the order's quantity (a second click adds nothing); the new
    checkout gets a new Idempotency-Key, so JD Edwards sees a new order. Returns the lines put back.
    """
    order = get_order(session, ctx=ctx, order_id=order_id)
    if order.status != ORDER_REJECTED:
        raise Invalid(f"order {order.id} is {order.status}, not rejected: only a rejected order's lines can be put "
                      "back in the cart. To order the same items again, add them from the catalog", field="order")
    in_cart = {i.item: i.quantity for i in cart_items(session, ctx=ctx)}
    for line in order.lines:
        have = in_cart.get(line.item, 0)
        if have == 0:
            add_item(session, jde, ctx=ctx, item=line.item, quantity=line.quantity)
        elif have < line.quantity:
            set_quantity(session, ctx=ctx, item=line.item, quantity=line.quantity)
    record(session, actor=ctx.actor, subject_an8=order.account_an8, action="order.reorder", object=f"order {order.id}",
           outcome="ok", detail={"on_behalf": ctx.on_behalf, "lines": len(order.lines),
                                 "reason": order.status_detail[:300]})
    return len(order.lines)


def new_erp_key() -> str:
    """A fresh key the ERP drops duplicates by: 'EC-' + 20 base32 characters (100 random bits)."""
    return "EC-" + base64.b32encode(secrets.token_bytes(13)).decode()[:20]


# --- helpers ----------------------------------------------------------------------------

def _check_key(key: str | None) -> str:
    text = (key or "").strip()
    if not text:
        raise Invalid("the Idempotency-Key header is missing: send a new random key (e.g. a UUID) with each order, "
                      "and the same key when retrying that order", field="Idempotency-Key")
    if len(text) > MAX_KEY_LENGTH or not (text.isascii() and text.isprintable()):
        raise Invalid(f"the Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID",
                      field="Idempotency-Key")
    return text


def _claim_key(session: Session, *, ctx: ActingContext, account: int, key: str, fingerprint: str) -> Order | tuple[int, str]:
    """The first order of a finished key, or (key row id, claim token) once this request holds the key."""
    user_id = ctx.actor.user_id
    for _attempt in range(5):
        now = utcnow()
        row = session.scalars(
            sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        ).one_or_none()
        if row is None:
            token = secrets.token_hex(16)
            row = IdempotencyKey(user_id=user_id, key=key, request_hash=fingerprint, state=KEY_IN_FLIGHT,
                                 claim_token=token, claimed_until=now + KEY_LEASE, created_at=now)
            session.add(row)
            try:
                session.commit()
            except sa.exc.IntegrityError:
                session.rollback()  # another request inserted the same key first: look again
                continue
            return row.id, token
        if row.request_hash != fingerprint:
            _refuse(session, ctx=ctx, account=account, reason="idempotency key reused with a different request")
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different order request (another ship-to, PO or account); "
                "use a new key for a new order")
        if row.state == KEY_DONE:
            order = session.scalars(
                sa.select(Order).where(Order.id == row.order_id).options(selectinload(Order.lines))
            ).one()
            record(session, actor=ctx.actor, subject_an8=account, action="order.replay", object=f"order {order.id}",
                   outcome="ok", detail={"on_behalf": ctx.on_behalf})
            session.commit()
            return order
        if _aware(row.claimed_until) > now:
            _refuse(session, ctx=ctx, account=account, reason="idempotency key in flight")
            raise IdempotencyKeyInFlight(
                "an order request with this Idempotency-Key is still being processed; wait a moment and retry "
                "with the same key to get its result")
        token = secrets.token_hex(16)  # the request holding the key died: take it over
        taken = session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.id == row.id, IdempotencyKey.state == KEY_IN_FLIGHT,
                   IdempotencyKey.claim_token == row.claim_token)
            .values(claim_token=token, claimed_until=now + KEY_LEASE)
        ).rowcount
        session.commit()
        if taken == 1:
            return row.id, token
    raise IdempotencyKeyInFlight("an order request with this Idempotency-Key is still being processed; "
                                 "retry with the same key in a moment")


def _checkout(
    session: Session, jde: Jde, erp: Erp, *, ctx: ActingContext,
    account: int, ship_to: int, customer_po: str, key_id: int, token: str,
) -> Order:
    sold_to = sold_to_of(ctx)
    po = _check_po(customer_po)
    ships = shipping_addresses(jde, billing_an8=sold_to)
    if ship_to not in {a.an8 for a in ships}:
        allowed = ", ".join(str(a.an8) for a in ships) or "none"
        raise Invalid(f"shipping address {ship_to} is not one of billing address {sold_to}'s shipping addresses "
                      f"({allowed}); choose one from the list", field="ship_to")
    found = find_cart(session, ctx=ctx)
    seen_order = found.last_order_id if found is not None else None
    items = cart_items(session, ctx=ctx)
    if not items:
        # Each read sees what was committed when it ran (SQLite reads outside a transaction here,
        # PostgreSQL reads committed), so a checkout that committed between find_cart and cart_items
        # shows as an empty cart with no order yet: read the cart's last order again, after the lines.
        if found is not None:
            seen_order = session.scalar(sa.select(Cart.last_order_id).where(Cart.id == found.id))
        _refuse_if_just_ordered(session, seen_order)
        raise Invalid("the cart is empty: add items from the catalog before checking out", field="cart")
    session.commit()  # end the read: no portal transaction (on SQLite, the write lock) is held while the ERP prices
    cart = price_items(jde, erp, ctx=ctx, items=items, ship_to=ship_to)
    priced = cart.lines
    missing = [line.item for line in priced.lines if not line.available]
    if missing:
        raise Invalid(f"JD Edwards has no price for {', '.join(missing)} for billing address {sold_to}; "
                      "remove these lines or ask the pricing team", field="cart")
    now = utcnow()
    rep = ctx.actor if ctx.on_behalf else None
    from_list = {i.item: i.list_id for i in items if i.list_id}  # order lines keep the managed list's reference
    order = Order(
        erp_key=new_erp_key(), account_an8=account, sold_to=sold_to, ship_to=ship_to, company=jde.company,
        branch=cart.branch, currency=priced.currency, customer_po=po,
        total=priced.total, placed_by_user_id=ctx.actor.user_id, placed_by_login=ctx.actor.login,
        on_behalf=ctx.on_behalf, rep_name=rep.name if rep else None, rep_email=rep.email if rep else None,
        status=ORDER_WAITING, created_at=now, updated_at=now,
        lines=[
            OrderLine(line_no=n, item=line.item, description=line.description[:60], quantity=line.quantity,
                      uom=line.uom, unit_price=line.unit_price, extended=line.extended, price_source=line.source[:120],
                      list_id=from_list.get(line.item))
            for n, line in enumerate(priced.lines, start=1)
        ],
    )
    session.add(order)
    session.flush()
    same_cart = Cart.last_order_id.is_(None) if seen_order is None else Cart.last_order_id == seen_order
    if session.execute(
        sa.update(Cart).where(Cart.id == found.id, same_cart).values(last_order_id=order.id, updated_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount != 1:
        session.rollback()  # another checkout of this cart committed first (or the cart was emptied)
        _refuse_if_just_ordered(session, session.scalar(sa.select(Cart.last_order_id).where(Cart.id == found.id)),
                                window=None)
        raise Invalid("the cart was emptied while the order was being placed; nothing was ordered", field="cart")
    placed_by = f"{ctx.actor.name} <{ctx.actor.email}>" if ctx.actor.email else ctx.actor.name
    submission = OrderSubmission(
        erp_key=order.erp_key, sold_to=sold_to, ship_to=ship_to, parent=account, company=jde.company,
        branch=order.branch, currency=order.currency, customer_po=po, placed_by=placed_by,
        lines=tuple(ErpOrderLine(item=ln.item, quantity=ln.quantity, uom=ln.uom, unit_price=ln.unit_price)
                    for ln in order.lines),
    )
    session.add(OutboxMessage(order_id=order.id, payload=submission_to_json(submission), created_at=now,
                              next_attempt_at=now))
    done = session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id, IdempotencyKey.claim_token == token, IdempotencyKey.state == KEY_IN_FLIGHT)
        .values(state=KEY_DONE, order_id=order.id, claim_token=None, claimed_until=None)
    ).rowcount
    if done != 1:
        raise IdempotencyKeyInFlight("this order request took too long and another request with the same "
                                     "Idempotency-Key took over; retry with the same key to get its result")
    _clear_ordered_lines(session, ctx=ctx, items=items)
    # Last before commit: the audit entry takes the chain head's lock, which serialises writers.
    record(session, actor=ctx.actor, subject_an8=account, action="order.place", object=f"order {order.id}",
           outcome="ok", detail={"on_behalf": ctx.on_behalf, "sold_to": sold_to, "ship_to": ship_to,
                                 "lines": len(order.lines), "total": str(order.total), "currency": order.currency,
                                 "erp_key": order.erp_key})
    session.commit()
    return order


def _clear_ordered_lines(session: Session, *, ctx: ActingContext, items: list[CartItem]) -> None:
    """Remove the ordered lines; a line added or changed while pricing stays in the cart."""
    cart = find_cart(session, ctx=ctx)
    if cart is None:
        return
    ordered = {(i.item, i.quantity) for i in items}
    session.execute(
        sa.delete(CartLine).where(
            CartLine.cart_id == cart.id,
            in_values(sa.tuple_(CartLine.item, CartLine.quantity), sorted(ordered)),
        )
    )


def _refuse_if_just_ordered(session: Session, order_id: int | None, *,
                            window: dt.timedelta | None = JUST_ORDERED) -> None:
    """Raise CartJustOrdered when order_id (the cart's last order) exists and, with a window, is that recent."""
    if order_id is None:
        return
    created = session.scalar(sa.select(Order.created_at).where(Order.id == order_id))
    if created is not None and (window is None or utcnow() - _aware(created) < window):
        raise CartJustOrdered(order_id)


def _check_po(customer_po: str) -> str:
    po = (customer_po or "").strip()
    if looks_like_card_number(po):
        # Not echoed back, not logged, not stored: the portal never takes card data.
        raise Invalid("the customer PO looks like a card number; the portal never takes card data. "
                      "Enter the customer's purchase order number", field="customer_po")
    if not po or len(po) > PO_WIDTH:
        raise Invalid(f"the customer PO number must be 1 to {PO_WIDTH} characters (JD Edwards keeps {PO_WIDTH})",
                      field="customer_po")
    return po


def _release_key(session: Session, *, key_id: int, token: str) -> None:
    session.execute(sa.delete(IdempotencyKey).where(
        IdempotencyKey.id == key_id, IdempotencyKey.claim_token == token, IdempotencyKey.state == KEY_IN_FLIGHT))


def _refuse(session: Session, *, ctx: ActingContext, account: int, reason: str) -> None:
    record(session, actor=ctx.actor, subject_an8=account, action="order.place", object="checkout",
           outcome="refused", detail={"on_behalf": ctx.on_behalf, "reason": reason})
    session.commit()


def _aware(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite returns UTC without a zone


