"""Local JDE pricing: tables of cases on a seeded database, on SQLite and PostgreSQL.

Every expected price is worked out by hand from the rows in jde_rows.py and Oracle's
descriptions; the page each case relies on is named in the table's comment ("..." stands for
https://docs.oracle.com/en/applications/jd-edwards/customer-relationship/9.2/eoapg/):
- HIERARCHY: .../understanding-the-base-price-preference-hierarchy.html (levels, first match
  wins; default order item+customer, item+customer group, item group+customer, item group+
  customer group, item group, item);
- BASE_SETUP: .../understanding-base-price-setup.html (customer's currency in the line's unit,
  then the primary unit, then the domestic currency; then the next level);
- GROUPS: .../item-and-customer-price-groups.html (simple groups, and complex ones by category codes);
- BASIS: .../bc-basis-code.html (1 percent of base, 2 percent of the current net price, 5 an
  amount added, 3/4 cost, 6 variable table, 8 custom program:
  https://docs.oracle.com/cd/E26228_01/doc.93/e21547/appendix_a.htm);
- LEVEL: .../level.html (a break applies from its From Level);
- SEQUENCE: .../seq-no-sequence-number.html (adjustments processed in sequence order);
- ADJ_HIERARCHY: each adjustment's details are searched by the preference hierarchy its definition
  names (F4071 ATPRFR, UDC 40/PR), levels in the order set in P40073, first level with a detail wins:
  https://docs.oracle.com/en/applications/jd-edwards/customer-relationship/9.2/eoasm/price-adjustment-definition-options.html
  and .../understanding-the-base-price-preference-hierarchy.html for how a hierarchy is searched.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from ecgateway.config import DEFAULT_DECIMALS, Settings
from ecgateway.erp import ErpRejected, PriceRequest, PriceRequestLine
from ecgateway.erp.local import LocalErp
from ecgateway.erp.local_pricing import PricingRules
from ecgateway.jde.conventions import from_implied
from erp import jde_rows as rows
from erp.jde_rows import an8, refused_an8


@pytest.fixture(scope="module")
def erp(jde_db, tmp_path_factory) -> LocalErp:
    rows.add_pricing_rows(jde_db.engine, jde_db.tables)
    settings = Settings(data_dir=tmp_path_factory.mktemp("erp"))
    return LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY)


def price_one(erp, customer, item=rows.ITEM, quantity=1, *, uom=None, branch="10", currency=None, company="00000"):
    sold_to = customer if isinstance(customer, int) else an8(customer)
    request = PriceRequest(sold_to=sold_to, ship_to=sold_to, company=company, branch=branch,
                           currency=currency, lines=(PriceRequestLine(item, quantity, uom),))
    return erp.price(request).lines[0]


# HIERARCHY, default order. customer, item, branch, unit price, base source
BASE_CASES = [
    ("plain", rows.ITEM, "10", "100.0000", "F4106 item + all customers"),  # expired 50, future 200 ignored
    ("plain", rows.ITEM, "30", "97.0000", "F4106 item + all customers"),  # the branch row beats blank branch
    ("group", rows.ITEM, "10", "90.0000", "F4106 item + customer group WHOLESAL"),  # level 2 before level 6
    ("group", rows.ITEM, "30", "90.0000", "F4106 item + customer group WHOLESAL"),  # a level before a branch
    ("own_price", rows.ITEM, "10", "75.0000", "F4106 item + customer 900002"),  # level 1; expired own ignored
    ("own_price_grouped", rows.ITEM, "10", "74.0000", "F4106 item + customer 900008"),  # level 1 before 2
    ("own_price", rows.ITEM, "30", "75.0000", "F4106 item + customer 900002"),  # level 1 outranks branch
    ("plain", rows.GROUP_ONLY, "10", "95.0000", "F4106 item group TSTGRP + all customers"),  # level 5
    ("group", rows.GROUP_ONLY, "10", "88.0000", "F4106 item group TSTGRP + customer group WHOLESAL"),  # 4
    ("plain", rows.GROUPED, "10", "95.0000", "F4106 item group TSTGRP + all customers"),  # 5 before 6 (100)
    ("group", rows.GROUPED, "10", "80.0000", "F4106 item + customer 900003"),  # level 1
    ("own_price_grouped", rows.GROUPED, "10", "90.0000", "F4106 item + customer group WHOLESAL"),  # 2 before 4
    # overlapping dates: the price that expires first (2035-12-31, 110.0000), not the open one to 2040 (100.0000);
    # "Understanding Base Prices", .../supply-chain-manufacturing/9.2/eoaso/understanding-base-prices.html
    ("plain", rows.OVERLAP, "10", "110.0000", "F4106 item + all customers"),
]


@pytest.mark.parametrize(("customer", "item", "branch", "unit", "source"), BASE_CASES)
def test_base_price_search_order(erp, customer, item, branch, unit, source):
    line = price_one(erp, customer, item, branch=branch)
    assert (line.unit_price, line.source, line.available) == (Decimal(unit), source, True)
    assert [step.what for step in line.explanation] == ["base price"]


def test_branch_row_is_named_in_the_explanation(erp):
    line = price_one(erp, "plain", branch="30")
    assert line.explanation[0].effect == "97.0000 USD per EA, branch 30, effective 2020-01-01 to 2040-12-30"


# ADJ_HIERARCHY. THIER's details for ITEM (jde_rows.py): item + customer group WHOLESAL -10% of the base,
# all items + all customers -1% of the base, item + the customer +2.0000; base 90.0000 (item + customer
# group WHOLESAL). The first level of THIER's hierarchy (ATPRFR TA) with a detail decides; levels the
# hierarchy does not list are not searched. hierarchy of TA, unit price, THIER's amount, level shown
ADJ_HIERARCHY_CASES = [
    (["item+customer group", "all items"], "81.0000", "-9.0000", "item + customer group WHOLESAL"),  # -10% of 90
    (["all items", "item+customer group"], "89.1000", "-0.9000", "all items + all customers"),  # -1% of 90
    (["item+customer", "item+customer group", "all items"], "92.0000", "2.0000", "item + customer 900011"),
    (["all items+customer group", "item+customer group"], "81.0000", "-9.0000", "item + customer group WHOLESAL"),
    (["item", "item group+customer group"], "90.0000", None, None),  # all three details outside: base only
]


@pytest.mark.parametrize(("levels", "unit", "amount", "level"), ADJ_HIERARCHY_CASES)
def test_adjustment_searched_by_its_own_hierarchy(jde_db, erp, tmp_path, levels, unit, amount, level):
    settings = Settings(data_dir=tmp_path, adjustment_hierarchies={"TA": levels})
    line = price_one(LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY), "hier")
    assert (line.available, line.unit_price) == (True, Decimal(unit)), line.source
    assert line.explanation[0].source == "F4106 item + customer group WHOLESAL"
    steps = [(s.what, s.amount, s.source) for s in line.explanation[1:]]
    assert steps == ([("THIER", Decimal(amount), f"F4072 THIER ({level})")] if amount else [])


# Two adjustments with the same details, each by its own hierarchy: THIER (TA) then THIER2 (TB), both
# percentages of the base 90.0000. hierarchies, THIER's amount, THIER2's amount, unit price
TWO_HIERARCHY_CASES = [
    ({"TA": ["item+customer group"], "TB": ["all items"]}, "-9.0000", "-0.9000", "80.1000"),
    ({"TA": ["all items"], "TB": ["item+customer"]}, "-0.9000", "2.0000", "91.1000"),
    ({"TA": ["item+customer"], "TB": ["item+customer"]}, "2.0000", "2.0000", "94.0000"),
]


@pytest.mark.parametrize(("hierarchies", "first", "second", "unit"), TWO_HIERARCHY_CASES)
def test_each_adjustment_has_its_own_hierarchy(jde_db, erp, tmp_path, hierarchies, first, second, unit):
    settings = Settings(data_dir=tmp_path, adjustment_hierarchies=hierarchies)
    line = price_one(LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY), "hier_two")
    assert [(s.what, s.amount) for s in line.explanation[1:]] == [("THIER", Decimal(first)),
                                                                  ("THIER2", Decimal(second))]
    assert line.unit_price == Decimal(unit)


@pytest.mark.parametrize(("customer", "hierarchies", "words"), [
    ("hier", None, ["adjustment THIER is searched by preference hierarchy TA (F4071 ATPRFR)",
                    "ECGW_ADJUSTMENT_HIERARCHIES does not describe", "P40073", "AIS"]),  # the default has EC only
    ("hier_two", {"TA": ["item"]}, ["adjustment THIER2 is searched by preference hierarchy TB"]),  # TA known
])
def test_unconfigured_adjustment_hierarchy_is_refused(jde_db, erp, tmp_path, customer, hierarchies, words):
    settings = Settings(data_dir=tmp_path, **({"adjustment_hierarchies": hierarchies} if hierarchies else {}))
    line = price_one(LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY), customer)
    assert (line.available, line.unit_price, line.explanation) == (False, 0, ())
    for part in words:
        assert part in line.source


# HIERARCHY: a site's own order (ECGW_PRICE_HIERARCHY). customer, item, unit price, base source
CUSTOM_HIERARCHY = ("item+customer", "item")
CUSTOM_CASES = [
    ("plain", rows.GROUPED, "100.0000", "F4106 item + all customers"),  # no item group level any more
    ("group", rows.GROUPED, "80.0000", "F4106 item + customer 900003"),
    ("own_price_grouped", rows.GROUPED, "100.0000", "F4106 item + all customers"),  # no customer group level
    ("group", rows.GROUP_ONLY, None, "no F4106 price for TST-PRICE-5 in EA USD effective today"),
]


@pytest.mark.parametrize(("customer", "item", "unit", "source"), CUSTOM_CASES)
def test_site_hierarchy(jde_db, erp, tmp_path, customer, item, unit, source):
    settings = Settings(data_dir=tmp_path, price_hierarchy=CUSTOM_HIERARCHY)
    other = LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY)
    line = price_one(other, customer, item)
    assert line.available is (unit is not None)
    assert line.source.startswith(source)
    if unit:
        assert line.unit_price == Decimal(unit)


@pytest.mark.parametrize(("levels", "message"), [
    (["item+vendor"], r"'item\+vendor' is not one of"),
    (["customer"], "'customer' is not one of"),
    (["item", "item"], "names level 'item' twice"),
    ([], "is empty"),
    (["all items"], "'all items' is not one of 'item' or 'item group'"),  # F4106 has no all-items price
])
def test_hierarchy_setting_is_checked(levels, message):
    with pytest.raises(ValueError, match=message):
        PricingRules.parse(levels)


@pytest.mark.parametrize(("hierarchies", "message"), [
    ({"TA": ["all items+vendor"]}, r"ECGW_ADJUSTMENT_HIERARCHIES\['TA'\] level 'all items\+vendor' is not one of"
                                   " 'item', 'item group' or 'all items'"),
    ({"TA": ["all items", "all items+all customers"]}, r"names level 'all items\+all customers' twice"),
    ({"TA": ["item", "item"]}, r"\['TA'\] names level 'item' twice"),
    ({"TA": []}, r"\['TA'\] is empty"),
    ({"TA": "item"}, "must be a list of levels"),
    ({" ": ["item"]}, "blank code"),
])
def test_adjustment_hierarchy_setting_is_checked(hierarchies, message):
    with pytest.raises(ValueError, match=message):
        PricingRules.parse(adjustment_hierarchies=hierarchies)


def test_default_adjustment_hierarchy_is_the_one_the_rows_and_the_demo_use():
    from ecgateway.config import DEFAULT_ADJUSTMENT_HIERARCHIES, DEMO_ADJUSTMENT_HIERARCHY

    assert rows.HIERARCHY == DEMO_ADJUSTMENT_HIERARCHY
    levels = PricingRules.parse().adjustment_hierarchies[DEMO_ADJUSTMENT_HIERARCHY]
    assert levels == (*PricingRules.parse().hierarchy, ("all items", "customer"), ("all items", "customer group"),
                      ("all items", "all customers"))
    assert set(DEFAULT_ADJUSTMENT_HIERARCHIES) == {DEMO_ADJUSTMENT_HIERARCHY}


def test_adjustment_hierarchies_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ECGW_ADJUSTMENT_HIERARCHIES", '{"TA": ["item+customer", "all items"]}')
    rules = PricingRules.from_settings(Settings(data_dir=tmp_path))
    assert rules.adjustment_hierarchies == {"TA": (("item", "customer"), ("all items", "all customers"))}


# BASIS, LEVEL, SEQUENCE. Schedule TSTSCHED: 10 TBREAK (WHOLESAL: -2% of base from 0, -5% from 10; own_adj's
# own -10%), 20 TNET (-10% of the current price from 100), 30 TADD (+1.5000 for all items of WHOLESAL),
# 40 TGONE (its F4070 line expired: never applies). Base: item + customer group WHOLESAL 90.0000.
# customer, item, quantity, unit price, extended, (step, amount)...
ADJUSTMENT_CASES = [
    ("group", rows.ITEM, 500, "90.0000", "45000.00", []),  # no schedule: no adjustment
    ("group_adj", rows.ITEM, 1, "89.7000", "89.70", [("TBREAK", "-1.8000"), ("TADD", "1.5000")]),  # 90-1.8+1.5
    ("group_adj", rows.ITEM, 9, "89.7000", "807.30", [("TBREAK", "-1.8000"), ("TADD", "1.5000")]),
    ("group_adj", rows.ITEM, 10, "87.0000", "870.00", [("TBREAK", "-4.5000"), ("TADD", "1.5000")]),  # 90-4.5+1.5
    ("group_adj", rows.ITEM, 99, "87.0000", "8613.00", [("TBREAK", "-4.5000"), ("TADD", "1.5000")]),
    # 90 - 4.5 = 85.5; -10% of 85.5 = -8.55 -> 76.95; + 1.5 = 78.45
    ("group_adj", rows.ITEM, 100, "78.4500", "7845.00",
     [("TBREAK", "-4.5000"), ("TNET", "-8.5500"), ("TADD", "1.5000")]),
    ("group_adj", rows.ITEM, 5000, "78.4500", "392250.00",  # the expired -90% from 1000 is not read
     [("TBREAK", "-4.5000"), ("TNET", "-8.5500"), ("TADD", "1.5000")]),
    ("own_adj", rows.ITEM, 1, "82.5000", "82.50", [("TBREAK", "-9.0000"), ("TADD", "1.5000")]),  # own before group
    # 90 - 9 = 81; -10% of 81 = -8.1 -> 72.9; + 1.5 = 74.4
    ("own_adj", rows.ITEM, 100, "74.4000", "7440.00", [("TBREAK", "-9.0000"), ("TNET", "-8.1000"), ("TADD", "1.5000")]),
    # 12.3456 * -5% = -0.61728, rounded half up to -0.6173 -> 11.7283; + 1.5 = 13.2283
    ("group_adj", rows.DECIMALS_ITEM, 1, "13.2283", "13.23", [("TBREAK", "-0.6173"), ("TADD", "1.5000")]),
    ("group_adj", rows.DECIMALS_ITEM, 3, "13.2283", "39.68", [("TBREAK", "-0.6173"), ("TADD", "1.5000")]),
]


@pytest.mark.parametrize(("customer", "item", "quantity", "unit", "extended", "adjustments"), ADJUSTMENT_CASES)
def test_schedule_in_sequence_cumulative(erp, customer, item, quantity, unit, extended, adjustments):
    line = price_one(erp, customer, item, quantity)
    assert (line.unit_price, line.extended, line.available) == (Decimal(unit), Decimal(extended), True)
    steps = line.explanation
    assert [(s.what, s.amount) for s in steps[1:]] == [(name, Decimal(amount)) for name, amount in adjustments]
    assert steps[0].amount + sum(s.amount for s in steps[1:]) == line.unit_price
    assert [s.unit_price for s in steps][-1] == line.unit_price


def test_explanation_names_rows_and_effects(erp):
    line = price_one(erp, "group_adj", quantity=100)
    assert [(s.source, s.effect) for s in line.explanation] == [
        ("F4106 item + customer group WHOLESAL", "90.0000 USD per EA, effective 2020-01-01 to 2040-12-30"),
        ("F4072 TBREAK (item + customer group WHOLESAL)", "-5.0000% of the base price 90.0000 from quantity 10 (basis 1)"),
        ("F4072 TNET (item + all customers)", "-10.0000% of the current price 85.5000 from quantity 100 (basis 2)"),
        ("F4072 TADD (all items + customer group WHOLESAL)", "+1.5000 USD from quantity 0 (basis 5)"),
    ]
    assert [s.unit_price for s in line.explanation] == [Decimal("90.0000"), Decimal("85.5000"), Decimal("76.9500"),
                                                       Decimal("78.4500")]


# BASE_SETUP. customer, request currency, company, item, unit price, currency priced in
CURRENCY_CASES = [
    ("plain", None, "00000", rows.ITEM, "100.0000", "USD"),  # the sold-to's currency
    ("plain", "CAD", "00000", rows.ITEM, "130.0000", "CAD"),  # the request's currency
    ("canadian", None, "00000", rows.ITEM, "130.0000", "CAD"),
    ("canadian", None, "00000", rows.GROUP_ONLY, "125.0000", "CAD"),  # item group + all customers, CAD
    ("two_companies", None, "00200", rows.ITEM, "130.0000", "CAD"),  # the company's own F03012 row
    ("two_companies", None, "00000", rows.ITEM, "100.0000", "USD"),
    ("two_companies", None, "00300", rows.ITEM, "100.0000", "USD"),  # no row for 00300: falls back to 00000
]


@pytest.mark.parametrize(("customer", "currency", "company", "item", "unit", "priced_in"), CURRENCY_CASES)
def test_currency(erp, customer, currency, company, item, unit, priced_in):
    line = price_one(erp, customer, item, currency=currency, company=company)
    assert (line.unit_price, line.currency, line.available) == (Decimal(unit), priced_in, True)


# Lines the local pricer refuses, with the reason (BASE_SETUP, GROUPS, BASIS and the module docstring).
# customer, item, uom, quantity, words in the reason
REFUSAL_CASES = [
    ("plain", rows.ITEM, "CS", 2, ["no F4106 price for TST-PRICE-1 in CS USD", "per EA", "F41002"]),
    ("plain", rows.ITEM, "CAD", 1, ["no F4106 price", "F41002"]),
    ("group", rows.ITEM, "BX", 1, ["in BX USD", "customer group WHOLESAL", "F41002"]),  # level 2 has EA only
    ("plain", rows.ONLY_OLD_AND_NEW, None, 1, ["effective today"]),  # expired and future only
    ("plain", rows.NO_UOM_ITEM, None, 1, ["no F4106 price for TST-PRICE-4 in EA USD effective today"]),
    ("plain", "NO-SUCH-ITEM", None, 1, ["not in the item master F4101"]),
    ("plain", rows.SAME_EXPIRY, None, 1, ["F4106 holds 2 prices for TST-PRICE-10", "expiring the same day",
                                          "2020-01-01..2035-12-31", "2025-01-01..2035-12-31"]),
    ("complex_group", rows.ITEM, None, 1, ["customer price group TSTREGN is defined by category codes"]),
    ("unkeyed_group", rows.ITEM, None, 1, ["customer price group TSTNOKEY has no key ID in F40942", "R40932"]),
    ("plain", rows.COMPLEX_ITEM, None, 1, ["item price group TSTCPLX is defined by category codes"]),
]
REFUSED_ADJUSTMENTS = {
    "TORDER": "an order- or basket-level adjustment (ATOLVL 2)",
    "TWEIGHT": "level breaks other than quantity (ATLBT 2)",
    "TLINE": "written as its own order line (ATLNTY S)",
    "TACCRUAL": "adjustment control code 4 (ATACNT)",
    "TBASED": "based on something other than the price (ATABAS 1)",
    "TMINMAX": "a minimum or maximum price adjustment",
    "TEXCL": "mutually exclusive",
    "TSKIP": "a skip in the schedule",
    "TFREE": "gives free goods",
    "TODG": "order detail group (ADOGID 7)",
    "TFVUM": "per CS (ADFVUM), not EA",
    "TCOST": "basis code '3' (a percentage of the item cost",
    "TCOSTADD": "basis code '4' (an amount added to the item cost",
    "TVAR": "basis code '6' (an amount from a variable table",
    "TFORMULA": "basis code '7' (a formula)",
    "TCUSTOM": "basis code '8' (a custom program)",
    "TBASIS9": "basis code '9' (not one the local pricer knows)",
    "TNEWBASE": "sets a new base price",
    "TUNIT": "has details for TST-PRICE-1 in BX, not EA",
    "TMAND": "mandatory adjustment TMAND has no detail",
    "TNODEF": "has no definition in F4071",
    "TBELOW": "below zero",
    "TNOHIER": "searched by preference hierarchy ZZ (F4071 ATPRFR), which ECGW_ADJUSTMENT_HIERARCHIES does not",
    "TBLANKPR": "names no preference hierarchy (F4071 ATPRFR is blank)",
}
REFUSAL_CASES += [(refused_an8(name), rows.ITEM, None, 1, [words, "AIS"]) for name, words in REFUSED_ADJUSTMENTS.items()]


@pytest.mark.parametrize(("customer", "item", "uom", "quantity", "words"), REFUSAL_CASES)
def test_refused_lines_say_why(erp, customer, item, uom, quantity, words):
    line = price_one(erp, customer, item, quantity, uom=uom)
    assert (line.available, line.unit_price, line.extended, line.explanation) == (False, 0, 0, ())
    for part in words:
        assert part in line.source


# A price found only in the domestic currency (DOMESTIC_ONLY, 10.0000 USD), converted by F0015
# (jde_rows.py `rates`; the module docstring of local_pricing.py cites Oracle's pages):
#   Y (multiplier): foreign x CXCRR = domestic, so 10.0000 / CXCRR; Z (divisor): foreign / CXCRRD =
#   domestic, so 10.0000 x CXCRRD; rounded half-up to UPRC's 4 decimals.
# customer, currency, unit price, words in the conversion step
RATE_CASES = [
    ("canadian", None, "13.5000", ["at 1.3500000 (divisor", "effective 2025-01-01"]),  # latest, not 2020's 1.2
    ("plain", "EUR", "8.0000", ["at 1.2500000 (multiplier"]),  # 10 / 1.25
    ("plain", "AUD", "6.6667", ["at 1.5000000 (multiplier"]),  # 10 / 1.5 = 6.66666..
    ("plain", "GBP", "7.5000", ["at 0.7500000 (divisor"]),  # plain's own row beats the general 0.8
    ("own_price", "GBP", "8.0000", ["at 0.8000000 (divisor"]),  # no row of its own: the general one
]


@pytest.mark.parametrize(("customer", "currency", "unit", "words"), RATE_CASES)
def test_domestic_price_converted_by_exchange_rate(erp, customer, currency, unit, words):
    line = price_one(erp, customer, rows.DOMESTIC_ONLY, 3, currency=currency)
    extended = (Decimal(unit) * 3).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # AEXP: 2 decimals
    assert (line.available, line.unit_price, line.extended) == (True, Decimal(unit), extended)
    base, conversion = line.explanation
    assert (base.what, base.unit_price, conversion.what) == ("base price", Decimal("10.0000"), "exchange rate")
    assert conversion.source.startswith(f"F0015 {line.currency} to USD")
    assert conversion.amount == Decimal(unit) - Decimal("10.0000")
    for part in ["converted from USD", *words]:
        assert part in conversion.effect


# currency, words in the refusal
RATE_REFUSALS = [
    ("CHF", ["TST-PRICE-8", "10.0000 USD", "F0015 has no exchange rate from CHF to USD"]),
    ("JPY", ["F0015 has no exchange rate from JPY to USD"]),  # rate type R and a future row only
    ("MXN", ["only a rate from USD to MXN"]),
    ("SEK", ["triangulates", "CXTRCR EUR"]),
    ("NOK", ["CXCRCM is blank", "F0009"]),
]


@pytest.mark.parametrize(("currency", "words"), RATE_REFUSALS)
def test_conversion_refused_says_why(erp, currency, words):
    line = price_one(erp, "plain", rows.DOMESTIC_ONLY, currency=currency)
    assert (line.available, line.unit_price, line.explanation) == (False, 0, ())
    for part in [*words, "ECGW_ERP_MODE=ais"]:
        assert part in line.source


def test_every_refused_adjustment_has_a_case():
    assert set(REFUSED_ADJUSTMENTS) == set(rows.REFUSED)


def test_box_price_found_in_its_own_unit(erp):
    line = price_one(erp, "plain", uom="BX", quantity=2)
    assert (line.unit_price, line.extended, line.source) == (Decimal("1000.0000"), Decimal("2000.00"),
                                                             "F4106 item + all customers")


# item, customer, quantity, decimals override, unit, extended
DECIMAL_CASES = [
    (rows.DECIMALS_ITEM, "plain", 3, {}, "12.3456", "37.04"),  # 37.0368 rounds half up to 2 places
    (rows.DECIMALS_ITEM, "group_adj", 1, {}, "13.2283", "13.23"),  # see ADJUSTMENT_CASES
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
    assert result.total == Decimal("870.00") + Decimal("39.68")
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


def _count_statements(engine, call):
    statements: list[tuple[str, int]] = []

    def count(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, len(parameters or ())))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return result, statements


@pytest.mark.parametrize(("customer", "queries"), [
    ("group_adj", 5),  # customer, F4101, F4106, F4070 with F4071, F4072
    ("group", 3),  # no schedule: customer, F4101, F4106
    ("canadian", 4),  # customer, F4101, F4106, F0015 (DOMESTIC_ONLY and others priced only in USD)
])
def test_cart_costs_a_fixed_number_of_queries(erp, jde_db, customer, queries):
    items = [row.imlitm for row in _all_items(jde_db)]
    request = PriceRequest(sold_to=an8(customer), ship_to=an8(customer), company="00000", branch="30",
                           currency=None, lines=tuple(PriceRequestLine(item, 5) for item in items))
    result, statements = _count_statements(jde_db.engine, lambda: erp.price(request))
    assert len(result.lines) == len(items) > 300
    assert len(statements) == queries  # all 300+ items in one IN list each


def test_long_lists_are_chunked_below_oracles_limit(erp, jde_db):
    """1,200 item numbers: F4101 is read in 3 chunks of at most 500, every statement under 1,000 values."""
    items = [row.imlitm for row in _all_items(jde_db)]
    names = items + [f"NO-SUCH-{n}" for n in range(1200 - len(items))]
    request = PriceRequest(sold_to=an8("group_adj"), ship_to=an8("group_adj"), company="00000", branch="30",
                           currency=None, lines=tuple(PriceRequestLine(item, 1) for item in names))
    result, statements = _count_statements(jde_db.engine, lambda: erp.price(request))
    assert len(result.lines) == 1200
    assert len(statements) == 7  # customer, 3 x F4101, F4106, F4070, F4072
    assert max(count for _, count in statements) <= 1000


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
        assert line.source.startswith(f"F4106 item + customer {row.bpan8}")
        assert line.explanation[0].amount == from_implied(row.bpuprc, "UPRC")


def test_generated_schedule_applies_in_sequence(erp, jde_db):
    """Generated PORTAL customers: PGROUP, PTOOLS, PSAFETY in that order, each step adding up."""
    ai = jde_db.tables.F03012
    with jde_db.engine.connect() as conn:
        sold_tos = conn.execute(sa.select(ai.c.aian8).where(
            ai.c.aiasn == "PORTAL", ai.c.aico == "00000", ai.c.aicrcd == "USD", ai.c.aian8 < 900000)
            .order_by(ai.c.aian8).limit(6)).scalars().all()
    items = [row.imlitm for row in _all_items(jde_db) if not row.imlitm.startswith("TST-")]
    assert sold_tos and items
    order = ["base price", "PGROUP", "PTOOLS", "PSAFETY"]
    seen = set()
    for sold_to in sold_tos:
        for quantity in (1, 10, 100):
            request = PriceRequest(sold_to=sold_to, ship_to=sold_to, company="00000", branch="10", currency=None,
                                   lines=tuple(PriceRequestLine(item, quantity) for item in items))
            for line in erp.price(request).lines:
                assert line.available, line.source
                names = [s.what for s in line.explanation]
                assert names == sorted(names, key=order.index)
                assert sum(s.amount for s in line.explanation) == line.unit_price
                seen.update(names)
                if "PTOOLS" in names:
                    assert line.item.startswith("TOO-")
                if "PSAFETY" in names:
                    assert line.item.startswith("SAF-") and line.explanation[-1].amount == Decimal("0.5000")
    assert seen == set(order)


def test_generated_order_level_adjustment_is_refused(erp, jde_db):
    """PORDER (order level) reaches PREFER customers from quantity 1,000: those lines are refused."""
    ai = jde_db.tables.F03012
    with jde_db.engine.connect() as conn:
        prefer = conn.execute(sa.select(ai.c.aian8).where(
            ai.c.aicpgp == "PREFER", ai.c.aico == "00000", ai.c.aicrcd == "USD", ai.c.aian8 < 900000)
            .order_by(ai.c.aian8).limit(1)).scalar_one()
    item = next(row.imlitm for row in _all_items(jde_db) if row.imlitm.startswith("FAS-"))
    assert _price_generated(erp, prefer, item, 999).available
    refused = _price_generated(erp, prefer, item, 1000)
    assert not refused.available and "PORDER is an order- or basket-level adjustment" in refused.source


def test_generated_expired_rows_never_price(erp, jde_db):
    """The generated expired rows are 80% of the current price: no plain customer ever gets them."""
    bp = jde_db.tables.F4106
    with jde_db.engine.connect() as conn:
        current = conn.execute(sa.select(bp.c.bplitm, bp.c.bpuprc).where(
            bp.c.bpan8 == 0, bp.c.bpcgid == 0, bp.c.bpcrcd == "USD", bp.c.bpmcu == "",
            bp.c.bpeftj <= rows.TODAY, bp.c.bpexdj >= rows.TODAY, bp.c.bpitm.between(1, 98999))).all()
    request = PriceRequest(sold_to=an8("plain"), ship_to=an8("plain"), company="00000", branch="10",
                           currency=None, lines=tuple(PriceRequestLine(litm, 1) for litm, _ in current))
    result = erp.price(request)
    assert [line.unit_price for line in result.lines] == [from_implied(raw, "UPRC") for _, raw in current]
    assert all(line.source == "F4106 item + all customers" for line in result.lines)


def _price_generated(erp, sold_to, item, quantity):
    request = PriceRequest(sold_to=sold_to, ship_to=sold_to, company="00000", branch="10", currency=None,
                           lines=(PriceRequestLine(item, quantity),))
    return erp.price(request).lines[0]


def _all_items(jde_db):
    im = jde_db.tables.F4101
    with jde_db.engine.connect() as conn:
        return conn.execute(sa.select(im.c.imlitm).order_by(im.c.imitm)).all()
