"""Every query the local pricer runs, against tables in JDE's real shape (jde/layouts.py real_table).

The tables have exactly JDE's columns, every one NOT NULL with no default (on PostgreSQL in
schema proddta, as JDE's business data lives in one), so a query naming a column JDE does not
have fails here, as it would on a real JDE. The rows are one small price setup, written with
every column; the expected prices are worked out beside them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from databases import fresh_database
from ecgateway.config import Settings
from ecgateway.db import make_engine
from ecgateway.erp import PriceRequest, PriceRequestLine
from ecgateway.erp.local import LocalErp
from ecgateway.jde.layouts import DATE, TEXT, layout, real_table
from ecgateway.jde.tables import jde_tables

PRICING_TABLES = ("F03012", "F4101", "F4092", "F40941", "F40942", "F4106", "F4070", "F4071", "F4072", "F0015")
TODAY = 126100
SOLD_TO, OTHER, CANADIAN = 4242, 4343, 4444


@pytest.fixture(scope="module")
def real_erp(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real")
    with fresh_database(backend, tmp, "real") as url:
        schema = "proddta" if backend == "postgresql" else None
        engine = make_engine(url, jde=True)
        if schema:
            with engine.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        md = sa.MetaData(schema=schema)
        real = {name: real_table(md, name) for name in PRICING_TABLES}
        md.create_all(engine)
        with engine.begin() as conn:
            for name, values in _rows().items():
                conn.execute(real[name].insert(), [_full_row(name, row) for row in values])
        tables = dataclasses.replace(jde_tables(schema), **real)
        yield LocalErp(engine, tables, Settings(data_dir=tmp), today=lambda: TODAY)
        engine.dispose()


def _full_row(table: str, values: dict) -> dict:
    """A row naming every real column: JDE's blank and 0 for those the case does not set."""
    row = {}
    for col in layout(table):
        name = col.name.lower()
        blank = " " if col.kind == TEXT else dt.datetime(1900, 1, 1) if col.kind == DATE else 0
        row[name] = values.get(name, blank)
    unknown = set(values) - set(row)
    assert not unknown, f"{table} has no columns {unknown}"
    return row


def _rows() -> dict[str, list[dict]]:
    return {
        "F03012": [dict(aian8=SOLD_TO, aico="00000", aicrcd="USD", aicpgp="DEALER", aiasn="WEB"),
                   dict(aian8=OTHER, aico="00000", aicrcd="USD", aicpgp="", aiasn=""),
                   dict(aian8=CANADIAN, aico="00000", aicrcd="CAD", aicpgp="", aiasn="")],
        "F4101": [dict(imitm=1, imlitm="BOLT", imdsc1="Bolt", imuom1="EA", imprgr="HARDWARE"),
                  dict(imitm=2, imlitm="NUT", imdsc1="Nut", imuom1="EA", imprgr=""),
                  dict(imitm=3, imlitm="GIFT", imdsc1="Gift", imuom1="EA", imprgr="")],
        "F4092": [dict(gpgpty="C", gpgpc="DEALER", gpdl01="Dealers"), dict(gpgpty="I", gpgpc="HARDWARE")],
        "F40942": [dict(ckcpgp="DEALER", ckcgid=51)],
        "F40941": [dict(ikprgr="HARDWARE", ikigid=61)],
        "F4106": [
            dict(bpitm=0, bpigid=61, bpcgid=51, bpcrcd="USD", bpuom="EA", bpuprc=200_000, bpeftj=120001,
                 bpexdj=140365),  # BOLT: item group HARDWARE + customer group DEALER, 20.0000
            dict(bpitm=1, bplitm="BOLT", bpcrcd="USD", bpuom="EA", bpuprc=250_000, bpeftj=120001,
                 bpexdj=140365),  # BOLT: item, all customers, 25.0000 (level 6: not reached for DEALER)
            dict(bpitm=2, bplitm="NUT", bpcrcd="USD", bpuom="EA", bpuprc=10_000, bpeftj=120001, bpexdj=140365),
            dict(bpitm=3, bplitm="GIFT", bpcrcd="USD", bpuom="EA", bpuprc=10_000, bpeftj=120001, bpexdj=140365),
        ],
        "F4070": [dict(snasn="WEB", snoseq=10, snast="WEBOFF", sneftj=120001, snexdj=140365),
                  dict(snasn="WEB", snoseq=20, snast="WEBFEE", sneftj=120001, snexdj=140365)],
        # ATPRFR EC: the default ECGW_ADJUSTMENT_HIERARCHIES's code (item levels, then all items)
        "F4071": [dict(atast="WEBOFF", atlbt="1", atolvl="1", atprfr="EC"),
                  dict(atast="WEBFEE", atlbt="1", atolvl="1", atprfr="EC")],
        "F4072": [
            # WEBOFF, item group HARDWARE + customer group DEALER: -10% of the base from 1 (basis 1)
            dict(adast="WEBOFF", adigid=61, adcgid=51, adcrcd="USD", aduom="EA", admnq=1, adbscd="1",
                 adfvtr=-100_000, adeftj=120001, adexdj=140365),
            # WEBFEE, all items + customer group DEALER: +0.2500 (basis 5)
            dict(adast="WEBFEE", adcgid=51, adcrcd="USD", aduom="EA", admnq=0, adbscd="5", adfvtr=2_500,
                 adeftj=120001, adexdj=140365),
            # WEBOFF for GIFT: free goods, refused
            dict(adast="WEBOFF", aditm=3, adcgid=51, adcrcd="USD", aduom="EA", admnq=0, adbscd="1",
                 adfvtr=0, adfgy="Y", adeftj=120001, adexdj=140365),
        ],
        # CAD to USD, standard rate type, all addresses: divisor 1.35 since 2025-01-01 (1.20 before,
        # 1.50 from 2027); the price is the USD price x CXCRRD
        "F0015": [dict(cxcrcd="CAD", cxcrdc="USD", cxan8=0, cxrttyp=" ", cxeft=eft, cxclmeth="1", cxcrcm="Z",
                       cxcrr=multiplier, cxcrrd=divisor)
                  for eft, multiplier, divisor in ((120001, 8_333_333, 12_000_000), (125001, 7_407_407, 13_500_000),
                                                   (127001, 6_666_667, 15_000_000))],
    }


