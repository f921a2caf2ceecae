"""JDE conventions: Julian dates, implied decimals, padded text, business units."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecgateway.jde.conventions import (
    date_to_julian,
    from_implied,
    julian_to_date,
    mcu,
    pad,
    to_implied,
    trim,
)


@pytest.mark.parametrize(
    ("julian", "date"),
    [
        (126001, dt.date(2026, 1, 1)),
        (125365, dt.date(2025, 12, 31)),
        (124366, dt.date(2024, 12, 31)),  # leap year
        (100060, dt.date(2000, 2, 29)),
        (99001, dt.date(1999, 1, 1)),  # century digit 0
        (0, None),
    ],
)
def test_julian_table(julian, date):
    assert julian_to_date(julian) == date
    assert date_to_julian(date) == julian


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2899, 12, 31)))
def test_julian_round_trip(date):
    assert julian_to_date(date_to_julian(date)) == date


@pytest.mark.parametrize("bad", [126000, 126367, 125366])
def test_julian_rejects_impossible_day(bad):
    with pytest.raises(ValueError, match="not a JDE Julian date"):
        julian_to_date(bad)


@pytest.mark.parametrize(
    ("raw", "item", "value"),
    [(1234500, "UPRC", Decimal("123.45")), (12345, "AEXP", Decimal("123.45")),
     (3000, "LNID", Decimal("3")), (-50000, "FVTR", Decimal("-5"))],
)
def test_implied_decimals_table(raw, item, value):
    assert from_implied(raw, item) == value
    assert to_implied(value, item) == raw


@given(st.integers(min_value=-10**15, max_value=10**15), st.sampled_from(["UPRC", "AEXP", "LNID", "FVTR"]))
def test_implied_decimals_round_trip(raw, item):
    assert to_implied(from_implied(raw, item), item) == raw


def test_implied_decimals_follow_configuration():
    assert from_implied(12345, "UPRC", {"UPRC": 2}) == Decimal("123.45")


def test_too_many_places_refused():
    with pytest.raises(ValueError, match="more than 2 decimals"):
        to_implied(Decimal("1.005"), "AEXP")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), max_size=10))
def test_pad_then_trim(text):
    padded = pad(text, 10)
    assert len(padded) == 10
    assert trim(padded) == text.strip()


def test_blank_is_a_space_not_empty():
    assert pad("", 3) == "   "
    assert pad(None, 1) == " "
    with pytest.raises(ValueError, match="longer than 3"):
        pad("ABCD", 3)


def test_business_unit_is_right_justified():
    assert mcu("30") == "          30"
    assert mcu(30) == "          30"
    assert mcu("  M30 ") == "         M30"
    with pytest.raises(ValueError):
        mcu("1234567890123")
