"""Local JDE pricing: tables of cases on a seeded database, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecgateway.config import DEFAULT_DECIMALS, Settings
from ecgateway.erp import ErpRejected, PriceRequest, PriceRequestLine
from ecgateway.erp.local import LocalErp
from ecgateway.jde.conventions import from_implied
from erp import jde_rows as rows
from erp.jde_rows import an8


@pytest.fixture(scope="module")
def erp(jde_db, tmp_path_factory) -> LocalErp:
    rows.add_pricing_rows(jde_db.engine, jde_db.tables)
    settings = Settings(data_dir=tmp_path_factory.mktemp("erp"))
    return LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY)


def price_one(erp, customer, item=rows.ITEM, quantity=1, *, uom=None, branch="10", currency=None, company="00000"):
    request = PriceRequest(sold_to=an8(customer), ship_to=an8(customer), company=company, branch=branch,
                           currency=currency, lines=(PriceRequestLine(item, quantity, uom),))
    return erp.price(request).lines[0]


# customer, quantity, branch, unit price, where it came from
BASE_CASES = [
    ("plain", 1, "10", "100.0000", "F4106 item level"),  # expired 50 and future 200 ignored
    ("plain", 1, "30", "97.0000", "F4106 item level (branch)"),  # branch row beats blank branch
    ("group", 1, "10", "90.0000", "F4106 price group WHOLESAL"),  # group beats item level
    ("group", 1, "30", "90.0000", "F4106 price group WHOLESAL"),  # group beats item level at a branch
    ("own_price", 1, "10", "75.0000", "F4106 customer 900002"),  # own beats item level; expired own ignored
    ("own_price_grouped", 1, "10", "74.0000", "F4106 customer 900008"),  # own beats group
    ("own_price", 1, "30", "75.0000", "F4106 customer 900002"),  # customer level outranks branch
]


@pytest.mark.parametrize(("customer", "quantity", "branch", "unit", "source"), BASE_CASES)
def test_base_price_search_order(erp, customer, quantity, branch, unit, source):
    line = price_one(erp, customer, quantity=quantity, branch=branch)
    assert (line.unit_price, line.source, line.available) == (Decimal(unit), source, True)


# customer, quantity, unit price, extended, source (group WHOLESAL base 90.0000 for the adjusted ones)
ADJUSTMENT_CASES = [
    ("group", 500, "90.0000", "45000.00", "F4106 price group WHOLESAL"),  # no schedule: no adjustment
    ("group_adj", 1, "88.2000", "88.20", "F4106 price group WHOLESAL + F4072 PORTAL -2.0000% from quantity 0"),
    ("group_adj", 9, "88.2000", "793.80", "F4106 price group WHOLESAL + F4072 PORTAL -2.0000% from quantity 0"),
    ("group_adj", 10, "85.5000", "855.00", "F4106 price group WHOLESAL + F4072 PORTAL -5.0000% from quantity 10"),
    ("group_adj", 99, "85.5000", "8464.50", "F4106 price group WHOLESAL + F4072 PORTAL -5.0000% from quantity 10"),
    ("group_adj", 100, "80.0000", "8000.00", "F4106 price group WHOLESAL + F4072 PORTAL fixed 80.0000 from quantity 100"),
    ("group_adj", 5000, "80.0000", "400000.00", "F4106 price group WHOLESAL + F4072 PORTAL fixed 80.0000 from quantity 100"),  # expired 90% off at 1000 ignored
    ("own_adj", 1, "81.0000", "81.00", "F4106 price group WHOLESAL + F4072 PORTAL -10.0000% from quantity 0"),  # own before group
    ("own_adj", 100, "81.0000", "8100.00", "F4106 price group WHOLESAL + F4072 PORTAL -10.0000% from quantity 0"),
]


@pytest.mark.parametrize(("customer", "quantity", "unit", "extended", "source"), ADJUSTMENT_CASES)
def test_adjustments_and_quantity_breaks(erp, customer, quantity, unit, extended, source):
    line = price_one(erp, customer, quantity=quantity)
    assert (line.unit_price, line.extended, line.source) == (Decimal(unit), Decimal(extended), source)


# customer, request currency, company, unit price, currency priced in
CURRENCY_CASES = [
    ("plain", None, "00000", "100.0000", "USD"),  # the sold-to's currency
    ("plain", "CAD", "00000", "130.0000", "CAD"),  # the request's currency
    ("canadian", None, "00000", "130.0000", "CAD"),
    ("two_companies", None, "00200", "130.0000", "CAD"),  # the company's own F03012 row
    ("two_companies", None, "00000", "100.0000", "USD"),
    ("two_companies", None, "00300", "100.0000", "USD"),  # no row for 00300: falls back to 00000
]


@pytest.mark.parametrize(("customer", "currency", "company", "unit", "priced_in"), CURRENCY_CASES)
def test_currency(erp, customer, currency, company, unit, priced_in):
    line = price_one(erp, customer, currency=currency, company=company)
    assert (line.unit_price, line.currency) == (Decimal(unit), priced_in)


# customer, item, uom, quantity, available, unit, why (part of source)
LINE_CASES = [
    ("plain", rows.ITEM, "BX", 2, True, "1000.0000", "F4106 item level"),
    ("plain", rows.ITEM, "CS", 2, False, "0", "no F4106 price for TST-PRICE-1 in CS USD"),
    ("plain", rows.ONLY_OLD_AND_NEW, None, 1, False, "0", "effective today"),  # expired and future only
    ("plain", rows.NO_UOM_ITEM, None, 1, False, "0", "in EA USD"),  # primary unit EA has no price
    ("plain", "NO-SUCH-ITEM", None, 1, False, "0", "not in the item master F4101"),
    ("plain", rows.ITEM, "CAD", 1, False, "0", "no F4106 price"),
]


@pytest.mark.parametrize(("customer", "item", "uom", "quantity", "available", "unit", "why"), LINE_CASES)
def test_lines_without_a_price(erp, customer, item, uom, quantity, available, unit, why):
    line = price_one(erp, customer, item, quantity, uom=uom)
    assert (line.available, line.unit_price) == (available, Decimal(unit))
    assert why in line.source


# item, customer, quantity, decimals override, unit, extended
DECIMAL_CASES = [
    (rows.DECIMALS_ITEM, "plain", 3, {}, "12.3456", "37.04"),  # 37.0368 rounds half up to 2 places
    (rows.DECIMALS_ITEM, "group_adj", 1, {}, "11.7283", "11.73"),  # 12.3456 * 0.95 = 11.72832
    (rows.ITEM, "plain", 1, {"UPRC": 2}, "10000.00", "10000.00"),  # an installation with 2 price decimals
    (rows.DECIMALS_ITEM, "plain", 1, {"UPRC": 5}, "1.23456", "1.23"),
]


@pytest.mark.parametrize(("item", "customer", "quantity", "override", "unit", "extended"), DECIMAL_CASES)
def test_implied_decimals(erp, jde_db, tmp_path, item, customer, quantity, override, unit, extended):
    settings = Settings(data_dir=tmp_path, decimals={**DEFAULT_DECIMALS, **override})
    other = LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY)
    line = price_one(other, customer, item, quantity)
    assert (str(line.unit_price), str(line.extended)) == (unit, extended)


def test_whole_cart_total_skips_lines_without_price(erp):
    request = PriceRequest(sold_to=an8("group_adj"), ship_to=an8("group_adj"), company="00000", branch="10",
                           currency=None, lines=(PriceRequestLine(rows.ITEM, 10), PriceRequestLine("NO-SUCH", 1),
                                                 PriceRequestLine(rows.DECIMALS_ITEM, 3)))
    result = erp.price(request)
    assert [line.item for line in result.lines] == [rows.ITEM, "NO-SUCH", rows.DECIMALS_ITEM]
    assert result.total == Decimal("855.00") + Decimal("35.18")  # 11.7283 * 3 = 35.1849
    assert result.currency == "USD"


@pytest.mark.parametrize(("sold_to", "quantity", "message"), [
    (123, 1, "no customer master row \\(F03012\\)"),
    (an8("plain"), 0, "quantities must be at least 1"),
])
def test_refused_requests(erp, sold_to, quantity, message):
    request = PriceRequest(sold_to=sold_to, ship_to=sold_to, company="00000", branch="10", currency=None,
                           lines=(PriceRequestLine(rows.ITEM, quantity),))
    with pytest.raises(ErpRejected, match=message):
        erp.price(request)


def test_cart_costs_a_fixed_number_of_queries(erp, jde_db):
    items = [row.imlitm for row in _all_items(jde_db)]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(jde_db.engine, "before_cursor_execute", count)
    try:
        result = erp.price(PriceRequest(sold_to=an8("group_adj"), ship_to=an8("group_adj"), company="00000",
                                        branch="30", currency=None,
                                        lines=tuple(PriceRequestLine(item, 5) for item in items)))
    finally:
        sa.event.remove(jde_db.engine, "before_cursor_execute", count)
    assert len(result.lines) == len(items) > 300
    assert len(statements) == 4  # customer, F4101, F4106, F4072: all 300+ items in one IN list each


# --- cross-checks against the generated data, found by query ------------------------------

def test_generated_customer_prices_win(erp, jde_db):
    """Every generated customer-specific F4106 row prices its item for that sold-to."""
    bp, ai = jde_db.tables.F4106, jde_db.tables.F03012
    with jde_db.engine.connect() as conn:
        own = conn.execute(sa.select(bp.c.bpan8, bp.c.bplitm, bp.c.bpuprc, bp.c.bpuom, ai.c.aiasn)
                           .join(ai, sa.and_(ai.c.aian8 == bp.c.bpan8, ai.c.aico == "00000"))
                           .where(bp.c.bpan8 != 0, bp.c.bpan8 < 900000, bp.c.bpcrcd == "USD",
                                  ai.c.aicrcd == "USD")).all()
    assert own, "the generated data should hold customer-specific prices (seed 7, 40 accounts)"
    for row in own:
        line = _price_generated(erp, row.bpan8, row.bplitm, 1)
        assert line.source.startswith(f"F4106 customer {row.bpan8}")
        if " + F4072" not in line.source:
            assert line.unit_price == from_implied(row.bpuprc, "UPRC")


def test_generated_group_breaks(erp, jde_db):
    """Generated WHOLESAL..GOVT breaks: -2% from 1, -5% from 10, -10% from 100 of the base price."""
    ad, ai, ik = jde_db.tables.F4072, jde_db.tables.F03012, jde_db.tables.F40941
    with jde_db.engine.connect() as conn:
        adjusted = conn.execute(
            sa.select(ad.c.aditm, ai.c.aian8).distinct()
            .join(ik, sa.and_(ik.c.ikcgid == ad.c.adcgid, ik.c.ikprgt == "C"))
            .join(ai, sa.and_(ai.c.aicpgp == ik.c.ikprgr, ai.c.aico == "00000", ai.c.aicrcd == "USD",
                              ai.c.aibadt.in_(["B", "X"])))
            .where(ad.c.adan8 == 0, ad.c.aditm < 99000, ai.c.aian8 < 900000)
            .order_by(ad.c.aditm, ai.c.aian8).limit(30)
        ).all()
        litm = dict(conn.execute(sa.select(jde_db.tables.F4101.c.imitm, jde_db.tables.F4101.c.imlitm)).all())
    assert adjusted, "the generated data should hold group adjustments for customers of that group"
    checked = 0
    for itm, sold_to in adjusted:
        unit = {}
        for quantity in (1, 9, 10, 100):
            line = _price_generated(erp, sold_to, litm[itm], quantity)
            if line.source.startswith(f"F4106 customer {sold_to}"):
                break  # an own price row of this sold-to: checked above
            unit[quantity] = line.unit_price
        else:
            base = unit[1] / Decimal("0.98")
            assert unit[9] == unit[1]
            assert abs(unit[10] - base * Decimal("0.95")) < Decimal("0.0002")
            assert abs(unit[100] - base * Decimal("0.90")) < Decimal("0.0002")
            checked += 1
    assert checked >= 5


def test_generated_expired_rows_never_price(erp, jde_db):
    """The generated expired rows are 80% of the current price: no plain customer ever gets them."""
    bp = jde_db.tables.F4106
    with jde_db.engine.connect() as conn:
        current = conn.execute(sa.select(bp.c.bplitm, bp.c.bpuprc).where(
            bp.c.bpan8 == 0, bp.c.bpcgid == 0, bp.c.bpcrcd == "USD", bp.c.bpmcu == "",
            bp.c.bpeftj <= rows.TODAY, bp.c.bpexdj >= rows.TODAY, bp.c.bpitm < 99000)).all()
    request = PriceRequest(sold_to=an8("plain"), ship_to=an8("plain"), company="00000", branch="10",
                           currency=None, lines=tuple(PriceRequestLine(litm, 1) for litm, _ in current))
    result = erp.price(request)
    assert [line.unit_price for line in result.lines] == [from_implied(raw, "UPRC") for _, raw in current]
    assert all(line.source == "F4106 item level" for line in result.lines)


def _price_generated(erp, sold_to, item, quantity):
    request = PriceRequest(sold_to=sold_to, ship_to=sold_to, company="00000", branch="10", currency=None,
                           lines=(PriceRequestLine(item, quantity),))
    return erp.price(request).lines[0]


def _all_items(jde_db):
    im = jde_db.tables.F4101
    with jde_db.engine.connect() as conn:
        return conn.execute(sa.select(im.c.imlitm).order_by(im.c.imitm)).all()
