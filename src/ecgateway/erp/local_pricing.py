"""JDE pricing read from JDE's own tables, as sales order entry computes it, or an honest refusal.

A line's price is made in two parts, each shown to the rep step by step (PricedLine.explanation):

1. **Base price (F4106).** The levels of the site's base price preference hierarchy (JDE
   preference 51; `ECGW_PRICE_HIERARCHY`, default item+customer, item+customer group, item
   group+customer, item group+customer group, item group, item) are searched in order and the
   first level holding a price wins ("Understanding the Base Price Preference Hierarchy",
   .../customer-relationship/9.2/eoapg/understanding-the-base-price-preference-hierarchy.html).
   A level is a pair: item (BPITM, BPIGID 0) or item group (BPITM 0, BPIGID = the item's group
   key ID), with customer (BPAN8, BPCGID 0), customer group (BPAN8 0, BPCGID = the customer's
   group key ID) or all customers (both 0). Rows with a location, lot or lot grade
   (BPLOCN/BPLOTN/BPLOTG) price stock the portal never names and are not read. A row for the
   request's branch (BPMCU) beats the blank-branch row. Effective today means BPEFTJ <= today <=
   BPEXDJ (BPEXDJ 0: open-ended). Of rows whose dates overlap, the one that expires first wins
   ("When you set up date ranges that overlap, the system retrieves the price that expires
   first", "Understanding Base Prices", .../supply-chain-manufacturing/9.2/eoaso/
   understanding-base-prices.html); two rows expiring the same day with different prices
   (another key column tells them apart) refuse the line.

   Within a level, currency and unit of measure are tried in the order Oracle documents: the
   customer's currency in the line's unit, then in the item's primary unit, then the domestic
   currency (`ECGW_DOMESTIC_CURRENCY`) in the line's unit, then in the primary unit; no match
   moves on to the next level ("Understanding Base Price Setup", .../customer-relationship/9.2/
   eoapg/understanding-base-price-setup.html). A price found in the primary unit for a line in
   another unit needs JDE's item unit conversion (F41002), which the local engine does not read:
   it refuses the line, naming the row it found. A price found only in the domestic currency is
   converted into the customer's currency with JDE's exchange rates (F0015, below) and becomes
   the line's base price, shown as its own step.

   **Exchange rates (F0015).** A rate row runs from a foreign currency CXCRCD to the domestic
   currency CXCRDC ("Understanding Exchange Rates", .../financials/9.2/eoamp/understanding-
   exchange-rates.html: "the from currency refers to the foreign currency and the to currency
   refers to the domestic currency"), so the row read is from the customer's currency to the
   domestic one. A row for the sold-to's address number (CXAN8, a contractual rate, "Optional
   Fields in the F0015Z1 Workfile", .../financials/9.2/eoamp/optional-fields-in-the-f0015z1-
   workfile.html) beats the general row (CXAN8 0); only the standard rate type, blank CXRTTYP
   ("Rate Type", .../financials/9.2/eoamp/rate-type.html), is read: which type sales order entry
   takes otherwise is not documented in the pages we have *(check)*. Of the rows effective on or
   before today (CXEFT), the latest applies. The conversion method CXCRCM decides the rate
   ("Conversion Method (Y/Z)", .../financials/9.2/eoamp/conversion-method-y-z.html): Y, foreign
   x CXCRR (multiplier) = domestic, so the price is the domestic price / CXCRR; Z, foreign /
   CXCRRD (divisor) = domestic, so the price is the domestic price x CXCRRD ("Multiplier Rate",
   "Divisor Rate", .../eoamp/multiplier-rate.html, .../eoamp/divisor-rate.html). The rates carry
   config.DEFAULT_DECIMALS's CRR/CRRD implied decimals; the converted price is rounded half-up to
   UPRC's. Refused, with the reason: no rate; a rate only from the domestic currency to the
   customer's (how sales uses the reverse row is not documented here); a blank CXCRCM (the
   default method is in the General Accounting Constants, F0009, not read); triangulation
   (CXTRCR set, or a calculation method CXCLMETH other than blank, 1 inverse or 2 no inverse,
   "Example: Triangulation Method", .../eoamp/example-triangulation-method.html); a zero rate.

2. **Advanced pricing.** The sold-to's adjustment schedule (F03012 AIASN) is a list in F4070
   (SNASN, SNOSEQ -> SNAST, effective SNEFTJ..SNEXDJ), applied in sequence ("Seq No",
   .../customer-relationship/9.2/eoapg/seq-no-sequence-number.html). Each adjustment is defined
   in F4071 (ATAST) and has details in F4072 (ADAST), searched by the adjustment's own
   preference hierarchy: F4071 ATPRFR names a code of UDC 40/PR whose levels the site arranged
   in P40073 ("Price Adjustment Definition - Options", .../customer-relationship/9.2/eoasm/
   price-adjustment-definition-options.html), here `ECGW_ADJUSTMENT_HIERARCHIES` (config.py).
   Its levels are the base price's plus all items (ADITM 0, ADIGID 0) with a customer, a
   customer group or all customers; a detail at a level the hierarchy does not list is never
   used. Oracle gives no default order, so an adjustment whose code the setting does not
   describe (or a blank ATPRFR) refuses the line. In the first level with a detail in the
   line's unit (ADUOM) and currency (ADCRCD, or blank), the highest quantity break ADMNQ <= the
   quantity applies ("From Level", .../customer-relationship/9.2/eoapg/level.html). The
   adjustments are cumulative: each changes the current price by its basis code ADBSCD ("BC
   (basis code)", .../customer-relationship/9.2/eoapg/bc-basis-code.html):

     1  the factor ADFVTR as a percentage of the base price (-5.0000: 5% of the base off);
     0  as 1 (JDE's "new base price" marker in the schedule, SNSTPRCF, is not applied: refused);
     2  the factor as a percentage of the current net price;
     5  the factor added to the price (an add-on amount; negative takes it off).

   Each step's amount is rounded half-up to UPRC's implied decimals, so the steps shown add up
   to the price charged. What the local engine does not apply refuses the line with the reason,
   so the rep prices it through AIS (ECGW_ERP_MODE=ais) instead of seeing a price JDE would not
   charge: basis codes 3 and 4 (percent of / add to item cost: F4105 is not read), 6 (variable
   table F4075), 7 (formula), 8 (custom program), any other; order- and basket-level adjustments
   (F4071 ATOLVL other than blank or 1); level breaks other than quantity (ATLBT); adjustments
   written as their own lines (ATLNTY); control codes other than blank or 2 (print on invoice,
   ATACNT: accruals, rebates and rounding rules are not applied); min/max and mutually exclusive
   adjustments (ATMNMXAJ, ATMEADJ); adjustments based on anything but the price (ATABAS);
   free goods (F4072 ADFGY); order detail groups (ADOGID); a factor in another unit (ADFVUM);
   skips in the schedule (SNSKIPTO, SNSKIPEND); a mandatory adjustment (ATMDED) with no detail;
   a price group defined by category codes (F4092 GPGPK1..10), whose key IDs need the
   customer's or item's category codes.

Price groups are resolved through key IDs ("Item and Customer Price Groups", .../customer-
relationship/9.2/eoapg/item-and-customer-price-groups.html): a simple group (F4092 with no
category keys) has one F40942 row CKCPGP = F03012 AICPGP with CKCGP1..10 blank, giving CKCGID,
and one F40941 row IKPRGR = F4101 IMPRGR with IKIGP1..10 blank, giving IKIGID. Those IDs are
what F4106 BPCGID/BPIGID and F4072 ADCGID/ADIGID hold.

The unit price is rounded half-up to UPRC's implied decimals, the extended amount to AEXP's.
A cart costs a fixed number of queries: one for the customer with its group, and per 500
distinct items (db.IN_LIST_CHUNK) one each for F4101 (with the item groups), F4106 and F4072,
plus one for the schedule (F4070 with F4071) when the sold-to has one, and one for the exchange
rates (F0015) when a base price in the domestic currency was read for a customer in another. Each statement is built
once per set of tables with its lists bound per cart (db.in_bound, split by db.in_chunks), so
every IN list stays under Oracle's 1,000 values and the statements stay cached.
"..." in the addresses above stands for https://docs.oracle.com/en/applications/jd-edwards.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import sqlalchemy as sa

from ecgateway.config import (
    DEFAULT_ADJUSTMENT_HIERARCHIES,
    DEFAULT_DECIMALS,
    DEFAULT_PRICE_HIERARCHY,
)
from ecgateway.db import in_bound, in_chunks
from ecgateway.erp.base import ErpRejected, PricedLine, PriceRequest, PriceResult, PriceStep
from ecgateway.jde.conventions import from_implied, julian_to_date
from ecgateway.jde.handle import DEFAULT_COMPANY
from ecgateway.jde.tables import JdeTables

log = logging.getLogger(__name__)

THROUGH_AIS = "price it through AIS (ECGW_ERP_MODE=ais)"

ITEM, ITEM_GROUP, ALL_ITEMS = "item", "item group", "all items"
CUSTOMER, CUSTOMER_GROUP, ALL_CUSTOMERS = "customer", "customer group", "all customers"
ITEM_DIMENSIONS = (ITEM, ITEM_GROUP)
CUSTOMER_DIMENSIONS = (CUSTOMER, CUSTOMER_GROUP)

PERCENT_OF_BASE, NEW_BASE, PERCENT_OF_NET, ADD_AMOUNT = "1", "0", "2", "5"
NOT_APPLIED_BASES = {
    "3": "a percentage of the item cost (F4105 is not read)",
    "4": "an amount added to the item cost (F4105 is not read)",
    "6": "an amount from a variable table (F4075)",
    "7": "a formula",
    "8": "a custom program",
}
LINE_LEVEL = ("", "1")  # F4071 ATOLVL
QUANTITY_BREAKS = ("", "1")  # F4071 ATLBT
PLAIN_CONTROL = ("", "2")  # F4071 ATACNT: none, or print on invoice
MANDATORY = ("Y", "1")
HUNDRED = Decimal(100)


Level = tuple[str, str]  # (item dimension, customer dimension)


@dataclass(frozen=True)
class PricingRules:
    """The site's pricing setup the tables do not hold: the hierarchies and the domestic currency.

    hierarchy: the base price levels (preference 51). adjustment_hierarchies: the levels of each
    adjustment preference hierarchy, by the code F4071 ATPRFR names (see config.py).
    """

    hierarchy: tuple[Level, ...]
    domestic_currency: str
    adjustment_hierarchies: Mapping[str, tuple[Level, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, hierarchy: Sequence[str] = DEFAULT_PRICE_HIERARCHY, domestic_currency: str = "USD",
              adjustment_hierarchies: Mapping[str, Sequence[str]] = DEFAULT_ADJUSTMENT_HIERARCHIES) -> PricingRules:
        """Levels like "item group+customer"; a bare "item", "item group" or "all items" means all customers."""
        adjustments = {}
        for code, levels in adjustment_hierarchies.items():
            if not code.strip():
                raise ValueError("ECGW_ADJUSTMENT_HIERARCHIES names a blank code: key each hierarchy by its"
                                 " F4071 ATPRFR code (UDC 40/PR)")
            if isinstance(levels, str):
                raise ValueError(f"ECGW_ADJUSTMENT_HIERARCHIES[{code!r}] must be a list of levels, not the text"
                                 f" {levels!r}")
            adjustments[code.strip()] = _parse_levels(levels, f"ECGW_ADJUSTMENT_HIERARCHIES[{code!r}]",
                                                      (*ITEM_DIMENSIONS, ALL_ITEMS))
        return cls(hierarchy=_parse_levels(hierarchy, "ECGW_PRICE_HIERARCHY", ITEM_DIMENSIONS),
                   domestic_currency=domestic_currency.strip().upper(), adjustment_hierarchies=adjustments)

    @classmethod
    def from_settings(cls, settings) -> PricingRules:
        return cls.parse(settings.price_hierarchy, settings.domestic_currency, settings.adjustment_hierarchies)


def _parse_levels(texts: Sequence[str], setting: str, item_dimensions: tuple[str, ...]) -> tuple[Level, ...]:
    levels: list[Level] = []
    for text in texts:
        item, _, customer = (part.strip() for part in text.partition("+"))
        customer = customer or ALL_CUSTOMERS
        if item not in item_dimensions or customer not in (*CUSTOMER_DIMENSIONS, ALL_CUSTOMERS):
            words = [f"'{word}'" for word in item_dimensions]
            items = f"{', '.join(words[:-1])} or {words[-1]}"
            raise ValueError(f"{setting} level {text!r} is not one of {items}, optionally followed by"
                             " '+customer' or '+customer group'")
        if (item, customer) in levels:
            raise ValueError(f"{setting} names level {text!r} twice")
        levels.append((item, customer))
    if not levels:
        raise ValueError(f"{setting} is empty: name at least one level, e.g. [\"item\"]")
    return tuple(levels)


DEFAULT_RULES = PricingRules.parse()


@dataclass(frozen=True)
class Customer:
    """What pricing needs from the sold-to's F03012 row."""

    an8: int
    company: str  # the F03012 row used: the request's company or 00000
    currency: str
    price_group: str
    cgid: int  # F40942 CKCGID of the price group; 0 when none
    group_problem: str  # why the group cannot be resolved locally; empty when it can
    schedule: str  # F03012 AIASN


