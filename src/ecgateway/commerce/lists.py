"""Managed lists: a rep prepares an order from their on-behalf cart, the customer accepts or rejects it.

1. A rep acting on behalf, holding the right `lists.create`, saves the cart as a list for the
   account (name, note to the customer, optional expiry); the rep's cart stays as it was. Each
   line keeps its item, quantity and unit; a line's JDE price at that moment is kept only when
   the rep marks it as quoted. The account's customer users are e-mailed a signed link, in the
   same transaction (mail outbox), so a list saved while SMTP is down still gets its e-mail later.
2. The customer sees open lists on the cart and account pages; the list page prices the lines
   as JDE gives them now for the customer's billing address (quoted lines at their quote). They
   may change quantities or drop lines, then add the list to their cart (cart lines, and later
   order lines, keep the list's id) or reject it with a reason (the rep is e-mailed).
3. When an order holding the list's lines reaches JDE (the relay marks it sent) the list is
   closed as ordered. Every step is audited (list.*) with the list as object: the list page
   shows that history to both sides.

Which accounts may receive lists is a setting (ECGW_LISTS_ACCOUNT_COLUMN / _TYPES). A customer
only ever reaches their own account's lists: every read filters by the acting context's account.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ecgateway.audit.actions import words
from ecgateway.audit.models import AuditEntry
from ecgateway.audit.service import record
from ecgateway.auth.models import RIGHT_LISTS
from ecgateway.auth.rights import has_right
from ecgateway.auth.roles import CUSTOMER
from ecgateway.clock import as_utc, utcnow
from ecgateway.commerce.carts import (
    MAX_QUANTITY,
    CartItem,
    PricedCart,
    account_of,
    add_item,
    cart_items,
    find_cart,
    price_items,
)
from ecgateway.commerce.errors import (
    Invalid,
    NotAllowed,
    NotFound,
    PricingRefused,
    PricingUnavailable,
)
from ecgateway.commerce.models import (
    LIST_ACCEPTED,
    LIST_OPEN,
    LIST_ORDERED,
    LIST_REJECTED,
    CartLine,
    ManagedList,
    ManagedListLine,
    OrderLine,
)
from ecgateway.config import Settings
from ecgateway.db import in_values
from ecgateway.erp.base import Erp
from ecgateway.jde.codes import party_code
from ecgateway.jde.handle import Jde
from ecgateway.mail import enqueue, link_url, sign_link
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import User

LINK_PURPOSE = "list.open"
NAME_WIDTH, NOTE_WIDTH, REASON_WIDTH = 80, 2000, 500
MAX_EXPIRY_DAYS = 366
EXPIRED = "expired"  # how an open list past its expiry reads; never stored


@dataclass(frozen=True)
class Mailing:
    """What the e-mails of lists need: the settings (secret, templates, mail) and the site's address."""

    settings: Settings
    request_base: str | None = None  # the request's own base URL, when ECGW_PUBLIC_URL is unset
    after_commit: Callable[[], None] | None = None  # wake the mail sender

    def open_link(self, list_id: int, expires_at: dt.datetime | None) -> tuple[str, dt.datetime]:
        """The signed link the customer gets (single purpose: open this list), and when it stops working."""
        lifetime = dt.timedelta(days=self.settings.link_days)
        until = utcnow() + lifetime
        if expires_at is not None and as_utc(expires_at) < until:
            until = as_utc(expires_at)
        token = sign_link(self.settings.secret, purpose=LINK_PURPOSE, subject=str(list_id),
                          expires_in=max(until - utcnow(), dt.timedelta(minutes=1)))
        return link_url("/lists/open", token, public_url=self.settings.public_url,
                        request_base=self.request_base), until

    def page_url(self, list_id: int) -> str:
        base = (self.settings.public_url or self.request_base or "http://127.0.0.1:8000").rstrip("/")
        return f"{base}/lists/{list_id}"


@dataclass(frozen=True)
class ListLineView:
    item: str
    description: str
    quantity: int
    proposed_quantity: int
    uom: str
    dropped: bool
    quoted: bool
    unit_price: Decimal | None  # None: not priced (dropped, or JDE could not price just now)
    extended: Decimal | None
    source: str


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    who: str
    action: str
    outcome: str
    text: str


