"""Billing and shipping addresses of an account, read from F0150 and F03012.

The portal's hierarchy: account -> billing addresses (F0150 children of the account,
AIBADT B or X) -> shipping addresses (F0150 children of a billing address with AIBADT S
or X, plus the billing address itself when its AIBADT is X). AIBADT is read from the
F03012 row of the company the portal sells from, falling back to company 00000.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ecgateway.jde.conventions import today_julian
from ecgateway.jde.tables import JdeTables

DEFAULT_COMPANY = "00000"
BILL_TYPES = ("B", "X")
SHIP_TYPES = ("S", "X")


@dataclass(frozen=True)
class Address:
    an8: int
    name: str
    city: str
    billing_type: str  # AIBADT

    @property
    def label(self) -> str:
        return f"{self.name} ({self.an8})" + (f", {self.city}" if self.city else "")


def billing_addresses(conn: sa.Connection, *, tables: JdeTables, account_an8: int, company: str) -> list[Address]:
    """The account's billing addresses (sold-to), in address-number order."""
    children = _describe(conn, tables=tables, an8s=_children(conn, tables=tables, parent=account_an8), company=company)
    return [a for a in children if a.billing_type in BILL_TYPES]


def shipping_addresses(conn: sa.Connection, *, tables: JdeTables, billing_an8: int, company: str) -> list[Address]:
    """The ship-to addresses a billing address may order for: its S/X children, and itself when X."""
    own, *children = _describe(conn, tables=tables, an8s=[billing_an8, *_children(conn, tables=tables, parent=billing_an8)],
                               company=company)
    ships = [a for a in children if a.billing_type in SHIP_TYPES]
    if own.billing_type == "X":
        ships.insert(0, own)
    return ships


def branch_of(conn: sa.Connection, *, tables: JdeTables, an8: int) -> str:
    """The business unit (F0101 ABMCU) an address buys from, unpadded."""
    value = conn.scalar(sa.select(tables.F0101.c.abmcu).where(tables.F0101.c.aban8 == an8))
    return (value or "").strip()


# --- helpers ----------------------------------------------------------------------------

def _children(conn: sa.Connection, *, tables: JdeTables, parent: int) -> list[int]:
    """Address numbers under parent in the default structure (blank MAOSTP), current today."""
    f0150 = tables.F0150
    today = today_julian()
    return list(conn.execute(
        sa.select(f0150.c.maan8)
        .where(f0150.c.maostp == " ", f0150.c.mapa8 == parent,
               sa.or_(f0150.c.maeefd == 0, f0150.c.maeefd >= today))
        .order_by(f0150.c.maan8)
    ).scalars())


def _describe(conn: sa.Connection, *, tables: JdeTables, an8s: list[int], company: str) -> list[Address]:
    """Name, current city and billing type of each address number, in the order given."""
    if not an8s:
        return []
    f0101, f0116, f03012 = tables.F0101, tables.F0116, tables.F03012
    today = today_julian()
    dated = f0116.alias("dated")
    current = (  # the postal address in force today: the latest ALEFTB on or before it
        sa.select(sa.func.max(dated.c.aleftb))
        .where(dated.c.alan8 == f0101.c.aban8, dated.c.aleftb <= today)
        .correlate(f0101)
        .scalar_subquery()
    )
    names = conn.execute(
        sa.select(f0101.c.aban8, f0101.c.abalph, f0116.c.alcty1)
        .select_from(f0101.outerjoin(f0116, sa.and_(f0116.c.alan8 == f0101.c.aban8, f0116.c.aleftb == current)))
        .where(f0101.c.aban8.in_(an8s))
    ).all()
    types: dict[int, dict[str, str]] = {}
    for an8, aico, badt in conn.execute(
        sa.select(f03012.c.aian8, f03012.c.aico, f03012.c.aibadt)
        .where(f03012.c.aian8.in_(an8s), f03012.c.aico.in_(sorted({company, DEFAULT_COMPANY})))
    ):
        types.setdefault(an8, {})[aico] = badt
    by_an8 = {an8: (name or "", city or "") for an8, name, city in names}
    out = []
    for an8 in an8s:
        rows = types.get(an8, {})
        badt = rows.get(company, rows.get(DEFAULT_COMPANY, ""))
        name, city = by_an8.get(an8, ("", ""))
        out.append(Address(an8=an8, name=name, city=city, billing_type=badt))
    return out
