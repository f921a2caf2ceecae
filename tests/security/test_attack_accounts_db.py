"""Adversarial filters, cursors, sort keys and search text run against real SQLite and PostgreSQL.

Whatever a filter says, the accounts returned (list, every page, count, may_act) are a
subset of the base Work-with-Accounts query: customer parents, never employees, suppliers,
prospects, billing or shipping addresses. Results are checked against a reference computed
in Python from the raw JDE tables.
"""

from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa

from ecgateway.accounts import (
    CursorError,
    WorkWithAccounts,
    all_scope,
    count_accounts,
    filter_scope,
    get_account,
    list_accounts,
    may_act,
)
from ecgateway.config import Settings
from ecgateway.jde.conventions import today_julian


@pytest.fixture(scope="module")
def wwa(jde_db, tmp_path_factory) -> WorkWithAccounts:
    settings = Settings(data_dir=tmp_path_factory.mktemp("secwwa"), jde_url=jde_db.url, jde_schema=jde_db.schema)
    return WorkWithAccounts.load(settings, dialect=jde_db.engine.dialect.name)


@pytest.fixture(scope="module")
def parties(jde_db) -> dict:
    """Every F0101 row (an8 -> trimmed fields) and the customer accounts the base query must give."""
    t = jde_db.tables
    today = today_julian()
    with jde_db.engine.connect() as conn:
        rows = {r.aban8: {k: (v.strip() if isinstance(v, str) else v) for k, v in r._asdict().items()}
                for r in conn.execute(sa.select(t.F0101))}
        links = [r for r in conn.execute(sa.select(t.F0150.c.mapa8, t.F0150.c.maan8, t.F0150.c.maostp))
                 if r.maostp.strip() == ""]
        dated = {r.alan8 for r in conn.execute(sa.select(t.F0116.c.alan8).where(t.F0116.c.aleftb <= today))}
    parents = {link.mapa8 for link in links}
    children = {link.maan8 for link in links}
    accounts = {an8 for an8, r in rows.items() if r["abat1"] == "C" and an8 in parents - children and an8 in dated}
    kinds = {
        "employee": sorted(a for a, r in rows.items() if r["abat1"] == "E"),
        "supplier parent": sorted(a for a, r in rows.items() if r["abat1"] == "V" and a in parents),
        "prospect": sorted(a for a, r in rows.items() if r["abat1"] == "P"),
        "billing or shipping address": sorted(children & {a for a, r in rows.items() if r["abat1"] == "C"}),
    }
    assert accounts and all(kinds.values()), kinds
    return {"rows": rows, "accounts": accounts, "kinds": kinds}


