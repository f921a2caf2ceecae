"""A deterministic generator of realistic JDE data, for the demo, tests and benchmarks.

The same seed gives the same rows on every database: all choices come from one
random.Random(seed) stream, consumed in one fixed order, never from the database.

Shape of what it makes, per customer account (a parent in the default F0150 structure):
- the account itself (F0101 ABAT1 'C', F03012 AIBADT 'B');
- 1-3 billing addresses, F0150 children of the account, AIBADT 'B' (bill-to only) or
  'X' (bill-to and ship-to: it is also one of its own shipping addresses);
- each billing address has 1-4 shipping addresses, F0150 children of it, AIBADT 'S'.
Mixed in: employees ('E'), suppliers ('V', some with F0150 children of their own so
that a filter on search type matters) and prospects ('P').

Codes filters use: ABAC01 region (NTH STH EST WST CEN), ABAC02 sales rep (R01..R20),
ABAC03 customer class (DST RTL OEM GOV), ABMCU branch (10, 30, M30, right-justified).
Price groups, simple ones (F4092 rows without category keys): customer groups F03012 AICPGP ->
F40942 CKCGID: WHOLESAL 1, RETAIL 2, PREFER 3, GOVT 4; item groups F4101 IMPRGR -> F40941 IKIGID:
FASTENER 11, TOOLS 12, SAFETY 13.

Pricing (F4106 BPUPRC, 4 implied decimals): every item has an item-level USD price
(BPAN8 0, BPCGID 0) plus an expired and sometimes a future row; some items have a CAD
row, a branch-level row (BPMCU 30), price-group rows and customer-specific rows.
Every customer with a price group has the adjustment schedule PORTAL (F03012 AIASN), whose
F4070 rows apply, in sequence, the adjustments defined in F4071 with details in F4072, each
searched by preference hierarchy EC (F4071 ATPRFR; config.DEFAULT_ADJUSTMENT_HIERARCHIES describes it):
  10 PGROUP   quantity breaks for one customer group on some items: -2% of the base price from
              quantity 0, -5% from 10, -10% from 100 (basis 1);
  20 PTOOLS   item group TOOLS, all customers: -1% of the current price (basis 2);
  30 PSAFETY  item group SAFETY, all customers: +0.5000 a unit (basis 5, an add-on amount);
  40 PORDER   an order-level adjustment (F4071 ATOLVL 2) for customer group PREFER from
              quantity 1,000: the local pricer refuses those lines, so the demo shows a refusal.

Dates are fixed Julian values, not relative to today, so the data never changes: current
rows start between 2020 and 2025, future rows in 2031, expired rows ended in 2019.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from ecgateway.config import DEMO_ADJUSTMENT_HIERARCHY
from ecgateway.jde.conventions import mcu, pad
from ecgateway.jde.tables import JdeTables
from ecgateway.jde.types import JdeBusinessUnit, JdeChar

FIRST_AN8 = 1001
FIRST_ITEM = 60001
FIRST_ORDER = 5001

REGIONS = ("NTH", "STH", "EST", "WST", "CEN")
SALES_REPS = tuple(f"R{i:02d}" for i in range(1, 21))
CLASSES = ("DST", "RTL", "OEM", "GOV")
BRANCHES = ("10", "30", "M30")
CUSTOMER_PRICE_GROUPS = {"WHOLESAL": 1, "RETAIL": 2, "PREFER": 3, "GOVT": 4}
ITEM_PRICE_GROUPS = {"FASTENER": 11, "TOOLS": 12, "SAFETY": 13}
TERMS = ("N30", "N30", "N45", "N60", "COD", "210")  # 210: 2% 10 days, net 30
SCHEDULE = "PORTAL"
GROUP_BREAKS, TOOLS_OFF, SAFETY_HANDLING, ORDER_LEVEL = "PGROUP", "PTOOLS", "PSAFETY", "PORDER"
UNITS = ("EA", "BX", "CS")

CURRENT_FROM = (120001, 125300)  # current rows became effective between 2020 and 2025
FUTURE_FROM = 131001  # 2031-01-01: always in the future for these data
BEFORE_FUTURE = 130365  # 2030-12-31, the day before (131000 is no Julian date)
EXPIRED_TO = 119365  # 2019-12-31
NO_END = 140365  # 2040-12-31, JDE's usual "far future" expiry

CITIES = (
    ("Denver", "CO", "802", "US"), ("Chicago", "IL", "606", "US"), ("Houston", "TX", "770", "US"),
    ("Phoenix", "AZ", "850", "US"), ("Seattle", "WA", "981", "US"), ("Atlanta", "GA", "303", "US"),
    ("Boston", "MA", "021", "US"), ("Columbus", "OH", "432", "US"), ("Omaha", "NE", "681", "US"),
    ("Portland", "OR", "972", "US"), ("Nashville", "TN", "372", "US"), ("Tampa", "FL", "336", "US"),
    ("Minneapolis", "MN", "554", "US"), ("Salt Lake City", "UT", "841", "US"),
    ("Kansas City", "MO", "641", "US"), ("Raleigh", "NC", "276", "US"), ("Albany", "NY", "122", "US"),
    ("Toronto", "ON", "M5V", "CA"), ("Calgary", "AB", "T2P", "CA"), ("Montreal", "QC", "H2Y", "CA"),
    ("São Paulo", "SP", "010", "BR"), ("Köln", "NW", "506", "DE"),
)
NAME_FIRST = (
    "Acme", "Northwind", "Summit", "Blue River", "Ironwood", "Cascade", "Pioneer", "Redstone",
    "Silverline", "Keystone", "Harbor", "Granite", "Prairie", "Evergreen", "Atlas", "Beacon",
    "Copperfield", "Lakeside", "Frontier", "Midwest", "Pacific", "Union", "Liberty", "Sterling",
    "O'Brien", "Müller", "Delta", "Apex", "Vanguard", "Crescent",
)
NAME_SECOND = (
    "Fasteners", "Industrial Supply", "Hardware", "Tool Works", "Building Products", "Electric",
    "Plumbing", "Distribution", "Machinery", "Safety Co", "Fabrication", "Contractors",
    "Maintenance", "Equipment", "Components",
)
NAME_SUFFIX = ("Inc", "LLC", "Corp", "Ltd", "& Sons", "Co", "Group")
STREETS = ("Main St", "Industrial Pkwy", "Commerce Dr", "Oak Ave", "Market St", "Airport Rd", "Dock Ln")
FIRST_NAMES = ("Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kofi", "Lena")
LAST_NAMES = ("Smith", "Garcia", "Nguyen", "Okafor", "Kowalski", "Larsen", "Patel", "Rossi", "Silva")
ITEM_NOUNS = {
    "FASTENER": ("Hex Bolt", "Lag Screw", "Wing Nut", "Flat Washer", "Anchor", "Rivet", "Machine Screw"),
    "TOOLS": ("Torque Wrench", "Drill Bit Set", "Hammer", "Socket Set", "Tape Measure", "Level"),
    "SAFETY": ("Safety Glasses", "Hard Hat", "Work Gloves", "Ear Plugs", "Hi-Vis Vest", "Respirator"),
}
ITEM_SIZES = ("1/4in", "3/8in", "1/2in", "M6", "M8", "M10", "Small", "Medium", "Large", "XL")
UOMS = ("EA", "EA", "EA", "BX", "CS")

ACCOUNTS_PER_CHUNK = 2000


@dataclass
class SeedSummary:
    accounts: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self) -> str:
        parts = ", ".join(f"{name} {count:,}" for name, count in self.rows.items())
        return f"generated {self.accounts:,} accounts in {self.seconds:.1f}s: {parts}"


# EDI document numbers for the demo's local ERP start here (F0002 system 47, line 1).
FIRST_EDI_DOCUMENT = 1


def seed_next_numbers(engine: sa.Engine, tables: JdeTables) -> None:
    """The next-numbers row of system 47 the local ERP takes EDI document numbers from, if missing."""
    with engine.begin() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(tables.F0002).where(tables.F0002.c.nnsy == "47")):
            return
        conn.execute(tables.F0002.insert().values(nnsy="47", nnn001=FIRST_EDI_DOCUMENT))


def seed_database(
    engine: sa.Engine,
    tables: JdeTables,
    *,
    accounts: int,
    seed: int,
    show_progress: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> SeedSummary:
    """Create the JDE tables if missing and fill them with accounts generated from seed.

    Refuses a database that already holds F0101 rows: generated data is never mixed
    into existing data.
    """
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    started = time.perf_counter()
    tables.metadata.create_all(engine)
    with engine.connect() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(tables.F0101)).scalar():
            raise ValueError("the JDE database already holds F0101 rows; seed an empty database")
    seed_next_numbers(engine, tables)
    gen = _Generator(tables, random.Random(seed))
    summary = SeedSummary(accounts=accounts)

    progress = None
    task = None
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        progress = Progress("[progress.description]{task.description}", BarColumn(),
                            MofNCompleteColumn(), TimeRemainingColumn())
        progress.start()
        task = progress.add_task("accounts", total=accounts)
    try:
        with engine.begin() as conn:
            _bulk_insert(conn, tables, summary, gen.reference_rows())
            done = 0
            while done < accounts:
                n = min(ACCOUNTS_PER_CHUNK, accounts - done)
                _bulk_insert(conn, tables, summary, gen.account_chunk(n))
                done += n
                if progress is not None:
                    progress.update(task, completed=done)
                if on_progress:
                    on_progress(done)
    finally:
        if progress is not None:
            progress.stop()
    analyze(engine, tables)
    summary.seconds = time.perf_counter() - started
    return summary


def analyze(engine: sa.Engine, tables: JdeTables) -> None:
    """Planner statistics for the tables just loaded. Without them SQLite chose the repeated keyset
    bound inside an EXISTS over the equality and a first page took 2.8 s at 100,000 accounts
    (issue 19); the pages must not depend on them, but a generated database should not lack them."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text("ANALYZE"))
        elif conn.dialect.name == "postgresql":
            for table in tables.all():
                name = f"{table.schema}.{table.name}" if table.schema else table.name
                conn.execute(sa.text(f"ANALYZE {name}"))


