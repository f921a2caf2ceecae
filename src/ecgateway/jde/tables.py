"""The JDE tables the gateway reads or writes, as SQLAlchemy Core tables.

Names are lower case so that SQLAlchemy renders them unquoted: Oracle and SQL Server
match them to JDE's upper-case names, PostgreSQL and SQLite fold them the same way.
The schema (PRODDTA, CRPDTA, ...) is configuration, so tables are built per schema.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    func,
)

from ecgateway.jde.conventions import today_julian
from ecgateway.jde.layouts import layout, real_table
from ecgateway.jde.types import JdeBusinessUnit, JdeChar


@dataclass(frozen=True)
class JdeTables:
    metadata: MetaData
    F0101: Table
    F0116: Table
    F0115: Table
    F01151: Table
    F0150: Table
    F03012: Table
    F40941: Table
    F40942: Table
    F4092: Table
    F4101: Table
    F4106: Table
    F4070: Table
    F4071: Table
    F4072: Table
    F4201: Table
    F4211: Table
    F47011: Table
    F47012: Table
    F0002: Table
    F0015: Table  # exchange rates, read by the local pricer
    timezone: str | None = None  # ECGW_JDE_TIMEZONE: the zone of JDE's business day; None: this machine's

    def all(self) -> list[Table]:
        return list(self.metadata.sorted_tables)

    @property
    def zone(self) -> dt.tzinfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None

    def today(self) -> int:
        """Today's Julian date on JDE's clock, for effective-date comparisons and dates written."""
        return today_julian(self.zone)


def _num(name: str) -> Column:
    return Column(name, Integer, nullable=False, default=0)


def _amount(name: str) -> Column:
    return Column(name, BigInteger, nullable=False, default=0)


def _chr(name: str, width: int) -> Column:
    return Column(name, JdeChar(width), nullable=False, default=" ")


# Widths of the pricing tables' text columns, from JDE's data dictionary (data item -> characters);
# any other text column gets PRICING_TEXT_WIDTH. A comparison with a padded CHAR ignores the
# trailing spaces, so a generous width reads real data the same way.
PRICING_WIDTHS = {"litm": 25, "aitm": 25, "locn": 20, "lotn": 30, "dl01": 30, "urrf": 15, "rulename": 30,
                  "crcd": 3, "uom": 2, "bscd": 1, "ast": 8, "asn": 8, "prgr": 8, "cpgp": 8, "gpc": 8,
                  # F0015's: CRDC/TRCR 3, CRCM/CSR 1 ("Optional Fields in the F0015Z1 Workfile",
                  # https://docs.oracle.com/en/applications/jd-edwards/financials/9.2/eoamp/
                  # optional-fields-in-the-f0015z1-workfile.html); CLMETH 1 *(check)*
                  "crdc": 3, "trcr": 3, "crcm": 1, "csr": 1, "clmeth": 1}
PRICING_TEXT_WIDTH = 10


def _jde_layout(md: MetaData, name: str, *extra) -> Table:
    """A pricing table with JDE's real columns (jde/layouts.py), blank text and 0 numbers by default.

    The gateway only reads these tables; the defaults let the generator and tests write rows
    that name the columns that matter. Business units (MCU) are right-justified as JDE stores them.
    """
    columns = [c.name.lower() for c in layout(name)]
    widths = {c: PRICING_WIDTHS.get(c[2:], PRICING_TEXT_WIDTH) for c in columns}
    units = {c: JdeBusinessUnit() for c in columns if c[2:] == "mcu"}
    return real_table(md, name, *extra, widths=widths, types=units, defaults=True)


@cache
def jde_tables(schema: str | None = None, *, control_schema: str | None = None,
               timezone: str | None = None) -> JdeTables:
    """The JDE tables, qualified with schema when one is configured.

    control_schema: where JDE's control tables live (F0002 next numbers, e.g. PRODCTL); default
    the business-data schema. timezone: the zone of JDE's business day (see JdeTables.today).
    """
    md = MetaData(schema=schema.lower() if schema else None)

    f0101 = Table(
        "f0101", md,
        _num("aban8"), _chr("abalky", 20), _chr("abtax", 20), _chr("abalph", 40),
        _chr("abdc", 40), Column("abmcu", JdeBusinessUnit(), nullable=False, default=" "),
        _chr("abat1", 3),
        *[_chr(f"abac{i:02d}", 3) for i in range(1, 31)],
        *[_num(f"aban8{i}") for i in range(1, 7)],
        _num("abeftb"), _num("abupmj"), _num("abupmt"),
        PrimaryKeyConstraint("aban8"),
        # Work with Accounts sorted by name: keyset pages start from this index.
        Index("f0101_alph", "abalph", "aban8"),
        # The search index refresh reads the rows stamped since its last run (accounts/search.py
        # changed_accounts), on each of its six tables: without these it reads them whole
        # (bench/RESULTS-search.md; README asks a JDE site's DBA for the same indexes).
        # Not on F0116 ALEFTB (the addresses that became effective since, read whole): with such an
        # index SQLite drove the base query's count from it, 13 s instead of 1 s at 100,000 accounts.
        Index("f0101_upmj", "abupmj", "abupmt"),
    )
    f0116 = Table(
        "f0116", md,
        _num("alan8"), _num("aleftb"),
        _chr("aladd1", 40), _chr("aladd2", 40), _chr("aladd3", 40), _chr("aladd4", 40),
        _chr("alcty1", 25), _chr("aladds", 3), _chr("aladdz", 12), _chr("alctr", 3),
        _chr("alcoun", 25), _num("alupmj"), _num("alupmt"),
        PrimaryKeyConstraint("alan8", "aleftb"),
        # Work with Accounts sorted by city: keyset pages start from this index.
        Index("f0116_cty1", "alcty1", "alan8"),
        Index("f0116_upmj", "alupmj", "alupmt"),
    )
    # The city search is UPPER(ALCTY1) LIKE '%...%': no index serves a contains search, but
    # this one gives PostgreSQL statistics on UPPER(ALCTY1). Without them it guessed 24 of
    # 100,000 accounts in Denver (there are 4,500) and hashed whole tables instead of walking
    # by number: 1 s a page instead of 21 ms (bench/RESULTS-picker.md).
    Index("f0116_upper_cty1", func.upper(f0116.c.alcty1))
    f0115 = Table(
        "f0115", md,
        _num("wpan8"), _num("wpidln"), _num("wprck7"), _chr("wpphtp", 4),
        _chr("wpar1", 6), _chr("wpph1", 20), _num("wpupmj"), _num("wpupmt"),
        PrimaryKeyConstraint("wpan8", "wpidln", "wprck7"),
        Index("f0115_upmj", "wpupmj", "wpupmt"),
    )
    f01151 = Table(
        "f01151", md,
        _num("eaan8"), _num("eaidln"), _num("earck7"), _chr("eaetp", 4), _chr("eaemal", 256),
        _num("eaupmj"), _num("eaupmt"),
        PrimaryKeyConstraint("eaan8", "eaidln", "earck7"),
        Index("f01151_upmj", "eaupmj", "eaupmt"),
    )
    f0150 = Table(
        "f0150", md,
        _chr("maostp", 3), _num("mapa8"), _num("maan8"), _num("madss7"),
        _num("mabefd"), _num("maeefd"), _num("maupmj"), _num("maupmt"),
        PrimaryKeyConstraint("maostp", "mapa8", "maan8"),
        Index("f0150_child", "maan8", "maostp"),
        Index("f0150_upmj", "maupmj", "maupmt"),
    )
    f03012 = Table(
        "f03012", md,
        _num("aian8"), _chr("aico", 5), _chr("aicrcd", 3), _chr("aitrar", 3),
        _amount("aiacl"), _chr("aihold", 2), _chr("aibadt", 1), _chr("aicpgp", 8),
        _chr("aiasn", 8), _num("aiarpy"), _num("aiupmj"), _num("aiupmt"),
        PrimaryKeyConstraint("aian8", "aico"),
        Index("f03012_upmj", "aiupmj", "aiupmt"),
    )
    # The pricing tables in JDE's real layout (see local_pricing.py for what each holds).
    f40941 = _jde_layout(md, "F40941")
    f40942 = _jde_layout(md, "F40942")
    f4092 = _jde_layout(md, "F4092")
    f4070 = _jde_layout(md, "F4070")
    f4071 = _jde_layout(md, "F4071")
    f4101 = Table(
        "f4101", md,
        _num("imitm"), _chr("imlitm", 25), _chr("imaitm", 25), _chr("imdsc1", 30),
        _chr("imdsc2", 30), _chr("imuom1", 2), _chr("imprgr", 8), _chr("imstkt", 1),
        PrimaryKeyConstraint("imitm"),
        Index("f4101_litm", "imlitm"),
    )
    f4106 = _jde_layout(md, "F4106", Index("f4106_item", "bpitm", "bpan8", "bpcgid"))
    f4072 = _jde_layout(md, "F4072", Index("f4072_item", "aditm", "adast"))
    f0015 = _jde_layout(md, "F0015")
    f4201 = Table(
        "f4201", md,
        _chr("shkcoo", 5), _num("shdoco"), _chr("shdcto", 2), _num("shan8"), _num("shshan"),
        _num("shpa8"), Column("shmcu", JdeBusinessUnit(), nullable=False, default=" "),
        _num("shtrdj"), _chr("shvr01", 25), _chr("shvr02", 25), _chr("shcrcd", 3), _amount("shotot"),
        PrimaryKeyConstraint("shkcoo", "shdoco", "shdcto"),
        Index("f4201_an8", "shan8"),
    )
    f4211 = Table(
        "f4211", md,
        _chr("sdkcoo", 5), _num("sddoco"), _chr("sddcto", 2), _amount("sdlnid"),
        _num("sdan8"), _num("sdshan"), _num("sdpa8"), Column("sdmcu", JdeBusinessUnit(), nullable=False, default=" "),
        _num("sditm"), _chr("sdlitm", 25), _chr("sddsc1", 30), _amount("sduorg"),
        _amount("sduprc"), _amount("sdaexp"), _chr("sdcrcd", 3), _chr("sdnxtr", 3),
        _chr("sdlttr", 3), _num("sdtrdj"), _chr("sdvr01", 25),
        PrimaryKeyConstraint("sdkcoo", "sddoco", "sddcto", "sdlnid"),
        Index("f4211_an8", "sdan8", "sdnxtr"),
        Index("f4211_pa8", "sdpa8", "sdnxtr"),
    )
    f47011, f47012, f0002 = _edi_tables(md, control_schema=control_schema.lower() if control_schema else None)
    return JdeTables(
        metadata=md, F0101=f0101, F0116=f0116, F0115=f0115, F01151=f01151, F0150=f0150,
        F03012=f03012, F40941=f40941, F40942=f40942, F4092=f4092, F4101=f4101,
        F4106=f4106, F4070=f4070, F4071=f4071, F4072=f4072,
        F4201=f4201, F4211=f4211, F47011=f47011, F47012=f47012, F0002=f0002, F0015=f0015, timezone=timezone,
    )


# --- EDI inbound orders and next numbers ------------------------------------------------
#
# F47011/F47012 carry every real column (jde/layouts.py): JDE never stores NULL, so the
# local ERP writes all 211/267 of them, and tables made here refuse a row that leaves one
# out (NOT NULL, no default), as a site's own DDL may.
#
# Text widths of the data items, from JDE's data dictionary: the EDI control items as the
# F47012 file layout lists them (EDTY 1, EKCO 5, EDCT 2, EDST 6, EDFT 10, EDER 1, EDSP 1,
# EDBT 15, PNID 15, TPUR 2, KCOO 5, DCTO 2, SFXO 3, MCU 12, CO 5; http://seanhoppe.com/CodeSamples/
# DDS/EXTOL-EDI-Integrator-DDS-Purchase-Order-850-Detail.html and its 810/855 pages, VR01/LITM/
# AITM/CITM 25, DSC1 30), the others as the data dictionary defines them *(check against yours)*.
# A column whose width is not established here is modelled 1 wide: the gateway only ever
# writes a blank to it, and one space fits any NCHAR(n) (Oracle pads it), where a wider guess
# padded to that width could overflow a narrower real column (ORA-12899).
EDI_TEXT_WIDTHS: dict[str, int] = {
    "EDTY": 1, "EKCO": 5, "EDCT": 2, "EDST": 6, "EDFT": 10, "EDER": 1, "EDSP": 1, "EDBT": 15, "PNID": 15,
    "TPUR": 2, "KCOO": 5, "DCTO": 2, "SFXO": 3, "MCU": 12, "CO": 5, "OKCO": 5, "OORN": 8, "OCTO": 2,
    "RKCO": 5, "RORN": 8, "RCTO": 2, "VR01": 25, "VR02": 25, "VR03": 25, "DEL1": 30, "DEL2": 30,
    "INMG": 10, "PTC": 3, "RYIN": 1, "ASN": 8, "PRGP": 8, "PRGR": 8, "TXA1": 10, "EXR1": 2, "TAX1": 1,
    "ATXT": 1, "PRIO": 1, "BACK": 1, "SBAL": 1, "NTR": 2, "MOT": 3, "COT": 3, "ROUT": 3, "STOP": 3,
    "ZON": 3, "CNID": 20, "FRTH": 3, "AFT": 1, "RCD": 3, "WUMD": 2, "VUMD": 2, "AUTN": 10, "CACT": 25,
    "CRMD": 1, "CRRM": 1, "CRCD": 3, "LNGP": 2, "ORBY": 10, "TKBY": 10, "URCD": 2, "URRF": 15,
    "TORG": 10, "USER": 10, "PID": 10, "JOBN": 10, "IR01": 30, "IR02": 30, "IR03": 30, "IR04": 30,
    "IR05": 30, "DCT4": 2, "HOLD": 2, "FUF1": 1, "LITM": 25, "AITM": 25, "CITM": 25, "LOCN": 20,
    "LOTN": 30, "DSC1": 30, "DSC2": 30, "LNTY": 2, "NXTR": 3, "LTTR": 3, "EMCU": 12, "OMCU": 12,
    "UOM": 2, "UOM1": 2, "UOM2": 2, "UOM4": 2, "WTUM": 2, "VLUM": 2, "KCO": 5, "DCT": 2, "ODCT": 2,
    "OKC": 5, "LOB": 3, "OBJ": 6, "SUB": 8, "LT": 2, "SBL": 8, "SBLT": 1, "DMCT": 12, "GLC": 4,
}
EDI_BUSINESS_UNITS = ("MCU", "EMCU", "OMCU")  # right-justified in 12, as JDE keys them


def edi_widths(prefix: str) -> dict[str, int]:
    """The lower-case column -> width map real_table takes, for a table whose columns start with prefix."""
    return {(prefix + item).lower(): width for item, width in EDI_TEXT_WIDTHS.items()}


def _edi_tables(md: MetaData, *, control_schema: str | None) -> tuple[Table, Table, Table]:
    units = {(prefix + item).lower(): JdeBusinessUnit() for prefix in ("SY", "SZ") for item in EDI_BUSINESS_UNITS}
    f47011 = real_table(md, "F47011", widths=edi_widths("SY"), text_width=1, types=units)
    f47012 = real_table(md, "F47012", widths=edi_widths("SZ"), text_width=1, types=units)
    Index("f47011_vr02", f47011.c.syvr02)  # the gateway finds its orders by the reference it wrote
    Index("f47011_edsp", f47011.c.syedsp, f47011.c.syedoc)
    # Next Numbers - Automatic: one row per system code (NNSY) with ten next-number lines;
    # programs take line n of their system (https://docs.oracle.com/en/applications/jd-edwards/
    # development-tools/9.2.x/eotdd/next-number-triggers.html). Column names NNSY and
    # NNN001..NNN010 as public SQL against F0002 uses them *(check)*; only those are modelled.
    f0002 = Table(
        "f0002", md,
        _chr("nnsy", 4), *[_num8(f"nnn{i:03d}") for i in range(1, 11)],
        PrimaryKeyConstraint("nnsy"),
        schema=control_schema or md.schema,
    )
    return f47011, f47012, f0002


def _num8(name: str) -> Column:
    return Column(name, BigInteger, nullable=False, default=0)
