"""The restriction compiler as tables of cases: (filter, SQL per dialect, values) and (filter, refusal)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from ecgateway.accounts import RestrictionError, compile_filter, validate_filter
from ecgateway.accounts.policy import load_policy
from ecgateway.accounts.restrictions import ORACLE_IN_LIMIT, render
from ecgateway.config import PROJECT_ROOT

DIALECTS = ("oracle", "postgres", "sqlite", "tsql")

# filter as an admin types it -> (the filter's SQL, the same on all four dialects; bound values)
ACCEPTED: list[tuple[str, str, dict]] = [
    ("ABAN8 in ('4242','1003')", "(ABAN8 IN (:f1, :f2))", {"f1": 4242, "f2": 1003}),
    ("ABAN8 IN (4242, 1003)", "(ABAN8 IN (:f1, :f2))", {"f1": 4242, "f2": 1003}),
    ("aban8 = ' 4242 '", "(ABAN8 = :f1)", {"f1": 4242}),
    ("ABAN8 = -5", "(ABAN8 = :f1)", {"f1": -5}),
    ("ABAN8 = 000000001234", "(ABAN8 = :f1)", {"f1": 1234}),  # leading zeros are not digits of the width
    ("ABAN8 IN ('1',\r\n\t'2')", "(ABAN8 IN (:f1, :f2))", {"f1": 1, "f2": 2}),  # CR, LF and tab separate words
    ("ABAN8 <> 1", "(ABAN8 <> :f1)", {"f1": 1}),
    ("ABAN8 != 1", "(ABAN8 <> :f1)", {"f1": 1}),
    ("ABAN8 < 2 OR ABAN8 <= 3 OR ABAN8 > 4 OR ABAN8 >= 5",
     "(ABAN8 < :f1 OR ABAN8 <= :f2 OR ABAN8 > :f3 OR ABAN8 >= :f4)", {"f1": 2, "f2": 3, "f3": 4, "f4": 5}),
    ("ABAN8 BETWEEN 1001 AND '2000'", "(ABAN8 BETWEEN :f1 AND :f2)", {"f1": 1001, "f2": 2000}),
    ("ABAN8 NOT BETWEEN 1 AND 2", "(NOT ABAN8 BETWEEN :f1 AND :f2)", {"f1": 1, "f2": 2}),
    ("ABAN8 NOT IN ('1')", "(NOT ABAN8 IN (:f1))", {"f1": 1}),
    ("ABAC01 = 'NTH'", "(ABAC01 = :f1)", {"f1": "NTH"}),
    ("ABAC01 = 'N'", "(ABAC01 = :f1)", {"f1": "N  "}),  # padded as JDE stores it
    ("ABAC04 = ''", "(ABAC04 = :f1)", {"f1": "   "}),  # a blank is spaces, never NULL
    ("ALCTR = 'CA' AND AICPGP = 'WHOLESAL'", "(ALCTR = :f1 AND AICPGP = :f2)", {"f1": "CA ", "f2": "WHOLESAL"}),
    ("ABMCU = 30", "(ABMCU = :f1)", {"f1": "          30"}),  # business units are right-justified
    ("ABMCU IN ('M30', '10')", "(ABMCU IN (:f1, :f2))", {"f1": "         M30", "f2": "          10"}),
    ("ABALPH LIKE 'Acme%'", "(NULLIF(RTRIM(ABALPH), :blank) LIKE :f1)", {"f1": "Acme%", "blank": ""}),  # patterns as typed
    ("ABALPH NOT LIKE '%Inc'", "(NOT NULLIF(RTRIM(ABALPH), :blank) LIKE :f1)", {"f1": "%Inc", "blank": ""}),
    ("ABMCU LIKE 'M%'", "(NULLIF(RTRIM(LTRIM(ABMCU)), :blank) LIKE :f1)", {"f1": "M%", "blank": ""}),
    ("UPPER(ABALPH) LIKE 'ACME%'", "(UPPER(NULLIF(RTRIM(ABALPH), :blank)) LIKE :f1)", {"f1": "ACME%", "blank": ""}),
    ("upper(ALCTY1) = 'DENVER'", "(UPPER(NULLIF(RTRIM(ALCTY1), :blank)) = :f1)", {"f1": "DENVER", "blank": ""}),
    ("ABAC01 IS NULL", "(ABAC01 IS NULL)", {}),
    ("ABAC01 IS NOT NULL", "(NOT ABAC01 IS NULL)", {}),
    ("NOT ABAC01 = 'NTH'", "(NOT ABAC01 = :f1)", {"f1": "NTH"}),
    ("NOT (ABAC01 = 'NTH' OR ABAC01 = 'STH')", "(NOT (ABAC01 = :f1 OR ABAC01 = :f2))", {"f1": "NTH", "f2": "STH"}),
    ("ABAC01 = 'NTH' OR ABAT1 = 'V'", "(ABAC01 = :f1 OR ABAT1 = :f2)", {"f1": "NTH", "f2": "V  "}),
    ("(ABAC02 = 'R01' OR ABAC02 = 'R02') AND ABAC03 <> 'GOV'",
     "((ABAC02 = :f1 OR ABAC02 = :f2) AND ABAC03 <> :f3)", {"f1": "R01", "f2": "R02", "f3": "GOV"}),
    ("ABAN8 BETWEEN 1001 AND 20000\nAND NOT ALADDS IN ('NY', 'MA')",
     "(ABAN8 BETWEEN :f1 AND :f2 AND NOT ALADDS IN (:f3, :f4))", {"f1": 1001, "f2": 20000, "f3": "NY ", "f4": "MA "}),
    ("ABALPH = 'O''Brien Hardware'", "(ABALPH = :f1)", {"f1": "O'Brien Hardware".ljust(40)}),
    ("ABALPH = 'Müller; DROP TABLE users --'", "(ABALPH = :f1)", {"f1": "Müller; DROP TABLE users --".ljust(40)}),
]

# filter -> (what the message says, line, col, the refused piece)
REFUSED: list[tuple[str, str, int, int, str]] = [
    # subqueries, UNION, second statements
    ("ABAN8 IN (SELECT ABAN8 FROM F0101)", "a subquery is not allowed", 1, 11, "SELECT ABAN8 FROM F0101"),
    ("ABAN8 = (SELECT MAX(ABAN8) FROM F0101)", "a subquery is not allowed", 1, 10, "SELECT MAX(ABAN8) FROM F0101"),
    ("EXISTS (SELECT 1 FROM F0101)", "EXISTS (a subquery) is not allowed", 1, 1, "EXISTS"),
    ("ABAN8 = 1 AND NOT EXISTS (SELECT 1 FROM dual)", "EXISTS (a subquery) is not allowed", 1, 19, "EXISTS"),
    ("ABAN8 = 1 UNION SELECT ABAN8 FROM F0101", "cannot be read at 'UNION'", 1, 11, "UNION"),
    ("ABAN8 = 1 UNION ALL SELECT 1 FROM dual", "cannot be read at 'UNION'", 1, 11, "UNION"),
    ("ABAN8 = 1; DROP TABLE users", "only one condition is allowed", 1, 10, "; DROP TABLE users"),
    ("ABAN8 = 1;", "only one condition is allowed", 1, 10, ";"),
    ("ABAN8 = 1\n; DELETE FROM users", "only one condition is allowed", 2, 1, "; DELETE FROM users"),
    ("SELECT * FROM F0101", "cannot be read", 1, 1, "SELECT"),
    ("ABAN8 = 1 ORDER BY ABAN8", "cannot be read at 'ORDER BY'", 1, 11, "ORDER BY"),
    # functions
    ("CHR(65) = ABALPH", "function CHR is not allowed", 1, 1, "CHR"),
    ("ABALPH = CHR(65)", "function CHR is not allowed", 1, 10, "CHR"),
    ("LOWER(ABALPH) = 'acme'", "function LOWER is not allowed", 1, 1, "LOWER"),
    ("ABAN8 = TO_NUMBER('4242')", "function TO_NUMBER is not allowed", 1, 9, "TO_NUMBER"),
    ("ABAN8 = DBMS_RANDOM.VALUE()", "is not allowed", 1, 9, "DBMS_RANDOM"),
    ("UPPER(ABAN8) = '1'", "UPPER applies to text; ABAN8 is a number", 1, 7, "ABAN8"),
    ("UPPER('x') = 'X'", "UPPER may only be applied to one column", 1, 1, "UPPER"),
    ("ABAN8 = SLEEP(10)", "function SLEEP is not allowed", 1, 9, "SLEEP"),
    # comments
    ("ABAN8 = 1 -- and the rest", "comments are not allowed", 1, 11, "-- and the rest"),
    ("ABAN8 = 1 /* x */ OR ABAN8 = 2", "comments are not allowed", 1, 11, "/* x */"),
    ("ABAN8 = 1 /*+ FULL(F0101) */", "comments are not allowed", 1, 11, "/*+ FULL(F0101) */"),
    # placeholders
    ("ABAN8 = ?", "placeholders", 1, 9, "?"),
    ("ABAN8 = :an8", "placeholders", 1, 9, ":an8"),
    ("ABAN8 = &an8", "placeholders", 1, 9, "&an8"),
    ("ABAN8 = @an8", "placeholders", 1, 9, "@an8"),
    # quoted and qualified names, unknown columns
    ('"ABAN8" = 1', "quoted names are not allowed", 1, 1, '"ABAN8"'),
    ("F0101.ABAN8 = 1", "qualified names are not allowed", 1, 1, "F0101.ABAN8"),
    ("PRODDTA.F0101.ABAN8 = 1", "qualified names are not allowed", 1, 1, "PRODDTA.F0101.ABAN8"),
    ("AB.ABAN8 = 1", "qualified names are not allowed", 1, 1, "AB.ABAN8"),
    ("ABPASS = 'x'", "column ABPASS is not allowed", 1, 1, "ABPASS"),
    ("ABAN8 = 1\nAND ABTAX = '123'", "column ABTAX is not allowed", 2, 5, "ABTAX"),
    ("ROWNUM < 5", "column ROWNUM is not allowed", 1, 1, "ROWNUM"),
    ("PHONE = '555'", "column PHONE is not allowed", 1, 1, "PHONE"),
    ("AIACL > 0", "column AIACL is not allowed", 1, 1, "AIACL"),
    # column to column, tautologies, values only
    ("ABAN8 = ABAN8", "not with another column", 1, 9, "ABAN8"),
    ("ABAC01 = ABAC02", "not with another column", 1, 10, "ABAC02"),
    ("ABAN8 IN (1, ABAN8)", "not with another column", 1, 14, "ABAN8"),
    ("1 = 1", "must start with an allowed column", 1, 1, "1"),
    ("'a' = 'a'", "must start with an allowed column", 1, 1, "'a'"),
    ("ABAN8 = 4242 OR 1 = 1", "must start with an allowed column", 1, 17, "1"),
    ("'4242' = ABAN8", "write the column first", 1, 1, "'4242'"),
    ("1 IN (1, 2)", "must start with an allowed column", 1, 1, "1"),
    ("ABAN8 = 1 OR TRUE", "TRUE/FALSE is not allowed", 1, 14, "TRUE"),
    ("NULL IS NULL", "must start with an allowed column", 1, 1, "NULL"),
    ("ABAN8", "alone is not a condition", 1, 1, "ABAN8"),
    ("'x'", "alone is not a condition", 1, 1, "'x'"),
    ("ABAN8 = NULL", "nothing is equal to NULL", 1, 9, "NULL"),
    # arithmetic, concatenation, other syntax
    ("ABAN8 + 0 = 1", "arithmetic (+) is not allowed", 1, 1, "ABAN8 + 0"),
    ("ABAN8 = 2 * 2", "arithmetic (*) is not allowed", 1, 9, "2 * 2"),
    ("ABAC01 = 'N' || 'TH'", "|| (concatenation) is not allowed", 1, 10, "'N' || 'TH'"),
    ("ABAN8 = CASE WHEN 1 = 1 THEN 1 END", "CASE is not allowed", 1, 9, "CASE"),
    ("ABAN8 = CAST('1' AS NUMBER)", "CAST is not allowed", 1, 9, "CAST"),
    ("ABALPH LIKE 'a%' ESCAPE '!'", "ESCAPE is not allowed", 1, 1, "ABALPH LIKE 'a%' ESCAPE '!'"),
    ("ABALPH = N'x'", "national string", 1, 10, "N'x'"),
    ("(ABAN8, ABAC01) IN ((1, 'NTH'))", "is not allowed", 1, 2, "ABAN8, ABAC01"),
    # types and widths
    ("ABAN8 = 'abc'", "ABAN8 is a whole number; 'abc' is not", 1, 9, "'abc'"),
    ("ABAN8 = 1.5", "ABAN8 is a whole number", 1, 9, "1.5"),
    ("ABAN8 = 1e3", "ABAN8 is a whole number", 1, 9, "1e3"),
    ("ABAN8 = 123456789", "at most 8 digits", 1, 9, "123456789"),
    ("ABAN8 IN ('1', '2x')", "'2x' is not", 1, 16, "'2x'"),
    ("ABAC01 = 'TOOLONG'", "'TOOLONG' is 7 characters but ABAC01 holds 3", 1, 10, "'TOOLONG'"),
    ("ABALPH = 'a\x00b'", "control characters", 1, 10, "'a\x00b'"),
    ("ABALPH = 'a\x85b'", "control characters", 1, 10, "'a\x85b'"),  # C1 controls too
    ("ABAC01 = 'AB_CD'", "'AB_CD' is 5 characters but ABAC01 holds 3", 1, 10, "'AB_CD'"),  # _ is no wildcard in =
    ("ABAC01 IN ('N', 'ABC%')", "'ABC%' is 4 characters but ABAC01 holds 3", 1, 17, "'ABC%'"),
    ("ABALPH LIKE '%\\'", "may not contain a backslash", 1, 13, "'%\\'"),  # PostgreSQL's escape, Oracle's plain text
    ("ABAN8 = '\uff14\uff12'", "ABAN8 is a whole number", 1, 9, "'\uff14\uff12'"),  # full-width digits
    ("ABAN8 = \u0664\u0662", "is not allowed outside quotes", 1, 9, "\u0664"),  # Arabic-Indic digits
    # literals longer than the column, before any conversion (Python's int() refuses over 4,300 digits)
    ("ABAN8 = " + "1" * 4301, "ABAN8 has at most 8 digits", 1, 9, "1" * 4301),
    ("ABAN8 = '" + "9" * 5000 + "'", "ABAN8 has at most 8 digits", 1, 9, "'999"),
    ("ABAN8 IN (1, -" + "7" * 20000 + ")", "ABAN8 has at most 8 digits", 1, 15, "777"),
    ("ABAC01 = '" + "N" * 50000 + "'", "50,000 characters but ABAC01 holds 3", 1, 10, "'NNN"),
    # strict Oracle text: ASCII names, and only space, tab, CR and LF between words
    ("aıco = 'x'", "'ı' (U+0131 LATIN SMALL LETTER DOTLESS I) is not allowed outside quotes", 1, 2, "ı"),
    ("ALADDſ = 'x'", "'ſ' (U+017F LATIN SMALL LETTER LONG S) is not allowed outside quotes", 1, 6, "ſ"),
    ("ABAN8\x0b= 4242", "U+000B (a control character) is not allowed outside quotes", 1, 6, "\x0b"),  # vertical tab
    ("ABAN8 =\x0c4242", "U+000C (a control character) is not allowed outside quotes", 1, 8, "\x0c"),  # form feed
    ("ABAN8\x1c= 4242", "U+001C (a control character) is not allowed outside quotes", 1, 6, "\x1c"),  # file separator
    ("ABAN8 = 4242\x85OR ABAN8 = 1", "U+0085 (a control character) is not allowed", 1, 13, "\x85"),  # NEL
    ("ABAN8\u00a0= 4242", "U+00A0 NO-BREAK SPACE is not allowed outside quotes", 1, 6, "\u00a0"),
    ("ABAN8 = 4242\x00", "U+0000 (a control character) is not allowed", 1, 13, "\x00"),
    ("ABAN8 =\r4242 OR <", "cannot be read at '<'", 1, 17, "<"),  # a lone CR ends a line for sqlglot
    ("ABAN8 IN [4242]", "[ ] (a list in brackets) is not Oracle syntax", 1, 10, "["),
    # no empty list items
    ("ABAN8 IN (4242,)", "the list ends with a comma", 1, 15, ","),
    ("ABAN8 IN (,4242)", "an item of this list is empty", 1, 11, ","),
    ("ABAN8 IN ('1',\n, '2')", "an item of this list is empty", 2, 1, ","),
    # operators and functions Oracle does not have
    ("ABAN8 == 4242", "== is not an Oracle operator", 1, 7, "=="),
    ("!(ABAN8 = 4242)", "! is not an Oracle operator", 1, 1, "!"),
    ("ABAN8 = 1 OR !ABAN8 = 2", "! is not an Oracle operator", 1, 14, "!"),
    ("ABAN8(+) = 4242", "the outer-join marker (+) is not allowed", 1, 6, "(+)"),
    ("UCASE(ABALPH) = 'ACME'", "function UCASE is not an Oracle function", 1, 1, "UCASE"),
    ("ABAC01 = 'N' AND ucase(ALCTY1) LIKE 'D%'", "function UCASE is not an Oracle function", 1, 18, "ucase"),
    ("LCASE(ABALPH) = 'acme'", "function LCASE is not allowed", 1, 1, "LCASE"),
    ("ABAN8 LIKE '42%'", "LIKE compares text but ABAN8 is a number", 1, 1, "ABAN8 LIKE '42%'"),
    ("ABAN8 IS 1", "IS is only for IS NULL", 1, 10, "1"),
    # operators outside the list
    ("ABALPH ILIKE 'a%'", "ILIKE is not allowed", 1, 1, "ABALPH ILIKE 'a%'"),
    ("ABALPH SIMILAR TO 'a%'", "is not allowed", 1, 1, "ABALPH"),
    ("ABALPH REGEXP_LIKE 'a'", "cannot be read", 1, 8, "REGEXP_LIKE"),
    # parentheses, quotes, empty and long input
    ("(ABAN8 = 1", "this '(' is never closed", 1, 1, "(ABAN8 = 1"),
    ("ABAN8 = 1)", "this ')' closes nothing", 1, 10, ")"),
    ("((ABAN8 = 1) OR (ABAN8 = 2)", "this '(' is never closed", 1, 1, "((ABAN8 = 1) OR"),
    ("ABAN8 IN (1, 2", "this '(' is never closed", 1, 10, "(1, 2"),
    ("ABALPH = 'abc", "this quoted text is never closed", 1, 10, "'abc"),
    ("ABAN8 IN ()", "IN needs at least one value", 1, 1, "ABAN8"),
    ("ABAN8 = 1 AND", "cannot be read at 'AND'", 1, 11, "AND"),
    ("", "the filter is empty", 1, 1, ""),
    ("   \n  ", "the filter is empty", 1, 1, ""),
    ("ABAN8 IN (" + ", ".join(["1"] * 5001) + ")", "the IN list has 5,001 values", 1, 1, "ABAN8"),
    ("ABAN8 = 1 OR " * 8000 + "ABAN8 = 1", "characters long", 1, 100001, ""),
    ("ABAN8 = 1 OR " * 301 + "ABAN8 = 1", "joins more than 300 conditions", 1, 3911, "OR"),
    ("ABAN8 = 1 AND " * 2000 + "ABAN8 = 1", "joins more than 300 conditions", 1, 4211, "AND"),
    ("(" * 13 + "ABAN8 = 1" + ")" * 13, "nested more than 12 levels", 1, 13, "(ABAN8 = 1"),
    ("NOT " * 13 + "ABAN8 = 1", "nested more than 12 levels", 1, 49, "NOT ABAN8 = 1"),
]


@pytest.mark.parametrize(("text", "sql", "params"), ACCEPTED, ids=[c[0][:40] for c in ACCEPTED])
def test_accepted_filters_compile_to_bound_sql_on_every_dialect(text, sql, params):
    for dialect in DIALECTS:
        compiled = compile_filter(text, dialect=dialect)
        assert compiled.sql == sql, dialect
        assert compiled.params == params, dialect
        # no literal of the admin's text survives into the SQL: every value is bound
        assert not list(compiled.condition.find_all(exp.Literal)), dialect


@pytest.mark.parametrize(("text", "problem", "line", "col", "fragment"), REFUSED,
                         ids=[c[0][:40] for c in REFUSED])
def test_hostile_and_malformed_filters_are_refused_with_where_and_why(text, problem, line, col, fragment):
    with pytest.raises(RestrictionError) as caught:
        validate_filter(text)
    error = caught.value
    assert problem in error.problem
    assert (error.line, error.col) == (line, col), error.message
    assert error.fragment.startswith(fragment) if fragment else True, error.fragment
    assert f"(line {line}, col {col})" in error.message
    assert error.hint, "every refusal says what to do instead"


def test_the_error_for_an_unknown_column_lists_the_allowed_ones():
    with pytest.raises(RestrictionError) as caught:
        validate_filter("ABPASS = 'x'")
    assert caught.value.message.startswith("column ABPASS is not allowed (line 1, col 1); allowed: ABAN8, ABALKY, ABALPH")
    assert "ABAC01..ABAC30" in caught.value.message
    assert caught.value.pointer("ABPASS = 'x'") == "ABPASS = 'x'\n^^^^^^"


def test_there_are_dozens_of_refused_cases():
    assert len(REFUSED) >= 60


def test_oracle_in_lists_over_1000_are_split_into_ored_groups_inside_the_parentheses():
    values = ", ".join(f"'{1000 + i}'" for i in range(2500))
    text = f"ABAN8 IN ({values}) OR ABAC01 = 'NTH'"
    oracle = compile_filter(text, dialect="oracle")
    groups = list(oracle.condition.find_all(exp.In, bfs=False))
    assert [len(g.expressions) for g in groups] == [1000, 1000, 500]
    assert oracle.sql.startswith("((ABAN8 IN (:f1, ") and oracle.sql.endswith(") OR ABAC01 = :f2501)")
    assert all(len(g.expressions) <= ORACLE_IN_LIMIT for g in groups)
    assert len(oracle.params) == 2501
    # NOT IN becomes NOT over the ORed groups: NOT (a IN (...) OR a IN (...))
    negated = compile_filter(f"ABAN8 NOT IN ({values})", dialect="oracle")
    assert negated.sql.startswith("(NOT (ABAN8 IN (") and negated.sql.count("ABAN8 IN (") == 3
    # the other databases take one list
    for dialect in ("postgres", "sqlite", "tsql"):
        assert [len(g.expressions) for g in compile_filter(text, dialect=dialect).condition.find_all(exp.In)] == [2500]


def test_not_in_over_1000_on_oracle_keeps_its_meaning():
    values = ", ".join(str(1000 + i) for i in range(1500))
    compiled = compile_filter(f"ABAN8 NOT IN ({values})", dialect="oracle")
    inner = compiled.condition.this.this  # (NOT (a IN ... OR b IN ...))
    assert isinstance(compiled.condition.this, exp.Not)
    assert isinstance(inner, exp.Paren) and isinstance(inner.this, exp.Or)


@pytest.mark.parametrize("dialect", ["oracle", "tsql"])
def test_rendered_filters_parse_back_with_sqlglot(dialect):
    for text, _sql, _params in ACCEPTED:
        compiled = compile_filter(text, dialect=dialect)
        back = sqlglot.parse_one(compiled.sql, read=dialect)
        assert back.sql(dialect=dialect) == compiled.sql
        assert {p.name for p in back.find_all(exp.Placeholder)} == set(compiled.params)


def test_postgres_rendering_uses_named_binds_for_sqlalchemy_text():
    compiled = compile_filter("ABAN8 IN ('1', '2')", dialect="postgresql")
    assert compiled.dialect == "postgres"
    assert compiled.sql == "(ABAN8 IN (:f1, :f2))"
    assert "%(" not in render(compiled.condition, "postgres")


def test_compiled_filters_are_cached_by_text_and_dialect():
    text = "ABAC01 = 'EST' AND ABAN8 > 5"
    first = compile_filter(text, dialect="sqlite")
    assert compile_filter(text, dialect="sqlite") is first
    assert compile_filter(text, dialect="oracle") is not first
    assert compile_filter(text + " ", dialect="sqlite") is not first


def test_every_example_filter_is_accepted():
    examples = sorted((PROJECT_ROOT / "restrictions" / "examples").glob("*.sql"))
    assert len(examples) >= 5
    for path in examples:
        validate_filter(path.read_text())


def test_a_policy_without_an_operator_refuses_it(tmp_path: Path):
    text = (PROJECT_ROOT / "restrictions" / "policy.toml").read_text()
    text = text.replace('"LIKE",\n           "NOT LIKE", ', "").replace('allowed = ["UPPER"]', "allowed = []")
    path = tmp_path / "policy.toml"
    path.write_text(text)
    policy = load_policy(path)
    assert "LIKE" not in policy.operators
    with pytest.raises(RestrictionError, match="operator LIKE is not allowed"):
        validate_filter("ABALPH LIKE 'A%'", policy=policy)
    with pytest.raises(RestrictionError, match="function UPPER is not allowed"):
        validate_filter("UPPER(ABALPH) = 'A'", policy=policy)
    validate_filter("ABALPH = 'A'", policy=policy)
