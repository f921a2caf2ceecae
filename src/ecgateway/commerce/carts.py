"""Cart services: one cart per (account, acting rep or none), items and quantities only.

The customer's own cart and each rep's on-behalf cart for the same account are different
rows (ActingContext.cart_owner), so the customer never sees what a rep is putting
together, and the rep finds the cart as they left it when they come back to the account.
Prices are never stored: `price_cart` asks the ERP for all lines in one call.
Every change is audited with actor and subject in the caller's transaction; the caller
commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ecgateway.audit.service import record
from ecgateway.commerce.addresses import branch_of
from ecgateway.commerce.errors import Invalid, NoAccount, NotAllowed, NotFound, PricingUnavailable
from ecgateway.commerce.models import Cart, CartLine
from ecgateway.config import INTERNAL_TYPES
from ecgateway.erp.base import Erp, ErpRejected, ErpUnavailable, PriceRequest, PriceRequestLine, PriceResult
from ecgateway.jde.tables import JdeTables
from ecgateway.obo.context import ActingContext

MAX_QUANTITY = 99_999
MAX_LINES = 500  # a cart is priced in one ERP call; 500 lines keeps it well under Oracle's IN limit
STAFF_TYPES = (*INTERNAL_TYPES, "Admin")


@dataclass(frozen=True)
class CartItem:
    item: str
    quantity: int


@dataclass(frozen=True)
class PricedCart:
    account_an8: int
    sold_to: int
    ship_to: int
    lines: PriceResult


def cart_items(session: Session, *, ctx: ActingContext) -> list[CartItem]:
    """The lines of the acting context's own cart (empty when there is none yet)."""
    account = account_of(ctx)
    cart = _find_cart(session, account=account, rep_id=ctx.cart_owner)
    if cart is None:
        return []
    return [CartItem(line.item, line.quantity) for line in cart.lines]


def add_item(
    session: Session, jde_conn: sa.Connection, *, tables: JdeTables, ctx: ActingContext, item: str, quantity: int
) -> CartItem:
    """Add quantity of an item (F4101 2nd item number) to the cart; an item already there adds up."""
    account = account_of(ctx)
    item = _known_item(jde_conn, tables=tables, item=item)
    _check_quantity(quantity)
    cart = _find_cart(session, account=account, rep_id=ctx.cart_owner, create=True)
    line = next((ln for ln in cart.lines if ln.item == item), None)
    if line is None:
        if len(cart.lines) >= MAX_LINES:
            raise Invalid(f"the cart already holds {MAX_LINES} lines, the most one order takes; "
                          "place this order first, then start another", field="item")
        line = CartLine(item=item, quantity=quantity)
        cart.lines.append(line)
    else:
        _check_quantity(line.quantity + quantity)
        line.quantity += quantity
    _touch(cart)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.add", object=f"item {item}",
           outcome="ok", detail=_detail(ctx, quantity=quantity, cart_quantity=line.quantity))
    session.flush()
    return CartItem(line.item, line.quantity)


def set_quantity(session: Session, *, ctx: ActingContext, item: str, quantity: int) -> CartItem | None:
    """Change an item's quantity; 0 removes the line. None when the line is gone."""
    if quantity == 0:
        remove_item(session, ctx=ctx, item=item)
        return None
    account = account_of(ctx)
    _check_quantity(quantity)
    line = _find_line(session, account=account, rep_id=ctx.cart_owner, item=item)
    before = line.quantity
    line.quantity = quantity
    _touch(line.cart)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.change", object=f"item {line.item}",
           outcome="ok", detail=_detail(ctx, quantity_before=before, quantity=quantity))
    session.flush()
    return CartItem(line.item, line.quantity)


def remove_item(session: Session, *, ctx: ActingContext, item: str) -> None:
    """Take an item out of the cart."""
    account = account_of(ctx)
    line = _find_line(session, account=account, rep_id=ctx.cart_owner, item=item)
    cart = line.cart
    cart.lines.remove(line)
    _touch(cart)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.remove", object=f"item {line.item}",
           outcome="ok", detail=_detail(ctx, quantity_before=line.quantity))
    session.flush()


def empty_account_carts(session: Session, *, ctx: ActingContext) -> int:
    """Staff only: remove every cart of the account (the customer's and every rep's); returns how many."""
    account = account_of(ctx)
    if ctx.actor.user_type not in STAFF_TYPES:
        record(session, actor=ctx.actor, subject_an8=account, action="cart.empty", object=f"account {account}",
               outcome="refused", detail=_detail(ctx, reason="staff only"))
        raise NotAllowed("Empty Cart removes every cart of the account and is for staff only; "
                         "to clear your own cart, remove its lines one by one")
    carts = session.scalars(sa.select(Cart).where(Cart.account_an8 == account)).all()
    lines = sum(len(c.lines) for c in carts)
    for cart in carts:
        session.delete(cart)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.empty", object=f"account {account}",
           outcome="ok", detail=_detail(ctx, carts=len(carts), lines=lines))
    session.flush()
    return len(carts)


