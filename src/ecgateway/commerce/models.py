"""Portal tables of commerce: carts and their lines, orders, idempotency keys, the outbox, and the
managed lists a rep prepares for a customer to accept or reject.

A cart keeps items and quantities only: prices are always recomputed by the ERP, and no
card data has a column to land in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecgateway.clock import utcnow
from ecgateway.db import UtcDateTime
from ecgateway.portal.models import Base

# Order states as the portal shows them.
ORDER_WAITING = "waiting"  # committed, in the outbox, not yet accepted by the ERP
ORDER_SENT = "sent"  # the ERP accepted it (erp_reference holds its number)
ORDER_REJECTED = "rejected"  # the ERP refused it for a reason a retry will not fix
ORDER_STATES = (ORDER_WAITING, ORDER_SENT, ORDER_REJECTED)

# Outbox states.
OUTBOX_PENDING = "pending"
OUTBOX_DONE = "done"
OUTBOX_DEAD = "dead"  # refused by the ERP: kept for people to look at, never retried

# Idempotency key states.
KEY_IN_FLIGHT = "in_flight"
KEY_DONE = "done"


class Cart(Base):
    """One cart per (account, acting rep or none): a rep's on-behalf cart is apart from the customer's."""

    __tablename__ = "ec_carts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_an8: Mapped[int] = mapped_column(Integer, nullable=False)
    # The rep who keeps this cart while acting on behalf; None: the account's own cart.
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    # The order last made from this cart (no foreign key: SQLite cannot add one to a table). A
    # checkout commits only if this is still what it saw when it read the cart: one cart, one order.
    last_order_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartLine.id"
    )

    __table_args__ = (
        # NULL never equals NULL in a unique index, so the customer's own cart keys as rep 0.
        Index("ux_ec_carts_owner", "account_an8", func.coalesce(rep_id, 0), unique=True),
    )


class CartLine(Base):
    """An item and its quantity; never a price, never payment data."""

    __tablename__ = "ec_cart_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("ec_carts.id", ondelete="CASCADE"), nullable=False)
    item: Mapped[str] = mapped_column(String(25), nullable=False)  # JDE 2nd item number (IMLITM)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    # The managed list the line came from, when the customer accepted one; the order line keeps it.
    list_id: Mapped[int | None] = mapped_column(ForeignKey("ec_lists.id", ondelete="SET NULL"), nullable=True)

    cart: Mapped[Cart] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("cart_id", "item", name="ux_ec_cart_lines_item"),
        CheckConstraint("quantity > 0", name="ck_ec_cart_lines_quantity"),
    )


class Order(Base):
    """An order as the portal placed it: who for, who by, where to, and where it stands in the ERP."""

    __tablename__ = "ec_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The key the ERP drops duplicates by: made by the gateway, unique across processes.
    erp_key: Mapped[str] = mapped_column(String(25), nullable=False, unique=True)
    account_an8: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    sold_to: Mapped[int] = mapped_column(Integer, nullable=False)
    ship_to: Mapped[int] = mapped_column(Integer, nullable=False)
    company: Mapped[str] = mapped_column(String(5), nullable=False)
    branch: Mapped[str] = mapped_column(String(12), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    customer_po: Mapped[str] = mapped_column(String(25), nullable=False)
    total: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)
    placed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    placed_by_login: Mapped[str] = mapped_column(String(64), nullable=False)
    on_behalf: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The rep's name and e-mail, kept on the order itself, when a rep placed it on behalf.
    rep_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    rep_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ORDER_WAITING)
    erp_reference: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status_detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.line_no"
    )

    __table_args__ = (
        CheckConstraint("status IN ('waiting','sent','rejected')", name="ck_ec_orders_status"),
    )


class OrderLine(Base):
    """A line as repriced by the ERP at submit."""

    __tablename__ = "ec_order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ec_orders.id", ondelete="CASCADE"), nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    item: Mapped[str] = mapped_column(String(25), nullable=False)
    description: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    uom: Mapped[str] = mapped_column(String(2), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)
    extended: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)
    price_source: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    list_id: Mapped[int | None] = mapped_column(ForeignKey("ec_lists.id", ondelete="SET NULL"), nullable=True,
                                                index=True)  # the managed list the line came from

    order: Mapped[Order] = relationship(back_populates="lines")

    __table_args__ = (UniqueConstraint("order_id", "line_no", name="ux_ec_order_lines_no"),)


class IdempotencyKey(Base):
    """A client's Idempotency-Key for POST /api/v1/orders, scoped to the signed-in user.

    Holds a hash of the request it first came with (never the body itself) and, once the
    order is committed, the order it made.
    """

    __tablename__ = "ec_idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=KEY_IN_FLIGHT)
    # Who holds an in-flight key, and until when: a crashed request's key is taken over after.
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("ec_orders.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "key", name="ux_ec_idempotency_keys_user_key"),
        CheckConstraint("state IN ('in_flight','done')", name="ck_ec_idempotency_keys_state"),
    )


class OutboxMessage(Base):
    """An order waiting to be sent to the ERP; committed with the order, sent by the relay."""

    __tablename__ = "ec_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ec_orders.id", ondelete="CASCADE"), nullable=False, unique=True)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)  # the OrderSubmission, as sent
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=OUTBOX_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    # A relay's lease on the row: another relay may claim it only once the lease has run out.
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_ec_outbox_due", "state", "next_attempt_at"),
        CheckConstraint("state IN ('pending','done','dead')", name="ck_ec_outbox_state"),
    )


class CartNotice(Base):
    """A message for a customer user's next sign-in, e.g. that a rep emptied their cart; deleted once shown."""

    __tablename__ = "ec_cart_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


