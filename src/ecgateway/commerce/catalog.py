"""The catalog: items of the JDE item master with their price for the borrowed billing address.

One ERP call prices a whole page (never one call per item).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecgateway.commerce.carts import CartItem, PricedCart, account_of, price_items
from ecgateway.commerce.errors import Invalid
from ecgateway.erp.base import Erp
from ecgateway.jde.handle import Jde
from ecgateway.jde.items import search_items
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
    jde: Jde, erp: Erp, *, ctx: ActingContext, q: str | None = None, offset: int = 0, limit: int = PAGE_SIZE,
) -> CatalogPage:
    """Items whose 2nd item number or description contains q (any case), priced at quantity 1."""
    account_of(ctx)
    text = (q or "").strip()
    if len(text) > 60:
        raise Invalid("the search text is longer than 60 characters; search by item number or a word of the description",
                      field="q")
    if offset < 0 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"offset must be 0 or more and limit 1 to {MAX_PAGE_SIZE}", field="limit")
    items = search_items(jde, text=text, offset=offset, limit=limit + 1)
    has_more = len(items) > limit
    items = items[:limit]
    priced = price_items(jde, erp, ctx=ctx, items=[CartItem(i, 1) for i in items])
    return CatalogPage(priced=priced, q=text, offset=offset, limit=limit, has_more=has_more)
