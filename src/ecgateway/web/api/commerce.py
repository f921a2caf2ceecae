"""Commerce JSON API under /api/v1: catalog, cart, orders.

Routes stay thin: each takes the acting context (customer, or rep on behalf) and calls a
service. Only shoppers reach these routes (ShopperContext); Empty Cart is further limited
to staff by the service. Refused cart actions are audited by carts.audited, in a
transaction of their own, because the action's own transaction is rolled back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ecgateway.commerce import carts, catalog, orders
from ecgateway.commerce.carts import audited
from ecgateway.commerce.errors import PricingRefused, PricingUnavailable
from ecgateway.commerce.models import Order
from ecgateway.erp.base import Erp
from ecgateway.jde.handle import Jde
from ecgateway.obo.context import ActingContext
from ecgateway.web.deps import (
    ErpDep,
    JdeDep,
    PortalSessionDep,
    RelayDep,
    ShopperContext,
    refresh_after_refusal,
)
from ecgateway.web.params import AccountNumber, Offset, OptionalRowIdQuery, RowIdPath, limit_query

router = APIRouter(prefix="/api/v1", tags=["commerce"], dependencies=[Depends(refresh_after_refusal)])


class PriceStepOut(BaseModel):
    what: str = Field(description='"base price", or the name of the adjustment applied')
    source: str = Field(description="The JD Edwards row it came from, e.g. F4106 item + customer group WHOLESAL")
    effect: str = Field(description="What it did, in words")
    amount: Decimal = Field(description="Change to the unit price (the base price itself for the first step)")
    unit_price: Decimal = Field(description="The unit price after this step")


class PricedLineOut(BaseModel):
    item: str
    description: str
    quantity: int
    uom: str
    unit_price: Decimal
    extended: Decimal
    available: bool = Field(description="False: JD Edwards has no price for it; the line cannot be ordered")
    source: str = Field(description="Where the price came from")
    list_id: int | None = Field(None, description="The managed list the cart line came from (cart only)")
    explanation: list[PriceStepOut] = Field(
        default_factory=list,
        description="How the price was made, step by step, for a representative acting for the account;"
                    " empty for the account's own users, and when the ERP does not say (AIS)")


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
    lines_removed: int = Field(0, description="Lines of every removed cart together")
    customer_lines_removed: int = Field(0, description="Lines of the customer's own cart among them (the account's "
                                                       "customer users are told at their next sign-in)")


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


@router.get("/catalog", response_model=CatalogOut, summary="Items with the account's prices",
         description="Items of the JDE item master whose number or description contains q, priced for the "
                     "borrowed billing address in one ERP call per page.")
def api_catalog(ctx: ShopperContext, jde: JdeDep, erp: ErpDep,
                q: Annotated[str | None, Query(max_length=60)] = None,
                offset: Offset = 0,
                limit: Annotated[int, limit_query(catalog.MAX_PAGE_SIZE)] = catalog.PAGE_SIZE) -> CatalogOut:
    page = catalog.catalog_page(jde, erp, ctx=ctx, q=q, offset=offset, limit=limit)
    result = page.priced.lines
    return CatalogOut(account_an8=page.priced.account_an8, sold_to=page.priced.sold_to, currency=result.currency,
                      items=[line_out(ln, ctx) for ln in result.lines], q=page.q, offset=page.offset,
                      limit=page.limit, has_more=page.has_more)


@router.get("/cart", response_model=CartOut, summary="The cart, priced now",
         description="The acting context's own cart: a rep acting on behalf has a cart of their own for the account.")
def api_cart(ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep) -> CartOut:
    return cart_out(db, jde, erp, ctx)


@router.post("/cart", response_model=CartOut, summary="Add several lines to the cart")
def api_cart_add_lines(body: LinesIn, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep) -> CartOut:
    def add_all() -> None:
        for line in body.lines:
            carts.add_item(db, jde, ctx=ctx, item=line.item, quantity=line.quantity)

    audited(db, ctx, "cart.add", "cart lines", add_all)
    return cart_out(db, jde, erp, ctx)


@router.post("/cart/lines", response_model=LineOut, status_code=201, summary="Add an item to the cart",
          description="Adding an item already in the cart adds to its quantity. Prices are never taken from the client.")
def api_cart_add(body: LineIn, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep) -> LineOut:
    line = audited(db, ctx, "cart.add", f"item {body.item}",
                    lambda: carts.add_item(db, jde, ctx=ctx, item=body.item, quantity=body.quantity))
    return LineOut(item=line.item, quantity=line.quantity)


@router.put("/cart/lines/{item}", response_model=LineOut, summary="Set an item's quantity (0 removes it)",
         responses={204: {"description": "Quantity 0: the line was removed"}})
def api_cart_set(item: str, body: QuantityIn, ctx: ShopperContext, db: PortalSessionDep):
    line = audited(db, ctx, "cart.change", f"item {item}",
                    lambda: carts.set_quantity(db, ctx=ctx, item=item, quantity=body.quantity))
    if line is None:
        return Response(status_code=204)
    return LineOut(item=line.item, quantity=line.quantity)


@router.delete("/cart/lines/{item}", status_code=204, summary="Remove an item from the cart")
def api_cart_remove(item: str, ctx: ShopperContext, db: PortalSessionDep) -> Response:
    audited(db, ctx, "cart.remove", f"item {item}", lambda: carts.remove_item(db, ctx=ctx, item=item))
    return Response(status_code=204)


@router.delete("/cart", response_model=EmptiedOut, summary="Empty Cart (staff only)",
            description="Removes every cart of the account: the customer's own and every rep's. Staff only.")
def api_cart_empty(ctx: ShopperContext, db: PortalSessionDep) -> EmptiedOut:
    removed = audited(db, ctx, "cart.empty", f"account {ctx.subject_an8}",
                       lambda: carts.empty_account_carts(db, ctx=ctx))
    return EmptiedOut(carts_removed=removed.cart_count, lines_removed=removed.line_count,
                      customer_lines_removed=removed.customer_lines)


@router.post("/orders", response_model=OrderOut, status_code=201, summary="Place an order from the cart",
          description="Needs an `Idempotency-Key` header: the same key returns the first order (header "
                      "`Idempotent-Replayed: true`) and never makes a second one; the same key with another body "
                      "is refused with 422; while the first request with the key runs, another gets 409. "
                      "Prices are those of JD Edwards at submit. The order goes to JD Edwards through the outbox.")
def api_place_order(response: Response, body: OrderIn, ctx: ShopperContext, db: PortalSessionDep,
                    jde: JdeDep, erp: ErpDep, relay: RelayDep,
                    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> OrderOut:
    placed = orders.place_order(db, jde, erp, ctx=ctx, idempotency_key=idempotency_key, ship_to=body.ship_to,
                                customer_po=body.customer_po, after_commit=relay.wake)
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return order_out(placed.order, with_lines=True)


@router.get("/orders", response_model=OrderList, summary="The account's orders, newest first")
def api_orders(ctx: ShopperContext, db: PortalSessionDep,
               before_id: OptionalRowIdQuery = None,
               limit: Annotated[int, limit_query(200)] = 50) -> OrderList:
    return OrderList(items=[order_out(o) for o in orders.list_orders(db, ctx=ctx, limit=limit, before_id=before_id)])


@router.get("/orders/{order_id}", response_model=OrderOut, summary="One order of the account, with its lines")
def api_order(order_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep) -> OrderOut:
    return order_out(orders.get_order(db, ctx=ctx, order_id=order_id), with_lines=True)


# --- shapes from services -------------------------------------------------------------

def cart_out(db: Session, jde: Jde, erp: Erp, ctx: ActingContext) -> CartOut:
    """The cart priced now; when the ERP cannot price, the lines without prices and why."""
    items = carts.cart_items(db, ctx=ctx)
    db.commit()  # end the read before the ERP prices: on SQLite an open transaction holds the write lock
    try:
        priced = carts.price_items(jde, erp, ctx=ctx, items=items)
    except (PricingUnavailable, PricingRefused) as exc:  # show the cart anyway, without prices, and why
        sold_to = carts.sold_to_of(ctx)
        return CartOut(account_an8=ctx.subject_an8, sold_to=sold_to, ship_to=ctx.shipping_an8 or sold_to,
                       on_behalf=ctx.on_behalf, currency="", total=Decimal(0), priced=False, message=exc.message,
                       lines=[PricedLineOut(item=i.item, description="", quantity=i.quantity, uom="",
                                            unit_price=Decimal(0), extended=Decimal(0), available=False,
                                            source="not priced") for i in items])
    from_list = {i.item: i.list_id for i in items if i.list_id}
    return CartOut(account_an8=priced.account_an8, sold_to=priced.sold_to, ship_to=priced.ship_to,
                   on_behalf=ctx.on_behalf,
                   lines=[line_out(ln, ctx).model_copy(update={"list_id": from_list.get(ln.item)})
                          for ln in priced.lines.lines],
                   currency=priced.lines.currency, total=priced.lines.total, priced=True)


def line_out(line, ctx: ActingContext) -> PricedLineOut:
    # The explanation names JDE's tables and the account's adjustments: it is for the rep, not the customer.
    steps = [PriceStepOut(what=s.what, source=s.source, effect=s.effect, amount=s.amount, unit_price=s.unit_price)
             for s in line.explanation] if ctx.on_behalf else []
    return PricedLineOut(item=line.item, description=line.description, quantity=line.quantity, uom=line.uom,
                         unit_price=line.unit_price, extended=line.extended, available=line.available,
                         source=line.source, explanation=steps)


def order_out(order: Order, with_lines: bool = False) -> OrderOut:
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
