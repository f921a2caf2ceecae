"""Commerce pages: catalog, cart, checkout, order history.

Routes stay thin: each takes the acting context (customer, or rep on behalf) and calls a
service. Only shoppers reach these routes (ShopperContext); Empty Cart is further limited to
staff by the service. Refused cart actions are audited by carts.audited, in a transaction of
their own, because the action's own transaction is rolled back. The JSON API is in
web/api/commerce.py; the cart page shows the same cart_out as GET /api/v1/cart.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from ecgateway.auth.roles import is_staff
from ecgateway.commerce import carts, catalog, orders
from ecgateway.commerce.carts import audited, carts_seen
from ecgateway.commerce.errors import (
    CommerceError,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    Invalid,
    PricingRefused,
)
from ecgateway.erp.base import Erp, ErpError
from ecgateway.jde.addresses import postal_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.obo.context import ActingContext
from ecgateway.web.api.commerce import cart_out
from ecgateway.web.deps import (
    ErpDep,
    JdeDep,
    PortalSessionDep,
    RelayDep,
    ShopperAuth,
    ShopperContext,
    refresh_after_refusal,
)
from ecgateway.web.params import (
    OptionalAccountNumberForm,
    OptionalAccountNumberQuery,
    OptionalRowIdQuery,
    PageOffset,
    RowIdPath,
)
from ecgateway.web.responses import render

FORM_WAITS, FORM_WAIT_SECONDS = 40, 0.25  # how long a second click waits for the first (10 s)

router = APIRouter(include_in_schema=False, dependencies=[Depends(refresh_after_refusal)])


# --- pages --------------------------------------------------------------------------------

@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, ctx: ShopperContext, jde: JdeDep, erp: ErpDep,
                 q: Annotated[str | None, Query(max_length=60)] = None,
                 offset: PageOffset = 0, added: Annotated[str | None, Query(max_length=25)] = None):
    return _catalog(request, ctx, jde, erp, q=q, offset=offset, added=added)


@router.get("/cart", response_class=HTMLResponse)
def cart_page(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
              added: Annotated[str | None, Query(max_length=25)] = None):
    return _cart(request, ctx, db, jde, erp, added=added)


def cart_page_response(request: Request, ctx: ActingContext, db: Session, jde: Jde, erp: Erp, *,
                       list_error: CommerceError | None = None, list_form: dict | None = None, status: int = 200):
    """The cart page with the rep's refused save-as-list form (pages/lists.py draws it with this)."""
    return _cart(request, ctx, db, jde, erp, list_error=list_error, list_form=list_form, status=status)


@router.post("/cart/add")
def cart_add_form(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                  item: Annotated[str, Form(max_length=200)] = "", quantity: Annotated[str, Form(max_length=40)] = "1",
                  back: Annotated[str, Form(max_length=10)] = "cart", q: Annotated[str, Form(max_length=200)] = "",
                  offset: Annotated[str, Form(max_length=12)] = "0"):
    """Add a line: from the cart's quick entry or the catalog. A script asking for JSON stays on its page;
    without one, the page the form came from is drawn again (what was typed kept, the error beside it)."""
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        added = audited(db, ctx, "cart.add", f"item {item.strip()[:25]}",
                        lambda: carts.add_item(db, jde, ctx=ctx, item=item,
                                               quantity=form_quantity(quantity, field="quantity")))
    except CommerceError as exc:
        if wants_json:
            return JSONResponse({"status": exc.status, "message": _sentence(exc.message), "field": exc.field},
                                status_code=exc.status)
        errors = {exc.field or "item": _sentence(exc.message)}
        if back == "catalog":
            return _catalog(request, ctx, jde, erp, q=q[:60], offset=_offset(offset), errors=errors,
                            typed={"item": item, "quantity": quantity}, status=exc.status)
        return _cart(request, ctx, db, jde, erp, errors=errors, typed={"item": item, "quantity": quantity},
                     form="quick", status=exc.status)
    if wants_json:
        lines = carts.line_count(db, ctx=ctx)
        return JSONResponse({"item": added.item, "quantity": added.quantity, "cart_lines": lines,
                             "message": f"Added {form_quantity(quantity, field='quantity')} x {added.item} to the "
                                        f"cart ({added.quantity} in the cart; the cart has {_lines(lines)})."})
    if back == "catalog":
        return RedirectResponse("/catalog?" + urlencode({"q": q[:60], "offset": _offset(offset), "added": added.item}),
                                status_code=303)
    return RedirectResponse("/cart?" + urlencode({"added": added.item}), status_code=303)


