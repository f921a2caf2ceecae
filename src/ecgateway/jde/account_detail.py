"""What the account page shows about one account, read from JDE: addresses, phones, e-mails,
credit terms, open orders.

Call only after the access check (obo.service.may_see_account): this module reads whatever
number it is given. Billing and shipping addresses follow jde.addresses, the one definition
of the account -> billing -> shipping hierarchy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ecgateway.db import in_values
from ecgateway.jde.addresses import Address, billing_addresses, postal_addresses, shipping_addresses
from ecgateway.jde.conventions import from_implied, julian_to_date, trim
from ecgateway.jde.handle import DEFAULT_COMPANY, Jde
from ecgateway.jde.tables import JdeTables

OPEN_ORDERS_SHOWN = 50
CLOSED_STATUS = "999"


@dataclass(frozen=True)
class BillingAddress:
    address: Address
    billing_type: str  # AIBADT: B bill-to only, X bill-to and ship-to
    shipping: tuple[Address, ...]


@dataclass(frozen=True)
class OpenOrder:
    company: str
    number: int
    order_type: str
    ordered_on: date | None
    sold_to: int
    ship_to: int
    lines: int
    amount: Decimal
    currency: str
    status: str  # SDNXTR, the lowest next status of its lines


@dataclass(frozen=True)
class AccountDetail:
    an8: int
    name: str
    address: Address | None
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    credit_limit: Decimal | None
    currency: str
    payment_terms: str
    hold_code: str
    billing: tuple[BillingAddress, ...] = field(default_factory=tuple)
    open_orders: tuple[OpenOrder, ...] = field(default_factory=tuple)

    def billing_address(self, an8: int | None) -> BillingAddress | None:
        return next((b for b in self.billing if b.address.an8 == an8), None)


def read_account_detail(handle: Jde, *, an8: int) -> AccountDetail | None:
    """Everything the account page shows for account an8, or None when JDE has no such party."""
    jde, tables, company, decimals = handle.conn, handle.tables, handle.company, handle.decimals
    name = jde.scalar(sa.select(tables.F0101.c.abalph).where(tables.F0101.c.aban8 == an8))
    if name is None:
        return None
    billing_rows = billing_addresses(handle, account_an8=an8)
    ship_lists = {b.an8: shipping_addresses(handle, billing_an8=b.an8) for b in billing_rows}
    every = [an8, *(b.an8 for b in billing_rows), *(s.an8 for ships in ship_lists.values() for s in ships)]
    postal = postal_addresses(handle, an8s=every)
    billing = tuple(
        BillingAddress(
            address=postal.get(b.an8) or _bare(b.an8, b.name),
            billing_type=b.billing_type,
            shipping=tuple(postal.get(s.an8) or _bare(s.an8, s.name) for s in ship_lists[b.an8]),
        )
        for b in billing_rows
    )
    terms = _terms(jde, tables=tables, an8=an8, company=company)
    return AccountDetail(
        an8=an8, name=trim(name), address=postal.get(an8),
        phones=_phones(jde, tables=tables, an8=an8), emails=_emails(jde, tables=tables, an8=an8),
        credit_limit=from_implied(terms.aiacl, "ACL", decimals) if terms is not None else None,
        currency=trim(terms.aicrcd) if terms is not None else "",
        payment_terms=trim(terms.aitrar) if terms is not None else "",
        hold_code=trim(terms.aihold) if terms is not None else "",
        billing=billing,
        open_orders=open_orders(jde, tables=tables, account_an8=an8, billing_an8s=[b.an8 for b in billing_rows], decimals=decimals),
    )


def open_orders(jde: sa.Connection, *, tables: JdeTables, account_an8: int, billing_an8s: list[int],
                decimals: Mapping[str, int], limit: int = OPEN_ORDERS_SHOWN) -> tuple[OpenOrder, ...]:
    """Orders with a line not yet closed (SDNXTR other than 999), newest first."""
    f4211 = tables.F4211
    whose = f4211.c.sdpa8 == account_an8
    if billing_an8s:
        whose = sa.or_(whose, in_values(f4211.c.sdan8, billing_an8s))
    rows = jde.execute(
        sa.select(
            f4211.c.sdkcoo, f4211.c.sddoco, f4211.c.sddcto,
            sa.func.max(f4211.c.sdtrdj).label("trdj"), sa.func.min(f4211.c.sdan8).label("an8"),
            sa.func.min(f4211.c.sdshan).label("shan"), sa.func.count().label("lines"),
            sa.func.sum(f4211.c.sdaexp).label("aexp"), sa.func.min(f4211.c.sdcrcd).label("crcd"),
            sa.func.min(f4211.c.sdnxtr).label("nxtr"),
        )
        .where(whose, f4211.c.sdnxtr != CLOSED_STATUS)
        .group_by(f4211.c.sdkcoo, f4211.c.sddoco, f4211.c.sddcto)
        .order_by(sa.func.max(f4211.c.sdtrdj).desc(), f4211.c.sddoco.desc())
        .limit(limit)
    ).all()
    return tuple(
        OpenOrder(company=trim(r.sdkcoo), number=r.sddoco, order_type=trim(r.sddcto), ordered_on=julian_to_date(r.trdj),
                  sold_to=r.an8, ship_to=r.shan, lines=r.lines, amount=from_implied(r.aexp, "AEXP", decimals),
                  currency=trim(r.crcd), status=trim(r.nxtr))
        for r in rows
    )


def _phones(jde: sa.Connection, *, tables: JdeTables, an8: int) -> tuple[str, ...]:
    f0115 = tables.F0115
    rows = jde.execute(
        sa.select(f0115.c.wpphtp, f0115.c.wpar1, f0115.c.wpph1)
        .where(f0115.c.wpan8 == an8, f0115.c.wpidln == 0).order_by(f0115.c.wprck7)
    ).all()
    out = []
    for kind, area, number in rows:
        text = " ".join(p for p in (f"({trim(area)})" if trim(area) else "", trim(number)) if p)
        out.append(f"{text} ({trim(kind).lower()})" if trim(kind) else text)
    return tuple(out)


def _emails(jde: sa.Connection, *, tables: JdeTables, an8: int) -> tuple[str, ...]:
    f01151 = tables.F01151
    rows = jde.execute(
        sa.select(f01151.c.eaemal)
        .where(f01151.c.eaan8 == an8, f01151.c.eaidln == 0, f01151.c.eaetp == "E").order_by(f01151.c.earck7)
    ).scalars().all()
    return tuple(trim(r) for r in rows if trim(r))


def _terms(jde: sa.Connection, *, tables: JdeTables, an8: int, company: str):
    """The F03012 row of the selling company, else the default company's."""
    f03012 = tables.F03012
    rows = {trim(r.aico): r for r in jde.execute(
        sa.select(f03012.c.aico, f03012.c.aiacl, f03012.c.aicrcd, f03012.c.aitrar, f03012.c.aihold)
        .where(f03012.c.aian8 == an8, in_values(f03012.c.aico, sorted({company, DEFAULT_COMPANY})))
    )}
    return rows.get(company.strip()) or rows.get(DEFAULT_COMPANY)


def _bare(an8: int, name: str) -> Address:
    return Address(an8=an8, name=name, lines=(), city="", state="", postal_code="", country="")
