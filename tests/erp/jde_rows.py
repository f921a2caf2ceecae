"""Targeted JDE rows that ERP tests add to a seeded database: customers, items, prices, schedules.

Every pricing row is written in JDE's real layout (F4106, F4070, F4071, F4072, F40941, F40942,
F4092, F0015: see jde/tables.py); the columns not named take JDE's blank or 0. The expected prices
worked out from these rows are beside the cases in test_local_pricing.py.
"""

from __future__ import annotations

import sqlalchemy as sa

from ecgateway.jde.tables import JdeTables

CURRENT = 120001  # 2020-01-01
NO_END = 140365
EXPIRED = (110001, 119365)
FUTURE = 131001
BEFORE_FUTURE = 130365  # 2030-12-31
TODAY = 126100  # the tests price "today" as 2026-04-10

ITEM = "TST-PRICE-1"  # no item price group
ITEM_ITM = 99001
ONLY_OLD_AND_NEW = "TST-PRICE-2"  # only an expired and a future price: no price today
DECIMALS_ITEM = "TST-PRICE-3"  # 12.3456
NO_UOM_ITEM = "TST-PRICE-4"  # only a CS price for a primary unit EA
GROUP_ONLY = "TST-PRICE-5"  # item group TSTGRP, no item-level price
GROUPED = "TST-PRICE-6"  # item group TSTGRP, with item-level prices too
OVERLAP = "TST-PRICE-7"  # two item-level prices effective today, their dates overlapping
DOMESTIC_ONLY = "TST-PRICE-8"  # a USD price only
COMPLEX_ITEM = "TST-PRICE-9"  # item group TSTCPLX, defined by category codes
SAME_EXPIRY = "TST-PRICE-10"  # two prices effective today that expire the same day

ITEM_GROUP, ITEM_GROUP_ID = "TSTGRP", 990
COMPLEX_ITEM_GROUP = "TSTCPLX"
WHOLESAL = 1  # the generator's F40942 key ID of WHOLESAL
SCHEDULE = "TSTSCHED"
HIERARCHY = "EC"  # F4071 ATPRFR of the adjustments above: the code the default setting describes
# THIER (ATPRFR "TA") and THIER2 (ATPRFR "TB") have the same details, at three levels, for ITEM (see below).
HIER_SCHEDULE, HIER_TWO_SCHEDULE = "TSTHIER", "TSTHIER2"

# Customers (F03012 rows only: pricing needs nothing else): name -> (an8, price group, schedule, currency)
CUSTOMERS = {
    "plain": (900001, "", "", "USD"),
    "own_price": (900002, "", "", "USD"),
    "group": (900003, "WHOLESAL", "", "USD"),
    "group_adj": (900004, "WHOLESAL", SCHEDULE, "USD"),
    "own_adj": (900005, "WHOLESAL", SCHEDULE, "USD"),
    "canadian": (900006, "", "", "CAD"),
    "two_companies": (900007, "", "", "USD"),  # plus a CAD row for company 00200
    "own_price_grouped": (900008, "WHOLESAL", "", "USD"),  # has both a group and an own price
    "complex_group": (900009, "TSTREGN", "", "USD"),  # a group defined by category codes
    "unkeyed_group": (900010, "TSTNOKEY", "", "USD"),  # a group with no F40942 key ID
    "hier": (900011, "WHOLESAL", HIER_SCHEDULE, "USD"),  # THIER only
    "hier_two": (900012, "WHOLESAL", HIER_TWO_SCHEDULE, "USD"),  # THIER then THIER2
}

# Schedules of one adjustment each that the local pricer must refuse: adjustment -> (F4071 columns,
# F4070 columns, F4072 detail columns or None for no detail). The customers are 900101.. in this order.
REFUSED = {
    "TORDER": (dict(atolvl="2"), {}, {}),
    "TWEIGHT": (dict(atlbt="2"), {}, {}),
    "TLINE": (dict(atlnty="S"), {}, {}),
    "TACCRUAL": (dict(atacnt="4"), {}, {}),
    "TBASED": (dict(atabas="1"), {}, {}),
    "TMINMAX": (dict(atmnmxaj="1"), {}, {}),
    "TEXCL": (dict(atmeadj="1"), {}, {}),
    "TSKIP": ({}, dict(snskipto=99), {}),
    "TFREE": ({}, {}, dict(adfgy="Y")),
    "TODG": ({}, {}, dict(adogid=7)),
    "TFVUM": ({}, {}, dict(adfvum="CS")),
    "TCOST": ({}, {}, dict(adbscd="3")),
    "TCOSTADD": ({}, {}, dict(adbscd="4")),
    "TVAR": ({}, {}, dict(adbscd="6")),
    "TFORMULA": ({}, {}, dict(adbscd="7")),
    "TCUSTOM": ({}, {}, dict(adbscd="8")),
    "TBASIS9": ({}, {}, dict(adbscd="9")),
    "TNEWBASE": ({}, dict(snstprcf="1"), dict(adbscd="0")),
    "TUNIT": ({}, {}, dict(aduom="BX")),
    "TMAND": (dict(atmded="Y"), {}, None),
    "TNODEF": (None, {}, {}),
    "TBELOW": ({}, {}, dict(adbscd="5", adfvtr=-2_000_000)),  # -200.0000 from a 100.0000 price
    "TNOHIER": (dict(atprfr="ZZ"), {}, {}),  # a preference hierarchy the setting does not describe
    "TBLANKPR": (dict(atprfr=""), {}, {}),  # no preference hierarchy named
}