@dataclass(frozen=True)
class ListView:
    list: ManagedList
    status: str  # open, accepted, rejected, ordered, or expired
    lines: list[ListLineView]
    currency: str
    total: Decimal | None
    priced: bool
    message: str  # why prices are missing, when they are
    history: list[HistoryEntry]
    may_decide: bool  # the signed-in customer may change, accept or reject it now


# --- the rep's side ---------------------------------------------------------------------------

def may_create_lists(db: Session, jde: Jde, *, ctx: ActingContext, settings: Settings) -> str | None:
    """None when this rep may save a list for this account now; else why not, in words."""
    if not ctx.on_behalf:
        return "Only a representative acting on behalf of an account saves lists for it."
    if not has_right(db, user_id=ctx.actor.user_id, right=RIGHT_LISTS):
        return ("You do not have the right to prepare lists for customers. An administrator grants it on your user's "
                "page (Users, then your login).")
    allowed = settings.lists_account_types
    if "*" in allowed:
        return None
    party = party_code(jde, an8=account_of(ctx), column=settings.lists_account_column)
    code = party.code if party else ""
    if code not in allowed:
        shown = ", ".join(allowed) or "none"
        return (f"Account {ctx.subject_an8} is of type {code or '(blank)'} ({settings.lists_account_column.upper()}): "
                f"lists go only to accounts of types {shown}. An administrator changes this with "
                "ECGW_LISTS_ACCOUNT_TYPES.")
    return None


def create_list(db: Session, jde: Jde, erp: Erp, *, ctx: ActingContext, mailing: Mailing, name: str,
                note: str = "", expires_on: dt.date | None = None, quoted_items: set[str] | frozenset = frozenset(),
                ) -> ManagedList:
    """Save the rep's on-behalf cart as a list for the account and e-mail its customer users; the caller commits.

    The rep's cart is not changed. NotAllowed (403) without the right or for an account type that may not
    receive lists; Invalid (422) for an empty cart, a bad name/expiry, or a quoted line JDE cannot price.
    """
    account = account_of(ctx)
    refusal = may_create_lists(db, jde, ctx=ctx, settings=mailing.settings)
    if refusal:
        raise NotAllowed(refusal)
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= NAME_WIDTH:
        raise Invalid(f"give the list a name of 1 to {NAME_WIDTH} characters, e.g. 'Spring restock'", field="name")
    note = (note or "").strip()
    if len(note) > NOTE_WIDTH:
        raise Invalid(f"the note to the customer holds at most {NOTE_WIDTH} characters", field="note")
    expires_at = _expiry(expires_on)
    items = cart_items(db, ctx=ctx)
    if not items:
        raise Invalid("your cart for this account is empty: add the items the customer should approve, then save "
                      "the cart as a list", field="cart")
    unknown = sorted(set(quoted_items) - {i.item for i in items})
    if unknown:
        raise Invalid(f"{', '.join(unknown)} is not in the cart, so its price cannot be quoted", field="quoted")
    priced = _price(jde, erp, ctx=ctx, items=items)
    by_item = {ln.item: ln for ln in priced.lines.lines}
    not_priced = sorted(i for i in quoted_items if not by_item.get(i) or not by_item[i].available)
    if not_priced:
        raise Invalid(f"JD Edwards has no price for {', '.join(not_priced)} now, so it cannot be quoted; untick it "
                      "and the customer will see JD Edwards' price when they open the list", field="quoted")
    now = utcnow()
    actor = ctx.actor
    row = ManagedList(
        account_an8=account, name=name, note=note, rep_id=actor.user_id, rep_login=actor.login,
        rep_name=actor.name, rep_email=actor.email or "", sold_to=priced.sold_to,
        currency=priced.lines.currency or "", status=LIST_OPEN, expires_at=expires_at, created_at=now,
        lines=[ManagedListLine(line_no=n, item=i.item, quantity=i.quantity, proposed_quantity=i.quantity,
                               uom=by_item[i.item].uom[:2] if i.item in by_item else "",
                               quoted_price=by_item[i.item].unit_price if i.item in quoted_items else None)
               for n, i in enumerate(items, start=1)],
    )
    db.add(row)
    db.flush()
    recipients = customer_recipients(db, account=account)
    party = party_code(jde, an8=account, column=mailing.settings.lists_account_column)
    for user in recipients:
        link, link_until = mailing.open_link(row.id, expires_at)
        enqueue(db, user.email, "list_ready", {
            "customer_name": user.name, "account": account, "account_name": party.name if party else "",
            "list_name": name, "note": note, "rep_name": actor.name, "lines": len(row.lines),
            "expires": _day(expires_at), "link": link, "link_expires": _day(link_until),
        }, settings=mailing.settings)
    record(db, actor=actor, subject_an8=account, action="list.create", object=f"list {row.id}", outcome="ok",
           detail={"on_behalf": True, **({"billing_an8": ctx.billing_an8} if ctx.billing_an8 else {}),
                   "lines": len(row.lines), "quoted": len(quoted_items), "expires_at": _day(expires_at) or "never",
                   "mailed_to": ", ".join(u.login for u in recipients) or "nobody"})
    return row


