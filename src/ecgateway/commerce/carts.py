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
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ecgateway.audit.service import record
from ecgateway.auth.models import AuthSession
from ecgateway.auth.roles import CUSTOMER, is_staff
from ecgateway.clock import utcnow
from ecgateway.commerce.errors import (
    CommerceError,
    Invalid,
    NoAccount,
    NotAllowed,
    NotFound,
    PricingRefused,
    PricingUnavailable,
)
from ecgateway.commerce.models import (
    LIST_ORDERED,
    Cart,
    CartLine,
    CartNotice,
    ManagedList,
    ManagedListLine,
)
from ecgateway.db import in_values
from ecgateway.erp.base import (
    Erp,
    ErpRejected,
    ErpUnavailable,
    PriceRequest,
    PriceRequestLine,
    PriceResult,
)
from ecgateway.jde.addresses import branch_of
from ecgateway.jde.handle import Jde
from ecgateway.jde.items import find_item
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import User

T = TypeVar("T")
MAX_QUANTITY = 99_999
MAX_LINES = 500  # a cart is priced in one ERP call; 500 lines keeps it well under Oracle's IN limit


@dataclass(frozen=True)
class CartItem:
    item: str
    quantity: int
    list_id: int | None = None  # the managed list the line came from
    quoted_price: Decimal | None = None  # that list's quoted unit price, which replaces JDE's
    quoted_currency: str = ""


@dataclass(frozen=True)
class PricedCart:
    account_an8: int
    sold_to: int
    ship_to: int
    lines: PriceResult
    branch: str = ""  # the business unit the prices (and an order) are for: the sold-to's ABMCU


def audited(db: Session, ctx: ActingContext, action: str, obj: str, action_fn: Callable[[], T]) -> T:
    """Run a cart action and commit; on refusal roll back the action only and keep a 'refused' audit entry
    (in the request's session, committed), then raise again."""
    try:
        with db.begin_nested():  # a refusal undoes the action only, not the request's session
            result = action_fn()
    except CommerceError as exc:
        record(db, actor=ctx.actor, subject_an8=ctx.subject_an8, action=action, object=obj[:200], outcome="refused",
               detail={"on_behalf": ctx.on_behalf, "reason": exc.message[:300]})
        db.commit()
        raise
    db.commit()
    return result


def cart_items(session: Session, *, ctx: ActingContext) -> list[CartItem]:
    """The lines of the acting context's own cart (empty when there is none yet)."""
    account = account_of(ctx)
    cart = _find_cart(session, account=account, rep_id=ctx.cart_owner, with_lines=True)
    if cart is None:
        return []
    quotes = _quotes(session, [line.list_id for line in cart.lines if line.list_id])
    return [CartItem(line.item, line.quantity, line.list_id, *quotes.get((line.list_id, line.item), (None, "")))
            for line in cart.lines]


def line_count(session: Session, *, ctx: ActingContext) -> int:
    """How many lines the acting context's own cart holds (the header's cart count); 0 without an account."""
    if ctx.subject_an8 is None:
        return 0
    return session.scalar(
        sa.select(sa.func.count()).select_from(CartLine).join(Cart, Cart.id == CartLine.cart_id)
        .where(Cart.account_an8 == ctx.subject_an8, _owned_by(ctx.cart_owner))
    ) or 0


