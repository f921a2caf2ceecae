"""JDE pricing read from the JDE tables: an F4106 base price, then one F4072 adjustment.

Base price (F4106), for the line's item, unit of measure and currency, effective today
(BPEFTJ <= today <= BPEXDJ, BPEXDJ 0 meaning open-ended), first match wins:

  1. customer-specific: BPAN8 = the sold-to;
  2. customer price group: BPAN8 0, BPCGID = the group of the sold-to's F03012 AICPGP (F40941 'C');
  3. item level: BPAN8 0, BPCGID 0.

Within a level a row for the request's branch (BPMCU) beats the blank-branch row, and a
later BPEFTJ beats an earlier one. Customer level outranks branch: a customer-specific
price for any branch beats an item-level price for this branch, as JDE's preference
hierarchy puts the customer dimension first.

Currency: the request's, else AICRCD of the sold-to's F03012 row for the company (falling
back to the 00000 row). Unit of measure: the line's, else the item's primary (IMUOM1); no
conversion between units (F41002 is not read), so a line in a unit with no price row has
no price.

Adjustment (F4072), with ADAST = the sold-to's adjustment schedule (F03012 AIASN; blank
means no adjustments; the schedule is taken as the adjustment's name, F4070 is not read):
rows for the item and unit, currency blank or the price's, effective today, for the
sold-to (ADAN8) or else its price group (ADAN8 0, ADCGID); of those the highest quantity
break ADMNQ <= the line's quantity. Basis ADBSCD '1': ADFVTR is a percentage of the base
price (-5.0000 = 5% off); '5': ADFVTR is the unit price. Any other basis leaves the line
without a price, so it cannot be ordered at a price JDE would not charge.

The unit price is rounded half-up to UPRC's implied decimals, the extended amount to
AEXP's. A cart costs a fixed number of queries: one for the customer, and per 500
distinct items one each for F4101, F4106 and F4072 (Oracle takes at most 1,000 values in
an IN list).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from ecgateway.erp.base import ErpRejected, PricedLine, PriceRequest, PriceResult
from ecgateway.jde.conventions import from_implied
from ecgateway.jde.tables import JdeTables

log = logging.getLogger(__name__)

DEFAULT_COMPANY = "00000"
IN_LIST_CHUNK = 500
LEVEL_NAMES = ("customer", "price group", "item level")
CUSTOMER, PRICE_GROUP, ITEM_LEVEL = range(3)
PERCENT_OF_BASE = "1"
FIXED_PRICE = "5"


@dataclass(frozen=True)
class Customer:
    """What pricing needs from the sold-to's F03012 row."""

    an8: int
    company: str  # the F03012 row used: the request's company or 00000
    currency: str
    price_group: str
    cgid: int  # F40941 IKCGID of the price group; 0 when none
    schedule: str  # F03012 AIASN


@dataclass(frozen=True)
class Item:
    itm: int
    litm: str
    description: str
    uom: str


@dataclass(frozen=True)
class BasePrice:
    itm: int
    level: int
    branch_specific: bool
    uom: str
    raw_price: int
    effective: int
    an8: int
    cgid: int


@dataclass(frozen=True)
class Adjustment:
    itm: int
    customer_specific: bool
    uom: str
    raw_break: int
    basis: str
    raw_factor: int
    currency_specific: bool
    name: str


