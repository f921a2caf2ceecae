"""Effective dates are compared with JDE's business day (ECGW_JDE_TIMEZONE), not UTC's.

Two zones 25 hours apart: at any instant at least one of them has a date other than UTC's, and
that zone is used, so the case always crosses a day boundary.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ecgateway.jde.addresses import shipping_addresses
from ecgateway.jde.conventions import date_to_julian, today_julian
from ecgateway.jde.handle import Jde
from ecgateway.jde.tables import jde_tables

BILLING, SHIP_TO = 960_001, 960_002


def test_a_ship_to_link_ending_today_follows_the_jde_day(jde_db):
    utc = date_to_julian(dt.datetime.now(dt.UTC).date())
    zone = next(z for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago") if today_julian(ZoneInfo(z)) != utc)
    jde_day = today_julian(ZoneInfo(zone))
    # The link ends (MAEEFD) on the earlier of the two days: still current on that day, over on the later one.
    ends = min(utc, jde_day)
    t = jde_db.tables
    with jde_db.engine.begin() as conn:
        conn.execute(t.F0101.insert(), [dict(aban8=n, abalph=f"Day Buyer {n}", abat1="C") for n in (BILLING, SHIP_TO)])
        conn.execute(t.F03012.insert(), [dict(aian8=BILLING, aico="00000", aibadt="B"),
                                         dict(aian8=SHIP_TO, aico="00000", aibadt="S")])
        conn.execute(t.F0150.insert(), [dict(maostp=" ", mapa8=BILLING, maan8=SHIP_TO, maeefd=ends)])
    in_zone = jde_tables(jde_db.schema, timezone=zone)
    with jde_db.engine.connect() as conn:
        ships = [a.an8 for a in shipping_addresses(Jde(conn, in_zone), billing_an8=BILLING)]
    assert ships == ([SHIP_TO] if jde_day == ends else [])