def add_item(session: Session, jde: Jde, *, ctx: ActingContext, item: str, quantity: int) -> CartItem:
    """Add quantity of an item (F4101 2nd item number) to the cart; an item already there adds up."""
    account = account_of(ctx)
    item = _known_item(jde, item=item)
    _check_quantity(quantity)
    cart = _find_cart(session, account=account, rep_id=ctx.cart_owner, create=True)
    # Statements, not read-modify-write: two tabs adding at once both count.
    total = _add_to_line(session, cart_id=cart.id, item=item, quantity=quantity)
    if total is None:
        if _line_count(session, cart.id) >= MAX_LINES:
            raise Invalid(f"the cart already holds {MAX_LINES} lines, the most one order takes; "
                          "place this order first, then start another", field="item")
        try:
            with session.begin_nested():
                session.add(CartLine(cart_id=cart.id, item=item, quantity=quantity))
            total = quantity
        except sa.exc.IntegrityError:  # the same item added at the same moment elsewhere
            total = _add_to_line(session, cart_id=cart.id, item=item, quantity=quantity)
    if total is None:
        raise Invalid(f"item {item} would exceed {MAX_QUANTITY} in the cart; change the line's quantity instead",
                      field="quantity")
    _touch(session, cart.id)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.add", object=f"item {item}",
           outcome="ok", detail=_detail(ctx, quantity=quantity, cart_quantity=total))
    return CartItem(item, total)


def set_quantity(session: Session, *, ctx: ActingContext, item: str, quantity: int) -> CartItem | None:
    """Change an item's quantity; 0 removes the line. None when the line is gone."""
    if quantity == 0:
        remove_item(session, ctx=ctx, item=item)
        return None
    account = account_of(ctx)
    _check_quantity(quantity)
    cart_id, item = _existing_line(session, account=account, rep_id=ctx.cart_owner, item=item)
    session.execute(
        sa.update(CartLine).where(CartLine.cart_id == cart_id, CartLine.item == item).values(quantity=quantity),
        execution_options={"synchronize_session": False},
    )
    _touch(session, cart_id)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.change", object=f"item {item}",
           outcome="ok", detail=_detail(ctx, quantity=quantity))
    return CartItem(item, quantity)


def remove_item(session: Session, *, ctx: ActingContext, item: str) -> None:
    """Take an item out of the cart."""
    account = account_of(ctx)
    cart_id, item = _existing_line(session, account=account, rep_id=ctx.cart_owner, item=item)
    session.execute(sa.delete(CartLine).where(CartLine.cart_id == cart_id, CartLine.item == item),
                    execution_options={"synchronize_session": False})
    _touch(session, cart_id)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.remove", object=f"item {item}",
           outcome="ok", detail=_detail(ctx))


@dataclass(frozen=True)
class AccountCart:
    """One cart of an account as Empty Cart lists it: whose it is and what it holds."""

    cart_id: int
    rep_id: int | None  # None: the customer's own cart
    owner: str  # "the customer's own cart", "your cart", "Sam Sales's cart"
    lines: tuple[CartItem, ...]
    updated_at: dt.datetime

    @property
    def line_count(self) -> int:
        return len(self.lines)


@dataclass(frozen=True)
class EmptiedCarts:
    """What Empty Cart removed."""

    carts: tuple[AccountCart, ...]

    @property
    def cart_count(self) -> int:
        return len(self.carts)

    @property
    def line_count(self) -> int:
        return sum(c.line_count for c in self.carts)

    @property
    def customer_lines(self) -> int:
        return sum(c.line_count for c in self.carts if c.rep_id is None)

    def words(self, account: int) -> str:
        if not self.carts:
            return f"Account {account} had no cart: nothing was removed."
        told = "; ".join(f"{c.owner} ({_lines(c.line_count)})" for c in self.carts)
        return (f"Emptied {self.cart_count} cart{'s' if self.cart_count != 1 else ''} of account {account}, "
                f"{_lines(self.line_count)} in all: {told}.")


def account_carts(session: Session, *, ctx: ActingContext) -> list[AccountCart]:
    """Staff only: every cart of the account with its lines, the customer's own first, then the acting rep's."""
    account = _staff_account(ctx)
    carts = session.scalars(
        sa.select(Cart).where(Cart.account_an8 == account).options(selectinload(Cart.lines))
        .execution_options(populate_existing=True)
    ).all()
    names = dict(session.execute(sa.select(User.id, User.name).where(
        in_values(User.id, sorted({c.rep_id for c in carts if c.rep_id is not None})))).all()) if carts else {}
    out = [AccountCart(cart_id=c.id, rep_id=c.rep_id, owner=_owner(c.rep_id, ctx, names),
                       lines=tuple(CartItem(line.item, line.quantity) for line in c.lines), updated_at=c.updated_at)
           for c in carts]
    return sorted(out, key=lambda c: (c.rep_id is not None, c.rep_id != ctx.cart_owner, c.owner, c.cart_id))