@dataclass(frozen=True)
class Item:
    itm: int
    litm: str
    description: str
    uom: str
    price_group: str = ""
    igid: int = 0  # F40941 IKIGID of IMPRGR; 0 when none
    group_problem: str = ""


@dataclass(slots=True)
class BasePrice:
    itm: int
    igid: int
    an8: int
    cgid: int
    branch: str
    currency: str
    uom: str
    raw_price: int
    effective: int
    expires: int
    raw_from_level: int  # BPFRMP


@dataclass(frozen=True)
class ExchangeRate:
    """The latest F0015 row effective today of one address number and direction (standard rate type)."""

    foreign: str  # CXCRCD
    domestic: str  # CXCRDC
    an8: int
    effective: int
    method: str  # CXCLMETH: blank or 1 inverse, 2 no inverse, other: triangulation
    conversion: str  # CXCRCM: Y multiplier, Z divisor
    triangulation: str  # CXTRCR
    raw_multiplier: int  # CXCRR
    raw_divisor: int  # CXCRRD


@dataclass(frozen=True)
class ScheduleStep:
    """One F4070 row of the schedule with its F4071 definition (None when F4071 has no row)."""

    sequence: int
    name: str
    skip_to: int
    skip_to_end: str
    new_base_flag: str
    definition: Mapping[str, str] | None


