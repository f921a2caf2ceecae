"""JDE data conventions: Julian dates, implied decimals, padded strings, business units."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from ecgateway.clock import utcnow
from ecgateway.config import DEFAULT_DECIMALS

BLANK = " "  # JDE stores a blank value as one space, never NULL
MCU_WIDTH = 12


def julian_to_date(value: int | None) -> dt.date | None:
    """CYYDDD to a date; 0 or None means no date."""
    if not value:
        return None
    value = int(value)
    year = 1900 + value // 1000
    day = value % 1000
    days_in_year = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    if not 1 <= day <= days_in_year:
        raise ValueError(f"{value} is not a JDE Julian date: {year} has no day {day}")
    return dt.date(year, 1, 1) + dt.timedelta(days=day - 1)


def date_to_julian(value: dt.date | None) -> int:
    """A date to CYYDDD; None gives 0 (no date)."""
    if value is None:
        return 0
    return (value.year - 1900) * 1000 + value.timetuple().tm_yday


def jde_now(zone: dt.tzinfo | None = None) -> dt.datetime:
    """Now on JDE's clock: in zone (Settings.jde_zone), or this machine's local time when None.

    JDE's dates are local business days with no zone of their own, so "today" is the JDE
    server's date, not UTC's: between midnight UTC and local midnight the two differ by a day.
    """
    return utcnow().astimezone(zone)  # the one clock (ecgateway.clock); None: this machine's zone


def today_julian(zone: dt.tzinfo | None = None) -> int:
    """Today's CYYDDD on JDE's clock (see jde_now)."""
    return date_to_julian(jde_now(zone).date())


def time_of_day(moment: dt.datetime) -> int:
    """HHMMSS as JDE's time columns (TDAY) hold it."""
    return moment.hour * 10000 + moment.minute * 100 + moment.second


def from_implied(raw: int | None, item: str, decimals: Mapping[str, int] = DEFAULT_DECIMALS) -> Decimal:
    """A stored integer with implied decimals (data item such as UPRC) to a Decimal."""
    places = decimals[item]
    return Decimal(int(raw or 0)).scaleb(-places)


def to_implied(value: Decimal | int | str, item: str, decimals: Mapping[str, int] = DEFAULT_DECIMALS) -> int:
    """A Decimal to the stored integer; refuses values with more places than the item has."""
    places = decimals[item]
    scaled = Decimal(value).scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimals, the most {item} holds")
    return int(scaled)


def pad(value: str | None, width: int) -> str:
    """A value as JDE stores it: left-justified, space-padded; empty becomes one blank."""
    text = (value or "").rstrip()
    if len(text) > width:
        raise ValueError(f"{text!r} is longer than {width} characters")
    return text.ljust(width) if text else BLANK.ljust(width)


def trim(value: str | None) -> str:
    """A value as read from JDE, without its padding; a blank becomes ''."""
    return (value or "").strip()


def mcu(value: str | int | None) -> str:
    """A business unit right-justified in 12 characters, as JDE keys it."""
    text = str(value if value is not None else "").strip()
    if len(text) > MCU_WIDTH:
        raise ValueError(f"business unit {text!r} is longer than {MCU_WIDTH} characters")
    return text.rjust(MCU_WIDTH)