# --- rows -------------------------------------------------------------------------------

class _RowMaker:
    """Builds a table's rows as tuples in column order, padding JDE text as stored."""

    def __init__(self, table: sa.Table):
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.index = {name: i for i, name in enumerate(self.columns)}
        self.padders: dict[str, Callable[[str], str]] = {}
        template: list = []
        for col in table.columns:
            if isinstance(col.type, JdeBusinessUnit):
                self.padders[col.name] = mcu
                template.append(pad("", col.type.width))
            elif isinstance(col.type, JdeChar):
                width = col.type.width
                self.padders[col.name] = lambda v, w=width: pad(v, w)
                template.append(pad("", width))
            else:
                template.append(0)
        self.template = template

    def __call__(self, **values) -> tuple:
        row = self.template.copy()
        for name, value in values.items():
            padder = self.padders.get(name)
            row[self.index[name]] = padder(value) if padder else value
        return tuple(row)


class _Generator:
    def __init__(self, tables: JdeTables, rng: random.Random):
        self.t = tables
        self.rng = rng
        self.make = {name: _RowMaker(getattr(tables, name)) for name in (
            "F0101", "F0116", "F0115", "F01151", "F0150", "F03012", "F40941", "F40942", "F4092", "F4101",
            "F4106", "F4070", "F4071", "F4072", "F4201", "F4211")}
        self.next_an8 = FIRST_AN8
        self.next_order = FIRST_ORDER
        self.items: list[tuple[int, str, str, str, int]] = []  # itm, litm, dsc1, uom, base price

    def reference_rows(self) -> dict[str, list[tuple]]:
        """Price groups, items and their prices: independent of the number of accounts."""
        rng, mk = self.rng, self.make
        rows: dict[str, list[tuple]] = {k: [] for k in (
            "F4092", "F40941", "F40942", "F4101", "F4106", "F4070", "F4071", "F4072")}
        for name, cgid in CUSTOMER_PRICE_GROUPS.items():
            rows["F4092"].append(mk["F4092"](gpgpty="C", gpgpc=name, gpdl01=f"{name.title()} customers"))
            rows["F40942"].append(mk["F40942"](ckcpgp=name, ckcgid=cgid))
        for name, igid in ITEM_PRICE_GROUPS.items():
            rows["F4092"].append(mk["F4092"](gpgpty="I", gpgpc=name, gpdl01=f"{name.title()} items"))
            rows["F40941"].append(mk["F40941"](ikprgr=name, ikigid=igid))
        for n in range(300):
            itm = FIRST_ITEM + n
            group = rng.choice(tuple(ITEM_PRICE_GROUPS))
            litm = f"{group[:3]}-{n + 1:05d}"
            dsc1 = f"{rng.choice(ITEM_NOUNS[group])} {rng.choice(ITEM_SIZES)}"
            uom = rng.choice(UOMS)
            base = rng.randrange(25, 250_000) * 100  # 0.25 .. 2,500.00 with 4 implied decimals
            self.items.append((itm, litm, dsc1, uom, base))
            rows["F4101"].append(mk["F4101"](imitm=itm, imlitm=litm, imaitm=litm, imdsc1=dsc1,
                                             imdsc2=group.title(), imuom1=uom, imprgr=group, imstkt="S"))
            price = self._price_row
            has_future = rng.random() < 0.3
            rows["F4106"] += [
                # the current row ends the day before a future price takes over, as in JDE
                price(itm, litm, uom, base, CURRENT_FROM[0], BEFORE_FUTURE if has_future else NO_END),
                price(itm, litm, uom, base * 8 // 10, 110001, EXPIRED_TO),  # expired: cheaper
            ]
            if has_future:
                rows["F4106"].append(price(itm, litm, uom, base * 11 // 10, FUTURE_FROM, NO_END))
            if rng.random() < 0.25:
                rows["F4106"].append(price(itm, litm, uom, base * 13 // 10, CURRENT_FROM[0], NO_END, crcd="CAD"))
            if rng.random() < 0.15:
                rows["F4106"].append(price(itm, litm, uom, base * 97 // 100, CURRENT_FROM[0], NO_END, branch="30"))
            for cgid in CUSTOMER_PRICE_GROUPS.values():
                if rng.random() < 0.2:
                    rows["F4106"].append(price(itm, litm, uom, base * (85 + cgid) // 100, CURRENT_FROM[0], NO_END, cgid=cgid))
            if rng.random() < 0.2:
                cgid = rng.choice(tuple(CUSTOMER_PRICE_GROUPS.values()))
                for mnq, factor in ((0, -20_000), (10, -50_000), (100, -100_000)):  # -2%, -5%, -10%
                    rows["F4072"].append(self._detail(GROUP_BREAKS, uom, mnq, "1", factor, itm=itm, litm=litm,
                                                      cgid=cgid))
        self._schedule(rows)
        return rows

    def _schedule(self, rows: dict[str, list[tuple]]) -> None:
        """The PORTAL schedule: F4070 sequence, F4071 definitions and the group-level F4072 details."""
        mk = self.make
        adjustments = ((10, GROUP_BREAKS, "", "", ""), (20, TOOLS_OFF, "TOOLS", "", ""),
                       (30, SAFETY_HANDLING, "SAFETY", "", ""), (40, ORDER_LEVEL, "", "PREFER", "2"))
        for seq, name, item_group, customer_group, order_level in adjustments:
            rows["F4070"].append(mk["F4070"](snasn=SCHEDULE, snoseq=seq, snast=name, sneftj=CURRENT_FROM[0],
                                             snexdj=NO_END, snupmj=CURRENT_FROM[0]))
            rows["F4071"].append(mk["F4071"](atast=name, atprgr=item_group, atcpgp=customer_group, atlbt="1",
                                             atolvl=order_level or "1", atprfr=DEMO_ADJUSTMENT_HIERARCHY,
                                             atupmj=CURRENT_FROM[0]))
        for uom in UNITS:
            rows["F4072"] += [
                self._detail(TOOLS_OFF, uom, 0, "2", -10_000, igid=ITEM_PRICE_GROUPS["TOOLS"]),  # -1% of net
                self._detail(SAFETY_HANDLING, uom, 0, "5", 5_000, igid=ITEM_PRICE_GROUPS["SAFETY"]),  # +0.5000
                self._detail(ORDER_LEVEL, uom, 1000, "1", -30_000, cgid=CUSTOMER_PRICE_GROUPS["PREFER"]),
            ]

    def _detail(self, name, uom, mnq, basis, factor, *, itm=0, litm="", igid=0, cgid=0):
        return self.make["F4072"](adast=name, aditm=itm, adlitm=litm, adigid=igid, adcgid=cgid, adcrcd="USD",
                                  aduom=uom, admnq=mnq, adbscd=basis, adfvtr=factor, adeftj=CURRENT_FROM[0],
                                  adexdj=NO_END, adupmj=CURRENT_FROM[0])

    def _price_row(self, itm, litm, uom, uprc, eftj, exdj, *, an8=0, cgid=0, crcd="USD", branch=""):
        return self.make["F4106"](bpitm=itm, bplitm=litm, bpmcu=branch, bpan8=an8, bpcgid=cgid,
                                  bpcrcd=crcd, bpuom=uom, bpuprc=uprc, bpeftj=eftj, bpexdj=exdj,
                                  bpupmj=CURRENT_FROM[0])

    def account_chunk(self, accounts: int) -> dict[str, list[tuple]]:
        rows: dict[str, list[tuple]] = {k: [] for k in (
            "F0101", "F0116", "F0115", "F01151", "F0150", "F03012", "F4106", "F4072", "F4201", "F4211")}
        for _ in range(accounts):
            self._account(rows)
            self._others(rows)
        return rows

    def _an8(self) -> int:
        an8 = self.next_an8
        self.next_an8 += 1
        return an8

    def _account(self, rows: dict[str, list[tuple]]) -> None:
        rng = self.rng
        region, rep, klass = rng.choice(REGIONS), rng.choice(SALES_REPS), rng.choice(CLASSES)
        branch = rng.choice(BRANCHES)
        name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)} {rng.choice(NAME_SUFFIX)}"
        city = rng.choice(CITIES)
        currency = "CAD" if city[3] == "CA" else "USD"
        account = self._an8()
        codes = {"abac01": region, "abac02": rep, "abac03": klass}
        self._party(rows, account, name, "C", city, branch, codes)
        self._customer(rows, account, "B", currency, price_group="")
        rows["F01151"].append(self.make["F01151"](eaan8=account, eaetp="E", earck7=1,
                                                  eaemal=_email("ap", name)))
        for b in range(rng.choices((1, 2, 3), weights=(60, 30, 10))[0]):
            billing = self._an8()
            bill_city = city if b == 0 else rng.choice(CITIES)
            bill_currency = "CAD" if bill_city[3] == "CA" else "USD"
            badt = "X" if rng.random() < 0.4 else "B"
            price_group = rng.choice(("WHOLESAL", "RETAIL", "PREFER", "GOVT", "", ""))
            self._party(rows, billing, f"{name} - Billing {b + 1}" if b else name, "C", bill_city, branch, codes)
            self._customer(rows, billing, badt, bill_currency, price_group)
            self._link(rows, account, billing)
            if rng.random() < 0.5:
                rows["F01151"].append(self.make["F01151"](eaan8=billing, eaetp="E", earck7=1,
                                                          eaemal=_email("billing", name, b)))
            ship_count = rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
            ships = []
            for s in range(ship_count):
                shipping = self._an8()
                ships.append(shipping)
                self._party(rows, shipping, f"{name} - Ship {b + 1}.{s + 1}", "C",
                            rng.choice(CITIES) if s else bill_city, branch, codes)
                self._customer(rows, shipping, "S", bill_currency, price_group)
                self._link(rows, billing, shipping)
            if rng.random() < 0.05:  # a customer-specific price for this sold-to
                for itm, litm, _dsc, uom, base in rng.sample(self.items, 3):
                    rows["F4106"].append(self._price_row(itm, litm, uom, base * 75 // 100,
                                                         CURRENT_FROM[0], NO_END, an8=billing))
            if rng.random() < 0.2:
                self._orders(rows, account, billing, ships, branch, bill_currency)

    def _party(self, rows, an8, name, search_type, city, branch, codes) -> None:
        rng, mk = self.rng, self.make
        rows["F0101"].append(mk["F0101"](
            aban8=an8, abalky=str(an8), abalph=name[:40], abdc=_compress(name), abmcu=branch,
            abat1=search_type, abeftb=CURRENT_FROM[0], abupmj=rng.randint(*CURRENT_FROM), **codes))
        street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"
        eftb = rng.randint(*CURRENT_FROM)
        rows["F0116"].append(self._address(an8, eftb, street, city))
        if rng.random() < 0.1:  # an older address, superseded
            rows["F0116"].append(self._address(an8, rng.randint(100001, EXPIRED_TO), f"{rng.randint(1, 999)} Old Mill Rd", rng.choice(CITIES)))
        if rng.random() < 0.05:  # a move announced for the future
            rows["F0116"].append(self._address(an8, FUTURE_FROM + rng.randint(0, 300), f"{rng.randint(1, 999)} New Harbor Way", rng.choice(CITIES)))
        rows["F0115"].append(mk["F0115"](wpan8=an8, wprck7=1, wpphtp="", wpar1=f"{rng.randint(200, 989)}",
                                         wpph1=f"555-{rng.randint(1000, 9999)}"))
        if rng.random() < 0.3:
            rows["F0115"].append(mk["F0115"](wpan8=an8, wprck7=2, wpphtp="FAX", wpar1=f"{rng.randint(200, 989)}",
                                             wpph1=f"555-{rng.randint(1000, 9999)}"))

    def _address(self, an8, eftb, street, city) -> tuple:
        cty, state, zip_prefix, country = city
        postal = f"{zip_prefix}{self.rng.randint(10, 99)}" if country == "US" else f"{zip_prefix} {self.rng.randint(1, 9)}A{self.rng.randint(1, 9)}"
        return self.make["F0116"](alan8=an8, aleftb=eftb, aladd1=street, alcty1=cty, aladds=state,
                                  aladdz=postal, alctr=country)

    def _customer(self, rows, an8, badt, currency, price_group) -> None:
        rng = self.rng
        common = dict(aian8=an8, aibadt=badt, aicpgp=price_group, aiasn=SCHEDULE if price_group else "",
                      aihold="C1" if rng.random() < 0.03 else "")
        rows["F03012"].append(self.make["F03012"](aico="00000", aicrcd=currency, aitrar=rng.choice(TERMS),
                                                  aiacl=rng.randrange(5, 500) * 1000, **common))
        if rng.random() < 0.1:  # a company-specific row for company 00200
            rows["F03012"].append(self.make["F03012"](aico="00200", aicrcd=currency, aitrar=rng.choice(TERMS),
                                                      aiacl=rng.randrange(5, 500) * 1000, **common))

    def _link(self, rows, parent, child) -> None:
        rows["F0150"].append(self.make["F0150"](maostp="", mapa8=parent, maan8=child, mabefd=CURRENT_FROM[0]))

    def _orders(self, rows, account, billing, ships, branch, currency) -> None:
        rng, mk = self.rng, self.make
        for _ in range(rng.randint(1, 3)):
            doco = self.next_order
            self.next_order += 1
            ship = rng.choice(ships)
            trdj = rng.randint(125001, 125330)
            status = rng.choice(("540", "540", "560", "999"))
            total = 0
            for line in range(rng.randint(1, 5)):
                itm, litm, dsc1, _uom, base = rng.choice(self.items)
                qty = rng.randint(1, 40)
                aexp = base * qty // 100  # UPRC has 4 decimals, AEXP 2
                total += aexp
                rows["F4211"].append(mk["F4211"](
                    sdkcoo="00200", sddoco=doco, sddcto="SO", sdlnid=(line + 1) * 1000, sdan8=billing,
                    sdshan=ship, sdpa8=account, sdmcu=branch, sditm=itm, sdlitm=litm, sddsc1=dsc1,
                    sduorg=qty, sduprc=base, sdaexp=aexp, sdcrcd=currency, sdnxtr=status,
                    sdlttr="520" if status != "999" else "620", sdtrdj=trdj, sdvr01=f"PO{doco}"))
            rows["F4201"].append(mk["F4201"](
                shkcoo="00200", shdoco=doco, shdcto="SO", shan8=billing, shshan=ship, shpa8=account,
                shmcu=branch, shtrdj=trdj, shvr01=f"PO{doco}", shcrcd=currency, shotot=total))

    def _others(self, rows) -> None:
        """Employees, suppliers and prospects: F0101 rows a customer filter must leave out."""
        rng = self.rng
        codes = {"abac01": rng.choice(REGIONS), "abac02": rng.choice(SALES_REPS), "abac03": ""}
        n = rng.choices((3, 4, 5), weights=(30, 40, 30))[0]
        for _ in range(n):
            kind = rng.choices(("V", "E", "P"), weights=(55, 20, 25))[0]
            an8 = self._an8()
            if kind == "E":
                name = f"{rng.choice(LAST_NAMES)}, {rng.choice(FIRST_NAMES)}"
            else:
                name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)} {rng.choice(NAME_SUFFIX)}"
            self._party(rows, an8, name, kind, rng.choice(CITIES), rng.choice(BRANCHES), codes)
            if kind == "V" and rng.random() < 0.1:  # a supplier with a remit-to child
                child = self._an8()
                self._party(rows, child, f"{name} - Remit", "V", rng.choice(CITIES), rng.choice(BRANCHES), codes)
                self._link(rows, an8, child)


def _compress(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())[:40]


def _email(box: str, name: str, n: int = 0) -> str:
    domain = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:24] or "customer"
    return f"{box}{n or ''}@{domain}.example.com"


# --- bulk insert --------------------------------------------------------------------------

def _bulk_insert(conn: sa.Connection, tables: JdeTables, summary: SeedSummary,
                 rows_by_table: dict[str, list[tuple]]) -> None:
    for name, rows in rows_by_table.items():
        if rows:
            insert_rows(conn, getattr(tables, name), rows)
            summary.rows[name] = summary.rows.get(name, 0) + len(rows)


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple] | Iterable[tuple]) -> None:
    """Insert tuples in the table's column order: COPY on PostgreSQL, executemany elsewhere."""
    columns = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        from psycopg import sql

        target = sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(target, sql.SQL(", ").join(map(sql.Identifier, columns)))
        with conn.connection.driver_connection.cursor() as cur, cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    if conn.dialect.positional:
        statement = str(table.insert().compile(dialect=conn.dialect))
        conn.exec_driver_sql(statement, list(rows))
        return
    conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