@dataclass(slots=True)
class Detail:
    name: str
    itm: int
    igid: int
    an8: int
    cgid: int
    ogid: int
    currency: str
    uom: str
    raw_break: int
    basis: str
    raw_factor: int
    free_goods: str
    factor_uom: str


class Refusal(Exception):
    """A line the local engine cannot price as JDE would; the message says why, for the rep."""


def price_cart(conn: sa.Connection, tables: JdeTables, request: PriceRequest, *,
               decimals: Mapping[str, int], today: int, rules: PricingRules = DEFAULT_RULES) -> PriceResult:
    """Price every line of request with a fixed number of queries (see the module docstring)."""
    for line in request.lines:
        if line.quantity <= 0:
            raise ErpRejected(f"line for item {line.item!r} has quantity {line.quantity}: quantities must be at least 1")
    customer = load_customer(conn, tables, sold_to=request.sold_to, company=request.company)
    currency = (request.currency or customer.currency).strip()
    if not currency:
        raise ErpRejected(
            f"sold-to {request.sold_to} has no currency in F03012 (AICRCD) for company {customer.company}"
            " and the request named none: set the customer's currency in JDE or pass one"
        )
    items = load_items(conn, tables, {line.item for line in request.lines})
    itms = sorted({item.itm for item in items.values()})
    igids = sorted({item.igid for item in items.values() if item.igid})
    currencies = sorted({currency, rules.domestic_currency})
    bases = load_base_prices(conn, tables, itms=itms, igids=igids, customer=customer, currencies=currencies,
                             branch=request.branch, today=today)
    schedule = load_schedule(conn, tables, customer.schedule, today=today)
    details = load_details(conn, tables, names=sorted({step.name for step in schedule}), itms=itms, igids=igids,
                           customer=customer, currency=currency, today=today)
    domestic = rules.domestic_currency
    needs_rate = currency != domestic and any(r.currency == domestic for rows in bases.values() for r in rows)
    rates = load_exchange_rates(conn, tables, foreign=currency, domestic=domestic, an8=customer.an8,
                                today=today) if needs_rate else []

    pricer = _LinePricer(customer=customer, currency=currency, branch=request.branch.strip(), rules=rules,
                         decimals={**DEFAULT_DECIMALS, **decimals}, bases=bases, schedule=schedule, details=details,
                         rates=rates)
    amount_places = Decimal(1).scaleb(-decimals["AEXP"])
    priced: list[PricedLine] = []
    for line in request.lines:
        item = items.get(line.item.strip())
        uom = (line.uom or (item.uom if item else "")).strip()
        if item is None:
            priced.append(_no_price(line.item, "", line.quantity, uom, currency,
                                    f"item {line.item!r} is not in the item master F4101"))
            continue
        try:
            steps = pricer.price(item, uom, line.quantity)
        except Refusal as refusal:
            priced.append(_no_price(item.litm, item.description, line.quantity, uom, currency, str(refusal)))
            continue
        unit = steps[-1].unit_price
        extended = (unit * line.quantity).quantize(amount_places, rounding=ROUND_HALF_UP)
        priced.append(PricedLine(item=item.litm, description=item.description, quantity=line.quantity,
                                 uom=uom, unit_price=unit, extended=extended, currency=currency,
                                 source=" + ".join(step.source for step in steps), explanation=tuple(steps)))
    total = sum((p.extended for p in priced if p.available), Decimal(0).quantize(amount_places))
    return PriceResult(lines=tuple(priced), currency=currency, total=total)


# --- the queries ---------------------------------------------------------------------------

def _blank(table: sa.Table, prefix: str, count: int = 10) -> list:
    return [table.c[f"{prefix}{i}"] == "" for i in range(1, count + 1)]