def customer_recipients(db: Session, *, account: int) -> list[User]:
    """The account's active customer users with an e-mail address."""
    return list(db.scalars(sa.select(User).where(User.account_an8 == account, User.user_type == CUSTOMER,
                                                 User.active.is_(True), User.email != "").order_by(User.id)))


# --- both sides ---------------------------------------------------------------------------------

def list_lists(db: Session, *, ctx: ActingContext, only_open: bool = False, limit: int = 100) -> list[ManagedList]:
    """The account's lists, newest first (open and not expired only, when asked)."""
    account = account_of(ctx)
    stmt = sa.select(ManagedList).where(ManagedList.account_an8 == account)
    if only_open:
        now = utcnow()
        stmt = stmt.where(ManagedList.status == LIST_OPEN,
                          sa.or_(ManagedList.expires_at.is_(None), ManagedList.expires_at > now))
    return list(db.scalars(stmt.order_by(ManagedList.id.desc()).limit(max(1, min(limit, 500)))))


def get_list(db: Session, *, ctx: ActingContext, list_id: int) -> ManagedList:
    """One list of the acting context's account; another account's list is not found (404)."""
    account = account_of(ctx)
    row = db.scalars(sa.select(ManagedList).where(ManagedList.id == list_id, ManagedList.account_an8 == account)
                     .options(selectinload(ManagedList.lines))).one_or_none()
    if row is None:
        raise NotFound(f"list {list_id} is not one of account {account}'s lists; the lists waiting for you are on "
                       "your cart page")
    return row


def status_of(row: ManagedList) -> str:
    if row.status == LIST_OPEN and row.expires_at is not None and as_utc(row.expires_at) <= utcnow():
        return EXPIRED
    return row.status


def view_list(db: Session, jde: Jde, erp: Erp, *, ctx: ActingContext, list_id: int) -> ListView:
    """The list priced now for the acting context's billing address, with its history. The customer's first
    look is recorded as 'opened'; the caller commits."""
    row = get_list(db, ctx=ctx, list_id=list_id)
    if is_customer(ctx) and row.opened_at is None:
        row.opened_at = utcnow()
        record(db, actor=ctx.actor, subject_an8=row.account_an8, action="list.open", object=f"list {row.id}",
               outcome="ok", detail={"on_behalf": False})
        db.flush()
    status = status_of(row)
    live = [ln for ln in row.lines if not ln.dropped]
    priced, message = None, ""
    if live:
        try:
            priced = price_items(jde, erp, ctx=ctx, items=[_as_item(row, ln) for ln in live])
        except (PricingUnavailable, PricingRefused) as exc:
            message = exc.message
    by_item = {ln.item: ln for ln in priced.lines.lines} if priced else {}
    lines = []
    for ln in row.lines:
        p = by_item.get(ln.item)
        ok = p is not None and p.available
        lines.append(ListLineView(
            item=ln.item, description=p.description if p else "", quantity=ln.quantity,
            proposed_quantity=ln.proposed_quantity, uom=(p.uom if p else "") or ln.uom, dropped=ln.dropped,
            quoted=ln.quoted_price is not None, unit_price=p.unit_price if ok else None,
            extended=p.extended if ok else None,
            source="dropped" if ln.dropped else (p.source if p else "not priced")))
    return ListView(list=row, status=status, lines=lines, currency=priced.lines.currency if priced else row.currency,
                    total=priced.lines.total if priced else None, priced=priced is not None or not live,
                    message=message, history=history(db, row), may_decide=is_customer(ctx) and status == LIST_OPEN)


