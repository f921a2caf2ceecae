"""Property: for random accepted filters, the database's restricted list is the base list
filtered in Python by the same condition, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ecgateway.accounts import RestrictionError, filter_scope, list_accounts
from ecgateway.jde.generator import (
    BRANCHES,
    CITIES,
    CLASSES,
    CUSTOMER_PRICE_GROUPS,
    REGIONS,
    SALES_REPS,
)

Value = bool | None  # SQL's three-valued logic: None is UNKNOWN


@dataclass(frozen=True)
class Filter:
    text: str
    test: Callable[[dict, str], Value]  # (account row, backend) -> TRUE / FALSE / UNKNOWN


def _not(v: Value) -> Value:
    return None if v is None else not v


def _and(a: Value, b: Value) -> Value:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: Value, b: Value) -> Value:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


_OPS: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
EQUALITY = ["=", "<>", "!="]

# column -> values worth asking for (all from the generator's vocabulary)
CODES: dict[str, list[str]] = {
    "ABAC01": list(REGIONS), "ABAC02": list(SALES_REPS[:6]), "ABAC03": [*CLASSES, ""],
    "ALCTR": ["US", "CA", "BR", "DE"], "ALADDS": sorted({c[1] for c in CITIES})[:8],
    "ALCTY1": [c[0] for c in CITIES[:6]] + ["São Paulo", "Köln"], "AICPGP": [*CUSTOMER_PRICE_GROUPS, ""],
    "ABMCU": list(BRANCHES), "AICO": ["00000", "00200"], "ABAT1": ["C", "V", "E"],
}
RANGED = ["ABAC01", "ABAC02"]  # same-length codes: ordering is the same in Python and in SQL


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _compare(column: str, op: str, value) -> Callable[[dict, str], Value]:
    def test(row, _backend):
        got = row[column]
        return None if got is None else _OPS[op](got, value)
    return test


def _like(pattern: str, *, upper: bool, column: str = "ABALPH") -> Callable[[dict, str], Value]:
    regex = re.compile("".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern), re.S)

    def test(row, backend):
        value = row[column].upper() if upper else row[column]
        if not value:  # a blank is NULL once trimmed, as on Oracle: neither LIKE nor NOT LIKE holds
            return None
        return regex.fullmatch(value) is not None  # case-sensitive on every database
    return test


def leaves(an8s: list[int], names: list[str]) -> st.SearchStrategy[Filter]:
    an8 = st.one_of(st.sampled_from(an8s), st.integers(0, 99_999_999))
    written = st.booleans()  # 4242 or '4242'

    @st.composite
    def number_compare(draw):
        op, value, quoted = draw(st.sampled_from(list(_OPS))), draw(an8), draw(written)
        return Filter(f"ABAN8 {op} {_quote(str(value)) if quoted else value}", _compare("ABAN8", op, value))

    @st.composite
    def code_compare(draw):
        column = draw(st.sampled_from(list(CODES)))
        ops = list(_OPS) if column in RANGED else EQUALITY
        op, value = draw(st.sampled_from(ops)), draw(st.sampled_from(CODES[column]))
        return Filter(f"{column} {op} {_quote(value)}", _compare(column, op, value))

    @st.composite
    def in_list(draw):
        negate = draw(st.booleans())
        if draw(st.booleans()):
            column, values = "ABAN8", draw(st.lists(an8, min_size=1, max_size=12))
            text = ", ".join(_quote(str(v)) if draw(written) else str(v) for v in values)
        else:
            column = draw(st.sampled_from(list(CODES)))
            values = draw(st.lists(st.sampled_from(CODES[column]), min_size=1, max_size=4))
            text = ", ".join(_quote(v) for v in values)

        def test(row, _backend, column=column, values=tuple(values)):
            got = row[column]
            if got is None:
                return None
            return (got in values) != negate
        return Filter(f"{column} {'NOT IN' if negate else 'IN'} ({text})", test)

    @st.composite
    def between(draw):
        negate = draw(st.booleans())
        if draw(st.booleans()):
            column, low, high = "ABAN8", draw(an8), draw(an8)
            text = f"{low} AND {_quote(str(high))}"
        else:
            column = "ABAC02"
            low, high = draw(st.sampled_from(SALES_REPS)), draw(st.sampled_from(SALES_REPS))
            text = f"{_quote(low)} AND {_quote(high)}"

        def test(row, _backend):
            got = row[column]
            return None if got is None else (low <= got <= high) != negate
        return Filter(f"{column} {'NOT BETWEEN' if negate else 'BETWEEN'} {text}", test)

    @st.composite
    def like(draw):
        name = draw(st.sampled_from(names))
        words = [w for w in re.split(r"\W+", name) if w.isascii() and w.isalpha()]
        word = draw(st.sampled_from(words or ["Co"]))
        upper = draw(st.booleans())
        piece = word.upper() if upper else draw(st.sampled_from([word, word.lower()]))  # case counts everywhere
        pattern = draw(st.sampled_from([f"{piece}%", f"%{piece}", f"%{piece}%", f"{piece[:1]}_%"]))
        negate = draw(st.booleans())
        column = "UPPER(ABALPH)" if upper else "ABALPH"
        test = _like(pattern, upper=upper)
        return Filter(f"{column} {'NOT LIKE' if negate else 'LIKE'} {_quote(pattern)}",
                      (lambda row, b: _not(test(row, b))) if negate else test)

    @st.composite
    def code_like(draw):  # ABAC03 is blank for some accounts: a blank matches neither LIKE nor NOT LIKE
        pattern = draw(st.sampled_from(["%", "_%", "%_", *(f"{c[:1]}%" for c in CLASSES if c)]))
        negate = draw(st.booleans())
        test = _like(pattern, upper=False, column="ABAC03")
        return Filter(f"ABAC03 {'NOT LIKE' if negate else 'LIKE'} {_quote(pattern)}",
                      (lambda row, b: _not(test(row, b))) if negate else test)

    @st.composite
    def is_null(draw):
        negate = draw(st.booleans())
        return Filter(f"AICPGP IS {'NOT ' if negate else ''}NULL",
                      lambda row, _b: (row["AICPGP"] is None) != negate)

    return st.one_of(number_compare(), code_compare(), in_list(), between(), like(), code_like(), is_null())


def filters(an8s: list[int], names: list[str]) -> st.SearchStrategy[Filter]:
    def extend(children: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
        pair = st.tuples(children, children)
        return st.one_of(
            pair.map(lambda p: Filter(f"({p[0].text}) AND ({p[1].text})",
                                      lambda r, b, p=p: _and(p[0].test(r, b), p[1].test(r, b)))),
            pair.map(lambda p: Filter(f"({p[0].text}) OR\n({p[1].text})",
                                      lambda r, b, p=p: _or(p[0].test(r, b), p[1].test(r, b)))),
            children.map(lambda f: Filter(f"NOT ({f.text})", lambda r, b, f=f: _not(f.test(r, b)))),
        )
    return st.recursive(leaves(an8s, names), extend, max_leaves=6)


def top_level_or(an8s: list[int], names: list[str]) -> st.SearchStrategy[Filter]:
    """A filter whose top node is OR, the shape that widens access when pasted bare."""
    return st.tuples(filters(an8s, names), filters(an8s, names)).map(
        lambda p: Filter(f"{p[0].text} OR {p[1].text}", lambda r, b, p=p: _or(p[0].test(r, b), p[1].test(r, b))))


def _listed(jde_db, wwa, text: str, sort: str, limit: int) -> list[int]:
    try:
        scope = filter_scope(text, wwa=wwa)
    except RestrictionError as exc:  # generated nesting beyond the policy's limit: not this property
        assume("nested more than" not in exc.problem)
        raise
    out, cursor = [], None
    with jde_db.engine.connect() as conn:
        while True:
            page = list_accounts(conn, wwa=wwa, scope=scope, sort=sort, cursor=cursor, limit=limit)
            out += [r.an8 for r in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return out


def _an8s(reference) -> list[int]:
    return sorted(reference.accounts)[::3] + sorted(reference.others)[::9]


def _names(reference) -> list[str]:
    return sorted({row["ABALPH"] for row in reference.accounts.values()})


def test_restricted_list_equals_the_base_list_filtered_in_python(jde_db, wwa, reference):
    base = set(reference.accounts)

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
    @given(f=filters(_an8s(reference), _names(reference)), sort=st.sampled_from(["number", "name", "city"]),
           limit=st.integers(3, 60))
    def check(f: Filter, sort: str, limit: int):
        listed = _listed(jde_db, wwa, f.text, sort, limit)
        expected = {an8 for an8, row in reference.accounts.items() if f.test(row, jde_db.backend) is True}
        assert len(listed) == len(set(listed)), "an account came back twice"
        assert set(listed) == expected, f.text
        assert set(listed) <= base

    check()


def test_a_top_level_or_never_returns_an_account_outside_the_base_query(jde_db, wwa, reference):
    base = set(reference.accounts)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(f=top_level_or(_an8s(reference), _names(reference)))
    def check(f: Filter):
        listed = set(_listed(jde_db, wwa, f.text, "number", 200))
        assert listed <= base, f"{f.text} widened the base query by {sorted(listed - base)[:5]}"
        assert listed == {an8 for an8, row in reference.accounts.items() if f.test(row, jde_db.backend) is True}

    check()