def price_cart(conn: sa.Connection, tables: JdeTables, request: PriceRequest, *,
               decimals: Mapping[str, int], today: int) -> PriceResult:
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
    bases = load_base_prices(conn, tables, itms=itms, customer=customer, currency=currency,
                             branch=request.branch, today=today)
    adjustments = load_adjustments(conn, tables, itms=itms, customer=customer, currency=currency, today=today)

    unit_places = Decimal(1).scaleb(-decimals["UPRC"])
    amount_places = Decimal(1).scaleb(-decimals["AEXP"])
    priced: list[PricedLine] = []
    for line in request.lines:
        item = items.get(line.item.strip())
        uom = (line.uom or (item.uom if item else "")).strip()
        if item is None:
            priced.append(_no_price(line.item, "", line.quantity, uom, currency,
                                    f"item {line.item!r} is not in the item master F4101"))
            continue
        base = best_base_price(bases.get(item.itm, ()), uom)
        if base is None:
            priced.append(_no_price(item.litm, item.description, line.quantity, uom, currency,
                                    f"no F4106 price for {item.litm} in {uom} {currency} effective today"))
            continue
        unit = from_implied(base.raw_price, "UPRC", decimals)
        source = _describe_base(base, customer)
        adjustment = best_adjustment(adjustments.get(item.itm, ()), uom, line.quantity, decimals)
        if adjustment is not None:
            factor = from_implied(adjustment.raw_factor, "FVTR", decimals)
            if adjustment.basis == PERCENT_OF_BASE:
                unit = unit * (1 + factor / 100)
            elif adjustment.basis == FIXED_PRICE:
                unit = factor
            else:
                priced.append(_no_price(item.litm, item.description, line.quantity, uom, currency,
                                        f"F4072 {adjustment.name} uses basis code {adjustment.basis!r}, which the"
                                        " local pricer does not apply: price through AIS (ECGW_ERP_MODE=ais)"))
                continue
            effect = f"{factor}%" if adjustment.basis == PERCENT_OF_BASE else f"fixed {factor}"
            source += (f" + F4072 {adjustment.name} {effect}"
                       f" from quantity {from_implied(adjustment.raw_break, 'MNQ', decimals)}")
        unit = unit.quantize(unit_places, rounding=ROUND_HALF_UP)
        extended = (unit * line.quantity).quantize(amount_places, rounding=ROUND_HALF_UP)
        priced.append(PricedLine(item=item.litm, description=item.description, quantity=line.quantity,
                                 uom=uom, unit_price=unit, extended=extended, currency=currency, source=source))
    total = sum((p.extended for p in priced if p.available), Decimal(0).quantize(amount_places))
    return PriceResult(lines=tuple(priced), currency=currency, total=total)


def load_customer(conn: sa.Connection, tables: JdeTables, *, sold_to: int, company: str) -> Customer:
    """The sold-to's F03012 row for company (else 00000) with its price group's F40941 key."""
    ai, ik = tables.F03012, tables.F40941
    stmt = (
        sa.select(ai.c.aico, ai.c.aicrcd, ai.c.aicpgp, ai.c.aiasn, ik.c.ikcgid)
        .select_from(ai.outerjoin(ik, sa.and_(ik.c.ikprgr == ai.c.aicpgp, ik.c.ikprgt == "C")))
        .where(ai.c.aian8 == sold_to, ai.c.aico.in_(sorted({company, DEFAULT_COMPANY})))
    )
    rows = {row.aico: row for row in conn.execute(stmt)}
    row = rows.get(company) or rows.get(DEFAULT_COMPANY)
    if row is None:
        raise ErpRejected(
            f"address number {sold_to} has no customer master row (F03012) for company {company} or {DEFAULT_COMPANY}:"
            " choose a billing address that is set up as a customer in JDE"
        )
    if row.aicpgp and row.ikcgid is None:
        log.warning("F03012 price group %r of %s has no F40941 row: pricing it as no group", row.aicpgp, sold_to)
    return Customer(an8=sold_to, company=row.aico, currency=row.aicrcd, price_group=row.aicpgp,
                    cgid=int(row.ikcgid or 0), schedule=row.aiasn)


def load_items(conn: sa.Connection, tables: JdeTables, litms: Iterable[str]) -> dict[str, Item]:
    """F4101 rows by 2nd item number."""
    im = tables.F4101
    found: dict[str, Item] = {}
    for chunk in _chunks(sorted({litm.strip() for litm in litms if litm.strip()})):
        stmt = sa.select(im.c.imitm, im.c.imlitm, im.c.imdsc1, im.c.imuom1).where(im.c.imlitm.in_(chunk))
        for row in conn.execute(stmt):
            found[row.imlitm] = Item(itm=row.imitm, litm=row.imlitm, description=row.imdsc1, uom=row.imuom1)
    return found


