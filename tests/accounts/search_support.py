"""Accounts added to a seeded JDE database by the search tests (as JDE programs write them)."""

from __future__ import annotations

import sqlalchemy as sa

from ecgateway.jde.conventions import jde_now, pad, time_of_day, today_julian


def add_account(engine: sa.Engine, tables, *, an8: int, name: str, city: str, ac02: str = "R01",
                phone: str = "303 555-0100", email: str = "", stamp: bool = True) -> None:
    """A customer account an8 (a parent with one billing child an8 + 1) in city, stamped now."""
    now = jde_now()
    day, moment = (today_julian(), time_of_day(now)) if stamp else (0, 0)
    compressed = "".join(ch for ch in name.upper() if ch.isalnum())[:40]
    with engine.begin() as conn:
        for number, search_name in ((an8, name), (an8 + 1, f"{name} - Billing")):
            conn.execute(tables.F0101.insert().values(
                aban8=number, abalky=pad(str(number), 20), abalph=pad(search_name, 40), abdc=pad(compressed, 40),
                abat1=pad("C", 3), abac01=pad("NTH", 3), abac02=pad(ac02, 3), abeftb=120001,
                abupmj=day, abupmt=moment))
            conn.execute(tables.F0116.insert().values(alan8=number, aleftb=120001, aladd1=pad("1 Main St", 40),
                                                      alcty1=pad(city, 25), aladds=pad("NW", 3),
                                                      aladdz=pad("50667", 12), alctr=pad("DE", 3),
                                                      alupmj=day, alupmt=moment))
            conn.execute(tables.F03012.insert().values(aian8=number, aico="00000", aicrcd=pad("EUR", 3),
                                                       aiupmj=day, aiupmt=moment))
        conn.execute(tables.F0150.insert().values(maostp=pad("", 3), mapa8=an8, maan8=an8 + 1, mabefd=120001,
                                                  maupmj=day, maupmt=moment))
        area, number = phone.split(" ", 1)
        conn.execute(tables.F0115.insert().values(wpan8=an8, wpidln=0, wprck7=1, wpphtp=pad("", 4),
                                                  wpar1=pad(area, 6), wpph1=pad(number, 20), wpupmj=day, wpupmt=moment))
        if email:
            conn.execute(tables.F01151.insert().values(eaan8=an8, eaidln=0, earck7=1, eaetp=pad("E", 4),
                                                       eaemal=pad(email, 256), eaupmj=day, eaupmt=moment))


def set_category(engine: sa.Engine, tables, *, an8: int, ac02: str) -> None:
    now = jde_now()
    with engine.begin() as conn:
        conn.execute(tables.F0101.update().where(tables.F0101.c.aban8 == an8).values(
            abac02=pad(ac02, 3), abupmj=today_julian(), abupmt=time_of_day(now)))