def every_page(conn, wwa, scope, *, sort="number", q=None, limit=7) -> list[int]:
    seen, cursor = [], None
    while True:
        page = list_accounts(conn, wwa=wwa, scope=scope, sort=sort, q=q, cursor=cursor, limit=limit)
        seen.extend(a.an8 for a in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return seen


# Filters that try to say "everything": each must give exactly the base query's accounts.
EVERYTHING = [
    "ABAN8 > 0 OR ABAN8 IS NULL",
    "NOT ABAN8 = 0",
    "ABAC01 IS NOT NULL OR ABAC01 IS NULL",
    "ABAN8 BETWEEN -99999999 AND 99999999",
    "ABALPH LIKE '%' OR NOT ABALPH LIKE '%'",
    "ABAT1 IN ('C', 'E', 'V', 'P') OR ABAT1 <> 'C'",
    "NOT (ABAN8 = 0 AND ABAN8 = 1)",
    "ABMCU LIKE '%' OR ABMCU NOT LIKE '%' OR ABMCU IS NULL",
    "AICO IS NULL OR AICO IS NOT NULL",
]


@pytest.mark.parametrize("text", EVERYTHING)
def test_a_filter_saying_everything_never_reaches_past_the_base_query(jde_db, wwa, parties, text):
    scope = filter_scope(text, wwa=wwa)
    with jde_db.engine.connect() as conn:
        listed = every_page(conn, wwa, scope)
        assert sorted(listed) == sorted(parties["accounts"])
        assert count_accounts(conn, wwa=wwa, scope=scope) == len(parties["accounts"])
        for kind, numbers in parties["kinds"].items():
            for an8 in numbers[:5]:
                assert not may_act(conn, wwa=wwa, scope=scope, an8=an8), (kind, an8)


def test_naming_every_party_in_an_in_list_still_gives_only_customer_accounts(jde_db, wwa, parties):
    everybody = sorted(parties["rows"])
    scope = filter_scope("ABAN8 IN (" + ",".join(f"'{a}'" for a in everybody) + ")", wwa=wwa)
    with jde_db.engine.connect() as conn:
        assert sorted(every_page(conn, wwa, scope, limit=50)) == sorted(parties["accounts"])
        for an8 in everybody:
            assert may_act(conn, wwa=wwa, scope=scope, an8=an8) == (an8 in parties["accounts"]), an8


def test_5000_values_run_on_the_database_and_give_exactly_the_named_accounts(jde_db, wwa, parties):
    accounts = sorted(parties["accounts"])
    chosen = accounts[::3]
    others = [n for n in range(90_000_000, 90_000_000 + 5000 - len(chosen))]
    values = others[: len(others) // 2] + chosen + others[len(others) // 2:]
    assert len(values) == 5000
    for negated in (False, True):
        text = ("NOT " if negated else "") + "ABAN8 IN (" + ",".join(str(v) for v in values) + ")"
        scope = filter_scope(text + " OR ABAN8 = -1", wwa=wwa)
        expected = set(accounts) - set(chosen) if negated else set(chosen)
        with jde_db.engine.connect() as conn:
            assert set(every_page(conn, wwa, scope, limit=200)) == expected
            assert count_accounts(conn, wwa=wwa, scope=scope) == len(expected)


@pytest.mark.parametrize("template,rule", [
    ("NOT ABAN8 = {a} OR ABAN8 = {b}", lambda n, a, b: n != a or n == b),
    ("NOT (ABAN8 = {a} OR ABAN8 = {b})", lambda n, a, b: n not in (a, b)),
    ("ABAN8 = {a} OR ABAN8 = {b} AND ABAN8 = {a}", lambda n, a, b: n == a),
    ("(ABAN8 = {a} OR ABAN8 = {b}) AND ABAN8 = {b}", lambda n, a, b: n == b),
    ("ABAN8 NOT IN ({a}, {b}) AND NOT ABAN8 IS NULL", lambda n, a, b: n not in (a, b)),
    ("ABAN8 BETWEEN {b} AND {a}", lambda n, a, b: False),  # low above high: nothing
])
def test_not_or_and_precedence_match_sql_rules(jde_db, wwa, parties, template, rule):
    accounts = sorted(parties["accounts"])
    a, b = accounts[0], accounts[1]
    scope = filter_scope(template.format(a=a, b=b), wwa=wwa)
    with jde_db.engine.connect() as conn:
        got = set(every_page(conn, wwa, scope, limit=50))
    assert got == {n for n in accounts if rule(n, a, b)}


@pytest.mark.parametrize("text,same_as", [
    ("ABAN8 = '{a} '", "ABAN8 = {a}"),
    ("ABAN8 = ' {a}'", "ABAN8 = {a}"),
    ("ABAN8 = '+{a}'", "ABAN8 = {a}"),
    ("ABAN8 IN ('{a}', {b})", "ABAN8 IN ({a}, {b})"),
    ("ABAN8 = -0 OR ABAN8 = {a}", "ABAN8 = {a}"),
])
def test_numbers_written_as_text_or_with_signs_mean_the_same_number(jde_db, wwa, parties, text, same_as):
    accounts = sorted(parties["accounts"])
    fmt = {"a": accounts[2], "b": accounts[3]}
    with jde_db.engine.connect() as conn:
        one = every_page(conn, wwa, filter_scope(text.format(**fmt), wwa=wwa))
        two = every_page(conn, wwa, filter_scope(same_as.format(**fmt), wwa=wwa))
    assert one == two and one


def test_business_unit_and_category_codes_compare_as_jde_stores_them(jde_db, wwa, parties):
    rows = parties["rows"]
    with jde_db.engine.connect() as conn:
        for text, pick in [
            ("ABMCU = '30'", lambda r: r["abmcu"] == "30"),
            ("ABMCU = 30", lambda r: r["abmcu"] == "30"),
            ("ABMCU = '  30  '", lambda r: r["abmcu"] == "30"),
            ("ABAC01 = 'NTH'", lambda r: r["abac01"] == "NTH"),
            ("ABAC01 = 'NTH   '", lambda r: r["abac01"] == "NTH"),
            ("ABAC01 = ''", lambda r: r["abac01"] == ""),
        ]:
            got = set(every_page(conn, wwa, filter_scope(text, wwa=wwa), limit=50))
            assert got == {a for a in parties["accounts"] if pick(rows[a])}, text


def _cursor(sort: str, key, an8) -> str:
    raw = json.dumps([1, sort, key, an8], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("sort", ["number", "name", "city"])
def test_forged_cursors_stay_inside_the_scope(jde_db, wwa, parties, sort):
    accounts = sorted(parties["accounts"])
    allowed = set(accounts[:5])
    scope = filter_scope("ABAN8 IN (" + ",".join(str(a) for a in sorted(allowed)) + ")", wwa=wwa)
    outside = [parties["kinds"]["employee"][0], accounts[-1], 0, 99_999_999]
    keys = [None] if sort == "number" else [" ", "", "' OR 1=1 --", "%", "_", "\\", "zzzz", "A" * 64, "O'Brien"]
    with jde_db.engine.connect() as conn:
        for an8 in outside:
            for key in keys:
                page = list_accounts(conn, wwa=wwa, scope=scope, sort=sort, cursor=_cursor(sort, key, an8), limit=200)
                assert {a.an8 for a in page.items} <= allowed, (an8, key)


@pytest.mark.parametrize("cursor", [
    _cursor("number", None, -1),
    _cursor("number", None, 10**8),
    _cursor("number", None, "1001"),
    _cursor("number", None, True),
    _cursor("number", "x", 1001),
    _cursor("name", None, 1001),
    _cursor("name", 5, 1001),
    _cursor("name", "A" * 65, 1001),
    _cursor("city", "A", 1001),  # made for another sort
    base64.urlsafe_b64encode(b'[2,"name","A",1001]').decode(),
    base64.urlsafe_b64encode(b'{"sort":"name"}').decode(),
    base64.urlsafe_b64encode(b"[1,\"name\",\"A\"]").decode(),
    "not base64 at all!!",
    "",
])
def test_malformed_cursors_are_refused(jde_db, wwa, cursor):
    scope = all_scope(wwa)
    with jde_db.engine.connect() as conn:
        if cursor == "":
            list_accounts(conn, wwa=wwa, scope=scope, sort="name", cursor=cursor)  # empty means first page
            return
        with pytest.raises(CursorError):
            list_accounts(conn, wwa=wwa, scope=scope, sort="name", cursor=cursor)


@pytest.mark.parametrize("sort", ["ABAN8", "name DESC", "name; DROP TABLE F0101", "1", "city,number", "NUMBER", ""])
def test_sort_keys_come_only_from_the_allow_list(jde_db, wwa, sort):
    with jde_db.engine.connect() as conn, pytest.raises(ValueError, match="not one of"):
        list_accounts(conn, wwa=wwa, scope=all_scope(wwa), sort=sort)


SEARCHES = ["%", "_", "%%", "'", "''", "\\", "%\\", "' OR '1'='1", "O'Brien", "o'brien", "a_b", "1001 OR 1=1",
            "%' --", "/*", "\u0661\u0660\u0660\u0661", "ＡＣＭＥ", " " * 5, "x" * 100]


@pytest.mark.parametrize("sort", ["number", "name", "city"])
def test_search_text_never_reaches_past_the_scope(jde_db, wwa, parties, sort):
    accounts = sorted(parties["accounts"])
    allowed = set(accounts[:3])
    scope = filter_scope("ABAN8 IN (" + ",".join(str(a) for a in sorted(allowed)) + ")", wwa=wwa)
    with jde_db.engine.connect() as conn:
        for q in SEARCHES:
            got = set(every_page(conn, wwa, scope, sort=sort, q=q))
            assert got <= allowed, q
            assert count_accounts(conn, wwa=wwa, scope=scope, q=q) == len(got), q


def test_percent_and_underscore_in_search_are_not_wildcards_for_more_than_the_scope(jde_db, wwa, parties):
    accounts = sorted(parties["accounts"])
    scope = filter_scope(f"ABAN8 = {accounts[0]}", wwa=wwa)
    with jde_db.engine.connect() as conn:
        for q in ("%", "_", "%_%"):
            assert set(every_page(conn, wwa, scope, q=q)) <= {accounts[0]}


@pytest.mark.parametrize("an8", [0, -1, 10**8, 10**30, None, "x"])
def test_get_account_refuses_out_of_range_numbers_without_touching_the_database(jde_db, wwa, an8):
    with jde_db.engine.connect() as conn:
        assert get_account(conn, wwa=wwa, scope=all_scope(wwa), an8=an8) is None


def test_the_filter_is_anded_in_parentheses_after_the_whole_base_where(jde_db, wwa):
    from ecgateway.accounts import compiled_sql

    sql, params = compiled_sql(wwa, filter_scope("ABAN8 = 1 OR ABAN8 = 2", wwa=wwa))
    where = sql[sql.rindex("WHERE ("):]
    assert "AND (AB.ABAN8 = :f1 OR AB.ABAN8 = :f2)" in where
    head = where[: where.index("AND (AB.ABAN8 = :f1")]
    # the base conditions are closed in their own parentheses before the filter joins
    assert head.count("(") - head.count(")") >= 1
    assert params["f1"] == 1 and params["f2"] == 2


@pytest.mark.parametrize("limit,rows", [(10**9, 200), (-5, 1), (0, 1), (True, 1), ("7", 7), (3.9, 3)])
def test_the_page_size_is_clamped_to_a_whole_number_before_it_reaches_the_sql(jde_db, wwa, parties, limit, rows):
    with jde_db.engine.connect() as conn:
        page = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), limit=limit)
    assert page.limit == rows and len(page.items) == min(rows, len(parties["accounts"]))


@pytest.mark.parametrize("limit", ["1 OR 1=1", "1; DROP TABLE F0101", "1e3", None, "", [1]])
def test_a_page_size_that_is_not_a_number_is_refused(jde_db, wwa, limit):
    with jde_db.engine.connect() as conn, pytest.raises((ValueError, TypeError)):
        list_accounts(conn, wwa=wwa, scope=all_scope(wwa), limit=limit)


@pytest.mark.parametrize("sort", ["number", "name", "city"])
def test_a_page_starting_just_before_a_billing_or_shipping_address_never_shows_it(jde_db, wwa, parties, sort):
    """The keyset bound is repeated inside the EXISTS / NOT EXISTS checks: it must never let a child in."""
    rows = parties["rows"]
    children = parties["kinds"]["billing or shipping address"]
    key_of = {"number": lambda a: None, "name": lambda a: rows[a]["abalph"], "city": lambda a: " "}
    with jde_db.engine.connect() as conn:
        for child in children[:25]:
            cursor = _cursor(sort, key_of[sort](child), child - 1)
            for limit in (1, 5):
                page = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), sort=sort, cursor=cursor, limit=limit)
                assert {a.an8 for a in page.items} <= parties["accounts"], (child, limit)
        # and walking every page one row at a time gives exactly the accounts
        assert sorted(every_page(conn, wwa, all_scope(wwa), sort=sort, limit=1)) == sorted(parties["accounts"])