def _defined_by_category_codes(gp: sa.Table, group: sa.ColumnElement) -> sa.ColumnElement:
    """True when F4092 defines the group with category-code keys (a complex group)."""
    return sa.exists().where(gp.c.gpgpc == group, sa.or_(*[gp.c[f"gpgpk{i}"] != "" for i in range(1, 11)]))


def _effective(start: sa.Column, end: sa.Column) -> sa.ColumnElement:
    today = sa.bindparam("today")
    return sa.and_(start <= today, sa.or_(end >= today, end == 0))


def _item_scope(itm: sa.Column, igid: sa.Column, *, first: bool, all_items: bool = False) -> sa.ColumnElement:
    """This chunk's items; with the first chunk also their item groups (and all items, for adjustments)."""
    scope = [sa.and_(in_bound(itm, "itms"), igid == 0)]
    if first:
        scope.append(sa.and_(itm == 0, in_bound(igid, "igids")))
        if all_items:
            scope.append(sa.and_(itm == 0, igid == 0))
    return sa.or_(*scope)


@dataclass(frozen=True)
class _Statements:
    """The pricing queries of one set of tables, built once: a cart only binds its values."""

    customer: sa.Select
    items: sa.Select
    bases: dict[bool, sa.Select]  # by "first chunk"
    schedule: sa.Select
    schedule_flags: tuple[str, ...]
    details: dict[bool, sa.Select]
    rates: sa.Select


_STATEMENTS: dict[int, tuple[JdeTables, _Statements]] = {}


def _statements(tables: JdeTables) -> _Statements:
    cached = _STATEMENTS.get(id(tables))
    if cached is not None and cached[0] is tables:
        return cached[1]
    ai, ck, gp, im, ik = tables.F03012, tables.F40942, tables.F4092, tables.F4101, tables.F40941
    customer = (
        sa.select(ai.c.aico, ai.c.aicrcd, ai.c.aicpgp, ai.c.aiasn, ck.c.ckcgid,
                  _defined_by_category_codes(gp, ai.c.aicpgp).label("complex"))
        .select_from(ai.outerjoin(ck, sa.and_(ck.c.ckcpgp == ai.c.aicpgp, *_blank(ck, "ckcgp"))))
        .where(ai.c.aian8 == sa.bindparam("an8"), in_bound(ai.c.aico, "companies"))
    )
    items = (
        sa.select(im.c.imitm, im.c.imlitm, im.c.imdsc1, im.c.imuom1, im.c.imprgr, ik.c.ikigid,
                  _defined_by_category_codes(gp, im.c.imprgr).label("complex"))
        .select_from(im.outerjoin(ik, sa.and_(ik.c.ikprgr == im.c.imprgr, *_blank(ik, "ikigp"))))
        .where(in_bound(im.c.imlitm, "litms"))
    )
    bp = tables.F4106
    bases = {first: sa.select(bp.c.bpitm, bp.c.bpigid, bp.c.bpan8, bp.c.bpcgid, bp.c.bpmcu, bp.c.bpcrcd, bp.c.bpuom,
                              bp.c.bpuprc, bp.c.bpeftj, bp.c.bpexdj, bp.c.bpfrmp).where(
        _item_scope(bp.c.bpitm, bp.c.bpigid, first=first),
        in_bound(bp.c.bpan8, "an8s"), in_bound(bp.c.bpcgid, "cgids"),
        in_bound(bp.c.bpcrcd, "currencies"), in_bound(bp.c.bpmcu, "branches"),
        bp.c.bplocn == "", bp.c.bplotn == "", bp.c.bplotg == "",
        _effective(bp.c.bpeftj, bp.c.bpexdj),
    ) for first in (True, False)}
    sn, at = tables.F4070, tables.F4071
    flags = (at.c.atolvl, at.c.atlbt, at.c.atacnt, at.c.atlnty, at.c.atabas, at.c.atmnmxaj, at.c.atmeadj,
             at.c.atmded, at.c.atprfr)
    schedule = (
        sa.select(sn.c.snoseq, sn.c.snast, sn.c.snskipto, sn.c.snskipend, sn.c.snstprcf, at.c.atast, *flags)
        .select_from(sn.outerjoin(at, at.c.atast == sn.c.snast))
        .where(sn.c.snasn == sa.bindparam("schedule"), _effective(sn.c.sneftj, sn.c.snexdj))
        .order_by(sn.c.snoseq, sn.c.snanps)
    )
    ad = tables.F4072
    details = {first: sa.select(ad.c.adast, ad.c.aditm, ad.c.adigid, ad.c.adan8, ad.c.adcgid, ad.c.adogid,
                                ad.c.adcrcd, ad.c.aduom, ad.c.admnq, ad.c.adbscd, ad.c.adfvtr, ad.c.adfgy,
                                ad.c.adfvum).where(
        in_bound(ad.c.adast, "names"),
        _item_scope(ad.c.aditm, ad.c.adigid, first=first, all_items=True),
        in_bound(ad.c.adan8, "an8s"), in_bound(ad.c.adcgid, "cgids"),
        in_bound(ad.c.adcrcd, "currencies"),
        _effective(ad.c.adeftj, ad.c.adexdj),
    ) for first in (True, False)}
    built = _Statements(customer=customer, items=items, bases=bases, schedule=schedule,
                        schedule_flags=tuple(col.name for col in flags), details=details,
                        rates=_rates_statement(tables.F0015))
    _STATEMENTS[id(tables)] = (tables, built)
    return built


def _rates_statement(cx: sa.Table) -> sa.Select:
    """Per address number and direction, the standard-type F0015 row with the latest CXEFT on or before today."""
    pair = sa.or_(sa.and_(cx.c.cxcrcd == sa.bindparam("foreign"), cx.c.cxcrdc == sa.bindparam("domestic")),
                  sa.and_(cx.c.cxcrcd == sa.bindparam("domestic"), cx.c.cxcrdc == sa.bindparam("foreign")))
    standard = [in_bound(cx.c.cxan8, "an8s"), cx.c.cxrttyp == "", cx.c.cxeft <= sa.bindparam("today")]
    newer = cx.alias("newer")
    latest = ~sa.exists().where(newer.c.cxcrcd == cx.c.cxcrcd, newer.c.cxcrdc == cx.c.cxcrdc,
                                newer.c.cxan8 == cx.c.cxan8, newer.c.cxrttyp == "",
                                newer.c.cxeft > cx.c.cxeft, newer.c.cxeft <= sa.bindparam("today"))
    return sa.select(cx.c.cxcrcd, cx.c.cxcrdc, cx.c.cxan8, cx.c.cxeft, cx.c.cxclmeth, cx.c.cxcrcm, cx.c.cxtrcr,
                     cx.c.cxcrr, cx.c.cxcrrd).where(pair, *standard, latest)