def load_base_prices(conn: sa.Connection, tables: JdeTables, *, itms: Sequence[int], customer: Customer,
                     currency: str, branch: str, today: int) -> dict[int, list[BasePrice]]:
    """Every F4106 row that may price one of itms for this customer, by item."""
    bp = tables.F4106
    groups = sorted({customer.cgid, 0})
    scope = sa.or_(bp.c.bpan8 == customer.an8, sa.and_(bp.c.bpan8 == 0, bp.c.bpcgid.in_(groups)))
    branches = sorted({branch.strip(), ""})
    found: dict[int, list[BasePrice]] = defaultdict(list)
    for chunk in _chunks(itms):
        stmt = sa.select(bp.c.bpitm, bp.c.bpmcu, bp.c.bpan8, bp.c.bpcgid, bp.c.bpuom, bp.c.bpuprc, bp.c.bpeftj).where(
            bp.c.bpitm.in_(chunk), bp.c.bpigid == 0, bp.c.bpcrcd == currency, bp.c.bpmcu.in_(branches), scope,
            bp.c.bpeftj <= today, sa.or_(bp.c.bpexdj >= today, bp.c.bpexdj == 0),
        )
        for row in conn.execute(stmt):
            if row.bpan8 == customer.an8:
                level = CUSTOMER
            elif row.bpcgid and row.bpcgid == customer.cgid:
                level = PRICE_GROUP
            else:
                level = ITEM_LEVEL
            found[row.bpitm].append(BasePrice(itm=row.bpitm, level=level, branch_specific=bool(row.bpmcu),
                                              uom=row.bpuom, raw_price=row.bpuprc, effective=row.bpeftj,
                                              an8=row.bpan8, cgid=row.bpcgid))
    return found


def load_adjustments(conn: sa.Connection, tables: JdeTables, *, itms: Sequence[int], customer: Customer,
                     currency: str, today: int) -> dict[int, list[Adjustment]]:
    """Every F4072 row of the sold-to's schedule that may adjust one of itms, by item."""
    if not customer.schedule:
        return {}
    ad = tables.F4072
    scope = ad.c.adan8 == customer.an8
    if customer.cgid:
        scope = sa.or_(scope, sa.and_(ad.c.adan8 == 0, ad.c.adcgid == customer.cgid))
    found: dict[int, list[Adjustment]] = defaultdict(list)
    for chunk in _chunks(itms):
        stmt = sa.select(ad.c.aditm, ad.c.adan8, ad.c.aduom, ad.c.admnq, ad.c.adbscd, ad.c.adfvtr, ad.c.adcrcd).where(
            ad.c.adast == customer.schedule, ad.c.aditm.in_(chunk), ad.c.adigid == 0, scope,
            ad.c.adcrcd.in_(sorted({currency, ""})),
            ad.c.adeftj <= today, sa.or_(ad.c.adexdj >= today, ad.c.adexdj == 0),
        )
        for row in conn.execute(stmt):
            found[row.aditm].append(Adjustment(itm=row.aditm, customer_specific=row.adan8 == customer.an8,
                                               uom=row.aduom, raw_break=row.admnq, basis=row.adbscd,
                                               raw_factor=row.adfvtr, currency_specific=bool(row.adcrcd),
                                               name=customer.schedule))
    return found


def best_base_price(candidates: Iterable[BasePrice], uom: str) -> BasePrice | None:
    """The row the search order picks: level, then branch over blank branch, then latest start."""
    matching = [c for c in candidates if c.uom == uom]
    if not matching:
        return None
    return min(matching, key=lambda c: (c.level, not c.branch_specific, -c.effective))


def best_adjustment(candidates: Iterable[Adjustment], uom: str, quantity: int,
                    decimals: Mapping[str, int]) -> Adjustment | None:
    """The sold-to's own adjustment before its group's; the highest quantity break <= quantity."""
    reached = [c for c in candidates
               if c.uom in (uom, "") and from_implied(c.raw_break, "MNQ", decimals) <= quantity]
    if not reached:
        return None
    return min(reached, key=lambda c: (not c.customer_specific, -c.raw_break, not c.currency_specific, c.uom == ""))


def _describe_base(base: BasePrice, customer: Customer) -> str:
    if base.level == CUSTOMER:
        text = f"F4106 customer {base.an8}"
    elif base.level == PRICE_GROUP:
        text = f"F4106 price group {customer.price_group}"
    else:
        text = "F4106 item level"
    return text + (" (branch)" if base.branch_specific else "")


def _no_price(item: str, description: str, quantity: int, uom: str, currency: str, why: str) -> PricedLine:
    return PricedLine(item=item, description=description, quantity=quantity, uom=uom, unit_price=Decimal(0),
                      extended=Decimal(0), currency=currency, source=why, available=False)


def _chunks(values: Sequence, size: int = IN_LIST_CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]
