"""A rep's restriction told in the allow-list's words (issue 15, part 8): one line per case."""

from __future__ import annotations

import pytest

from ecgateway.accounts import RestrictionError, default_policy
from ecgateway.accounts.describe import describe_filter, describe_or_none

CASES = [
    ("ABAC02 IN ('R01','R02','R03')", "Category code 2 is R01, R02 or R03"),
    ("ABAN8 in ('4242','1003')", "Address number is 4242 or 1003"),
    ("ABAN8 = 4242", "Address number is 4242"),
    ("ABAC01 = 'NTH' AND NOT ABAC03 IN ('GOV')", "Category code 1 is NTH and Category code 3 is not GOV"),
    ("ABAC03 NOT IN ('GOV','EDU')", "Category code 3 is none of GOV, EDU"),
    ("(ABAC01 = 'NTH' OR ABAC01 = 'STH') AND ALCTY1 LIKE 'K%'",
     "(Category code 1 is NTH or Category code 1 is STH) and City starts with K"),
    ("UPPER(ABALPH) LIKE '%ACME%' OR ABAN8 BETWEEN 1 AND 500",
     "Name (any case) contains ACME or Address number is from 1 to 500"),
    ("ALCTR IS NOT NULL AND ABAC04 <> 'X'", "Country is not blank and Category code 4 is not X"),
    ("ALADDS IS NULL", "State is blank"),
    ("ABALPH NOT LIKE 'A_C%'", "Name does not match A_C% (_ is any one character, % any characters)"),
    ("ABALPH LIKE '%GMBH'", "Name ends with GMBH"),
    ("ABAN8 >= 100 AND ABAN8 < 200", "Address number is at least 100 and Address number is less than 200"),
    ("ABAN8 IN (" + ",".join(str(n) for n in range(1, 30)) + ")",
     "Address number is one of 29 values (1, 2, 3, 4, 5, 6, 7, 8 and 21 more)"),
    ("NOT (ABAC01 = 'A' OR ABAC01 = 'B')", "not (Category code 1 is A or Category code 1 is B)"),
]


@pytest.mark.parametrize(("text", "words"), CASES, ids=[c[0][:40] for c in CASES])
def test_filter_in_words(text, words):
    said = describe_filter(text, policy=default_policy())
    assert said == words
    assert "ABAC" not in said and "'" not in said and " IN " not in said  # never the SQL


@pytest.mark.parametrize("text", ["ABAN8 IN (SELECT 1 FROM DUAL)", "ABXX = 1", "ABAN8 = 1; DROP TABLE F0101"])
def test_a_refused_filter_is_not_told(text):
    with pytest.raises(RestrictionError):
        describe_filter(text, policy=default_policy())
    assert describe_or_none(text, policy=default_policy()) is None
