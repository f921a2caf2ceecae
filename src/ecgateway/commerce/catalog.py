"""The catalog: items of the JDE item master with their price for the borrowed billing address.

One ERP call prices a whole page (never one call per item).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ecgateway.commerce.carts import CartItem, PricedCart, account_of, price_items
from ecgateway.commerce.errors import Invalid
from ecgateway.erp.base import Erp
from ecgateway.jde.tables import JdeTables
from ecgateway.obo.context import ActingContext

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class CatalogPage:
    priced: PricedCart  # one priced line (quantity 1) per item of the page
    q: str
    offset: int
    limit: int
    has_more: bool


def catalog_page(
    jde_conn: sa.Connection, erp: Erp, *, tables: JdeTables, company: str, ctx: ActingContext,
    q: str | None = None, offset: int = 0, limit: int = PAGE_SIZE,
) -> CatalogPage:
    """Items whose 2nd item number or description contains q (any case), priced at quantity 1."""
    account_of(ctx)
    text = (q or "").strip()
    if len(text) > 60:
        raise Invalid("the search text is longer than 60 characters; search by item number or a word of the description",
                      field="q")
    if offset < 0 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"offset must be 0 or more and limit 1 to {MAX_PAGE_SIZE}", field="limit")
    f4101 = tables.F4101
    stmt = sa.select(f4101.c.imlitm)
    if text:
        needle = text.upper()
        stmt = stmt.where(sa.or_(
            sa.func.upper(f4101.c.imlitm).contains(needle, autoescape=True),
            sa.func.upper(f4101.c.imdsc1).contains(needle, autoescape=True),
        ))
    items = list(jde_conn.execute(stmt.order_by(f4101.c.imlitm).offset(offset).limit(limit + 1)).scalars())
    has_more = len(items) > limit
    items = items[:limit]
    priced = price_items(jde_conn, erp, tables=tables, company=company, ctx=ctx,
                         items=[CartItem(i, 1) for i in items])
    return CatalogPage(priced=priced, q=text, offset=offset, limit=limit, has_more=has_more)
