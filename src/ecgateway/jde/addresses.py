"""The address book: an account's billing and shipping addresses (F0150, F03012) and each
number's name and postal address (F0101, F0116), as one Address type.

The portal's hierarchy: account -> billing addresses (F0150 children of the account,
AIBADT B or X) -> shipping addresses (F0150 children of a billing address with AIBADT S
or X, plus the billing address itself when its AIBADT is X). AIBADT is read from the
F03012 row of the company the portal sells from, falling back to company 00000.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ecgateway.db import in_values
from ecgateway.jde.conventions import trim
from ecgateway.jde.handle import DEFAULT_COMPANY, Jde
from ecgateway.jde.tables import JdeTables

BILL_TYPES = ("B", "X")
SHIP_TYPES = ("S", "X")


@dataclass(frozen=True)
class Address:
    """An address number as the pages show it. The billing/shipping lists fill name, city and
    billing_type (AIBADT); postal_addresses fills the postal lines (trimmed)."""

    an8: int
    name: str
    city: str = ""
    billing_type: str = ""  # AIBADT
    lines: tuple[str, ...] = ()
    state: str = ""
    postal_code: str = ""
    country: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.an8})" + (f", {self.city}" if self.city else "")

    @property
    def postal_block(self) -> tuple[str, ...]:
        """The postal address as printed on a label: street lines, then city, state and postal code, then country."""
        place = " ".join(p for p in (self.city + ("," if self.city and (self.state or self.postal_code) else ""),
                                     self.state, self.postal_code) if p)
        return tuple(p for p in (*self.lines, place, self.country) if p)

    @property
    def one_line(self) -> str:
        place = " ".join(p for p in (self.city, self.state, self.postal_code) if p)
        return ", ".join(p for p in (*self.lines, place, self.country) if p)


def billing_addresses(jde: Jde, *, account_an8: int) -> list[Address]:
    """The account's billing addresses (sold-to), in address-number order."""
    conn, tables = jde.conn, jde.tables
    children = _describe(conn, tables=tables, an8s=_children(conn, tables=tables, parent=account_an8), company=jde.company)
    return [a for a in children if a.billing_type in BILL_TYPES]


def shipping_addresses(jde: Jde, *, billing_an8: int) -> list[Address]:
    """The ship-to addresses a billing address may order for: its S/X children, and itself when X."""
    conn, tables = jde.conn, jde.tables
    own, *children = _describe(conn, tables=tables, an8s=[billing_an8, *_children(conn, tables=tables, parent=billing_an8)],
                               company=jde.company)
    ships = [a for a in children if a.billing_type in SHIP_TYPES]
    if own.billing_type == "X":
        ships.insert(0, own)
    return ships


def branch_of(jde: Jde, *, an8: int) -> str:
    """The business unit (F0101 ABMCU) an address buys from, unpadded."""
    tables = jde.tables
    value = jde.conn.scalar(sa.select(tables.F0101.c.abmcu).where(tables.F0101.c.aban8 == an8))
    return (value or "").strip()


def postal_addresses(jde: Jde, *, an8s: list[int]) -> dict[int, Address]:
    """Each number's name and current postal address (the F0116 row with the latest ALEFTB up to today)."""
    if not an8s:
        return {}
    f0101, f0116 = jde.tables.F0101, jde.tables.F0116
    dated = f0116.alias("dated")
    current = (
        sa.select(sa.func.max(dated.c.aleftb))
        .where(dated.c.alan8 == f0101.c.aban8, dated.c.aleftb <= jde.tables.today())
        .correlate(f0101)
        .scalar_subquery()
    )
    rows = jde.conn.execute(
        sa.select(f0101.c.aban8, f0101.c.abalph, f0116.c.aladd1, f0116.c.aladd2, f0116.c.aladd3, f0116.c.aladd4,
                  f0116.c.alcty1, f0116.c.aladds, f0116.c.aladdz, f0116.c.alctr)
        .select_from(f0101.outerjoin(f0116, sa.and_(f0116.c.alan8 == f0101.c.aban8, f0116.c.aleftb == current)))
        .where(in_values(f0101.c.aban8, sorted(set(an8s))))
    ).all()
    return {
        r.aban8: Address(
            an8=r.aban8, name=trim(r.abalph),
            lines=tuple(t for t in (trim(r.aladd1), trim(r.aladd2), trim(r.aladd3), trim(r.aladd4)) if t),
            city=trim(r.alcty1), state=trim(r.aladds), postal_code=trim(r.aladdz), country=trim(r.alctr),
        )
        for r in rows
    }


# --- helpers ----------------------------------------------------------------------------

def _children(conn: sa.Connection, *, tables: JdeTables, parent: int) -> list[int]:
    """Address numbers under parent in the default structure (blank MAOSTP), current today."""
    f0150 = tables.F0150
    today = tables.today()
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
    today = tables.today()
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
        .where(in_values(f0101.c.aban8, an8s))
    ).all()
    types: dict[int, dict[str, str]] = {}
    for an8, aico, badt in conn.execute(
        sa.select(f03012.c.aian8, f03012.c.aico, f03012.c.aibadt)
        .where(in_values(f03012.c.aian8, an8s), in_values(f03012.c.aico, sorted({company, DEFAULT_COMPANY})))
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