def carts_seen(carts: list[AccountCart]) -> str:
    """A short fingerprint of the listed carts: Empty Cart refuses when they changed since the rep looked."""
    return ",".join(f"{c.cart_id}:{c.line_count}:{sum(i.quantity for i in c.lines)}"
                    for c in sorted(carts, key=lambda c: c.cart_id))


def empty_account_carts(session: Session, *, ctx: ActingContext, seen: str | None = None) -> EmptiedCarts:
    """Staff only: remove every cart of the account (the customer's and every rep's) and say what went.

    seen, when given, is carts_seen() of the list the rep confirmed: if the carts changed since, nothing is
    removed. The account's customer users are told on their next sign-in when their own cart had lines.
    """
    account = _staff_account(ctx)
    carts = account_carts(session, ctx=ctx)
    if seen is not None and seen != carts_seen(carts):
        raise Invalid(f"the carts of account {account} changed since they were listed; check the list again, "
                      "then confirm Empty Cart", field="confirm")
    cart_ids = [c.cart_id for c in carts]
    emptied = EmptiedCarts(tuple(carts))
    if cart_ids:
        session.execute(sa.delete(CartLine).where(in_values(CartLine.cart_id, cart_ids)),
                        execution_options={"synchronize_session": False})
        session.execute(sa.delete(Cart).where(in_values(Cart.id, cart_ids)), execution_options={"synchronize_session": False})
    if emptied.customer_lines:
        _tell_customers(session, ctx=ctx, account=account, emptied=emptied)
    record(session, actor=ctx.actor, subject_an8=account, action="cart.empty", object=f"account {account}",
           outcome="ok", detail=_detail(ctx, carts=emptied.cart_count, lines=emptied.line_count,
                                        customer_lines=emptied.customer_lines))
    return emptied


def show_notices_at_sign_in(session: Session, *, user_id: int, auth_session: AuthSession) -> None:
    """Move the user's waiting notices (a rep emptied their cart) onto the new session, shown once; commits."""
    rows = session.scalars(sa.select(CartNotice).where(CartNotice.user_id == user_id).order_by(CartNotice.id)).all()
    if not rows:
        return
    session.execute(sa.delete(CartNotice).where(in_values(CartNotice.id, [r.id for r in rows])),
                    execution_options={"synchronize_session": False})
    auth_session.notice = " ".join([*([auth_session.notice] if auth_session.notice else []), *(r.message for r in rows)])
    session.commit()


def price_cart(session: Session, jde: Jde, erp: Erp, *, ctx: ActingContext, ship_to: int | None = None) -> PricedCart:
    """Price every line of the cart for the borrowed billing address, in one ERP call."""
    items = cart_items(session, ctx=ctx)
    return price_items(jde, erp, ctx=ctx, items=items, ship_to=ship_to)


def price_items(jde: Jde, erp: Erp, *, ctx: ActingContext, items: list[CartItem],
                ship_to: int | None = None) -> PricedCart:
    """Price items for the borrowed billing address (sold-to) and ship-to, in one ERP call."""
    account = account_of(ctx)
    sold_to = sold_to_of(ctx)
    ship = ship_to or ctx.shipping_an8 or sold_to
    if not items:
        return PricedCart(account, sold_to, ship, PriceResult(lines=(), currency="", total=Decimal(0)))
    branch = branch_of(jde, an8=sold_to)
    request = PriceRequest(
        sold_to=sold_to, ship_to=ship, company=jde.company, branch=branch, currency=None,
        lines=tuple(PriceRequestLine(item=i.item, quantity=i.quantity) for i in items),
    )
    try:
        result = erp.price(request)
    except ErpUnavailable as exc:
        raise PricingUnavailable(f"prices cannot be fetched from JD Edwards just now ({exc}); "
                                 "the cart is kept: try again in a minute") from exc
    except ErpRejected as exc:
        raise PricingRefused(f"JD Edwards refused to price the cart for billing address {sold_to}: {exc.reason}. "
                             "Change or remove the line it names, or ask the customer's JD Edwards contact") from exc
    return PricedCart(account, sold_to, ship, with_quotes(result, items), branch)


