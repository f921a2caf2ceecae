"""Items of the JDE item master (F4101), by 2nd item number (IMLITM)."""

from __future__ import annotations

import sqlalchemy as sa

from ecgateway.jde.handle import Jde


def find_item(jde: Jde, *, item: str) -> str | None:
    """The item master's own spelling of a 2nd item number, or None when F4101 has no such item."""
    f4101 = jde.tables.F4101
    return jde.conn.scalar(sa.select(f4101.c.imlitm).where(f4101.c.imlitm == item))


def search_items(jde: Jde, *, text: str, offset: int, limit: int) -> list[str]:
    """2nd item numbers whose number or description contains text (any case), in number order."""
    f4101 = jde.tables.F4101
    stmt = sa.select(f4101.c.imlitm)
    if text:
        needle = text.upper()
        stmt = stmt.where(sa.or_(
            sa.func.upper(f4101.c.imlitm).contains(needle, autoescape=True),
            sa.func.upper(f4101.c.imdsc1).contains(needle, autoescape=True),
        ))
    return list(jde.conn.execute(stmt.order_by(f4101.c.imlitm).offset(offset).limit(limit)).scalars())