def history(db: Session, row: ManagedList) -> list[HistoryEntry]:
    """The list's audit entries, oldest first, told in the transaction log's words."""
    entries = db.scalars(sa.select(AuditEntry).where(AuditEntry.subject_an8 == row.account_an8,
                                                     AuditEntry.object == f"list {row.id}")
                         .order_by(AuditEntry.seq).limit(200))
    out = []
    for e in entries:
        detail = json.loads(e.detail or "{}")
        out.append(HistoryEntry(at=as_utc(e.at), who=e.actor_login or "the gateway", action=e.action,
                                outcome=e.outcome, text=words(e.action, e.outcome, rep=e.actor_login,
                                                              account=e.subject_an8, obj=e.object, detail=detail)))
    return out


# --- the customer's side --------------------------------------------------------------------------

def is_customer(ctx: ActingContext) -> bool:
    return ctx.actor.user_type == CUSTOMER and not ctx.on_behalf


def set_line(db: Session, *, ctx: ActingContext, list_id: int, item: str, quantity: int) -> ManagedListLine:
    """The customer changes a line's quantity; 0 drops it (a dropped line comes back with a quantity)."""
    row = _decidable(db, ctx=ctx, list_id=list_id)
    wanted = (item or "").strip()
    line = next((ln for ln in row.lines if ln.item == wanted), None)
    if line is None:
        raise NotFound(f"item {wanted!r} is not on list {row.id}; reload the list to see its lines", field="item")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise Invalid(f"quantity must be a whole number from 0 (drop the line) to {MAX_QUANTITY}", field="quantity")
    if quantity == 0:
        line.dropped = True
    else:
        line.dropped, line.quantity = False, quantity
    record(db, actor=ctx.actor, subject_an8=row.account_an8, action="list.change", object=f"list {row.id}",
           outcome="ok", detail={"on_behalf": False, "item": line.item, "quantity": quantity,
                                 "dropped": line.dropped})
    db.flush()
    return line


def accept_list(db: Session, jde: Jde, *, ctx: ActingContext, list_id: int) -> int:
    """The customer adds the list's lines to their own cart, each keeping the list's id; the caller commits.
    Returns the number of lines added."""
    row = _decidable(db, ctx=ctx, list_id=list_id)
    live = [ln for ln in row.lines if not ln.dropped]
    if not live:
        raise Invalid("every line of this list is dropped: give a line a quantity, or reject the list", field="list")
    for ln in live:
        add_item(db, jde, ctx=ctx, item=ln.item, quantity=ln.quantity)
    cart = find_cart(db, ctx=ctx)
    db.execute(sa.update(CartLine).where(CartLine.cart_id == cart.id, in_values(CartLine.item, [ln.item for ln in live]))
               .values(list_id=row.id), execution_options={"synchronize_session": False})
    row.status, row.decided_at, row.decided_by = LIST_ACCEPTED, utcnow(), ctx.actor.login
    record(db, actor=ctx.actor, subject_an8=row.account_an8, action="list.accept", object=f"list {row.id}",
           outcome="ok", detail={"on_behalf": False, "lines": len(live)})
    db.flush()
    return len(live)


