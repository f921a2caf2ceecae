"""One address book row's name and a code of it (F0101), e.g. the customer class a setting names."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ecgateway.jde.handle import Jde


@dataclass(frozen=True)
class PartyCode:
    an8: int
    name: str  # ABALPH
    code: str  # the named column, trimmed (JDE pads with blanks)


def party_code(jde: Jde, *, an8: int, column: str) -> PartyCode | None:
    """ABALPH and the F0101 column `column` (abat1, abac01..abac10) of an8; None when there is no row."""
    f0101 = jde.tables.F0101
    row = jde.conn.execute(sa.select(f0101.c.abalph, f0101.c[column]).where(f0101.c.aban8 == an8)).first()
    if row is None:
        return None
    return PartyCode(an8=an8, name=(row[0] or "").strip(), code=(row[1] or "").strip())