def load_exchange_rates(conn: sa.Connection, tables: JdeTables, *, foreign: str, domestic: str, an8: int,
                        today: int) -> list[ExchangeRate]:
    """The latest F0015 rows between the two currencies, both directions, for an8 and for all (CXAN8 0)."""
    stmt = _statements(tables).rates
    values = {"foreign": foreign, "domestic": domestic, "an8s": sorted({an8, 0}), "today": today}
    return [ExchangeRate(row.cxcrcd.strip(), row.cxcrdc.strip(), int(row.cxan8), int(row.cxeft),
                         row.cxclmeth.strip(), row.cxcrcm.strip(), row.cxtrcr.strip(), int(row.cxcrr),
                         int(row.cxcrrd)) for row in conn.execute(stmt, values)]


def load_customer(conn: sa.Connection, tables: JdeTables, *, sold_to: int, company: str) -> Customer:
    """The sold-to's F03012 row for company (else 00000) with its price group's F40942 key ID."""
    stmt = _statements(tables).customer
    rows = {row.aico: row for row in conn.execute(stmt, {"an8": sold_to, "companies": sorted({company, DEFAULT_COMPANY})})}
    row = rows.get(company) or rows.get(DEFAULT_COMPANY)
    if row is None:
        raise ErpRejected(
            f"address number {sold_to} has no customer master row (F03012) for company {company} or {DEFAULT_COMPANY}:"
            " choose a billing address that is set up as a customer in JDE"
        )
    problem = ""
    if row.aicpgp and row.complex:
        problem = (f"customer price group {row.aicpgp} is defined by category codes (F4092), whose key ID the"
                   " local pricer does not resolve")
    elif row.aicpgp and row.ckcgid is None:
        problem = (f"customer price group {row.aicpgp} has no key ID in F40942 (run Generate Customer Price"
                   " Groups, R40932, in JDE)")
    return Customer(an8=sold_to, company=row.aico, currency=row.aicrcd, price_group=row.aicpgp,
                    cgid=int(row.ckcgid or 0), group_problem=problem, schedule=row.aiasn)


def load_items(conn: sa.Connection, tables: JdeTables, litms: Iterable[str]) -> dict[str, Item]:
    """F4101 rows by 2nd item number, with the F40941 key ID of their item price group."""
    stmt = _statements(tables).items
    found: dict[str, Item] = {}
    for chunk in in_chunks(sorted({litm.strip() for litm in litms if litm.strip()})):
        for itm, litm, description, uom, group, igid, complex_group in conn.execute(stmt, {"litms": chunk}).all():
            problem = ""
            if group and complex_group:
                problem = (f"item price group {group} is defined by category codes (F4092), whose key ID"
                           " the local pricer does not resolve")
            elif group and igid is None:
                problem = (f"item price group {group} has no key ID in F40941 (run Generate Item Price"
                           " Groups, R40931, in JDE)")
            found[litm] = Item(itm=itm, litm=litm, description=description, uom=uom, price_group=group,
                               igid=int(igid or 0), group_problem=problem)
    return found


def load_base_prices(conn: sa.Connection, tables: JdeTables, *, itms: Sequence[int], igids: Sequence[int],
                     customer: Customer, currencies: Sequence[str], branch: str,
                     today: int) -> dict[tuple[str, int], list[BasePrice]]:
    """Every F4106 row that may price one of itms for this customer, by ("item", ITM) or ("item group", IGID)."""
    statements = _statements(tables).bases
    values = {"an8s": sorted({customer.an8, 0}), "cgids": sorted({customer.cgid, 0}), "currencies": list(currencies),
              "branches": sorted({branch.strip(), ""}), "today": today, "igids": list(igids)}
    # Each item's rows come with its chunk; item group rows with the first chunk only: no row twice.
    found: dict[tuple[str, int], list[BasePrice]] = defaultdict(list)
    for n, chunk in enumerate(in_chunks(itms)):
        for row in conn.execute(statements[n == 0], {**values, "itms": chunk}).all():
            price = BasePrice(*row)  # the statement's columns are BasePrice's fields, in order
            found[(ITEM, price.itm) if price.itm else (ITEM_GROUP, price.igid)].append(price)
    return found


def load_schedule(conn: sa.Connection, tables: JdeTables, schedule: str, *, today: int) -> list[ScheduleStep]:
    """The schedule's F4070 rows effective today, in sequence, each with its F4071 definition."""
    if not schedule:
        return []
    statements = _statements(tables)
    steps = []
    for row in conn.execute(statements.schedule, {"schedule": schedule, "today": today}):
        definition = None if row.atast is None else {name: getattr(row, name) for name in statements.schedule_flags}
        steps.append(ScheduleStep(sequence=int(row.snoseq), name=row.snast, skip_to=int(row.snskipto),
                                  skip_to_end=row.snskipend, new_base_flag=row.snstprcf, definition=definition))
    return steps


def load_details(conn: sa.Connection, tables: JdeTables, *, names: Sequence[str], itms: Sequence[int],
                 igids: Sequence[int], customer: Customer, currency: str,
                 today: int) -> dict[tuple[str, str, int], list[Detail]]:
    """F4072 rows of the schedule's adjustments that may apply, by (name, item dimension, ITM or IGID)."""
    if not names:
        return {}
    statements = _statements(tables).details
    values = {"names": list(names), "an8s": sorted({customer.an8, 0}), "cgids": sorted({customer.cgid, 0}),
              "currencies": sorted({currency, ""}), "today": today, "igids": list(igids)}
    # As for F4106: item rows with their chunk, item group and all-item rows with the first only.
    found: dict[tuple[str, str, int], list[Detail]] = defaultdict(list)
    for n, chunk in enumerate(in_chunks(itms)):
        for row in conn.execute(statements[n == 0], {**values, "itms": chunk}).all():
            detail = Detail(*row)  # the statement's columns are Detail's fields, in order
            if detail.itm:
                key = (detail.name, ITEM, detail.itm)
            elif detail.igid:
                key = (detail.name, ITEM_GROUP, detail.igid)
            else:
                key = (detail.name, ALL_ITEMS, 0)
            found[key].append(detail)
    return found