def reject_list(db: Session, *, ctx: ActingContext, list_id: int, reason: str, mailing: Mailing) -> ManagedList:
    """The customer rejects the list, with an optional reason; the rep who made it is e-mailed. The caller commits."""
    row = _decidable(db, ctx=ctx, list_id=list_id)
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_WIDTH:
        raise Invalid(f"the reason holds at most {REASON_WIDTH} characters", field="reason")
    row.status, row.reject_reason = LIST_REJECTED, reason
    row.decided_at, row.decided_by, row.closed_at = utcnow(), ctx.actor.login, utcnow()
    mailed = ""
    if row.rep_email:
        enqueue(db, row.rep_email, "list_rejected", {
            "rep_name": row.rep_name, "account": row.account_an8, "list_name": row.name, "reason": reason,
            "customer_name": ctx.actor.name, "customer_login": ctx.actor.login, "link": mailing.page_url(row.id),
        }, settings=mailing.settings)
        mailed = row.rep_login
    record(db, actor=ctx.actor, subject_an8=row.account_an8, action="list.reject", object=f"list {row.id}",
           outcome="ok", detail={"on_behalf": False, **({"reason": reason} if reason else {}),
                                 "mailed_to": mailed or "nobody (the rep has no e-mail address)"})
    db.flush()
    return row


def list_of_link(settings: Settings, token: str) -> int:
    """The list id a signed e-mail link names; LinkInvalid (400, 410 when expired) otherwise."""
    from ecgateway.mail import check_link

    subject = check_link(settings.secret, token, purpose=LINK_PURPOSE)
    return int(subject)


# --- the relay's side -----------------------------------------------------------------------------

def close_lists_of_order(db: Session, *, order_id: int, erp_reference: str | None) -> list[int]:
    """An order reached JD Edwards: close the lists its lines came from (in the relay's transaction)."""
    list_ids = sorted(set(db.scalars(sa.select(OrderLine.list_id).where(OrderLine.order_id == order_id,
                                                                        OrderLine.list_id.is_not(None)))))
    if not list_ids:
        return []
    rows = list(db.scalars(sa.select(ManagedList).where(in_values(ManagedList.id, list_ids),
                                                        in_values(ManagedList.status, (LIST_OPEN, LIST_ACCEPTED)))))
    now = utcnow()
    for row in rows:
        row.status, row.closed_at, row.order_id = LIST_ORDERED, now, order_id
        record(db, actor=None, subject_an8=row.account_an8, action="list.ordered", object=f"list {row.id}",
               outcome="ok", detail={"order_id": order_id, "erp_reference": erp_reference or ""})
    db.flush()
    return [r.id for r in rows]


# --- helpers ----------------------------------------------------------------------------------------

def _decidable(db: Session, *, ctx: ActingContext, list_id: int) -> ManagedList:
    if not is_customer(ctx):
        raise NotAllowed("The customer changes, accepts or rejects a list; a representative sees it as it stands. "
                         "Ask the customer to open it from their cart page or the e-mail.")
    row = get_list(db, ctx=ctx, list_id=list_id)
    status = status_of(row)
    if status != LIST_OPEN:
        said = {EXPIRED: f"expired on {_day(row.expires_at)}", LIST_ACCEPTED: "already in your cart",
                LIST_REJECTED: "rejected", LIST_ORDERED: "ordered and closed"}[status]
        raise Invalid(f"list {row.id} is {said}, so it can no longer be changed, accepted or rejected. "
                      "Ask the representative who made it for a new one if you need it", field="list")
    return row


def _price(jde: Jde, erp: Erp, *, ctx: ActingContext, items: list[CartItem]) -> PricedCart:
    try:
        return price_items(jde, erp, ctx=ctx, items=items)
    except PricingUnavailable as exc:
        raise PricingUnavailable(f"the list is not saved: {exc.message}") from exc


def _as_item(row: ManagedList, line: ManagedListLine) -> CartItem:
    return CartItem(item=line.item, quantity=line.quantity, list_id=row.id, quoted_price=line.quoted_price,
                    quoted_currency=row.currency)


def _expiry(day: dt.date | None) -> dt.datetime | None:
    """The end of the given day (UTC); refused when it is past or more than a year away."""
    if day is None:
        return None
    today = utcnow().date()
    if not today <= day <= today + dt.timedelta(days=MAX_EXPIRY_DAYS):
        raise Invalid(f"the expiry must be a day from today ({today.isoformat()}) to at most {MAX_EXPIRY_DAYS} days "
                      "ahead; leave it empty for a list that does not expire", field="expires_on")
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)


def _day(when: dt.datetime | None) -> str:
    return as_utc(when).strftime("%Y-%m-%d %H:%M UTC") if when else ""
