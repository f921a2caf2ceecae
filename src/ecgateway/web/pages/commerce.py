"""Commerce pages and JSON API: catalog, cart, checkout, order history.

Routers stay thin: each route takes the acting context (customer, or rep on behalf) and
calls a service. Only shoppers reach these routes (ShopperContext); Empty Cart is further
limited to staff by the service. Refused cart actions are audited here, in a transaction of
their own, because the action's own transaction is rolled back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Form, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ecgateway.audit import record
from ecgateway.auth.roles import is_staff
from ecgateway.commerce import carts, catalog, orders
from ecgateway.commerce.addresses import shipping_addresses
from ecgateway.commerce.errors import (
    CommerceError,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    Invalid,
    PricingUnavailable,
)
from ecgateway.commerce.models import Order
from ecgateway.commerce.wiring import get_erp, get_relay
from ecgateway.erp.base import Erp, ErpError
from ecgateway.obo.context import ActingContext
from ecgateway.web.deps import JdeDep, PortalSessionDep, RuntimeDep, ShopperContext
from ecgateway.web.params import (
    AccountNumber,
    OptionalAccountNumberForm,
    OptionalAccountNumberQuery,
    OptionalRowIdQuery,
    RowIdPath,
)

T = TypeVar("T")
ErpDep = Annotated[Erp, Depends(get_erp)]



def _auth_loaded_after_refusal(request: Request, db: PortalSessionDep) -> Iterator[None]:
    """A refusal rolls the session back, which expires the signed-in user the error page shows:
    load it again while the session is still open."""
    try:
        yield
    except CommerceError:
        auth = getattr(request.state, "auth", None)
        for row in (getattr(auth, "user", None), getattr(auth, "session", None)):
            if row is not None and row in db:
                db.refresh(row)
        raise


FORM_WAITS, FORM_WAIT_SECONDS = 40, 0.25  # how long a second click waits for the first (10 s)

pages = APIRouter(include_in_schema=False, dependencies=[Depends(_auth_loaded_after_refusal)])
api = APIRouter(prefix="/api/v1", tags=["commerce"], dependencies=[Depends(_auth_loaded_after_refusal)])


def install_commerce(app: FastAPI) -> None:
    """Routers and the money filter of the templates (refusals: the one handler in web/errors.py)."""
    app.include_router(pages)
    app.include_router(api)
    app.state.templates.env.filters["money"] = money


def money(value: Decimal | None, places: int = 2) -> str:
    """1234.5 -> '1,234.50'; unit prices keep up to 4 places when they have them."""
    if value is None:
        return ""
    value = Decimal(value)
    shown = max(places, min(4, -value.normalize().as_tuple().exponent))
    return f"{value:,.{shown}f}"


# --- JSON API -----------------------------------------------------------------------------

class PricedLineOut(BaseModel):
    item: str
    description: str
    quantity: int
    uom: str
    unit_price: Decimal
    extended: Decimal
    available: bool = Field(description="False: JD Edwards has no price for it; the line cannot be ordered")
    source: str = Field(description="Where the price came from")


class CatalogOut(BaseModel):
    account_an8: int
    sold_to: int = Field(description="The borrowed billing address the prices are for")
    currency: str
    items: list[PricedLineOut] = Field(description="Priced at quantity 1")
    q: str
    offset: int
    limit: int
    has_more: bool


class CartOut(BaseModel):
    account_an8: int
    sold_to: int
    ship_to: int
    on_behalf: bool = Field(description="True: this is the rep's own cart for the account, not the customer's")
    lines: list[PricedLineOut]
    currency: str
    total: Decimal
    priced: bool = Field(description="False when JD Edwards could not price just now: lines carry no price")
    message: str = ""


class LineIn(BaseModel):
    item: str = Field(min_length=1, max_length=25, description="JDE 2nd item number (F4101 IMLITM)")
    quantity: int = Field(ge=1, le=carts.MAX_QUANTITY)


class LinesIn(BaseModel):
    lines: list[LineIn] = Field(min_length=1, max_length=carts.MAX_LINES)


class QuantityIn(BaseModel):
    quantity: int = Field(ge=0, le=carts.MAX_QUANTITY, description="0 removes the line")


class LineOut(BaseModel):
    item: str
    quantity: int


class EmptiedOut(BaseModel):
    carts_removed: int


class OrderIn(BaseModel):
    ship_to: AccountNumber = Field(description="One of the borrowed billing address's shipping addresses")
    customer_po: str = Field(min_length=1, max_length=orders.PO_WIDTH, description="The customer's purchase order number")


class OrderLineOut(BaseModel):
    line_no: int
    item: str
    description: str
    quantity: int
    uom: str
    unit_price: Decimal
    extended: Decimal


class OrderOut(BaseModel):
    id: int
    status: str = Field(description="waiting (in the outbox), sent (JD Edwards has it), rejected")
    status_detail: str
    erp_reference: str | None
    account_an8: int
    sold_to: int
    ship_to: int
    customer_po: str
    currency: str
    total: Decimal
    placed_by: str = Field(description="Login of the user who placed it")
    on_behalf: bool
    rep_name: str | None
    rep_email: str | None
    created_at: str
    lines: list[OrderLineOut] = []


class OrderList(BaseModel):
    items: list[OrderOut]


@api.get("/catalog", response_model=CatalogOut, summary="Items with the account's prices",
         description="Items of the JDE item master whose number or description contains q, priced for the "
                     "borrowed billing address in one ERP call per page.")
def api_catalog(ctx: ShopperContext, jde: JdeDep, erp: ErpDep, runtime: RuntimeDep,
                q: Annotated[str | None, Query(max_length=60)] = None,
                offset: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=catalog.MAX_PAGE_SIZE)] = catalog.PAGE_SIZE) -> CatalogOut:
    page = catalog.catalog_page(jde, erp, tables=runtime.jde, company=runtime.settings.company, ctx=ctx,
                                q=q, offset=offset, limit=limit)
    result = page.priced.lines
    return CatalogOut(account_an8=page.priced.account_an8, sold_to=page.priced.sold_to, currency=result.currency,
                      items=[_line_out(ln) for ln in result.lines], q=page.q, offset=page.offset,
                      limit=page.limit, has_more=page.has_more)


@api.get("/cart", response_model=CartOut, summary="The cart, priced now",
         description="The acting context's own cart: a rep acting on behalf has a cart of their own for the account.")
def api_cart(ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep, runtime: RuntimeDep) -> CartOut:
    return _cart_out(db, jde, erp, runtime, ctx)


@api.post("/cart", response_model=CartOut, summary="Add several lines to the cart")
def api_cart_add_lines(body: LinesIn, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                       runtime: RuntimeDep) -> CartOut:
    def add_all() -> None:
        for line in body.lines:
            carts.add_item(db, jde, tables=runtime.jde, ctx=ctx, item=line.item, quantity=line.quantity)

    _audited(db, ctx, "cart.add", "cart lines", add_all)
    return _cart_out(db, jde, erp, runtime, ctx)


@api.post("/cart/lines", response_model=LineOut, status_code=201, summary="Add an item to the cart",
          description="Adding an item already in the cart adds to its quantity. Prices are never taken from the client.")
def api_cart_add(body: LineIn, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, runtime: RuntimeDep) -> LineOut:
    line = _audited(db, ctx, "cart.add", f"item {body.item}",
                    lambda: carts.add_item(db, jde, tables=runtime.jde, ctx=ctx, item=body.item, quantity=body.quantity))
    return LineOut(item=line.item, quantity=line.quantity)


@api.put("/cart/lines/{item}", response_model=LineOut, summary="Set an item's quantity (0 removes it)",
         responses={204: {"description": "Quantity 0: the line was removed"}})
def api_cart_set(item: str, body: QuantityIn, ctx: ShopperContext, db: PortalSessionDep):
    line = _audited(db, ctx, "cart.change", f"item {item}",
                    lambda: carts.set_quantity(db, ctx=ctx, item=item, quantity=body.quantity))
    if line is None:
        return Response(status_code=204)
    return LineOut(item=line.item, quantity=line.quantity)


@api.delete("/cart/lines/{item}", status_code=204, summary="Remove an item from the cart")
def api_cart_remove(item: str, ctx: ShopperContext, db: PortalSessionDep) -> Response:
    _audited(db, ctx, "cart.remove", f"item {item}", lambda: carts.remove_item(db, ctx=ctx, item=item))
    return Response(status_code=204)


@api.delete("/cart", response_model=EmptiedOut, summary="Empty Cart (staff only)",
            description="Removes every cart of the account: the customer's own and every rep's. Staff only.")
def api_cart_empty(ctx: ShopperContext, db: PortalSessionDep) -> EmptiedOut:
    removed = _audited(db, ctx, "cart.empty", f"account {ctx.subject_an8}",
                       lambda: carts.empty_account_carts(db, ctx=ctx))
    return EmptiedOut(carts_removed=removed)


@api.post("/orders", response_model=OrderOut, status_code=201, summary="Place an order from the cart",
          description="Needs an `Idempotency-Key` header: the same key returns the first order (header "
                      "`Idempotent-Replayed: true`) and never makes a second one; the same key with another body "
                      "is refused with 422; while the first request with the key runs, another gets 409. "
                      "Prices are those of JD Edwards at submit. The order goes to JD Edwards through the outbox.")
def api_place_order(request: Request, response: Response, body: OrderIn, ctx: ShopperContext, db: PortalSessionDep,
                    jde: JdeDep, erp: ErpDep, runtime: RuntimeDep,
                    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> OrderOut:
    placed = orders.place_order(db, jde, erp, tables=runtime.jde, company=runtime.settings.company, ctx=ctx,
                                idempotency_key=idempotency_key, ship_to=body.ship_to, customer_po=body.customer_po,
                                after_commit=get_relay(request).wake)
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _order_out(placed.order, with_lines=True)


@api.get("/orders", response_model=OrderList, summary="The account's orders, newest first")
def api_orders(ctx: ShopperContext, db: PortalSessionDep,
               before_id: OptionalRowIdQuery = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50) -> OrderList:
    return OrderList(items=[_order_out(o) for o in orders.list_orders(db, ctx=ctx, limit=limit, before_id=before_id)])


@api.get("/orders/{order_id}", response_model=OrderOut, summary="One order of the account, with its lines")
def api_order(order_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep) -> OrderOut:
    return _order_out(orders.get_order(db, ctx=ctx, order_id=order_id), with_lines=True)


# --- pages --------------------------------------------------------------------------------

@pages.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, ctx: ShopperContext, jde: JdeDep, erp: ErpDep, runtime: RuntimeDep,
                 q: Annotated[str | None, Query(max_length=60)] = None,
                 offset: Annotated[int, Query(ge=0)] = 0):
    page = catalog.catalog_page(jde, erp, tables=runtime.jde, company=runtime.settings.company, ctx=ctx,
                                q=q, offset=offset)
    return _render(request, "commerce/catalog.html", {"page": page, "ctx": ctx})


@pages.get("/cart", response_class=HTMLResponse)
def cart_page(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
              runtime: RuntimeDep):
    return _render(request, "commerce/cart.html", {"cart": _cart_out(db, jde, erp, runtime, ctx), "ctx": ctx,
                                                    "staff": is_staff(ctx.actor)})


@pages.post("/cart/add")
def cart_add_form(ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, runtime: RuntimeDep,
                  item: Annotated[str, Form(max_length=25)], quantity: Annotated[int, Form()] = 1):
    _audited(db, ctx, "cart.add", f"item {item}",
             lambda: carts.add_item(db, jde, tables=runtime.jde, ctx=ctx, item=item, quantity=quantity))
    return RedirectResponse("/cart", status_code=303)


@pages.post("/cart/update")
def cart_update_form(ctx: ShopperContext, db: PortalSessionDep,
                     item: Annotated[str, Form(max_length=25)], quantity: Annotated[int, Form()]):
    _audited(db, ctx, "cart.change", f"item {item}",
             lambda: carts.set_quantity(db, ctx=ctx, item=item, quantity=quantity))
    return RedirectResponse("/cart", status_code=303)


@pages.post("/cart/remove")
def cart_remove_form(ctx: ShopperContext, db: PortalSessionDep, item: Annotated[str, Form(max_length=25)]):
    _audited(db, ctx, "cart.remove", f"item {item}", lambda: carts.remove_item(db, ctx=ctx, item=item))
    return RedirectResponse("/cart", status_code=303)


@pages.post("/cart/empty")
def cart_empty_form(ctx: ShopperContext, db: PortalSessionDep, confirm: Annotated[str | None, Form()] = None):
    def empty() -> int:
        if confirm != "yes" and is_staff(ctx.actor):  # others are refused by the service
            raise Invalid("Empty Cart removes every cart of this account, the customer's own too: tick the box "
                                 "to confirm, then press Empty Cart again", field="confirm")
        return carts.empty_account_carts(db, ctx=ctx)

    _audited(db, ctx, "cart.empty", f"account {ctx.subject_an8}", empty)
    return RedirectResponse("/cart", status_code=303)


@pages.get("/checkout", response_class=HTMLResponse)
def checkout_page(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                  runtime: RuntimeDep, ship_to: OptionalAccountNumberQuery = None):
    return _checkout(request, ctx, db, jde, erp, runtime, ship_to=ship_to, customer_po="",
                     key=str(uuid.uuid4()), error=None)


@pages.post("/orders")
def place_order_form(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                     runtime: RuntimeDep, idempotency_key: Annotated[str | None, Form(max_length=255)] = None,
                     ship_to: OptionalAccountNumberForm = None,
                     customer_po: Annotated[str, Form(max_length=200)] = ""):
    """The checkout form: carries its own Idempotency-Key, so a double click makes one order.

    The browser shows the answer to the last click only, so a click that finds the first
    still running waits for it (a few seconds at most) and then shows the same order.
    """
    try:
        if ship_to is None:
            raise Invalid("choose a shipping address from the list", field="ship_to")
        for attempt in range(FORM_WAITS + 1):
            try:
                placed = orders.place_order(db, jde, erp, tables=runtime.jde, company=runtime.settings.company,
                                            ctx=ctx, idempotency_key=idempotency_key, ship_to=ship_to,
                                            customer_po=customer_po, after_commit=get_relay(request).wake)
                break
            except IdempotencyKeyInFlight:
                if attempt == FORM_WAITS:
                    raise
                time.sleep(FORM_WAIT_SECONDS)
    except CommerceError as exc:
        if isinstance(exc, IdempotencyKeyInFlight | IdempotencyKeyReused):
            raise
        db.rollback()
        safe_po = "" if orders.looks_like_card_number(customer_po) else customer_po[:orders.PO_WIDTH]
        return _checkout(request, ctx, db, jde, erp, runtime, ship_to=ship_to, customer_po=safe_po,
                         key=str(uuid.uuid4()), error=exc, status=exc.status)
    return RedirectResponse(f"/orders/{placed.order.id}", status_code=303)


@pages.get("/orders", response_class=HTMLResponse)
def orders_page(request: Request, ctx: ShopperContext, db: PortalSessionDep,
                before_id: OptionalRowIdQuery = None):
    found = orders.list_orders(db, ctx=ctx, limit=50, before_id=before_id)
    return _render(request, "commerce/orders.html", {"orders": found, "ctx": ctx,
                                                      "next_before": found[-1].id if len(found) == 50 else None})


@pages.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep, erp: ErpDep):
    order = orders.get_order(db, ctx=ctx, order_id=order_id)
    erp_status, erp_status_error = None, None
    if order.erp_reference:
        try:
            erp_status = erp.order_status(order.erp_reference)
        except ErpError as exc:
            erp_status_error = f"JD Edwards cannot tell the order's progress just now: {exc}"
    return _render(request, "commerce/order.html", {"order": order, "erp_status": erp_status,
                                                     "erp_status_error": erp_status_error, "ctx": ctx})


# --- helpers ------------------------------------------------------------------------------

def _audited(db: Session, ctx: ActingContext, action: str, obj: str, action_fn: Callable[[], T]) -> T:
    """Run a cart action and commit; on refusal roll back and keep a 'refused' audit entry."""
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


def _cart_out(db: Session, jde, erp: Erp, runtime, ctx: ActingContext) -> CartOut:
    items = carts.cart_items(db, ctx=ctx)
    try:
        priced = carts.price_items(jde, erp, tables=runtime.jde, company=runtime.settings.company, ctx=ctx, items=items)
    except PricingUnavailable as exc:  # show the cart anyway, without prices
        sold_to = carts.sold_to_of(ctx)
        return CartOut(account_an8=ctx.subject_an8, sold_to=sold_to, ship_to=ctx.shipping_an8 or sold_to,
                       on_behalf=ctx.on_behalf, currency="", total=Decimal(0), priced=False, message=exc.message,
                       lines=[PricedLineOut(item=i.item, description="", quantity=i.quantity, uom="",
                                            unit_price=Decimal(0), extended=Decimal(0), available=False,
                                            source="not priced") for i in items])
    return CartOut(account_an8=priced.account_an8, sold_to=priced.sold_to, ship_to=priced.ship_to,
                   on_behalf=ctx.on_behalf, lines=[_line_out(ln) for ln in priced.lines.lines],
                   currency=priced.lines.currency, total=priced.lines.total, priced=True)


def _checkout(request: Request, ctx: ActingContext, db: Session, jde, erp: Erp, runtime, *, ship_to: int | None,
              customer_po: str, key: str, error: CommerceError | None, status: int = 200):
    sold_to = carts.sold_to_of(ctx)
    ships = shipping_addresses(jde, tables=runtime.jde, billing_an8=sold_to, company=runtime.settings.company)
    numbers = [a.an8 for a in ships]
    chosen = next((n for n in (ship_to, ctx.shipping_an8) if n in numbers), numbers[0] if numbers else None)
    items = carts.cart_items(db, ctx=ctx)
    priced = None
    if items:
        priced = carts.price_items(jde, erp, tables=runtime.jde, company=runtime.settings.company, ctx=ctx,
                                   items=items, ship_to=chosen)
    return _render(request, "commerce/checkout.html", {
        "ctx": ctx, "ships": ships, "chosen": chosen, "priced": priced, "customer_po": customer_po,
        "key": key, "error": error, "sold_to": sold_to,
    }, status=status)


def _line_out(line) -> PricedLineOut:
    return PricedLineOut(item=line.item, description=line.description, quantity=line.quantity, uom=line.uom,
                         unit_price=line.unit_price, extended=line.extended, available=line.available,
                         source=line.source)


def _order_out(order: Order, with_lines: bool = False) -> OrderOut:
    created = order.created_at
    return OrderOut(
        id=order.id, status=order.status, status_detail=order.status_detail, erp_reference=order.erp_reference,
        account_an8=order.account_an8, sold_to=order.sold_to, ship_to=order.ship_to, customer_po=order.customer_po,
        currency=order.currency, total=order.total, placed_by=order.placed_by_login, on_behalf=order.on_behalf,
        rep_name=order.rep_name, rep_email=order.rep_email,
        created_at=(created.isoformat() if created.tzinfo else created.isoformat() + "+00:00"),
        lines=[OrderLineOut(line_no=ln.line_no, item=ln.item, description=ln.description, quantity=ln.quantity,
                            uom=ln.uom, unit_price=ln.unit_price, extended=ln.extended) for ln in order.lines]
        if with_lines else [],
    )


def _render(request: Request, template: str, context: dict, status: int = 200):
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)

