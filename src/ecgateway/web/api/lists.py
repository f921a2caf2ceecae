"""Managed lists JSON API under /api/v1/lists: a rep saves the on-behalf cart as a list; the customer
opens it, changes quantities, accepts it into the cart or rejects it.

Shoppers only (a customer, or a rep acting on behalf), each for the account in their acting
context: another account's list is 404. Saving needs the right `lists.create` (403 without);
changing, accepting and rejecting are the customer's (403 for a rep). State changes need the
`X-CSRF-Token` header. Refusals are audited (carts.audited).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ecgateway.commerce import lists
from ecgateway.commerce.carts import MAX_LINES, MAX_QUANTITY, audited
from ecgateway.commerce.models import ManagedList
from ecgateway.web.deps import (
    ErpDep,
    JdeDep,
    PortalSessionDep,
    ShopperContext,
    refresh_after_refusal,
)
from ecgateway.web.params import RowIdPath

CSRF = " Needs the `X-CSRF-Token` header."
router = APIRouter(prefix="/api/v1/lists", tags=["lists"], dependencies=[Depends(refresh_after_refusal)])


class NewListIn(BaseModel):
    name: str = Field(min_length=1, max_length=lists.NAME_WIDTH, description="What the customer sees it as")
    note: str = Field("", max_length=lists.NOTE_WIDTH, description="A note to the customer, in the e-mail and on the list")
    expires_on: dt.date | None = Field(None, description="Last day (UTC) the customer may accept it; none: no expiry")
    quoted_items: list[str] = Field(default_factory=list, max_length=MAX_LINES,
                                    description="Items whose JD Edwards price now is kept as a quote; the others are "
                                                "priced by JD Edwards when the customer opens the list")


class ListLineOut(BaseModel):
    item: str
    description: str
    quantity: int = Field(description="What goes into the cart on accept")
    proposed_quantity: int = Field(description="What the rep proposed")
    uom: str
    dropped: bool = Field(description="The customer dropped the line")
    quoted: bool = Field(description="The price is the rep's quote, not JD Edwards' price of today")
    unit_price: Decimal | None = Field(description="None when the line is dropped or could not be priced now")
    extended: Decimal | None
    source: str


class HistoryOut(BaseModel):
    at: dt.datetime
    who: str = Field(description="Login of who did it; 'the gateway' for the relay")
    action: str = Field(description="list.create, list.open, list.change, list.accept, list.reject, list.ordered")
    outcome: str
    text: str


class ListSummaryOut(BaseModel):
    id: int
    account_an8: int
    name: str
    status: str = Field(description="open, accepted, rejected, ordered, or expired")
    rep_name: str
    rep_login: str
    lines: int
    created_at: dt.datetime
    expires_at: dt.datetime | None
    order_id: int | None = Field(description="The order that closed it, once ordered")


class ListOut(ListSummaryOut):
    note: str
    reject_reason: str
    sold_to: int = Field(description="The billing address the rep priced it for")
    currency: str
    total: Decimal | None = Field(description="Priced now; None when JD Edwards could not price just now")
    priced: bool
    message: str = ""
    may_decide: bool = Field(description="True: the signed-in customer may change, accept or reject it now")
    items: list[ListLineOut]
    history: list[HistoryOut]


class ListPage(BaseModel):
    items: list[ListSummaryOut]


class QuantityIn(BaseModel):
    quantity: int = Field(ge=0, le=MAX_QUANTITY, description="0 drops the line")


class AcceptOut(BaseModel):
    list_id: int
    lines_added: int = Field(description="Lines put in the customer's cart, each with the list's reference")


class RejectIn(BaseModel):
    reason: str = Field("", max_length=lists.REASON_WIDTH, description="Optional; e-mailed to the rep")


@router.get("", response_model=ListPage, summary="The account's managed lists, newest first")
def api_lists(ctx: ShopperContext, db: PortalSessionDep,
              open: Annotated[bool, Query(description="Only lists waiting for the customer")] = False) -> ListPage:  # noqa: A002
    return ListPage(items=[summary_out(r) for r in lists.list_lists(db, ctx=ctx, only_open=open)])


@router.post("", response_model=ListOut, status_code=201, summary="Save the rep's on-behalf cart as a list",
             description="A rep acting on behalf, with the right lists.create (403 without), saves their cart for the "
                         "account as a list and the account's customer users are e-mailed a link. The rep's cart is "
                         "not changed." + CSRF)
def api_create(request: Request, body: NewListIn, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep,
               erp: ErpDep) -> ListOut:
    mailing = mailing_of(request)
    row = audited(db, ctx, "list.create", "cart", lambda: lists.create_list(
        db, jde, erp, ctx=ctx, mailing=mailing, name=body.name, note=body.note, expires_on=body.expires_on,
        quoted_items=set(body.quoted_items)))
    mailing.after_commit()
    return list_out(db, lists.view_list(db, jde, erp, ctx=ctx, list_id=row.id))


@router.get("/{list_id}", response_model=ListOut, summary="One list, priced now, with its history",
            description="The customer's first look is recorded as 'opened'.")
def api_list(list_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep, erp: ErpDep) -> ListOut:
    view = lists.view_list(db, jde, erp, ctx=ctx, list_id=list_id)
    db.commit()
    return list_out(db, view)


@router.put("/{list_id}/lines/{item}", response_model=ListOut, summary="Change a line's quantity (0 drops it)",
            description="The customer's, while the list is open." + CSRF)
def api_set_line(list_id: RowIdPath, item: str, body: QuantityIn, ctx: ShopperContext, db: PortalSessionDep,
                 jde: JdeDep, erp: ErpDep) -> ListOut:
    audited(db, ctx, "list.change", f"list {list_id}",
            lambda: lists.set_line(db, ctx=ctx, list_id=list_id, item=item[:25], quantity=body.quantity))
    view = lists.view_list(db, jde, erp, ctx=ctx, list_id=list_id)
    db.commit()
    return list_out(db, view)


@router.post("/{list_id}/accept", response_model=AcceptOut, summary="Put the list's lines in the cart",
             description="The customer's, while the list is open: every line not dropped goes into their cart, "
                         "keeping the list's reference (and later on the order lines)." + CSRF)
def api_accept(list_id: RowIdPath, ctx: ShopperContext, db: PortalSessionDep, jde: JdeDep) -> AcceptOut:
    added = audited(db, ctx, "list.accept", f"list {list_id}",
                    lambda: lists.accept_list(db, jde, ctx=ctx, list_id=list_id))
    return AcceptOut(list_id=list_id, lines_added=added)


@router.post("/{list_id}/reject", response_model=ListSummaryOut, summary="Reject the list (the rep is e-mailed)",
             description="The customer's, while the list is open." + CSRF)
def api_reject(request: Request, list_id: RowIdPath, body: RejectIn, ctx: ShopperContext,
               db: PortalSessionDep) -> ListSummaryOut:
    mailing = mailing_of(request)
    row = audited(db, ctx, "list.reject", f"list {list_id}",
                  lambda: lists.reject_list(db, ctx=ctx, list_id=list_id, reason=body.reason, mailing=mailing))
    mailing.after_commit()
    return summary_out(row)


# --- shapes from services -------------------------------------------------------------

def mailing_of(request: Request) -> lists.Mailing:
    """The settings, the site's address and the mail sender's wake-up, for the e-mails of lists."""
    mailer = getattr(request.app.state, "mailer", None)
    return lists.Mailing(settings=request.app.state.runtime.settings, request_base=str(request.base_url),
                         after_commit=mailer.wake if mailer is not None else (lambda: None))


def summary_out(row: ManagedList) -> ListSummaryOut:
    return ListSummaryOut(id=row.id, account_an8=row.account_an8, name=row.name, status=lists.status_of(row),
                          rep_name=row.rep_name, rep_login=row.rep_login, lines=len(row.lines),
                          created_at=_utc(row.created_at), expires_at=_utc(row.expires_at) if row.expires_at else None,
                          order_id=row.order_id)


def list_out(db: Session, view: lists.ListView) -> ListOut:
    row = view.list
    return ListOut(
        **summary_out(row).model_dump(), note=row.note, reject_reason=row.reject_reason, sold_to=row.sold_to,
        currency=view.currency, total=view.total, priced=view.priced, message=view.message,
        may_decide=view.may_decide,
        items=[ListLineOut(item=ln.item, description=ln.description, quantity=ln.quantity,
                           proposed_quantity=ln.proposed_quantity, uom=ln.uom, dropped=ln.dropped, quoted=ln.quoted,
                           unit_price=ln.unit_price, extended=ln.extended, source=ln.source) for ln in view.lines],
        history=[HistoryOut(at=h.at, who=h.who, action=h.action, outcome=h.outcome, text=h.text)
                 for h in view.history],
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