def refused_an8(adjustment: str) -> int:
    return 900101 + list(REFUSED).index(adjustment)


def an8(name: str) -> int:
    return CUSTOMERS[name][0]


def add_pricing_rows(engine: sa.Engine, t: JdeTables) -> None:
    """Insert the customers, items, price groups, prices and schedules the pricing cases expect."""
    customers = [dict(aian8=a, aico="00000", aicrcd=cur, aicpgp=grp, aiasn=sched, aibadt="B")
                 for a, grp, sched, cur in CUSTOMERS.values()]
    customers.append(dict(aian8=an8("two_companies"), aico="00200", aicrcd="CAD", aicpgp="", aiasn="", aibadt="B"))
    customers += [dict(aian8=refused_an8(name), aico="00000", aicrcd="USD", aicpgp="", aiasn="S" + name[1:],
                       aibadt="B") for name in REFUSED]

    def item(n, litm, description, group="", uom="EA"):
        return dict(imitm=ITEM_ITM + n, imlitm=litm, imdsc1=description, imuom1=uom, imprgr=group)

    items = [
        item(0, ITEM, "Test Widget"), item(1, ONLY_OLD_AND_NEW, "Old And New"), item(2, DECIMALS_ITEM, "Odd Price"),
        item(3, NO_UOM_ITEM, "Case Only"), item(4, GROUP_ONLY, "Group Only", ITEM_GROUP),
        item(5, GROUPED, "Grouped", ITEM_GROUP), item(6, OVERLAP, "Overlap"), item(7, DOMESTIC_ONLY, "Dollars Only"),
        item(8, COMPLEX_ITEM, "Complex Group", COMPLEX_ITEM_GROUP), item(9, SAME_EXPIRY, "Same Expiry"),
    ]
    groups = [
        dict(gpgpty="I", gpgpc=ITEM_GROUP, gpdl01="Test item group"),
        dict(gpgpty="I", gpgpc=COMPLEX_ITEM_GROUP, gpdl01="By category", gpgpk1="SRP1"),
        dict(gpgpty="C", gpgpc="TSTREGN", gpdl01="By region", gpgpk1="AC01"),
        dict(gpgpty="C", gpgpc="TSTNOKEY", gpdl01="Never generated"),
    ]
    item_keys = [dict(ikprgr=ITEM_GROUP, ikigid=ITEM_GROUP_ID),
                 dict(ikprgr=COMPLEX_ITEM_GROUP, ikigp1="A", ikigid=991),
                 dict(ikprgr=COMPLEX_ITEM_GROUP, ikigp1="B", ikigid=992)]
    customer_keys = [dict(ckcpgp="TSTREGN", ckcgp1="NTH", ckcgid=993), dict(ckcpgp="TSTREGN", ckcgp1="STH", ckcgid=994)]

    def bp(n, price, *, eftj=CURRENT, exdj=NO_END, an8_=0, cgid=0, igid=0, crcd="USD", branch="", uom="EA",
           litm="", upmj=CURRENT):
        return dict(bpitm=ITEM_ITM + n if n is not None else 0, bplitm=litm, bpmcu=branch, bpan8=an8_, bpcgid=cgid,
                    bpigid=igid, bpcrcd=crcd, bpuom=uom, bpuprc=price, bpeftj=eftj, bpexdj=exdj, bpupmj=upmj)

    prices = [
        bp(0, 1_000_000, exdj=BEFORE_FUTURE),  # 100.0000 item level, until the future price
        bp(0, 970_000, branch="30"),  # 97.0000 item level, branch 30
        bp(0, 500_000, eftj=EXPIRED[0], exdj=EXPIRED[1]),  # expired, cheaper
        bp(0, 2_000_000, eftj=FUTURE),  # future, dearer
        bp(0, 1_300_000, crcd="CAD"),  # 130.0000 CAD
        bp(0, 900_000, cgid=WHOLESAL),  # 90.0000 customer group WHOLESAL
        bp(0, 750_000, an8_=an8("own_price")),  # 75.0000 customer-specific
        bp(0, 740_000, an8_=an8("own_price_grouped")),  # 74.0000 customer-specific
        bp(0, 600_000, an8_=an8("own_price"), eftj=EXPIRED[0], exdj=EXPIRED[1]),  # expired own
        bp(0, 10_000_000, uom="BX"),  # 1,000.0000 a box
        bp(1, 100_000, eftj=EXPIRED[0], exdj=EXPIRED[1]),
        bp(1, 100_000, eftj=FUTURE),
        bp(2, 123_456),  # 12.3456
        bp(3, 50_000, uom="CS"),
        # item group TSTGRP: item group + customer group 88, item group + all customers 95 (and 125 CAD)
        bp(None, 880_000, igid=ITEM_GROUP_ID, cgid=WHOLESAL),
        bp(None, 950_000, igid=ITEM_GROUP_ID),
        bp(None, 1_250_000, igid=ITEM_GROUP_ID, crcd="CAD"),
        bp(5, 1_000_000), bp(5, 900_000, cgid=WHOLESAL), bp(5, 800_000, an8_=an8("group")),  # GROUPED's own rows
        bp(6, 1_000_000), bp(6, 1_100_000, eftj=125001, exdj=135365),  # OVERLAP: both effective today
        bp(7, 100_000),  # DOMESTIC_ONLY: 10.0000 USD
        bp(8, 100_000),
        # SAME_EXPIRY: same key but the update date (BPUPMJ), both to 2035-12-31, 100 and 110
        bp(9, 1_000_000, exdj=135365), bp(9, 1_100_000, eftj=125001, exdj=135365, upmj=125001),
    ]

    # TSTSCHED, in sequence: 10 TBREAK (basis 1 breaks), 20 TNET (basis 2 from 100), 30 TADD (basis 5 for
    # all items of WHOLESAL), 40 TGONE (an expired schedule line that must not apply).
    schedule = [
        dict(snasn=SCHEDULE, snoseq=10, snast="TBREAK", sneftj=CURRENT, snexdj=NO_END),
        dict(snasn=SCHEDULE, snoseq=20, snast="TNET", sneftj=CURRENT, snexdj=NO_END),
        dict(snasn=SCHEDULE, snoseq=30, snast="TADD", sneftj=CURRENT, snexdj=NO_END),
        dict(snasn=SCHEDULE, snoseq=40, snast="TGONE", sneftj=EXPIRED[0], snexdj=EXPIRED[1]),
    ]
    definitions = [dict(atast=name, atlbt="1", atolvl="1", atprfr=HIERARCHY)
                   for name in ("TBREAK", "TNET", "TADD", "TGONE")]

    def ad(name, mnq, basis, factor, *, n=0, an8_=0, cgid=0, exdj=NO_END, uom="EA", **more):
        return dict(adast=name, aditm=ITEM_ITM + n if n is not None else 0, adan8=an8_, adcgid=cgid, adcrcd="USD",
                    aduom=uom, admnq=mnq, adbscd=basis, adfvtr=factor, adeftj=CURRENT, adexdj=exdj,
                    adupmj=CURRENT, **more)

    details = [
        ad("TBREAK", 0, "1", -20_000, cgid=WHOLESAL),  # WHOLESAL: 2% of the base off from 0
        ad("TBREAK", 10, "1", -50_000, cgid=WHOLESAL),  # 5% off from 10
        ad("TBREAK", 1000, "1", -900_000, cgid=WHOLESAL, exdj=EXPIRED[1]),  # an expired 90% off from 1000
        ad("TBREAK", 0, "1", -100_000, an8_=an8("own_adj")),  # own_adj's own: 10% off
        ad("TBREAK", 0, "1", -50_000, n=2, cgid=WHOLESAL),  # 5% off the odd price
        ad("TNET", 100, "2", -100_000),  # item level, all customers: 10% off the current price from 100
        ad("TADD", 0, "5", 15_000, n=None, cgid=WHOLESAL),  # all items, WHOLESAL: +1.5000
        ad("TADD", 0, "5", 15_000, n=None, cgid=WHOLESAL, uom="BX"),
        ad("TGONE", 0, "1", -500_000, n=None),  # would halve every price if its schedule line applied
    ]
    for name, (definition, line, detail) in REFUSED.items():
        schedule.append(dict(snasn="S" + name[1:], snoseq=10, snast=name, sneftj=CURRENT, snexdj=NO_END, **line))
        if definition is not None:
            definitions.append({**dict(atast=name, atlbt="1", atolvl="1", atprfr=HIERARCHY), **definition})
        if detail is not None:
            details.append({**ad(name, 0, "1", -10_000), **detail})  # 1% of the base off, as changed
    # TSTHIER: 10 THIER; TSTHIER2: 10 THIER, 20 THIER2. Each has, for ITEM in EA from quantity 0: item +
    # customer group WHOLESAL -10% of the base, all items + all customers -1% of the base, and item + the
    # customer itself +2.0000: which one applies is decided by its hierarchy alone.
    schedule += [dict(snasn=HIER_SCHEDULE, snoseq=10, snast="THIER", sneftj=CURRENT, snexdj=NO_END),
                 dict(snasn=HIER_TWO_SCHEDULE, snoseq=10, snast="THIER", sneftj=CURRENT, snexdj=NO_END),
                 dict(snasn=HIER_TWO_SCHEDULE, snoseq=20, snast="THIER2", sneftj=CURRENT, snexdj=NO_END)]
    definitions += [dict(atast="THIER", atlbt="1", atolvl="1", atprfr="TA"),
                    dict(atast="THIER2", atlbt="1", atolvl="1", atprfr="TB")]
    for name in ("THIER", "THIER2"):
        details += [ad(name, 0, "1", -100_000, cgid=WHOLESAL), ad(name, 0, "1", -10_000, n=None),
                    ad(name, 0, "5", 20_000, an8_=an8("hier")), ad(name, 0, "5", 20_000, an8_=an8("hier_two"))]
    # F0015 exchange rates to USD, for DOMESTIC_ONLY (10.0000 USD); the prices they give are worked
    # out in test_local_pricing.py (RATE_CASES).
    def cx(foreign, method, multiplier, divisor, *, eft=125001, an8_=0, domestic="USD", **more):
        return dict(dict(cxcrcd=foreign, cxcrdc=domestic, cxan8=an8_, cxrttyp="", cxeft=eft, cxcrcm=method,
                         cxcrr=multiplier, cxcrrd=divisor), **more)

    rates = [
        cx("CAD", "Z", 7_407_407, 13_500_000),  # divisor 1.35, effective 2025-01-01: the latest
        cx("CAD", "Z", 8_333_333, 12_000_000, eft=CURRENT),  # older
        cx("CAD", "Z", 6_666_667, 15_000_000, eft=127001),  # 2027: not yet
        cx("EUR", "Y", 12_500_000, 8_000_000),  # multiplier 1.25
        cx("AUD", "Y", 15_000_000, 6_666_667),  # multiplier 1.5: 6.66666.. rounds to 6.6667
        cx("GBP", "Z", 12_500_000, 8_000_000),  # all addresses: divisor 0.8
        cx("GBP", "Z", 13_333_333, 7_500_000, an8_=an8("plain")),  # plain's contract rate: divisor 0.75
        cx("JPY", "Z", 0, 1_500_000_000, cxrttyp="R"),  # another rate type only
        cx("JPY", "Z", 0, 1_500_000_000, eft=127001),  # and a standard one not yet effective
        cx("USD", "Y", 1_000_000, 10_000_000, domestic="MXN"),  # only from USD to MXN
        cx("SEK", "Y", 1_000_000, 0, cxclmeth="3", cxtrcr="EUR"),  # triangulated through EUR
        cx("NOK", "", 1_000_000, 10_000_000),  # no conversion method: General Accounting Constants'
    ]
    with engine.begin() as conn:
        conn.execute(t.F0015.insert(), _same_keys(t.F0015, rates))
        for table, values in ((t.F03012, customers), (t.F4101, items), (t.F4092, groups), (t.F40941, item_keys),
                              (t.F40942, customer_keys), (t.F4106, prices), (t.F4070, schedule),
                              (t.F4071, definitions), (t.F4072, details)):
            conn.execute(table.insert(), _same_keys(table, values))


def _same_keys(table: sa.Table, values: list[dict]) -> list[dict]:
    """Every row with every column named: an executemany takes its columns from the first row only."""
    names = {name for row in values for name in row}
    defaults = {c.name: c.default.arg for c in table.columns if c.name in names and c.default is not None}
    return [{**defaults, **row} for row in values]
