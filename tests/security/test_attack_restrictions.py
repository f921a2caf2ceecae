"""Adversarial filters against the restriction compiler (no database needed).

Each case is something an admin (or whoever gets hold of the admin screen) could type to
read a column or row outside the allow-list, or to widen the Work-with-Accounts query.
The compiler must refuse it with a RestrictionError naming a position, or compile it to a
condition whose every value is a bound parameter and whose every column is allowed.
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from ecgateway.accounts import RestrictionError, compile_filter
from ecgateway.accounts.policy import default_policy
from ecgateway.accounts.restrictions import render

DIALECTS = ("oracle", "postgresql", "sqlite")
ALLOWED = set(default_policy().columns)

# Text that must be refused, whatever the dialect: (label, filter text).
REFUSED = [
    # comments, in every spelling, also after a string that looks closed
    ("line comment", "ABAN8 = 1 -- OR ABAN8 > 0"),
    ("block comment", "ABAN8 = 1 /* OR ABAN8 > 0 */"),
    ("nested block comment", "ABAN8 = 1 /* /* */ OR ABAN8 > 0 */"),
    ("comment right after a doubled quote", "ABAC01 = 'O''' -- '"),
    ("comment glued to a value", "ABAN8 = 1--x"),
    ("optimizer hint", "ABAN8 = 1 /*+ FULL(AB) */"),
    # more than one statement, set operations, subqueries
    ("second statement", "ABAN8 = 1; DELETE FROM F0101"),
    ("union", "ABAN8 = 1 UNION SELECT ABAN8 FROM F0101"),
    ("subquery in IN", "ABAN8 IN (SELECT ABAN8 FROM F0101)"),
    ("exists", "EXISTS (SELECT 1 FROM F0101)"),
    ("scalar subquery", "ABAN8 = (SELECT MAX(ABAN8) FROM F0101)"),
    ("subquery from dual", "ABAN8 IN (SELECT 1 FROM DUAL)"),
    # tautologies and value-only conditions
    ("or 1=1", "ABAN8 = 1 OR 1 = 1"),
    ("or string equality", "ABAN8 = 1 OR 'a' = 'a'"),
    ("or literal alone", "ABAN8 = 1 OR 1"),
    ("or true", "ABAN8 = 1 OR TRUE"),
    ("value IS NULL", "ABAN8 = 1 OR 1 IS NULL"),
    ("null IS NULL", "ABAN8 = 1 OR NULL IS NULL"),
    ("column = column", "ABAN8 = ABAN8"),
    ("between with a column", "ABAN8 BETWEEN 0 AND ABAN8"),
    ("between with a column low", "ABAN8 BETWEEN ABAN8 AND 99999999"),
    ("IN holding a column", "ABAN8 IN (1, ABAN8)"),
    ("like a column", "ABALPH LIKE ABALPH"),
    ("upper compared with upper", "UPPER(ABALPH) = UPPER(ABALPH)"),
    # columns outside the allow-list, qualified or quoted names
    ("unknown column", "ABTAX = '1'"),
    ("address book column not listed", "ABAN81 = 1"),
    ("qualified name", "AB.ABAN8 = 1"),
    ("schema qualified", "PRODDTA.F0101.ABAN8 = 1"),
    ("quoted name", '"ABAN8" = 1'),
    ("quoted lower-case name", '"aban8" = 1'),
    ("rownum", "ABAN8 = 1 OR ROWNUM < 10"),
    ("level", "ABAN8 = 1 OR LEVEL = 1"),
    ("rowid", "ROWID = 'AAA'"),
    ("user pseudo column", "ABAN8 = 1 OR USER = 'SYS'"),
    ("prior", "ABAN8 = PRIOR ABAN8"),
    ("full-width column name", "\uff21\uff22\uff21\uff2e\uff18 = 1"),
    ("cyrillic A in name", "\u0410BAN8 = 1"),
    # functions and expressions
    ("unknown function", "LOWER(ABALPH) = 'x'"),
    ("sys function", "ABAN8 = 1 OR SYS_CONTEXT('USERENV', 'SESSION_USER') = 'X'"),
    ("sysdate", "ABAN8 = 1 OR SYSDATE > 0"),
    ("dbms call", "ABAN8 = DBMS_RANDOM.VALUE(1, 2)"),
    ("upper of two args", "UPPER(ABALPH, ABDC) = 'X'"),
    ("upper of a number column", "UPPER(ABAN8) = '1'"),
    ("nested upper", "UPPER(UPPER(ABALPH)) = 'X'"),
    ("arithmetic on the column", "ABAN8 + 0 = 1"),
    ("arithmetic on the value", "ABAN8 = 1 + 0"),
    ("concatenation", "ABAC01 = 'NT' || 'H'"),
    ("cast", "ABAN8 = CAST('1' AS NUMBER)"),
    ("case", "ABAN8 = CASE WHEN 1 = 1 THEN 1 END"),
    ("double negation", "ABAN8 = - -1"),
    ("hex literal", "ABAN8 = 0x10"),
    ("exponent literal", "ABAN8 = 1e309"),
    ("decimal literal", "ABAN8 = 1.0"),
    ("nine digits", "ABAN8 = 123456789"),
    ("interval", "ABAN8 = INTERVAL '1' DAY"),
    ("escape clause", "ABALPH LIKE 'A!%' ESCAPE '!'"),
    ("ilike", "ABALPH ILIKE 'a%'"),
    ("regexp", "REGEXP_LIKE(ABALPH, '.*')"),
    ("tuple comparison", "(ABAN8, ABAN8) = (1, 1)"),
    # string forms other than plain '...'
    ("oracle q-quote", "ABAC01 = q'[NTH]'"),
    ("oracle q-quote hiding a quote", "ABAC01 = q'[x' OR ABAN8 > 0 OR ABAC01 = 'y]'"),
    ("national string", "ABAC01 = N'NTH'"),
    ("unterminated string", "ABAC01 = 'NTH"),
    ("control character in a value", "ABAC01 = 'N\tH'"),
    ("NUL in a value", "ABAC01 = 'N\x00H'"),
    ("NUL outside a value", "ABAN8 = 1\x00 OR ABAN8 > 0"),
    # placeholders of every flavour
    ("named bind", "ABAN8 = :an8"),
    ("positional bind", "ABAN8 = ?"),
    ("numbered bind", "ABAN8 = :1"),
    ("ampersand substitution", "ABAN8 = &an8"),
    ("at variable", "ABAN8 = @an8"),
    ("bind named like the base query's", "ABAC01 = :wwa_customer_type"),
    # shapes
    ("empty", "   "),
    ("column alone", "ABAN8"),
    ("dangling AND", "ABAN8 = 1 AND"),
    ("unbalanced close", "ABAN8 = 1)"),
    ("unbalanced close then OR", "ABAN8 = 1) OR (ABAN8 > 0"),
    ("unbalanced open", "(ABAN8 = 1"),
    ("empty IN", "ABAN8 IN ()"),
    ("nesting deeper than the policy", "(" * 13 + "ABAN8 = 1" + ")" * 13),
    ("not not ... deeper than the policy", "NOT " * 13 + "ABAN8 = 1"),
    ("IN list over the limit", "ABAN8 IN (" + ",".join(str(i) for i in range(5001)) + ")"),
    ("more values than the limit", " OR ".join(
        "ABAN8 IN (" + ",".join(str(i) for i in range(2001)) + ")" for _ in range(5))),
    ("longer than the limit", "ABAC01 = '" + "x" * 100_000 + "'"),
    ("value longer than the column", "ABAC01 = 'NTHX'"),
    ("number as text that is not a number", "ABAN8 = '42x'"),
    ("LIKE on a number", "ABAN8 LIKE '4%'"),
    ("IS on something other than NULL", "ABAC01 IS 'NTH'"),
    ("equals NULL", "ABAC01 = NULL"),
]


@pytest.mark.parametrize("label,text", REFUSED, ids=[c[0] for c in REFUSED])
def test_hostile_filter_is_refused_with_a_position(label, text):
    with pytest.raises(RestrictionError) as info:
        compile_filter(text, dialect="oracle")
    err = info.value
    assert err.line >= 1 and err.col >= 1, (label, err)
    assert str(err)  # a message a person can read
    # the dialect never changes the verdict
    for dialect in ("postgresql", "sqlite"):
        with pytest.raises(RestrictionError):
            compile_filter(text, dialect=dialect)


# Text that is accepted: tricky but legitimate. Every literal must come out as a bind.
ACCEPTED = [
    "ABAC01 = 'O''B'",
    "ABAC01 = 'a\\' OR ABAN8 = 4242",  # a backslash is an ordinary character in Oracle strings
    "ALCTY1 = 'x -- y'",  # comment markers inside a string are data
    "ALCTY1 = '/* x */'",
    "ALCTY1 = 'a;b'",
    "ALCTY1 = ':name'",
    "ABALPH LIKE '%''%'",
    "ABAN8 = '4242 '",
    "ABAN8 = -0",
    "ABAN8 = +1",
    "NOT ABAN8 = 1 OR ABAN8 = 2",
    "NOT (ABAN8 = 1 OR ABAN8 = 2)",
    "ABAN8 NOT IN (1, 2) AND ABAC01 NOT LIKE 'N%' AND ABAC02 IS NOT NULL",
    "ABAN8 BETWEEN 1001 AND 1021 OR ABMCU = 30",
    "UPPER(ABALPH) LIKE 'ACME%'",
    "abac01 = 'NTH'",
    "ABAN8 = 1\n\tOR ABAN8 = 2",
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted_filter_binds_every_value_and_names_only_allowed_columns(text, dialect):
    compiled = compile_filter(text, dialect=dialect)
    sql = compiled.sql
    assert sql.startswith("(") and sql.endswith(")")
    # no literal survives into the SQL text: no quote, no digit outside bind names
    assert "'" not in sql and '"' not in sql and "--" not in sql and "/*" not in sql and ";" not in sql
    assert not re.search(r"(?<![:\w])\d", sql), sql
    assert set(re.findall(r":(\w+)", sql)) == set(compiled.params)
    # every name in the SQL is an allowed column, a bind, a keyword or one of the trims/UPPER
    words = set(re.findall(r"(?<![:\w])([A-Za-z_][A-Za-z0-9_]*)", sql))
    keywords = {"AND", "OR", "NOT", "IN", "LIKE", "BETWEEN", "IS", "NULL", "UPPER", "RTRIM", "LTRIM", "NULLIF"}
    assert words <= ALLOWED | keywords, words - ALLOWED - keywords
    assert compiled.columns <= ALLOWED


def test_a_backslash_in_a_like_pattern_is_refused_on_every_database():
    """PostgreSQL reads it as LIKE's escape character (and a trailing one is an error there);
    Oracle and SQLite read it as text. Refused, so a filter means the same everywhere."""
    for text in ("ABALPH LIKE '%\\_%'", "ABALPH LIKE '%\\'", "UPPER(ALCTY1) NOT LIKE 'A\\%'"):
        with pytest.raises(RestrictionError, match="backslash"):
            compile_filter(text, dialect="postgresql")


def test_backslash_and_doubled_quotes_are_bound_verbatim():
    compiled = compile_filter("ABAC01 = 'a\\' OR ABAC02 = 'O''B'", dialect="postgresql")
    assert list(compiled.params.values()) == ["a\\ ", "O'B"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_or_inside_the_filter_is_kept_inside_its_parentheses(dialect):
    compiled = compile_filter("ABAN8 = 1 OR ABAN8 = 2 OR ABAC01 = 'NTH'", dialect=dialect)
    tree = compiled.condition
    assert isinstance(tree, exp.Paren)
    # ANDed onto a WHERE that itself has an OR, both sides keep their parentheses
    base = sqlglot.parse_one("SELECT 1 FROM T WHERE A = 1 OR B = 2", read=compiled.dialect)
    combined = render(base.where(tree.copy()), compiled.dialect)
    assert combined.endswith(f"WHERE (A = 1 OR B = 2) AND {compiled.sql}"), combined


def _in_groups(node: exp.Expression) -> list[exp.In]:
    return list(node.find_all(exp.In, bfs=False))


@pytest.mark.parametrize("negated", [False, True])
def test_oracle_splits_5000_values_into_groups_of_1000_inside_the_parentheses(negated):
    values = [str(1000 + i) for i in range(5000)]
    text = ("NOT " if negated else "") + "ABAN8 IN (" + ",".join(f"'{v}'" for v in values) + ") OR ABAC01 = 'NTH'"
    compiled = compile_filter(text, dialect="oracle")
    groups = _in_groups(compiled.condition)
    assert [len(g.expressions) for g in groups] == [1000] * 5
    # the groups together bind every value once, in order
    binds = [p.name for g in groups for p in g.expressions]
    assert [compiled.params[b] for b in binds] == [int(v) for v in values]
    sql = compiled.sql
    # the ORed groups sit in their own parentheses, under the NOT when there is one, so the
    # OR with ABAC01 cannot bind to only the last group
    inner = "(ABAN8 IN (" if not negated else "NOT (ABAN8 IN ("
    assert sql.startswith("(" + inner), sql[:40]
    assert sql.count(" IN (") == 5
    closing = sql.index(") OR ABAC01 = ")
    assert sql[:closing + 1].count("(") == sql[:closing + 1].count(")") + 1  # only the outer paren still open
    # the Oracle text parses back with the same shape
    back = sqlglot.parse_one(sql.replace(":", "@"), read="oracle")
    assert isinstance(back, exp.Paren) and isinstance(back.this, exp.Or)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_other_dialects_keep_one_in_list_of_5000(dialect):
    text = "ABAN8 IN (" + ",".join(str(1000 + i) for i in range(5000)) + ")"
    compiled = compile_filter(text, dialect=dialect)
    groups = _in_groups(compiled.condition)
    assert [len(g.expressions) for g in groups] == [5000]


def test_exactly_1000_values_on_oracle_stay_one_list():
    compiled = compile_filter("ABAN8 IN (" + ",".join(str(i + 1) for i in range(1000)) + ")", dialect="oracle")
    assert [len(g.expressions) for g in _in_groups(compiled.condition)] == [1000]
    compiled = compile_filter("ABAN8 IN (" + ",".join(str(i + 1) for i in range(1001)) + ")", dialect="oracle")
    assert [len(g.expressions) for g in _in_groups(compiled.condition)] == [1000, 1]


def test_a_long_like_pattern_is_one_bind():
    compiled = compile_filter("ABALPH LIKE '" + "%" * 90_000 + "'", dialect="oracle")
    assert compiled.sql == "(NULLIF(RTRIM(ABALPH), :blank) LIKE :f1)"


def test_the_filter_cannot_reuse_the_base_querys_bind_names():
    compiled = compile_filter(" OR ".join(f"ABAN8 = {i}" for i in range(1, 30)), dialect="oracle")
    assert all(re.fullmatch(r"f\d+", name) for name in compiled.params)
