"""Managed lists pages: the rep's "save the cart as a list" form (on the cart page), the account's lists,
one list with its history, and the customer's change / accept / reject forms.

Thin routes over commerce.lists, shoppers only (a customer, or a rep acting on behalf). The e-mail
link /lists/open?t=... is checked here (signed for one purpose, it expires), then sends the
signed-in customer to the list; the list page itself is authorized by the account, as orders are.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from ecgateway.commerce import lists
from ecgateway.commerce.carts import audited
from ecgateway.commerce.errors import CommerceError, Invalid
from ecgateway.jde.handle import Jde
from ecgateway.mail import LinkInvalid
from ecgateway.obo.context import ActingContext
from ecgateway.web.api.lists import mailing_of
from ecgateway.web.deps import (
    ErpDep,
    JdeDep,
    PortalSessionDep,
    ShopperContext,
    refresh_after_refusal,
)
from ecgateway.web.params import RowIdPath
from ecgateway.web.responses import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(refresh_after_refusal)])


@router.get("/lists", response_class=HTMLResponse)
def lists_page(request: Request, ctx: ShopperContext, db: PortalSessionDep):
    rows = lists.list_lists(db, ctx=ctx)
    return render(request, "lists/lists.html", {"ctx": ctx, "rows": rows, "status_of": lists.status_of})


@router.get("/lists/open", response_class=HTMLResponse)
def open_link(request: Request, ctx: ShopperContext, t: Annotated[str, Query(max_length=600)] = ""):
    """The e-mail's link: signed for opening one list, with an expiry; then the list's own page."""
    try:
        list_id = lists.list_of_link(request.app.state.runtime.settings, t)
    except LinkInvalid as exc:
        return render(request, "error.html", {"status": exc.status, "title": "This link does not open a list",
                                              "message": exc.message + " Your open lists are on your cart page: /cart"},
                      status=exc.status)
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


@router.get("/lists/{list_id}", response_class=HTMLResponse)
def list_page(request: Request, list_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep,
              erp: ErpDep, saved: Annotated[str | None, Query(max_length=10)] = None):
    view = lists.view_list(db, jde, erp, ctx=ctx, list_id=list_id)
    db.commit()
    message = None
    if saved:
        sent = next((h for h in reversed(view.history) if h.action == "list.create"), None)
        message = "The list is saved and the customer is e-mailed." if sent else "The list is saved."
    return render(request, "lists/list.html", {"ctx": ctx, "v": view, "message": message,
                                               "is_customer": lists.is_customer(ctx)})


@router.post("/lists")
def create_form(request: Request, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep,
                name: Annotated[str, Form(max_length=200)] = "", note: Annotated[str, Form(max_length=4000)] = "",
                expires_on: Annotated[str, Form(max_length=20)] = "",
                quoted: Annotated[list[str] | None, Form()] = None):
    """The cart page's "Save as a list for the customer" form."""
    mailing = mailing_of(request)
    try:
        row = audited(db, ctx, "list.create", "cart", lambda: lists.create_list(
            db, jde, erp, ctx=ctx, mailing=mailing, name=name, note=note, expires_on=_day(expires_on),
            quoted_items={q[:25] for q in (quoted or ())[:500]}))
    except CommerceError as exc:
        if exc.status == 403:
            raise
        from ecgateway.web.pages.commerce import cart_page_response

        return cart_page_response(request, ctx, db, jde, erp, list_error=exc,
                                  list_form={"name": name[:80], "note": note[:2000], "expires_on": expires_on[:10]},
                                  status=exc.status)
    mailing.after_commit()
    return RedirectResponse(f"/lists/{row.id}?saved=1", status_code=303)


@router.post("/lists/{list_id}/lines")
def line_form(list_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep,
              item: Annotated[str, Form(max_length=25)], quantity: Annotated[int, Form(ge=0, le=99_999)]):
    audited(db, ctx, "list.change", f"list {list_id}",
            lambda: lists.set_line(db, ctx=ctx, list_id=list_id, item=item, quantity=quantity))
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


@router.post("/lists/{list_id}/accept")
def accept_form(list_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep):
    audited(db, ctx, "list.accept", f"list {list_id}", lambda: lists.accept_list(db, jde, ctx=ctx, list_id=list_id))
    return RedirectResponse("/cart", status_code=303)


@router.post("/lists/{list_id}/reject")
def reject_form(request: Request, list_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep,
                reason: Annotated[str, Form(max_length=2000)] = ""):
    mailing = mailing_of(request)
    audited(db, ctx, "list.reject", f"list {list_id}",
            lambda: lists.reject_list(db, ctx=ctx, list_id=list_id, reason=reason, mailing=mailing))
    mailing.after_commit()
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


# --- for the cart and account pages -------------------------------------------------------------

def list_context(request: Request, db: Session, jde: Jde, ctx: ActingContext) -> dict:
    """What the cart page shows of lists: the customer's open lists, or the rep's save form (or why not)."""
    settings = request.app.state.runtime.settings
    if lists.is_customer(ctx):
        return {"open_lists": lists.list_lists(db, ctx=ctx, only_open=True), "list_refusal": None}
    return {"open_lists": [], "list_refusal": lists.may_create_lists(db, jde, ctx=ctx, settings=settings)}


def _day(text: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"the expiry {text[:20]!r} is not a date; write it as YYYY-MM-DD, or leave it empty",
                      field="expires_on") from None