@router.post("/cart/update")
def cart_update_form(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                     item: Annotated[str, Form(max_length=200)] = "", quantity: Annotated[str, Form(max_length=40)] = ""):
    try:
        audited(db, ctx, "cart.change", f"item {item.strip()[:25]}",
                lambda: carts.set_quantity(db, ctx=ctx, item=item,
                                           quantity=form_quantity(quantity, field="quantity", least=0)))
    except CommerceError as exc:
        return _cart(request, ctx, db, jde, erp, errors={exc.field or "quantity": _sentence(exc.message)},
                     typed={"item": item, "quantity": quantity}, form=f"line:{item.strip()}", status=exc.status)
    return RedirectResponse("/cart", status_code=303)


@router.post("/cart/remove")
def cart_remove_form(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                     item: Annotated[str, Form(max_length=200)] = ""):
    try:
        audited(db, ctx, "cart.remove", f"item {item.strip()[:25]}", lambda: carts.remove_item(db, ctx=ctx, item=item))
    except CommerceError as exc:
        return _cart(request, ctx, db, jde, erp, errors={"general": _sentence(exc.message)}, status=exc.status)
    return RedirectResponse("/cart", status_code=303)


@router.post("/cart/empty")
def cart_empty_form(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                    auth: ShopperAuth, confirm: Annotated[str | None, Form(max_length=10)] = None,
                    seen: Annotated[str | None, Form(max_length=4000)] = None):
    """Empty Cart after the rep saw every cart it removes; the result is told on the next page."""
    def empty() -> carts.EmptiedCarts:
        if confirm != "yes" and is_staff(ctx.actor):  # others are refused by the service
            raise Invalid("Empty Cart removes every cart of this account, the customer's own too: tick the box "
                          "to confirm, then press Empty Cart again", field="confirm")
        return carts.empty_account_carts(db, ctx=ctx, seen=seen)

    try:
        emptied = audited(db, ctx, "cart.empty", f"account {ctx.subject_an8}", empty)
    except CommerceError as exc:
        return _cart(request, ctx, db, jde, erp, errors={exc.field or "general": _sentence(exc.message)},
                     form="empty", status=exc.status)
    auth.session.notice = emptied.words(ctx.subject_an8)  # shown once, on the cart page the browser goes to
    db.commit()
    return RedirectResponse("/cart", status_code=303)


def form_quantity(text: str, *, field: str, least: int = 1) -> int:
    """A quantity typed in a form, in the page's words when it is not one (the same bounds as the service)."""
    typed = (text or "").strip().replace(",", "")
    lowest = "0 (which removes the line)" if least == 0 else str(least)
    if not (typed.isascii() and typed.isdigit()) or not least <= int(typed) <= carts.MAX_QUANTITY:
        shown = (text or "").strip()[:20]
        raise Invalid(f"Quantity must be a whole number from {lowest} to {carts.MAX_QUANTITY:,}"
                      + (f", not {shown!r}" if shown else "; it was left empty"), field=field)
    return int(typed)


@router.get("/checkout", response_class=HTMLResponse)
def checkout_page(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                  ship_to: OptionalAccountNumberQuery = None):
    return _checkout(request, ctx, db, jde, erp, ship_to=ship_to, customer_po="",
                     key=str(uuid.uuid4()), error=None)


@router.post("/orders")
def place_order_form(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                     relay: RelayDep, idempotency_key: Annotated[str | None, Form(max_length=255)] = None,
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
                placed = orders.place_order(db, jde, erp, ctx=ctx, idempotency_key=idempotency_key, ship_to=ship_to,
                                            customer_po=customer_po, after_commit=relay.wake)
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
        return _checkout(request, ctx, db, jde, erp, ship_to=ship_to, customer_po=safe_po,
                         key=str(uuid.uuid4()), error=exc, status=exc.status)
    return RedirectResponse(f"/orders/{placed.order.id}", status_code=303)


@router.get("/orders", response_class=HTMLResponse)
def orders_page(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                before_id: OptionalRowIdQuery = None):
    found = orders.list_orders(db, ctx=ctx, limit=50, before_id=before_id)
    postal = postal_addresses(jde, an8s=[o.ship_to for o in found])  # one read for the page's ship-tos
    return render(request, "commerce/orders.html", {"orders": found, "ctx": ctx, "edi_waiting": _edi_waiting(erp, found),
                                                      "postal": postal,
                                                      "next_before": found[-1].id if len(found) == 50 else None})


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep,
               erp: ErpDep):
    order = orders.get_order(db, ctx=ctx, order_id=order_id)
    postal = postal_addresses(jde, an8s=[order.account_an8, order.sold_to, order.ship_to])
    erp_status, erp_status_error = None, None
    if order.erp_reference:
        try:
            erp_status = erp.order_status(order.erp_reference)
        except ErpError as exc:
            erp_status_error = f"JD Edwards cannot tell the order's progress just now: {exc}"
    return render(request, "commerce/order.html", {"order": order, "erp_status": erp_status, "postal": postal,
                                                     "erp_status_error": erp_status_error, "ctx": ctx})


