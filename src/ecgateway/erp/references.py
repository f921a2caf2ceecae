"""How the gateway names orders in JDE: the external reference and the ERP reference texts.

The idempotency key of an order travels to JDE as its external reference, in a 25-character
column (F47011 SYVR02, F4201 SHVR02, the AIS order orchestration's ExternalReference). A
key that fits is stored as typed, so a person can search JDE for it; a longer key (a UUID
with dashes is 36) is stored as 'K' + 24 characters of the base32 SHA-256 of the key: the
same key always gives the same reference, and two keys collide with odds of about 2**-120.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from ecgateway.erp.base import ErpRejected

EXTERNAL_REFERENCE_WIDTH = 25


def external_reference(erp_key: str) -> str:
    """The at most 25-character reference JDE keeps for an order's idempotency key."""
    key = erp_key.strip()
    if not key:
        raise ErpRejected("the order has no idempotency key: the gateway must give every order one before sending it")
    if len(key) <= EXTERNAL_REFERENCE_WIDTH and key.isascii() and key.isprintable():
        return key
    digest = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()
    return "K" + digest[: EXTERNAL_REFERENCE_WIDTH - 1]


@dataclass(frozen=True)
class EdiReference:
    """An order queued in the EDI inbound tables: F47011 key (company, type, number)."""

    company: str
    doc_type: str
    number: int

    def __str__(self) -> str:
        return f"EDI {self.company} {self.doc_type} {self.number}"

    @classmethod
    def parse(cls, text: str) -> EdiReference:
        parts = text.split()
        if len(parts) != 4 or parts[0] != "EDI" or not parts[3].isdigit():
            raise ErpRejected(
                f"{text!r} is not an EDI order reference of the local ERP; expected 'EDI <company> <type> <number>',"
                " as returned when the order was submitted"
            )
        return cls(company=parts[1], doc_type=parts[2], number=int(parts[3]))


@dataclass(frozen=True)
class SalesOrderReference:
    """A JDE sales order: F4201 key (company, type, number), as the AIS order orchestration returns it."""

    company: str
    doc_type: str
    number: int

    def __str__(self) -> str:
        return f"{self.doc_type} {self.company} {self.number}"

    @classmethod
    def parse(cls, text: str) -> SalesOrderReference:
        parts = text.split()
        if len(parts) != 3 or not parts[2].isdigit():
            raise ErpRejected(
                f"{text!r} is not a JDE sales order reference; expected '<type> <company> <number>' such as 'SO 00200 5001',"
                " as returned when the order was submitted"
            )
        return cls(doc_type=parts[0], company=parts[1], number=int(parts[2]))


# F4211 next status (SDNXTR) ranges of a standard SO order-activity rule, and what a person calls them.
NEXT_STATUS_NAMES = ((560, "entered"), (600, "picking"), (999, "shipped"), (1000, "closed"))


def sales_order_status(next_status: str | int | None) -> str:
    """A person's word for a JDE next status code such as '540'."""
    text = str(next_status or "").strip()
    code = int(text) if text.isdigit() else 0
    return next((label for bound, label in NEXT_STATUS_NAMES if code < bound), "closed")
