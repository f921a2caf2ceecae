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
    F4101: Table
    F4106: Table
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
    # Price group relationships: the numeric key (CGID/IGID) F4106 and F4072 use for a
    # customer or item price group named in F03012 AICPGP or F4101 IMPRGR.
    f40941 = Table(
        "f40941", md,
        _chr("ikprgr", 8), _chr("ikprgt", 1), _num("ikcgid"), _num("ikigid"),
        PrimaryKeyConstraint("ikprgr", "ikprgt"),
    )
    f4101 = Table(
        "f4101", md,
        _num("imitm"), _chr("imlitm", 25), _chr("imaitm", 25), _chr("imdsc1", 30),
        _chr("imdsc2", 30), _chr("imuom1", 2), _chr("imprgr", 8), _chr("imstkt", 1),
        PrimaryKeyConstraint("imitm"),
        Index("f4101_litm", "imlitm"),
    )
    f4106 = Table(
        "f4106", md,
        _num("bpitm"), _chr("bplitm", 25), Column("bpmcu", JdeBusinessUnit(), nullable=False, default=" "),
        _num("bpan8"), _num("bpigid"), _num("bpcgid"), _chr("bpcrcd", 3), _chr("bpuom", 2),
        _amount("bpuprc"), _num("bpeftj"), _num("bpexdj"), _num("bpupmj"),
        PrimaryKeyConstraint("bpitm", "bpmcu", "bpan8", "bpigid", "bpcgid", "bpcrcd", "bpuom", "bpexdj"),
    )
    f4072 = Table(
        "f4072", md,
        _chr("adast", 8), _num("aditm"), _num("adan8"), _num("adigid"), _num("adcgid"),
        _chr("adcrcd", 3), _chr("aduom", 2), _amount("admnq"), _chr("adbscd", 1),
        _amount("adfvtr"), _num("adeftj"), _num("adexdj"),
        PrimaryKeyConstraint("adast", "aditm", "adan8", "adigid", "adcgid", "adcrcd", "aduom", "admnq", "adexdj"),
    )
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
        F03012=f03012, F40941=f40941, F4101=f4101, F4106=f4106, F4072=f4072,
        F4201=f4201, F4211=f4211, F47011=f47011, F47012=f47012,
    )