# --- pricing one line ------------------------------------------------------------------------

@dataclass
class _LinePricer:
    customer: Customer
    currency: str
    branch: str
    rules: PricingRules
    decimals: Mapping[str, int]
    bases: Mapping[tuple[str, int], list[BasePrice]]
    schedule: Sequence[ScheduleStep]
    details: Mapping[tuple[str, str, int], list[Detail]]
    rates: Sequence[ExchangeRate] = ()

    def __post_init__(self) -> None:
        # Rows by (..., customer dimension) once per cart, so each line's search is dictionary look-ups.
        self.bases = self._by_customer(self.bases)
        self.details = self._by_customer(self.details)
        cgid = self.customer.cgid
        self.base_levels = tuple(lv for lv in self.rules.hierarchy if cgid or lv[1] != CUSTOMER_GROUP)
        adjustment_levels = {code: tuple(lv for lv in levels if cgid or lv[1] != CUSTOMER_GROUP)
                             for code, levels in self.rules.adjustment_hierarchies.items()}
        # adjustment -> the levels of its own hierarchy, or why they are unknown; once per cart
        self.searched_by: dict[str, tuple[Level, ...] | str] = {
            step.name: self._hierarchy(step, adjustment_levels) for step in self.schedule if step.definition}
        self.break_scale = 10 ** self.decimals["MNQ"]  # ADMNQ's implied decimals: compare raw values
        self.unapplied: dict[str, str] = {}  # adjustment -> why the local pricer does not apply it ("": it does)
        self.places = Decimal(1).scaleb(-self.decimals["UPRC"])
        self.named: dict[tuple[str, int], set[str]] = defaultdict(set)  # (item dimension, key) -> adjustments
        for name, item_dim, key, _customer_dim in self.details:
            self.named[(item_dim, key)].add(name)

    def _by_customer(self, rows_by_key: Mapping[tuple, list]) -> dict[tuple, list]:
        indexed: dict[tuple, list] = defaultdict(list)
        an8, cgid = self.customer.an8, self.customer.cgid
        for key, rows in rows_by_key.items():
            for row in rows:
                if row.cgid == 0:
                    dimension = CUSTOMER if row.an8 == an8 and an8 else ALL_CUSTOMERS if row.an8 == 0 else None
                else:
                    dimension = CUSTOMER_GROUP if row.an8 == 0 and row.cgid == cgid else None
                if dimension is not None:
                    indexed[(*key, dimension)].append(row)
        return indexed

    def price(self, item: Item, uom: str, quantity: int) -> list[PriceStep]:
        """The steps from base price to unit price; Refusal when JDE's price cannot be made here."""
        for problem in (self.customer.group_problem, item.group_problem):
            if problem:
                raise Refusal(f"{problem}: {THROUGH_AIS}")
        places = self.places
        base_row, level = self.base_price(item, uom)
        base = from_implied(base_row.raw_price, "UPRC", self.decimals).quantize(places, rounding=ROUND_HALF_UP)
        steps = [PriceStep(what="base price", source=f"F4106 {self._level_words(level, item)}",
                           effect=self._base_effect(base_row), amount=base, unit_price=base)]
        if base_row.currency != self.currency:
            # The converted price is the base the adjustments work from; the step's amount is the
            # change, so the amounts still add up to the unit price.
            converted, source, effect = self.convert(base, base_row.currency, item)
            steps.append(PriceStep(what="exchange rate", source=source, effect=effect, amount=converted - base,
                                   unit_price=converted))
            base = converted
        current = base
        named = self.named
        for_item, for_group, for_all = named.get((ITEM, item.itm), ()), named.get((ITEM_GROUP, item.igid), ()), \
            named.get((ALL_ITEMS, 0), ())
        for step in self.schedule:
            name = step.name
            if name not in for_item and name not in for_group and name not in for_all \
                    and step.definition is not None and str(step.definition["atmded"]) not in MANDATORY:
                continue  # no detail of this adjustment can reach this item
            detail, level = self.adjustment_detail(step, item, uom, quantity)
            if detail is None:
                continue
            amount, effect = self._apply(step, detail, base, current)
            amount = amount.quantize(places, rounding=ROUND_HALF_UP)
            current += amount
            steps.append(PriceStep(what=step.name, source=f"F4072 {step.name} ({self._level_words(level, item)})",
                                   effect=effect, amount=amount, unit_price=current))
        if current < 0:
            raise Refusal(f"the adjustments take {item.litm} below zero ({current}): {THROUGH_AIS}")
        return steps

    # base price

    def base_price(self, item: Item, uom: str) -> tuple[BasePrice, tuple[str, str]]:
        tried = []
        domestic = self.rules.domestic_currency
        combinations = tuple(dict.fromkeys(((self.currency, uom), (self.currency, item.uom), (domestic, uom),
                                            (domestic, item.uom))))
        for level in self.base_levels:
            rows = self._at_level(self.bases, level, item)
            if rows is None:
                continue
            if not rows:
                tried.append(level)
                continue
            for currency, unit in combinations:
                matching = [r for r in rows if r.currency == currency and r.uom == unit]
                if not matching:
                    continue
                chosen = self._one_row(matching, item, level)
                if unit == uom and currency == self.currency:
                    return chosen, level
                where = f"F4106 {self._level_words(level, item)} {from_implied(chosen.raw_price, 'UPRC', self.decimals)}"
                if unit != uom:
                    raise Refusal(
                        f"no F4106 price for {item.litm} in {uom} {self.currency}; JDE would convert the {where}"
                        f" {currency} per {unit} through the item's unit conversions (F41002), which the local"
                        f" pricer does not read: order in {unit} or {THROUGH_AIS}")
                return chosen, level  # in the domestic currency: price() converts it (F0015)
            tried.append(level)
        searched = ", ".join(self._level_words(level, item) for level in tried) or "no level applies"
        raise Refusal(f"no F4106 price for {item.litm} in {uom} {self.currency} effective today (searched: {searched})")

    def convert(self, price: Decimal, domestic: str, item: Item) -> tuple[Decimal, str, str]:
        """price in the domestic currency, in the customer's, by F0015 (see the module docstring)."""
        foreign = self.currency
        what = f"{item.litm}'s F4106 price {price} {domestic}"
        rows = [r for r in self.rates if (r.foreign, r.domestic) == (foreign, domestic)]
        rate = next((r for an8 in (self.customer.an8, 0) for r in rows if r.an8 == an8), None)
        if rate is None:
            reverse = [r for r in self.rates if (r.foreign, r.domestic) == (domestic, foreign)]
            found = (f"F0015 holds only a rate from {domestic} to {foreign}, which the local pricer does not"
                     " invert" if reverse else f"F0015 has no exchange rate from {foreign} to {domestic}")
            raise Refusal(f"{what} needs converting to {foreign}: {found} (standard rate type, effective on or"
                          f" before today, for address {self.customer.an8} or all): set the rate in JDE or"
                          f" {THROUGH_AIS}")
        where = f"the F0015 rate from {foreign} to {domestic} effective {_date(rate.effective)}"
        if rate.triangulation or rate.method not in ("", "1", "2"):
            raise Refusal(f"{what} needs {where}, which triangulates (CXCLMETH {rate.method or 'blank'}, CXTRCR"
                          f" {rate.triangulation or 'blank'}): the local pricer does not triangulate: {THROUGH_AIS}")
        if rate.conversion == "Y":
            factor, word = from_implied(rate.raw_multiplier, "CRR", self.decimals), "multiplier"
        elif rate.conversion == "Z":
            factor, word = from_implied(rate.raw_divisor, "CRRD", self.decimals), "divisor"
        else:
            raise Refusal(f"{what} needs {where}, whose conversion method CXCRCM is"
                          f" {rate.conversion or 'blank'} (blank: the General Accounting Constants' method,"
                          f" F0009, which the local pricer does not read): {THROUGH_AIS}")
        if not factor:
            raise Refusal(f"{what} needs {where}, whose {word} rate is 0: {THROUGH_AIS}")
        converted = (price / factor if word == "multiplier" else price * factor).quantize(
            self.places, rounding=ROUND_HALF_UP)
        whose = f"address {rate.an8}" if rate.an8 else "all addresses"
        source = f"F0015 {foreign} to {domestic}, {whose}"
        effect = (f"converted from {domestic} at {factor} ({word}, F0015, effective"
                  f" {_date(rate.effective)}): {price} {domestic} is {converted} {foreign}")
        return converted, source, effect

    def _one_row(self, matching: list[BasePrice], item: Item, level: tuple[str, str]) -> BasePrice:
        own_branch = [r for r in matching if r.branch] or matching
        first_to_expire = min(_expiry(r) for r in own_branch)
        chosen_rows = [r for r in own_branch if _expiry(r) == first_to_expire]  # overlaps: JDE takes this one
        if len({r.raw_price for r in chosen_rows}) > 1:
            days = ", ".join(f"{_date(r.effective)}..{_date(r.expires)}" for r in chosen_rows)
            raise Refusal(f"F4106 holds {len(chosen_rows)} prices for {item.litm} at level"
                          f" {self._level_words(level, item)} effective today and expiring the same day ({days}):"
                          f" correct them in JDE or {THROUGH_AIS}")
        chosen = max(chosen_rows, key=lambda r: r.effective)
        if chosen.raw_from_level:
            raise Refusal(f"the F4106 price for {item.litm} has a from-level (BPFRMP {chosen.raw_from_level}),"
                          f" which the local pricer does not apply: {THROUGH_AIS}")
        return chosen

    def _base_effect(self, row: BasePrice) -> str:
        price = from_implied(row.raw_price, "UPRC", self.decimals)
        branch = f", branch {row.branch}" if row.branch else ""
        return f"{price} {row.currency} per {row.uom}{branch}, effective {_date(row.effective)} to {_date(row.expires)}"

    # adjustments

    def adjustment_detail(self, step: ScheduleStep, item: Item, uom: str,
                          quantity: int) -> tuple[Detail | None, tuple[str, str] | None]:
        definition = step.definition
        if definition is None:
            raise Refusal(f"adjustment {step.name} of schedule {self.customer.schedule} has no definition in F4071:"
                          f" {THROUGH_AIS}")
        levels = self.searched_by[step.name]
        if isinstance(levels, str):
            raise Refusal(levels)
        for level in levels:
            rows = self._at_level(self.details, level, item, step.name)
            if not rows:
                continue
            in_unit = [r for r in rows if r.uom == uom]
            if not in_unit:
                units = ", ".join(sorted({r.uom for r in rows}))
                raise Refusal(f"adjustment {step.name} has details for {item.litm} in {units}, not {uom}; JDE would"
                              f" convert through F41002, which the local pricer does not read: {THROUGH_AIS}")
            in_currency = [r for r in in_unit if r.currency == self.currency] or in_unit
            raw_quantity = quantity * self.break_scale
            reached = [r for r in in_currency if r.raw_break <= raw_quantity]
            if not reached:
                return None, None
            self._check_definition(step)
            detail = max(reached, key=lambda r: r.raw_break)
            self._check_detail(step, detail, uom)
            return detail, level
        if str(definition["atmded"]) in MANDATORY:
            raise Refusal(f"mandatory adjustment {step.name} has no detail for {item.litm} in {uom} {self.currency}:"
                          f" JDE would not price the line; {THROUGH_AIS}")
        return None, None

    @staticmethod
    def _hierarchy(step: ScheduleStep, levels_by_code: Mapping[str, tuple[Level, ...]]) -> tuple[Level, ...] | str:
        """The levels F4072 is searched in for this adjustment (its own hierarchy, F4071 ATPRFR), or the refusal."""
        code = str(step.definition["atprfr"]).strip()
        levels = levels_by_code.get(code)
        if levels is not None:
            return levels
        if not code:
            return (f"adjustment {step.name} names no preference hierarchy (F4071 ATPRFR is blank), so the"
                    f" order JDE searches its details in is unknown: {THROUGH_AIS}")
        return (f"adjustment {step.name} is searched by preference hierarchy {code} (F4071 ATPRFR), which"
                f" ECGW_ADJUSTMENT_HIERARCHIES does not describe: add \"{code}\" with the levels of JDE's"
                f" Preference Hierarchy Revisions (P40073) for {code}, in order, or {THROUGH_AIS}")

    def _check_definition(self, step: ScheduleStep) -> None:
        """Refuse an adjustment the local pricer does not apply; decided once per step of the cart."""
        if step.name not in self.unapplied:
            self.unapplied[step.name] = self._unapplied(step)
        if self.unapplied[step.name]:
            raise Refusal(self.unapplied[step.name])

    @staticmethod
    def _unapplied(step: ScheduleStep) -> str:
        d = step.definition or {}
        checks = [
            (d["atolvl"] not in LINE_LEVEL, f"an order- or basket-level adjustment (ATOLVL {d['atolvl']})"),
            (d["atlbt"] not in QUANTITY_BREAKS, f"level breaks other than quantity (ATLBT {d['atlbt']})"),
            (bool(d["atlnty"]), f"written as its own order line (ATLNTY {d['atlnty']})"),
            (d["atacnt"] not in PLAIN_CONTROL, f"adjustment control code {d['atacnt']} (ATACNT)"),
            (bool(d["atabas"]), f"based on something other than the price (ATABAS {d['atabas']})"),
            (bool(d["atmnmxaj"]), "a minimum or maximum price adjustment (ATMNMXAJ)"),
            (bool(d["atmeadj"]), "mutually exclusive with other adjustments (ATMEADJ)"),
            (bool(step.skip_to or step.skip_to_end), "a skip in the schedule (F4070 SNSKIPTO/SNSKIPEND)"),
        ]
        for failed, what in checks:
            if failed:
                return f"adjustment {step.name} is {what}, which the local pricer does not apply: {THROUGH_AIS}"
        return ""

    def _check_detail(self, step: ScheduleStep, detail: Detail, uom: str) -> None:
        if detail.free_goods in ("Y", "1"):
            raise Refusal(f"adjustment {step.name} gives free goods (F4072 ADFGY), which the local pricer does not"
                          f" add: {THROUGH_AIS}")
        if detail.ogid:
            raise Refusal(f"adjustment {step.name} is for an order detail group (ADOGID {detail.ogid}), which the"
                          f" local pricer does not resolve: {THROUGH_AIS}")
        if detail.factor_uom and detail.factor_uom != uom:
            raise Refusal(f"adjustment {step.name} gives its factor per {detail.factor_uom} (ADFVUM), not {uom}:"
                          f" {THROUGH_AIS}")

    def _apply(self, step: ScheduleStep, detail: Detail, base: Decimal, current: Decimal) -> tuple[Decimal, str]:
        factor = from_implied(detail.raw_factor, "FVTR", self.decimals)
        level = from_implied(detail.raw_break, "MNQ", self.decimals)
        from_quantity = f" from quantity {level}"
        basis = detail.basis
        if basis == NEW_BASE and any(s.new_base_flag for s in self.schedule):
            raise Refusal(f"adjustment {step.name} sets a new base price (basis code 0 with a schedule marked in"
                          f" SNSTPRCF), which the local pricer does not apply: {THROUGH_AIS}")
        if basis in (PERCENT_OF_BASE, NEW_BASE):
            return base * factor / HUNDRED, f"{factor}% of the base price {base}{from_quantity} (basis {basis})"
        if basis == PERCENT_OF_NET:
            return current * factor / HUNDRED, f"{factor}% of the current price {current}{from_quantity} (basis 2)"
        if basis == ADD_AMOUNT:
            return factor, f"{factor:+} {self.currency}{from_quantity} (basis 5)"
        what = NOT_APPLIED_BASES.get(basis, "not one the local pricer knows")
        raise Refusal(f"adjustment {step.name} uses basis code {basis!r} ({what}), which the local pricer does not"
                      f" apply: {THROUGH_AIS}")

    # shared

    def _at_level(self, rows_by_key, level: tuple[str, str], item: Item, *name: str) -> list | None:
        """The rows of one level (of adjustment `name`, if given); None when the item has no group for it.

        Levels of a customer group are left out of base_levels/adjustment_levels for a customer without one.
        """
        item_dim, customer_dim = level
        if item_dim == ITEM:
            return rows_by_key.get((*name, ITEM, item.itm, customer_dim), ())
        if item_dim == ITEM_GROUP:
            return rows_by_key.get((*name, ITEM_GROUP, item.igid, customer_dim), ()) if item.igid else None
        return rows_by_key.get((*name, ALL_ITEMS, 0, customer_dim), ())

    def _level_words(self, level: tuple[str, str] | None, item: Item) -> str:
        if level is None:
            return ""
        item_dim, customer_dim = level
        item_words = {ITEM: "item", ITEM_GROUP: f"item group {item.price_group}", ALL_ITEMS: "all items"}[item_dim]
        customer_words = {CUSTOMER: f"customer {self.customer.an8}",
                          CUSTOMER_GROUP: f"customer group {self.customer.price_group}",
                          ALL_CUSTOMERS: "all customers"}[customer_dim]
        return f"{item_words} + {customer_words}"


def _expiry(row: BasePrice) -> int:
    """BPEXDJ for ordering: 0 means no end, so it expires after every dated row."""
    return row.expires or 9_999_999


@lru_cache(maxsize=4096)
def _date(julian: int) -> str:
    if not julian:
        return "open"
    try:
        day = julian_to_date(julian)
    except ValueError:  # a malformed date in JDE's data: show it as stored
        return str(julian)
    return day.isoformat() if day else str(julian)


def _no_price(item: str, description: str, quantity: int, uom: str, currency: str, why: str) -> PricedLine:
    return PricedLine(item=item, description=description, quantity=quantity, uom=uom, unit_price=Decimal(0),
                      extended=Decimal(0), currency=currency, source=why, available=False)