def with_quotes(result: PriceResult, items: list[CartItem]) -> PriceResult:
    """JDE's prices with each line a rep quoted on a managed list at its quoted unit price (same currency only)."""
    quoted = {i.item: i for i in items if i.quoted_price is not None and i.quoted_currency == result.currency}
    if not quoted:
        return result
    lines = []
    for line in result.lines:
        q = quoted.get(line.item)
        if q is None:
            lines.append(line)
            continue
        places = line.extended.as_tuple().exponent if line.available else -2
        extended = (q.quoted_price * line.quantity).quantize(Decimal(1).scaleb(places), rounding=ROUND_HALF_UP)
        lines.append(replace(line, unit_price=q.quoted_price, extended=extended, available=True, explanation=(),
                             source=f"quoted on list {q.list_id}"))
    total = sum((ln.extended for ln in lines if ln.available), Decimal(0))
    return PriceResult(lines=tuple(lines), currency=result.currency, total=total)


def sold_to_of(ctx: ActingContext) -> int:
    """The borrowed billing address; the account itself when none was chosen."""
    account = account_of(ctx)
    return ctx.billing_an8 or account


def find_cart(session: Session, *, ctx: ActingContext) -> Cart | None:
    """The acting context's own cart row, if it has one."""
    return _find_cart(session, account=account_of(ctx), rep_id=ctx.cart_owner)


def account_of(ctx: ActingContext) -> int:
    """The account being shopped for; refused when there is none."""
    if ctx.subject_an8 is None:
        raise NoAccount("there is no account to shop for: a rep starts acting on behalf of an account first, "
                        "from the account list")
    return ctx.subject_an8


# --- helpers ----------------------------------------------------------------------------

def _staff_account(ctx: ActingContext) -> int:
    account = account_of(ctx)
    if not is_staff(ctx.actor):
        raise NotAllowed("Empty Cart removes every cart of the account and is for staff only; "
                         "to clear your own cart, remove its lines one by one")
    return account


def _owner(rep_id: int | None, ctx: ActingContext, names: dict[int, str]) -> str:
    if rep_id is None:
        return "the customer's own cart"
    if rep_id == ctx.cart_owner:
        return "your cart"
    return f"{names.get(rep_id, f'representative {rep_id}')}'s cart"


def _lines(n: int) -> str:
    return f"{n} line{'s' if n != 1 else ''}"


def _tell_customers(session: Session, *, ctx: ActingContext, account: int, emptied: EmptiedCarts) -> None:
    """A notice for each active customer user of the account, shown at their next sign-in."""
    own = next(c for c in emptied.carts if c.rep_id is None)
    items = ", ".join(f"{i.quantity} x {i.item}" for i in own.lines[:10]) + (" and more" if own.line_count > 10 else "")
    when = utcnow().strftime("%Y-%m-%d %H:%M")
    message = (f"On {when} UTC a representative ({ctx.actor.name}) emptied your cart for account {account}: "
               f"{_lines(own.line_count)} were removed ({items}). Add the items again from the catalog if you "
               "still need them.")
    users = session.scalars(sa.select(User.id).where(User.account_an8 == account, User.user_type == CUSTOMER,
                                                     User.active.is_(True))).all()
    for user_id in users:
        session.add(CartNotice(user_id=user_id, message=message))
    session.flush()


