"""JDE's date is its server's business day (ECGW_JDE_TIMEZONE), and Oracle sessions sort as the index does."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pydantic
import pytest
import sqlalchemy as sa

from ecgateway.accounts.query import WorkWithAccounts
from ecgateway.config import Settings
from ecgateway.db import ORACLE_SESSION_STATEMENTS, binary_sort_order, make_engine
from ecgateway.erp.local import LocalErp
from ecgateway.jde.conventions import date_to_julian, jde_now, time_of_day, today_julian
from ecgateway.jde.tables import jde_tables

# 25 hours apart: at every instant their calendar dates differ.
EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"


def test_today_follows_the_configured_zone_not_utc():
    east, west = today_julian(ZoneInfo(EAST)), today_julian(ZoneInfo(WEST))
    assert east != west
    utc = date_to_julian(dt.datetime.now(dt.UTC).date())
    assert utc in (east, west) or west < utc < east
    assert today_julian(ZoneInfo("UTC")) == utc


def test_no_zone_means_this_machines_local_date():
    assert today_julian() == date_to_julian(dt.datetime.now().astimezone().date())
    assert jde_now().tzinfo is not None


def test_every_reader_of_today_uses_the_setting(tmp_path):
    settings = Settings(data_dir=tmp_path, jde_timezone=EAST)
    expected = today_julian(ZoneInfo(EAST))
    tables = jde_tables(None, timezone=settings.jde_timezone)
    assert tables.today() == expected  # addresses, account data (effective F0150/F0116 rows)
    assert WorkWithAccounts.load(settings, dialect="sqlite").base_params()["wwa_today"] == expected
    engine = sa.create_engine("sqlite://")
    try:
        assert LocalErp(engine, tables, settings).today() == expected  # pricing dates and TRDJ of orders
    finally:
        engine.dispose()


def test_a_zone_name_the_machine_does_not_know_is_refused(tmp_path):
    with pytest.raises(pydantic.ValidationError, match="ECGW_JDE_TIMEZONE='Mars/Olympus' is not a time zone"):
        Settings(data_dir=tmp_path, jde_timezone="Mars/Olympus")


def test_time_of_day_is_hhmmss():
    assert time_of_day(dt.datetime(2026, 4, 10, 7, 3, 9)) == 70309


class FakeOracleConnection:
    """A DBAPI connection that records what is run on it, as the connect listener gets it."""

    def __init__(self):
        self.executed: list[str] = []
        self.closed_cursors = 0

    def cursor(self):
        return self

    def execute(self, statement):
        self.executed.append(statement)

    def close(self):
        self.closed_cursors += 1


def test_oracle_sessions_compare_and_sort_binary():
    conn = FakeOracleConnection()
    binary_sort_order(conn, None)
    assert conn.executed == ["ALTER SESSION SET NLS_SORT = BINARY", "ALTER SESSION SET NLS_COMP = BINARY"]
    assert conn.closed_cursors == 1


def test_oracle_engines_register_the_listener_and_others_do_not(tmp_path):
    oracle = make_engine("oracle+oracledb://reader:secret@jde-db.invalid:1521/?service_name=JDEPROD", jde=True)
    sqlite = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}", jde=True)
    try:
        assert sa.event.contains(oracle, "connect", binary_sort_order)
        assert not sa.event.contains(sqlite, "connect", binary_sort_order)
    finally:
        oracle.dispose()
        sqlite.dispose()
    assert len(ORACLE_SESSION_STATEMENTS) == 2
