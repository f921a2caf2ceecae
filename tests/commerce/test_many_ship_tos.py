"""An account with 1,500 shipping addresses: listed, priced and ordered, and no IN list Oracle refuses.

Oracle takes at most 1,000 expressions in one IN list (ORA-01795). SQLite and PostgreSQL take
more, so besides running on both, the statements are rendered for Oracle and their IN lists counted.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import oracle

from ecgateway.config import DEFAULT_DECIMALS, Settings
from ecgateway.db import IN_LIST_LIMIT, in_values
from ecgateway.erp import OrderLine, OrderSubmission, PriceRequest, PriceRequestLine
from ecgateway.erp.local import LocalErp
from ecgateway.jde.account_detail import read_account_detail
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from erp import jde_rows as rows

ACCOUNT, BILLING = 950_000, 950_001
SHIP_TOS = list(range(951_000, 952_500))  # 1,500


@pytest.fixture(scope="module")
def big_account(jde_db):
    t = jde_db.tables
    rows.add_pricing_rows(jde_db.engine, t)
    parties = [ACCOUNT, BILLING, *SHIP_TOS]
    with jde_db.engine.begin() as conn:
        conn.execute(t.F0101.insert(), [dict(aban8=n, abalph=f"Big Buyer {n}", abat1="C") for n in parties])
        conn.execute(t.F0116.insert(), [dict(alan8=n, aleftb=rows.CURRENT, alcty1="Omaha") for n in parties])
        conn.execute(t.F03012.insert(), [
            dict(aian8=n, aico="00000", aicrcd="USD", aibadt="B" if n == BILLING else "S" if n in SHIP_TOS else " ")
            for n in parties])
        conn.execute(t.F0150.insert(), [dict(maostp=" ", mapa8=ACCOUNT, maan8=BILLING)]
                     + [dict(maostp=" ", mapa8=BILLING, maan8=n) for n in SHIP_TOS])
    return jde_db


class OracleInLists:
    """Renders every statement a connection runs as Oracle would receive it and records its IN lists."""

    IN_LIST = re.compile(r"\bIN \(([^()]*)\)")

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.sizes: list[int] = []

    def __enter__(self):
        sa.event.listen(self.engine, "before_execute", self._record)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_execute", self._record)

    def _record(self, _conn, clauseelement, *_args, **_kw):
        if not isinstance(clauseelement, sa.sql.ClauseElement):
            return
        sql = str(clauseelement.compile(dialect=oracle.dialect(), compile_kwargs={"render_postcompile": True}))
        self.sizes += [body.count(",") + 1 for body in self.IN_LIST.findall(sql)]


def test_1500_ship_tos_are_listed_without_an_in_list_over_1000(big_account):
    db = big_account
    with OracleInLists(db.engine) as seen, db.engine.connect() as conn:
        [billing] = billing_addresses(Jde(conn, db.tables), account_an8=ACCOUNT)
        ships = shipping_addresses(Jde(conn, db.tables), billing_an8=BILLING)
        detail = read_account_detail(Jde(conn, db.tables, decimals=DEFAULT_DECIMALS), an8=ACCOUNT)
    assert billing.an8 == BILLING
    assert [s.an8 for s in ships] == SHIP_TOS
    assert len(detail.billing_address(BILLING).shipping) == 1500
    assert sum(seen.sizes) > 2 * IN_LIST_LIMIT  # the lists were sent...
    assert max(seen.sizes) <= IN_LIST_LIMIT  # ...split where Oracle needs it


def test_one_of_1500_ship_tos_is_priced_and_ordered(big_account, tmp_path):
    db = big_account
    erp = LocalErp(db.engine, db.tables, Settings(data_dir=tmp_path), today=lambda: rows.TODAY)
    with db.engine.connect() as conn:
        ships = shipping_addresses(Jde(conn, db.tables), billing_an8=BILLING)
    ship_to = ships[1400].an8
    priced = erp.price(PriceRequest(sold_to=BILLING, ship_to=ship_to, company="00000", branch="", currency=None,
                                    lines=(PriceRequestLine(rows.ITEM, 2),)))
    assert priced.lines[0].unit_price == Decimal("100")
    key = "big-" + uuid.uuid4().hex[:8]
    receipt = erp.submit_order(OrderSubmission(
        erp_key=key, sold_to=BILLING, ship_to=ship_to, parent=ACCOUNT, company="00000", branch="30",
        currency="USD", customer_po="BIG", placed_by="Rep <rep@example.com>",
        lines=(OrderLine(rows.ITEM, 2, "EA", priced.lines[0].unit_price),)))
    h = db.tables.F47011
    with db.engine.connect() as conn:
        stored = conn.execute(sa.select(h.c.syan8, h.c.syshan).where(h.c.syvr02 == key)).one()
    assert receipt.status == "queued" and tuple(stored) == (BILLING, ship_to)


@pytest.mark.parametrize(("count", "lists"), [(0, 1), (1, 1), (1000, 1), (1001, 2), (2500, 3)])
def test_in_values_splits_at_1000(count, lists):
    t = sa.table("f0101", sa.column("aban8", sa.Integer))
    sql = str(sa.select(t).where(in_values(t.c.aban8, range(count))).compile(
        dialect=oracle.dialect(), compile_kwargs={"render_postcompile": True}))
    found = OracleInLists.IN_LIST.findall(sql)
    assert len(found) == lists and all(body.count(",") + 1 <= IN_LIST_LIMIT for body in found)
    if count == 0:
        assert "1 != 1" in sql  # Oracle's empty IN: false, not ORA-00936