def test_domestic_price_converted_with_the_real_exchange_rate_columns(real_erp):
    request = PriceRequest(sold_to=CANADIAN, ship_to=CANADIAN, company="00000", branch="10", currency=None,
                           lines=(PriceRequestLine("NUT", 2),))
    line = real_erp.price(request).lines[0]
    # NUT: 1.0000 USD x 1.3500000 (the latest rate effective today) = 1.3500 CAD; 2 x 1.3500 = 2.70
    assert (line.unit_price, line.extended, line.currency) == (Decimal("1.3500"), Decimal("2.70"), "CAD")
    assert [s.what for s in line.explanation] == ["base price", "exchange rate"]
    assert "effective 2025-01-01" in line.explanation[1].effect


def test_every_pricing_query_runs_on_the_real_columns(real_erp):
    request = PriceRequest(sold_to=SOLD_TO, ship_to=SOLD_TO, company="00000", branch="10", currency=None,
                           lines=(PriceRequestLine("BOLT", 4), PriceRequestLine("NUT", 2), PriceRequestLine("GIFT", 1)))
    bolt, nut, gift = real_erp.price(request).lines
    # BOLT: 20.0000 (item group + customer group) - 2.0000 (10% of the base) + 0.2500 = 18.2500
    assert (bolt.unit_price, bolt.extended) == (Decimal("18.2500"), Decimal("73.00"))
    assert [s.what for s in bolt.explanation] == ["base price", "WEBOFF", "WEBFEE"]
    assert bolt.explanation[0].source == "F4106 item group HARDWARE + customer group DEALER"
    # NUT: 1.0000 item level, WEBOFF has no detail for it, + 0.2500 = 1.2500
    assert (nut.unit_price, [s.what for s in nut.explanation]) == (Decimal("1.2500"), ["base price", "WEBFEE"])
    assert not gift.available and "free goods" in gift.source


def test_customer_without_group_or_schedule(real_erp):
    request = PriceRequest(sold_to=OTHER, ship_to=OTHER, company="00000", branch="10", currency=None,
                           lines=(PriceRequestLine("BOLT", 1),))
    line = real_erp.price(request).lines[0]
    assert (line.unit_price, line.source) == (Decimal("25.0000"), "F4106 item + all customers")


def test_order_writer_item_lookup_runs_on_the_real_columns(real_erp):
    from ecgateway.erp.local_pricing import load_items

    with real_erp.engine.connect() as conn:
        items = load_items(conn, real_erp.tables, ["BOLT", "NUT"])
    assert {litm: (i.itm, i.igid) for litm, i in items.items()} == {"BOLT": (1, 61), "NUT": (2, 0)}