# Managed list states. "expired" is not stored: an open list past its expiry reads as expired.
LIST_OPEN = "open"  # saved by the rep, waiting for the customer
LIST_ACCEPTED = "accepted"  # the customer put it in their cart
LIST_REJECTED = "rejected"  # the customer said no (reason kept)
LIST_ORDERED = "ordered"  # an order made from it reached JD Edwards: closed
LIST_STATES = (LIST_OPEN, LIST_ACCEPTED, LIST_REJECTED, LIST_ORDERED)


class ManagedList(Base):
    """A list a rep prepared for an account from their on-behalf cart, for the customer to accept or reject."""

    __tablename__ = "ec_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_an8: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Who made it, kept on the list (as on orders) so the rep is still named after their user changes.
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    rep_login: Mapped[str] = mapped_column(String(64), nullable=False)
    rep_name: Mapped[str] = mapped_column(String(120), nullable=False)
    rep_email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    sold_to: Mapped[int] = mapped_column(Integer, nullable=False)  # the billing address the rep priced it for
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="")  # of the quoted prices
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=LIST_OPEN)
    reject_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("ec_orders.id", ondelete="SET NULL"), nullable=True)

    lines: Mapped[list[ManagedListLine]] = relationship(
        back_populates="list", cascade="all, delete-orphan", order_by="ManagedListLine.line_no"
    )

    __table_args__ = (
        CheckConstraint("status IN ('open','accepted','rejected','ordered')", name="ck_ec_lists_status"),
    )


class ManagedListLine(Base):
    """Item, quantity and unit; a price only when the rep marked it as quoted (else JDE prices it when opened)."""

    __tablename__ = "ec_list_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("ec_lists.id", ondelete="CASCADE"), nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    item: Mapped[str] = mapped_column(String(25), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)  # what the customer will put in the cart
    proposed_quantity: Mapped[int] = mapped_column(Integer, nullable=False)  # what the rep proposed
    uom: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    dropped: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # the customer dropped it
    quoted_price: Mapped[Decimal | None] = mapped_column(Numeric(18, 4), nullable=True)

    list: Mapped[ManagedList] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("list_id", "item", name="ux_ec_list_lines_item"),
        CheckConstraint("quantity > 0 AND proposed_quantity > 0", name="ck_ec_list_lines_quantity"),
    )
