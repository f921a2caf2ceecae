"""The one interface to the ERP, whichever implementation (local JDE tables or AIS) is behind it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class PriceRequestLine:
    item: str  # JDE 2nd item number (IMLITM)
    quantity: int
    uom: str | None = None  # None: the item's primary unit of measure


@dataclass(frozen=True)
class PriceRequest:
    sold_to: int  # the borrowed billing address
    ship_to: int  # the chosen shipping address (may equal sold_to for AIBADT X)
    company: str  # F03012 AICO the portal sells from
    branch: str  # business unit (MCU), unpadded
    currency: str | None  # None: the sold-to's currency from F03012
    lines: tuple[PriceRequestLine, ...]


@dataclass(frozen=True)
class PriceStep:
    """One step of how a line's unit price was made: the base price, then each adjustment."""

    what: str  # "base price" or the adjustment's name, e.g. "PORTAL10"
    source: str  # the row it came from, e.g. "F4106 item + customer group WHOLESAL, branch 30"
    effect: str  # in words, e.g. "-5.0000% of the base price 90.0000"
    amount: Decimal  # change to the unit price (the base price itself for the first step)
    unit_price: Decimal  # the unit price after this step


@dataclass(frozen=True)
class PricedLine:
    item: str
    description: str
    quantity: int
    uom: str
    unit_price: Decimal
    extended: Decimal
    currency: str
    source: str  # where the price came from, e.g. "F4106 customer 4242" or "F4106 item + F4072 PORTAL"
    available: bool = True  # False when the ERP has no price for the line: it cannot be ordered
    # How the price was made, step by step; empty when the ERP does not say (AIS) or there is none.
    explanation: tuple[PriceStep, ...] = ()


@dataclass(frozen=True)
class PriceResult:
    lines: tuple[PricedLine, ...]
    currency: str
    total: Decimal


@dataclass(frozen=True)
class OrderLine:
    item: str
    quantity: int
    uom: str
    unit_price: Decimal  # as repriced by the gateway at submit


@dataclass(frozen=True)
class OrderSubmission:
    erp_key: str  # the order's key at the ERP (Order.erp_key, not the client's Idempotency-Key): a second order with it is dropped
    sold_to: int
    ship_to: int
    parent: int  # the account (F0150 parent)
    company: str
    branch: str
    currency: str
    customer_po: str
    placed_by: str  # "Name <e-mail>" of the rep when placed on behalf, else the customer user
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class OrderReceipt:
    erp_reference: str  # e.g. EDI document number, or the JDE sales order number
    status: str  # e.g. "queued", "accepted"


@dataclass(frozen=True)
class OrderStatus:
    erp_reference: str
    status: str
    detail: str = ""


class ErpError(Exception):
    """Base of ERP failures."""


class ErpUnavailable(ErpError):
    """The ERP could not be reached or answered with a server error: try again later."""


class ErpRejected(ErpError):
    """The ERP refused the request for a reason a retry will not fix; the message says why.

    reason is the ERP's own words (e.g. JDE's "customer on credit hold"), the part a rep and a
    customer are shown; the message adds which call was refused, for the logs.
    """

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        self.reason = (reason or message).strip()


class Erp(Protocol):
    def price(self, request: PriceRequest) -> PriceResult:
        """Price every line for (sold-to, ship-to) in one call."""
        ...

    def submit_order(self, order: OrderSubmission) -> OrderReceipt:
        """Send an order; a second call with the same idempotency key returns the first receipt."""
        ...

    def order_status(self, erp_reference: str) -> OrderStatus:
        """Read where an order stands in the ERP."""
        ...

    def close(self) -> None:
        """Release connections and log out where the ERP keeps a session."""
        ...