@router.post("/orders/{order_id}/cart")
def put_back_in_cart_form(order_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep):
    """A rejected order's lines back into the cart, to fix and place again."""
    audited(db, ctx, "order.reorder", f"order {order_id}",
            lambda: orders.put_back_in_cart(db, jde, ctx=ctx, order_id=order_id))
    return RedirectResponse("/cart", status_code=303)


# --- helpers ------------------------------------------------------------------------------

def _edi_waiting(erp: Erp, found: list) -> set[str]:
    """References of listed orders that JDE's batch R47011 has not taken in time (local ERP only)."""
    waiting_among = getattr(erp, "waiting_among", None)  # only the local ERP queues orders for a batch program
    if waiting_among is None:
        return set()
    try:
        return waiting_among([o.erp_reference for o in found if o.erp_reference])
    except ErpError:
        return set()  # the list still shows; each order's page says what JDE could not answer


def _cart(request: Request, ctx: ActingContext, db: Session, jde: Jde, erp: Erp, *, added: str | None = None,
          errors: dict[str, str] | None = None, typed: dict[str, str] | None = None, form: str = "",
          list_error: CommerceError | None = None, list_form: dict | None = None, status: int = 200):
    """The cart page; a form that was refused is drawn again with what was typed and the error beside its field.
    With the managed lists waiting for a customer, or the rep's form to save the cart as one."""
    from ecgateway.web.pages.lists import list_context

    cart = cart_out(db, jde, erp, ctx)
    staff = is_staff(ctx.actor)
    others = carts.account_carts(db, ctx=ctx) if staff else []
    just_added = next((line for line in cart.lines if line.item == added), None) if added else None
    return render(request, "commerce/cart.html", {
        "cart": cart, "ctx": ctx, "staff": staff, "account_carts": others, "seen": carts_seen(others),
        "errors": errors or {}, "typed": typed or {}, "form": form, "just_added": just_added,
        "list_error": list_error, "list_form": list_form or {}, **list_context(request, db, jde, ctx),
    }, status=status)


def _catalog(request: Request, ctx: ActingContext, jde: Jde, erp: Erp, *, q: str | None, offset: int,
             added: str | None = None, errors: dict[str, str] | None = None, typed: dict[str, str] | None = None,
             status: int = 200):
    page = catalog.catalog_page(jde, erp, ctx=ctx, q=q, offset=offset)
    return render(request, "commerce/catalog.html", {
        "page": page, "ctx": ctx, "added": added, "errors": errors or {}, "typed": typed or {},
    }, status=status)


def _offset(text: str) -> int:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0


def _lines(n: int) -> str:
    return f"{n} line{'s' if n != 1 else ''}"


def _sentence(message: str) -> str:
    """A service's message as a sentence beside a field: capital first letter, full stop."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _checkout(request: Request, ctx: ActingContext, db: Session, jde: Jde, erp: Erp, *, ship_to: int | None,
              customer_po: str, key: str, error: CommerceError | None, status: int = 200):
    sold_to = carts.sold_to_of(ctx)
    ships = shipping_addresses(jde, billing_an8=sold_to)
    numbers = [a.an8 for a in ships]
    chosen = next((n for n in (ship_to, ctx.shipping_an8) if n in numbers), numbers[0] if numbers else None)
    items = carts.cart_items(db, ctx=ctx)
    db.commit()  # end the read before the ERP prices: on SQLite an open transaction holds the write lock
    priced = None
    if items:
        try:
            priced = carts.price_items(jde, erp, ctx=ctx, items=items, ship_to=chosen)
        except PricingRefused as exc:  # the checkout page says why, with the way back to the cart
            error = error or exc
    return render(request, "commerce/checkout.html", {
        "ctx": ctx, "ships": ships, "chosen": chosen, "priced": priced, "customer_po": customer_po,
        "key": key, "error": error, "sold_to": sold_to, "has_items": bool(items),
        "postal": postal_addresses(jde, an8s=numbers),
    }, status=status)