def price_cart(
    session: Session, jde_conn: sa.Connection, erp: Erp, *, tables: JdeTables, company: str,
    ctx: ActingContext, ship_to: int | None = None,
) -> PricedCart:
    """Price every line of the cart for the borrowed billing address, in one ERP call."""
    items = cart_items(session, ctx=ctx)
    return price_items(jde_conn, erp, tables=tables, company=company, ctx=ctx, items=items, ship_to=ship_to)


def price_items(
    jde_conn: sa.Connection, erp: Erp, *, tables: JdeTables, company: str, ctx: ActingContext,
    items: list[CartItem], ship_to: int | None = None,
) -> PricedCart:
    """Price items for the borrowed billing address (sold-to) and ship-to, in one ERP call."""
    account = account_of(ctx)
    sold_to = sold_to_of(ctx)
    ship = ship_to or ctx.shipping_an8 or sold_to
    if not items:
        return PricedCart(account, sold_to, ship, PriceResult(lines=(), currency="", total=Decimal(0)))
    request = PriceRequest(
        sold_to=sold_to, ship_to=ship, company=company,
        branch=branch_of(jde_conn, tables=tables, an8=sold_to), currency=None,
        lines=tuple(PriceRequestLine(item=i.item, quantity=i.quantity) for i in items),
    )
    try:
        result = erp.price(request)
    except ErpUnavailable as exc:
        raise PricingUnavailable(f"prices cannot be fetched from JD Edwards just now ({exc}); "
                                 "the cart is kept: try again in a minute") from exc
    except ErpRejected as exc:
        raise Invalid(f"JD Edwards refused to price the cart for billing address {sold_to}: {exc}") from exc
    return PricedCart(account, sold_to, ship, result)


def sold_to_of(ctx: ActingContext) -> int:
    """The borrowed billing address; the account itself when none was chosen."""
    account = account_of(ctx)
    return ctx.billing_an8 or account


def find_cart(session: Session, *, ctx: ActingContext) -> Cart | None:
    """The acting context's own cart row, if it has one."""
    return _find_cart(session, account=account_of(ctx), rep_id=ctx.cart_owner)


# --- helpers ----------------------------------------------------------------------------

def account_of(ctx: ActingContext) -> int:
    """The account being shopped for; refused when there is none."""
    if ctx.subject_an8 is None:
        raise NoAccount("there is no account to shop for: a rep starts acting on behalf of an account first, "
                        "from the account list")
    return ctx.subject_an8


def _find_cart(session: Session, *, account: int, rep_id: int | None, create: bool = False) -> Cart | None:
    owner = Cart.rep_id.is_(None) if rep_id is None else Cart.rep_id == rep_id
    stmt = sa.select(Cart).where(Cart.account_an8 == account, owner).options(selectinload(Cart.lines))
    cart = session.scalars(stmt).one_or_none()
    if cart is None and create:
        # Two first adds racing: the unique index lets one insert win; the other reads its row.
        try:
            with session.begin_nested():
                cart = Cart(account_an8=account, rep_id=rep_id)
                session.add(cart)
                session.flush()
        except sa.exc.IntegrityError:
            cart = session.scalars(stmt).one()
    return cart


def _find_line(session: Session, *, account: int, rep_id: int | None, item: str) -> CartLine:
    cart = _find_cart(session, account=account, rep_id=rep_id)
    wanted = (item or "").strip()
    line = next((ln for ln in cart.lines if ln.item == wanted), None) if cart else None
    if line is None:
        raise NotFound(f"item {wanted!r} is not in the cart; reload the cart to see what it holds")
    return line


def _known_item(jde_conn: sa.Connection, *, tables: JdeTables, item: str) -> str:
    wanted = (item or "").strip()
    if not wanted or len(wanted) > 25:
        raise Invalid("item must be a JD Edwards 2nd item number of 1 to 25 characters, e.g. FAS-00001",
                      field="item")
    found = jde_conn.scalar(sa.select(tables.F4101.c.imlitm).where(tables.F4101.c.imlitm == wanted))
    if found is None:
        raise NotFound(f"item {wanted!r} is not in the JD Edwards item master (F4101); "
                       "search the catalog for its number", field="item")
    return found


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(f"quantity must be a whole number from 1 to {MAX_QUANTITY}, not {quantity!r}",
                      field="quantity")


def _touch(cart: Cart) -> None:
    cart.updated_at = dt.datetime.now(dt.UTC)


def _detail(ctx: ActingContext, **values) -> dict:
    out = {"on_behalf": ctx.on_behalf}
    if ctx.billing_an8:
        out["billing_an8"] = ctx.billing_an8
    out.update(values)
    return out