def _quotes(session: Session, list_ids: list[int]) -> dict[tuple[int, str], tuple]:
    """(list id, item) -> (quoted price, currency) of the quoted lines of lists not yet ordered."""
    if not list_ids:
        return {}
    rows = session.execute(
        sa.select(ManagedListLine.list_id, ManagedListLine.item, ManagedListLine.quoted_price, ManagedList.currency)
        .join(ManagedList, ManagedList.id == ManagedListLine.list_id)
        .where(in_values(ManagedListLine.list_id, list_ids), ManagedListLine.quoted_price.is_not(None),
               ManagedList.status != LIST_ORDERED)
    )
    return {(r.list_id, r.item): (r.quoted_price, r.currency) for r in rows}


def _find_cart(session: Session, *, account: int, rep_id: int | None, create: bool = False,
               with_lines: bool = False) -> Cart | None:
    stmt = sa.select(Cart).where(Cart.account_an8 == account, _owned_by(rep_id)).execution_options(populate_existing=True)
    if with_lines:
        stmt = stmt.options(selectinload(Cart.lines))
    cart = session.scalars(stmt).one_or_none()
    if cart is None and create:
        # Two first adds racing: the unique index lets one insert win; the other reads its row.
        try:
            with session.begin_nested():
                cart = Cart(account_an8=account, rep_id=rep_id)
                session.add(cart)
        except sa.exc.IntegrityError:
            cart = session.scalars(stmt).one()
    return cart


def _owned_by(rep_id: int | None):
    """The cart of this rep, or the account's own cart (no rep)."""
    return Cart.rep_id.is_(None) if rep_id is None else Cart.rep_id == rep_id


def _add_to_line(session: Session, *, cart_id: int, item: str, quantity: int) -> int | None:
    """Add to an existing line, within the most a line holds; its new quantity, or None."""
    return session.execute(
        sa.update(CartLine)
        .where(CartLine.cart_id == cart_id, CartLine.item == item, CartLine.quantity + quantity <= MAX_QUANTITY)
        .values(quantity=CartLine.quantity + quantity)
        .returning(CartLine.quantity),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()


def _line_count(session: Session, cart_id: int) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(CartLine).where(CartLine.cart_id == cart_id))


def _existing_line(session: Session, *, account: int, rep_id: int | None, item: str) -> tuple[int, str]:
    """(cart id, item) of a line in the cart, else NotFound."""
    wanted = (item or "").strip()
    cart_id = session.scalar(
        sa.select(Cart.id).join(CartLine, CartLine.cart_id == Cart.id)
        .where(Cart.account_an8 == account, _owned_by(rep_id), CartLine.item == wanted)
    )
    if cart_id is None:
        raise NotFound(f"item {wanted!r} is not in the cart; reload the cart to see what it holds", field="item")
    return cart_id, wanted


def _known_item(jde: Jde, *, item: str) -> str:
    wanted = (item or "").strip()
    if not wanted or len(wanted) > 25:
        raise Invalid("item must be a JD Edwards 2nd item number of 1 to 25 characters, e.g. FAS-00001",
                      field="item")
    found = find_item(jde, item=wanted)
    if found is None:
        raise NotFound(f"item {wanted!r} is not in the JD Edwards item master (F4101); "
                       "search the catalog for its number", field="item")
    return found


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(f"quantity must be a whole number from 1 to {MAX_QUANTITY}, not {quantity!r}",
                      field="quantity")


def _touch(session: Session, cart_id: int) -> None:
    session.execute(sa.update(Cart).where(Cart.id == cart_id).values(updated_at=utcnow()),
                    execution_options={"synchronize_session": False})


def _detail(ctx: ActingContext, **values) -> dict:
    out = {"on_behalf": ctx.on_behalf}
    if ctx.billing_an8:
        out["billing_an8"] = ctx.billing_an8
    out.update(values)
    return out
