"""The Work-with-Accounts listing on real SQLite and PostgreSQL (JDE tables in schema proddta there)."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.accounts import (
    MAX_PAGE_SIZE,
    AccountRow,
    CursorError,
    NotARepError,
    RestrictionError,
    all_scope,
    clear_restriction,
    compiled_sql,
    count_accounts,
    filter_scope,
    get_account,
    get_restriction,
    list_accounts,
    may_act,
    rep_scope,
    set_restriction,
)
from ecgateway.accounts.service import FETCH_SIZES
from ecgateway.auth.users import create_user
from ecgateway.db import make_engine


def walk(conn, wwa, scope, **kwargs) -> list[AccountRow]:
    """Every page, following next_cursor; fails on a repeated account."""
    rows: list[AccountRow] = []
    cursor = None
    for _ in range(10_000):
        page = list_accounts(conn, wwa=wwa, scope=scope, cursor=cursor, **kwargs)
        rows += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    numbers = [r.an8 for r in rows]
    assert len(numbers) == len(set(numbers)), "an account came back twice"
    return rows


def test_the_base_query_returns_exactly_the_customer_accounts(jde_db, wwa, reference):
    assert reference.accounts, "the generated data has accounts"
    with jde_db.engine.connect() as conn:
        rows = walk(conn, wwa, all_scope(wwa), limit=200)
    assert [r.an8 for r in rows] == sorted(reference.accounts)
    for row in rows:
        ref = reference.accounts[row.an8]
        assert (row.name, row.city, row.state, row.postal_code, row.country, row.phone, row.email) == (
            ref["ABALPH"], ref["ALCTY1"], ref["ALADDS"], ref["ALADDZ"], ref["ALCTR"], ref["PHONE"], ref["EMAIL"])


def test_billing_shipping_addresses_employees_and_suppliers_are_never_accounts(jde_db, wwa, reference):
    scope = all_scope(wwa)
    with jde_db.engine.connect() as conn:
        for an8 in sorted(reference.others)[:150]:
            assert not may_act(conn, wwa=wwa, scope=scope, an8=an8)


def test_the_postgresql_query_names_the_schema(jde_db, wwa):
    sql, _ = compiled_sql(wwa, all_scope(wwa))
    if jde_db.schema:
        assert "FROM PRODDTA.F0101 AS AB" in sql and "PRODDTA.F0150" in sql and "PRODDTA.F0116" in sql
    else:
        assert "FROM F0101 AS AB" in sql


@pytest.mark.parametrize("sort", ["number", "name", "city"])
@pytest.mark.parametrize("limit", [1, 7, 50])
def test_keyset_pages_return_each_allowed_account_exactly_once_in_order(jde_db, wwa, reference, sort, limit):
    scopes = [all_scope(wwa), filter_scope("ABAC01 IN ('NTH', 'EST') OR ALCTR = 'CA'", wwa=wwa)]
    key = {"number": lambda r: (r.an8,), "name": lambda r: (reference.accounts[r.an8]["ABALPH"], r.an8),
           "city": lambda r: (reference.accounts[r.an8]["ALCTY1"], r.an8)}[sort]
    with jde_db.engine.connect() as conn:
        for scope in scopes:
            rows = walk(conn, wwa, scope, sort=sort, limit=limit)
            expected = count_accounts(conn, wwa=wwa, scope=scope)
            assert len(rows) == expected
            assert rows == sorted(rows, key=key)


def test_search_by_number_exact_or_prefix_and_by_name_or_city_ignoring_case(jde_db, wwa, reference):
    accounts = reference.accounts
    scope = all_scope(wwa)
    first = min(accounts)
    prefix = str(first)[:2]
    with jde_db.engine.connect() as conn:
        assert [r.an8 for r in walk(conn, wwa, scope, q=str(first))] == [first]
        assert [r.an8 for r in walk(conn, wwa, scope, q=prefix)] == [a for a in accounts if str(a).startswith(prefix)]
        name_word = accounts[first]["ABALPH"].split()[0]
        by_name = {r.an8 for r in walk(conn, wwa, scope, q=name_word.lower())}
        wanted_name = "".join(ch for ch in name_word.upper() if ch.isalnum())
        assert by_name >= {a for a, row in accounts.items() if wanted_name in row["ABDC"]}
        assert first in by_name
        by_city = {r.an8 for r in walk(conn, wwa, scope, q="  chicaGO ")}
        assert {a for a, row in accounts.items() if row["ALCTY1"] == "Chicago"} <= by_city
        assert count_accounts(conn, wwa=wwa, scope=scope, q=prefix) == len([a for a in accounts if str(a).startswith(prefix)])
        assert walk(conn, wwa, scope, q="zzzz-no-such-name") == []
        assert walk(conn, wwa, scope, q="%") == walk(conn, wwa, scope, q="_%_") != []  # wildcards are not wildcards


def test_page_size_is_capped_and_at_least_one(jde_db, wwa):
    with jde_db.engine.connect() as conn:
        assert list_accounts(conn, wwa=wwa, scope=all_scope(wwa), limit=10_000).limit == MAX_PAGE_SIZE
        page = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), limit=0)
        assert page.limit == 1 and len(page.items) == 1


def test_cycling_page_sizes_runs_a_handful_of_statements_and_each_page_is_exact(jde_db, wwa, reference):
    """Each page size would be its own statement (the row count is written into the SQL); sizes
    share the few FETCH_SIZES statements, and the page still holds exactly what was asked for."""
    seen: set[str] = set()

    def note(_conn, _cursor, statement, *_args):
        seen.add(statement)

    sa.event.listen(jde_db.engine, "before_cursor_execute", note)
    try:
        with jde_db.engine.connect() as conn:
            for limit in range(1, MAX_PAGE_SIZE + 1):
                page = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), limit=limit)
                expected = sorted(reference.accounts)[:limit]
                assert [r.an8 for r in page.items] == expected
                assert (page.next_cursor is not None) == (len(reference.accounts) > limit)
    finally:
        sa.event.remove(jde_db.engine, "before_cursor_execute", note)
    assert len(seen) <= len(FETCH_SIZES), len(seen)


def test_bad_cursors_and_sort_keys_are_refused_with_a_clear_error(jde_db, wwa):
    with jde_db.engine.connect() as conn:
        page = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), sort="name", limit=3)
        assert page.next_cursor
        with pytest.raises(CursorError, match="belongs to sort 'name', not 'city'"):
            list_accounts(conn, wwa=wwa, scope=all_scope(wwa), sort="city", cursor=page.next_cursor)
        forged = base64.urlsafe_b64encode(json.dumps([1, "name", "x' OR 1=1 --", 1001]).encode()).decode()
        rows = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), sort="name", cursor=forged).items
        assert all(r.name > "x' OR 1=1 --" for r in rows)  # a forged key is only a starting point, bound
        for bad in ["not-base64!", "e30", base64.urlsafe_b64encode(b'[1,"number",null,"1001"]').decode(),
                    base64.urlsafe_b64encode(b'[2,"number",null,1001]').decode()]:
            with pytest.raises(CursorError, match="start again from the first page"):
                list_accounts(conn, wwa=wwa, scope=all_scope(wwa), cursor=bad)
        with pytest.raises(ValueError, match="sort 'ABPASS' is not one of number, name, city"):
            list_accounts(conn, wwa=wwa, scope=all_scope(wwa), sort="ABPASS")


def test_may_act_agrees_with_the_list_for_every_account(jde_db, wwa, reference):
    scopes = [all_scope(wwa), filter_scope("ABAC01 = 'NTH' OR ABAC03 IN ('GOV', 'OEM')", wwa=wwa),
              filter_scope("NOT (ALCTR = 'US') AND ABAN8 > 1100", wwa=wwa)]
    everyone = sorted(set(reference.accounts) | reference.others)
    with jde_db.engine.connect() as conn:
        for scope in scopes:
            listed = {r.an8 for r in walk(conn, wwa, scope, limit=200)}
            allowed = {an8 for an8 in everyone if may_act(conn, wwa=wwa, scope=scope, an8=an8)}
            assert allowed == listed
            one = next(iter(listed))
            assert get_account(conn, wwa=wwa, scope=scope, an8=one).an8 == one
        for junk in (0, -1, 10**9, "1001 OR 1=1", None):
            assert not may_act(conn, wwa=wwa, scope=all_scope(wwa), an8=junk)


def test_an_or_in_the_filter_never_widens_the_base_query(jde_db, wwa, reference):
    # Pasted bare, "base AND ABAC01 = 'NTH' OR ABAT1 = 'V'" would list every supplier.
    scope = filter_scope("ABAC01 = 'NTH' OR ABAT1 = 'V' OR ABAT1 = 'E'", wwa=wwa)
    with jde_db.engine.connect() as conn:
        listed = {r.an8 for r in walk(conn, wwa, scope)}
    assert listed == {a for a, row in reference.accounts.items() if row["ABAC01"] == "NTH"}


def test_like_means_the_same_on_every_database(jde_db, wwa, reference):
    """Case counts (SQLite's LIKE ignores it unless told), and a blank code matches neither
    LIKE nor NOT LIKE (Oracle trims a blank to NULL; the other databases are made to agree).
    The generator leaves ABAC04 blank on every account and fills ABAC03 on every one."""
    name = next(row["ABALPH"] for row in reference.accounts.values() if row["ABALPH"][:1].isupper())
    with jde_db.engine.connect() as conn:
        def listed(text: str) -> set[int]:
            return {r.an8 for r in walk(conn, wwa, filter_scope(text, wwa=wwa))}

        assert listed("ABAC03 LIKE '%'") == set(reference.accounts)
        assert listed("ABAC04 = ' '") == set(reference.accounts)  # blank, as = compares it
        assert listed("ABAC04 LIKE '%'") == set()
        assert listed("ABAC04 NOT LIKE 'ZZ%'") == set()
        assert listed("UPPER(ABAC04) = 'A'") == set()
        exact = f"{name[:4]}%".replace("'", "''")
        assert listed(f"ABALPH LIKE '{exact}'")
        assert listed(f"ABALPH LIKE '{exact.lower()}'") == {
            a for a, row in reference.accounts.items() if row["ABALPH"].startswith(name[:4].lower())}


def test_the_seed_example_with_quoted_numbers_works_as_written(jde_db, wwa, reference):
    first, second = sorted(reference.accounts)[:2]
    scope = filter_scope(f"ABAN8 in ('{first}','{second}', '4242')", wwa=wwa)
    with jde_db.engine.connect() as conn:
        assert [r.an8 for r in walk(conn, wwa, scope)] == [first, second]


def test_a_1500_value_in_list_works(jde_db, wwa, reference):
    wanted = sorted(reference.accounts)[::2]
    values = ", ".join(f"'{n}'" for n in [*wanted, *range(900_000, 901_500 - len(wanted))])
    scope = filter_scope(f"ABAN8 IN ({values})", wwa=wwa)
    with jde_db.engine.connect() as conn:
        assert [r.an8 for r in walk(conn, wwa, scope, limit=200)] == wanted


# --- scopes from the portal database -------------------------------------------------------

@pytest.fixture(scope="module")
def portal(portal_url):
    engine = make_engine(portal_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_rep_scope_follows_ec_impersonate_restrictions_and_the_default(jde_db, wwa, portal, reference):
    rep = create_user(portal, login="rep-scope", name="Rep", user_type="Internal_SalesRep")
    admin = create_user(portal, login="admin-scope", name="Admin", user_type="Admin")
    customer = create_user(portal, login="cust-scope", name="Cust", user_type="Customer", account_an8=min(reference.accounts))
    portal.commit()
    with jde_db.engine.connect() as conn:
        scope = rep_scope(portal, rep=rep, wwa=wwa)
        assert scope.kind == "all"
        assert count_accounts(conn, wwa=wwa, scope=scope) == len(reference.accounts)
        deny = dataclasses.replace(wwa, restriction_default="deny")
        assert deny._cache is not wwa._cache and deny.base is wwa.base
        denied = rep_scope(portal, rep=rep, wwa=deny)
        assert denied.kind == "none" and "ECGW_RESTRICTION_DEFAULT is deny" in denied.reason
        assert list_accounts(conn, wwa=deny, scope=denied).items == []
        assert count_accounts(conn, wwa=deny, scope=denied) == 0
        assert not may_act(conn, wwa=deny, scope=denied, an8=min(reference.accounts))

        row = set_restriction(portal, rep=rep, filter_text="  ABAC01 = 'NTH' ", changed_by="admin-scope")
        portal.commit()
        assert (row.filter_text, row.changed_by) == ("ABAC01 = 'NTH'", "admin-scope") and row.changed_at is not None
        narrowed = rep_scope(portal, rep=rep, wwa=wwa)
        assert narrowed.kind == "filter" and narrowed.filter_text == "ABAC01 = 'NTH'"
        north = {a for a, r in reference.accounts.items() if r["ABAC01"] == "NTH"}
        assert {r.an8 for r in walk(conn, wwa, narrowed)} == north

        with pytest.raises(RestrictionError):
            set_restriction(portal, rep=rep, filter_text="ABAN8 = 1 OR 1=1", changed_by="admin-scope")
        portal.rollback()
        assert get_restriction(portal, rep=rep).filter_text == "ABAC01 = 'NTH'"  # nothing saved

        # a row saved before a policy change that no longer compiles: the rep sees nothing
        portal.execute(sa.text("UPDATE ec_impersonate_restrictions SET filter_text = 'ABPASS = 1' WHERE rep_id = :id"),
                       {"id": rep.id})
        broken = rep_scope(portal, rep=rep, wwa=wwa)
        assert broken.kind == "none" and "no longer valid" in broken.reason and "ABPASS" in broken.reason
        portal.rollback()

        assert rep_scope(portal, rep=admin, wwa=wwa).kind == "none"
        assert rep_scope(portal, rep=customer, wwa=wwa).kind == "none"
        with pytest.raises(NotARepError, match="cust-scope has user type Customer"):
            set_restriction(portal, rep=customer, filter_text="ABAN8 = 1", changed_by="x")
        rep.active = False
        assert rep_scope(portal, rep=rep, wwa=wwa).kind == "none"
        rep.active = True
        assert clear_restriction(portal, rep=rep) is True
        assert clear_restriction(portal, rep=rep) is False
        assert rep_scope(portal, rep=rep, wwa=wwa).kind == "all"
        portal.commit()


@pytest.mark.parametrize("shape", [
    "ABAN8 IN ({values})",
    "ABAN8 NOT IN ({values})",
    "ABAN8 IN ({values}) OR ABAC01 = 'NTH'",
    "NOT (ABAN8 IN ({values}) AND ABAC01 <> 'STH')",
    "ABAC02 IN ('R01', 'R02') OR NOT ABAN8 IN ({values})",
])
def test_deep_pages_that_skip_in_list_values_give_the_same_accounts(jde_db, wwa, reference, shape):
    """Values of an ABAN8 IN list before a page's key are bound as 0 on deep pages by number;
    walking the pages must give exactly the accounts the filter means, wherever the IN sits."""
    numbers = sorted(reference.accounts)
    picked = numbers[::3] + [4242, 99_999_999]
    text = shape.format(values=", ".join(f"'{n}'" for n in picked))
    scope = filter_scope(text, wwa=wwa)
    assert scope.restriction.number_in_params, "the compiler names the IN list's binds"
    in_list = set(picked)

    def means(an8: int, row: dict) -> bool:
        inside = an8 in in_list
        return {
            "ABAN8 IN ({values})": inside,
            "ABAN8 NOT IN ({values})": not inside,
            "ABAN8 IN ({values}) OR ABAC01 = 'NTH'": inside or row["ABAC01"] == "NTH",
            "NOT (ABAN8 IN ({values}) AND ABAC01 <> 'STH')": not (inside and row["ABAC01"] != "STH"),
            "ABAC02 IN ('R01', 'R02') OR NOT ABAN8 IN ({values})": row["ABAC02"] in ("R01", "R02") or not inside,
        }[shape]

    expected = [a for a in numbers if means(a, reference.accounts[a])]
    with jde_db.engine.connect() as conn:
        for limit in (1, 3, 7):
            assert [r.an8 for r in walk(conn, wwa, scope, limit=limit)] == expected
