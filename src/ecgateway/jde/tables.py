"""The JDE tables the gateway reads or writes, as SQLAlchemy Core tables.

Names are lower case so that SQLAlchemy renders them unquoted: Oracle and SQL Server
match them to JDE's upper-case names, PostgreSQL and SQLite fold them the same way.
The schema (PRODDTA, CRPDTA, ...) is configuration, so tables are built per schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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

from ecgateway.jde.layouts import TEXT, layout
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

    def all(self) -> list[Table]:
        return list(self.metadata.sorted_tables)


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
                  "crcd": 3, "uom": 2, "bscd": 1, "ast": 8, "asn": 8, "prgr": 8, "cpgp": 8, "gpc": 8}
PRICING_TEXT_WIDTH = 10


def _jde_layout(md: MetaData, name: str, *extra) -> Table:
    """A pricing table with JDE's real columns (jde/layouts.py), blank text and 0 numbers by default.

    The gateway only reads these tables; the defaults let the generator and tests write rows
    that name the columns that matter. Business units (MCU) are right-justified as JDE stores them.
    """
    columns = []
    for col in layout(name):
        column_name = col.name.lower()
        item = column_name[2:]
        if item == "mcu":
            columns.append(Column(column_name, JdeBusinessUnit(), nullable=False, default=" "))
        elif col.kind == TEXT:
            width = PRICING_WIDTHS.get(item, PRICING_TEXT_WIDTH)
            columns.append(Column(column_name, JdeChar(width), nullable=False, default=" "))
        else:
            columns.append(Column(column_name, BigInteger, nullable=False, default=0))
    keys = [c.name.lower() for c in layout(name) if c.primary_key]
    return Table(name.lower(), md, *columns, PrimaryKeyConstraint(*keys), *extra)


@cache
def jde_tables(schema: str | None = None) -> JdeTables:
    """The JDE tables, qualified with schema when one is configured."""
    md = MetaData(schema=schema.lower() if schema else None)

    f0101 = Table(
        "f0101", md,
        _num("aban8"), _chr("abalky", 20), _chr("abtax", 20), _chr("abalph", 40),
        _chr("abdc", 40), Column("abmcu", JdeBusinessUnit(), nullable=False, default=" "),
        _chr("abat1", 3),
        *[_chr(f"abac{i:02d}", 3) for i in range(1, 31)],
        *[_num(f"aban8{i}") for i in range(1, 7)],
        _num("abeftb"), _num("abupmj"),
        PrimaryKeyConstraint("aban8"),
        # Work with Accounts sorted by name: keyset pages start from this index.
        Index("f0101_alph", "abalph", "aban8"),
    )
    f0116 = Table(
        "f0116", md,
        _num("alan8"), _num("aleftb"),
        _chr("aladd1", 40), _chr("aladd2", 40), _chr("aladd3", 40), _chr("aladd4", 40),
        _chr("alcty1", 25), _chr("aladds", 3), _chr("aladdz", 12), _chr("alctr", 3),
        _chr("alcoun", 25),
        PrimaryKeyConstraint("alan8", "aleftb"),
        # Work with Accounts sorted by city: keyset pages start from this index.
        Index("f0116_cty1", "alcty1", "alan8"),
    )
    # The city search is UPPER(ALCTY1) LIKE '%...%': no index serves a contains search, but
    # this one gives PostgreSQL statistics on UPPER(ALCTY1). Without them it guessed 24 of
    # 100,000 accounts in Denver (there are 4,500) and hashed whole tables instead of walking
    # by number: 1 s a page instead of 21 ms (bench/RESULTS-picker.md).
    Index("f0116_upper_cty1", func.upper(f0116.c.alcty1))
    f0115 = Table(
        "f0115", md,
        _num("wpan8"), _num("wpidln"), _num("wprck7"), _chr("wpphtp", 4),
        _chr("wpar1", 6), _chr("wpph1", 20),
        PrimaryKeyConstraint("wpan8", "wpidln", "wprck7"),
    )
    f01151 = Table(
        "f01151", md,
        _num("eaan8"), _num("eaidln"), _num("earck7"), _chr("eaetp", 4), _chr("eaemal", 256),
        PrimaryKeyConstraint("eaan8", "eaidln", "earck7"),
    )
    f0150 = Table(
        "f0150", md,
        _chr("maostp", 3), _num("mapa8"), _num("maan8"), _num("madss7"),
        _num("mabefd"), _num("maeefd"),
        PrimaryKeyConstraint("maostp", "mapa8", "maan8"),
        Index("f0150_child", "maan8", "maostp"),
    )
    f03012 = Table(
        "f03012", md,
        _num("aian8"), _chr("aico", 5), _chr("aicrcd", 3), _chr("aitrar", 3),
        _amount("aiacl"), _chr("aihold", 2), _chr("aibadt", 1), _chr("aicpgp", 8),
        _chr("aiasn", 8), _num("aiarpy"),
        PrimaryKeyConstraint("aian8", "aico"),
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
    f4201 = Table(
        "f4201", md,
        _chr("shkcoo", 5), _num("shdoco"), _chr("shdcto", 2), _num("shan8"), _num("shshan"),
        _num("shpa8"), Column("shmcu", JdeBusinessUnit(), nullable=False, default=" "),
        _num("shtrdj"), _chr("shvr01", 25), _chr("shcrcd", 3), _amount("shotot"),
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
    # EDI inbound order header and detail: orders wait here until batch R47011 runs.
    f47011 = Table(
        "f47011", md,
        _num("syedoc"), _chr("syedct", 2), _chr("syekco", 5), _chr("syedbt", 15),
        _chr("syedsp", 1), _chr("syedty", 1), _num("syan8"), _num("syshan"),
        Column("symcu", JdeBusinessUnit(), nullable=False, default=" "), _chr("syvr01", 25),
        _chr("syvr02", 25), _chr("syurrf", 15), _chr("sycrcd", 3), _num("sytrdj"),
        _amount("syotot"),
        PrimaryKeyConstraint("syedoc", "syedct", "syekco"),
    )
    f47012 = Table(
        "f47012", md,
        _num("szedoc"), _chr("szedct", 2), _chr("szekco", 5), _amount("szedln"),
        _chr("szedsp", 1), _num("szan8"), _num("szshan"),
        Column("szmcu", JdeBusinessUnit(), nullable=False, default=" "), _num("szitm"),
        _chr("szlitm", 25), _amount("szuorg"), _chr("szuom", 2), _amount("szuprc"),
        _amount("szaexp"), _chr("szcrcd", 3), _num("sztrdj"),
        PrimaryKeyConstraint("szedoc", "szedct", "szekco", "szedln"),
    )
    return JdeTables(
        metadata=md, F0101=f0101, F0116=f0116, F0115=f0115, F01151=f01151, F0150=f0150,
        F03012=f03012, F40941=f40941, F40942=f40942, F4092=f4092, F4101=f4101,
        F4106=f4106, F4070=f4070, F4071=f4071, F4072=f4072,
        F4201=f4201, F4211=f4211, F47011=f47011, F47012=f47012,
    )
