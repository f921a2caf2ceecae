"""Targeted JDE rows that ERP tests add to a seeded database: customers, an item, its prices."""

from __future__ import annotations

import sqlalchemy as sa

from ecgateway.jde.tables import JdeTables

CURRENT = 120001  # 2020-01-01
NO_END = 140365
EXPIRED = (110001, 119365)
FUTURE = 131001
TODAY = 126100  # the tests price "today" as 2026-04-10

ITEM = "TST-PRICE-1"
ITEM_ITM = 99001
ONLY_OLD_AND_NEW = "TST-PRICE-2"  # only an expired and a future price: no price today
DECIMALS_ITEM = "TST-PRICE-3"  # 12.3456
NO_UOM_ITEM = "TST-PRICE-4"  # only a CS price for a primary unit EA

# Customers (F03012 rows only: pricing needs nothing else): name -> (an8, price group, schedule, currency)
CUSTOMERS = {
    "plain": (900001, "", "", "USD"),
    "own_price": (900002, "", "", "USD"),
    "group": (900003, "WHOLESAL", "", "USD"),
    "group_adj": (900004, "WHOLESAL", "PORTAL", "USD"),
    "own_adj": (900005, "WHOLESAL", "PORTAL", "USD"),
    "canadian": (900006, "", "", "CAD"),
    "two_companies": (900007, "", "", "USD"),  # plus a CAD row for company 00200
    "own_price_grouped": (900008, "WHOLESAL", "", "USD"),  # has both a group and an own price
}
WHOLESAL = 1


def an8(name: str) -> int:
    return CUSTOMERS[name][0]


def add_pricing_rows(engine: sa.Engine, t: JdeTables) -> None:
    """Insert the customers, items and prices the pricing cases expect."""
    customers = [dict(aian8=a, aico="00000", aicrcd=cur, aicpgp=grp, aiasn=sched, aibadt="B")
                 for a, grp, sched, cur in CUSTOMERS.values()]
    customers.append(dict(aian8=an8("two_companies"), aico="00200", aicrcd="CAD", aicpgp="", aiasn="", aibadt="B"))
    items = [
        dict(imitm=ITEM_ITM, imlitm=ITEM, imdsc1="Test Widget", imuom1="EA", imprgr="TOOLS"),
        dict(imitm=ITEM_ITM + 1, imlitm=ONLY_OLD_AND_NEW, imdsc1="Old And New", imuom1="EA", imprgr=""),
        dict(imitm=ITEM_ITM + 2, imlitm=DECIMALS_ITEM, imdsc1="Odd Price", imuom1="EA", imprgr=""),
        dict(imitm=ITEM_ITM + 3, imlitm=NO_UOM_ITEM, imdsc1="Case Only", imuom1="EA", imprgr=""),
    ]

    def bp(itm, litm, price, *, eftj=CURRENT, exdj=NO_END, an8_=0, cgid=0, crcd="USD", branch="", uom="EA"):
        return dict(bpitm=itm, bplitm=litm, bpmcu=branch, bpan8=an8_, bpcgid=cgid, bpcrcd=crcd, bpuom=uom,
                    bpuprc=price, bpeftj=eftj, bpexdj=exdj)

    prices = [
        bp(ITEM_ITM, ITEM, 1_000_000, exdj=FUTURE - 1),  # 100.0000 item level, until the future price
        bp(ITEM_ITM, ITEM, 970_000, branch="30"),  # 97.0000 item level, branch 30
        bp(ITEM_ITM, ITEM, 500_000, eftj=EXPIRED[0], exdj=EXPIRED[1]),  # expired, cheaper
        bp(ITEM_ITM, ITEM, 2_000_000, eftj=FUTURE),  # future, dearer
        bp(ITEM_ITM, ITEM, 1_300_000, crcd="CAD"),  # 130.0000 CAD
        bp(ITEM_ITM, ITEM, 900_000, cgid=WHOLESAL),  # 90.0000 price group WHOLESAL
        bp(ITEM_ITM, ITEM, 750_000, an8_=an8("own_price")),  # 75.0000 customer-specific
        bp(ITEM_ITM, ITEM, 740_000, an8_=an8("own_price_grouped")),  # 74.0000 customer-specific
        bp(ITEM_ITM, ITEM, 600_000, an8_=an8("own_price"), eftj=EXPIRED[0], exdj=EXPIRED[1]),  # expired own
        bp(ITEM_ITM, ITEM, 10_000_000, uom="BX"),  # 1,000.0000 a box
        bp(ITEM_ITM + 1, ONLY_OLD_AND_NEW, 100_000, eftj=EXPIRED[0], exdj=EXPIRED[1]),
        bp(ITEM_ITM + 1, ONLY_OLD_AND_NEW, 100_000, eftj=FUTURE),
        bp(ITEM_ITM + 2, DECIMALS_ITEM, 123_456),  # 12.3456
        bp(ITEM_ITM + 3, NO_UOM_ITEM, 50_000, uom="CS"),
    ]

    def ad(mnq, basis, factor, *, an8_=0, cgid=WHOLESAL, itm=ITEM_ITM, exdj=NO_END):
        return dict(adast="PORTAL", aditm=itm, adan8=an8_, adcgid=cgid, adcrcd="USD", aduom="EA", admnq=mnq,
                    adbscd=basis, adfvtr=factor, adeftj=CURRENT, adexdj=exdj)

    adjustments = [
        ad(0, "1", -20_000),  # WHOLESAL: 2% off from 1
        ad(10, "1", -50_000),  # 5% off from 10
        ad(100, "5", 800_000),  # a fixed 80.0000 from 100
        ad(0, "1", -100_000, an8_=an8("own_adj"), cgid=0),  # own_adj's own: 10% off
        ad(0, "1", -50_000, itm=ITEM_ITM + 2),  # 5% off the odd price
        ad(1000, "1", -900_000, exdj=EXPIRED[1]),  # an expired 90% off from 1000
    ]
    with engine.begin() as conn:
        conn.execute(t.F03012.insert(), customers)
        conn.execute(t.F4101.insert(), items)
        conn.execute(t.F4106.insert(), prices)
        conn.execute(t.F4072.insert(), adjustments)
