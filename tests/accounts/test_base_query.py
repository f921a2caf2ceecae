"""sql/work_with_accounts.sql: checked once at start-up, composed with filters, rendered per dialect."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from ecgateway.accounts import BaseQueryError, WorkWithAccounts, filter_scope
from ecgateway.accounts.query import Shape
from ecgateway.accounts.restrictions import render
from ecgateway.config import PROJECT_ROOT, Settings


def resources(tmp_path: Path) -> Path:
    """A copy of sql/ and restrictions/ to break on purpose."""
    for folder in ("sql", "restrictions"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


def load(tmp_path: Path, dialect: str = "sqlite", **settings) -> WorkWithAccounts:
    return WorkWithAccounts.load(Settings(data_dir=tmp_path, resources_dir=tmp_path, **settings), dialect=dialect)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


BROKEN: list[tuple[str, str, str, str]] = [
    ("sql/work_with_accounts.sql", "    AB.ABAC01,\n", "", "does not output ABAC01"),
    ("sql/work_with_accounts.sql", "    AL.ALCTY1,\n", "", "does not output ALCTY1"),
    ("sql/work_with_accounts.sql", "(:wwa_company, '00000')", "('00200', '00000')", "binds must be exactly"),
    ("sql/work_with_accounts.sql", "FROM F0101 AB", "FROM PRODDTA.F0101 AB", "is not a JDE table the gateway knows"),
    ("sql/work_with_accounts.sql", "FROM F0101 AB", "FROM USERS AB", "is not a JDE table the gateway knows"),
    ("sql/work_with_accounts.sql", "ORDER BY AB.ABAN8", "ORDER BY AB.ABAN8; DELETE FROM F0101", "exactly one query"),
    ("sql/work_with_accounts.sql", "    AB.ABAC02,\n", "    UPPER(AB.ABAC02) AS ABAC02,\n", "must be a plain column"),
    ("restrictions/policy.toml", 'ABAC01 = { type = "char", width = 3,', 'ABAC01 = { type = "char", width = 4,',
     "ABAC01 is char(4) but JDE has char(3)"),
    ("restrictions/policy.toml", 'ALCTY1 = { type = "char"', 'ALCTY1 = { type = "integer", digits = 8, x = "char"',
     "ALCTY1 is integer(8) but JDE has char(25)"),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), BROKEN, ids=[b[3] for b in BROKEN])
def test_a_broken_base_query_or_policy_stops_start_up_with_the_reason(tmp_path, file, old, new, message):
    root = resources(tmp_path)
    load(root)  # the copy as shipped loads
    edit(root / file, old, new)
    with pytest.raises(BaseQueryError, match=re.escape(message)):
        load(root)


def test_the_schema_is_configuration_and_qualifies_every_table(tmp_path):
    wwa = load(resources(tmp_path), dialect="oracle", jde_schema="CRPDTA")
    tables = list(wwa.base.find_all(exp.Table))
    assert len(tables) >= 7 and all(t.db == "CRPDTA" for t in tables)
    assert "FROM CRPDTA.F0101 AB" in render(wwa.base, "oracle")


def _full_query(wwa: WorkWithAccounts) -> tuple[str, set[str]]:
    values = ", ".join(f"'{1000 + i}'" for i in range(2500))
    scope = filter_scope(f"ABAN8 IN ({values}) OR ABAC01 = 'NTH' AND UPPER(ABALPH) LIKE 'AC%'", wwa=wwa)
    sql = render(wwa.compose(scope.restriction, Shape("list", search="text", sort="name")), wwa.dialect)
    names = set(scope.restriction.params) | set(wwa.base_params()) | {"q_name", "q_city", "k_sort", "k_an8"}
    return sql, names


@pytest.mark.parametrize("dialect", ["oracle", "tsql"])
def test_the_full_query_renders_with_named_binds_and_parses_back(tmp_path, dialect):
    wwa = load(resources(tmp_path), dialect=dialect, jde_schema="PRODDTA")
    sql, names = _full_query(wwa)
    back = sqlglot.parse_one(sql, read=dialect)
    assert back.sql(dialect=dialect) == sql
    assert {p.name for p in back.find_all(exp.Placeholder)} == names
    assert not list(back.find_all(exp.Parameter))  # no @name or other bind styles
    assert "PRODDTA.F0101" in sql
    if dialect == "oracle":
        assert all(len(node.expressions) <= 1000 for node in back.find_all(exp.In))
        assert "FETCH FIRST 51 ROWS ONLY" in sql
    else:
        assert sql.startswith("SELECT TOP 51 AB.ABAN8")
    assert "NULLS" not in sql and "CASE WHEN" not in sql  # ORDER BY stays answerable from an index


def test_the_filter_is_anded_in_parentheses_after_the_base_conditions(tmp_path):
    wwa = load(resources(tmp_path))
    scope = filter_scope("ABAC01 = 'NTH' OR ABAT1 = 'V'", wwa=wwa)
    sql = render(wwa.compose(scope.restriction, Shape("one")), "sqlite")
    assert "AND NOT EXISTS(SELECT 1 FROM F0150 AS PA WHERE PA.MAOSTP = '   ' AND PA.MAAN8 = AB.ABAN8)) " \
           "AND (AB.ABAC01 = :f1 OR AB.ABAT1 = :f2)) AND AB.ABAN8 = :an8" in sql
    where = sqlglot.parse_one(sql, read="sqlite").args["where"].this
    assert isinstance(where, exp.And)  # the top of WHERE is AND: nothing in the filter can escape it


def test_rendered_statements_are_cached_per_filter_and_shape(tmp_path):
    wwa = load(resources(tmp_path))
    scope = filter_scope("ABAC01 = 'NTH'", wwa=wwa)
    first = wwa.statement(scope.restriction, Shape("list", sort="name"))
    assert wwa.statement(scope.restriction, Shape("list", sort="name")) is first
    assert wwa.statement(scope.restriction, Shape("list", sort="city")) is not first
    assert wwa.statement(None, Shape("list", sort="name")) is not first


# One filter, sorted by name, continuing after a cursor: how each database gets the end of the query.
LIST_TAILS: list[tuple[str, str, str]] = [
    ("sqlite", "ends", "AND (AB.ABAC01 = :f1)) AND (AB.ABALPH, AB.ABAN8) > (:k_sort, :k_an8) "
                       "ORDER BY AB.ABALPH ASC, AB.ABAN8 ASC LIMIT 51"),
    ("postgresql", "ends", "AND (AB.ABAC01 = :f1)) AND (AB.ABALPH, AB.ABAN8) > (:k_sort, :k_an8) "
                           "ORDER BY AB.ABALPH ASC, AB.ABAN8 ASC LIMIT 51"),
    ("oracle", "ends", "AND (AB.ABAC01 = :f1)) AND (AB.ABALPH >= :k_sort AND (AB.ABALPH > :k_sort OR AB.ABAN8 > :k_an8)) "
                       "ORDER BY AB.ABALPH ASC, AB.ABAN8 ASC FETCH FIRST 51 ROWS ONLY"),
    ("mssql", "ends", "AND (AB.ABAC01 = :f1)) AND (AB.ABALPH >= :k_sort AND (AB.ABALPH > :k_sort OR AB.ABAN8 > :k_an8)) "
                      "ORDER BY AB.ABALPH ASC, AB.ABAN8 ASC"),
    ("mssql", "starts", "SELECT TOP 51 AB.ABAN8, AB.ABALPH, AL.ALCTY1"),
    ("mssql", "has", "(SELECT MIN(TRIM(WP.WPAR1) + ' ' + TRIM(WP.WPPH1)) FROM F0115 AS WP"),
    ("oracle", "has", "(SELECT MIN(TRIM(WP.WPAR1) || ' ' || TRIM(WP.WPPH1)) FROM F0115 WP"),
]


@pytest.mark.parametrize(("dialect", "where", "expected"), LIST_TAILS, ids=[f"{c[0]}-{c[1]}" for c in LIST_TAILS])
def test_the_list_query_per_dialect(tmp_path, dialect, where, expected):
    wwa = load(resources(tmp_path), dialect=dialect)
    sql = wwa.statement(wwa.compile("ABAC01 = 'NTH'"), Shape("list", sort="name")).text
    check = {"ends": sql.endswith, "starts": sql.startswith, "has": sql.__contains__}[where]
    assert check(expected), sql[-300:]


def test_by_number_the_page_bound_is_repeated_inside_the_exists_checks(tmp_path):
    wwa = load(resources(tmp_path), dialect="postgresql")
    sql = wwa.statement(None, Shape("list")).text
    for column in ("CH.MAPA8", "PA.MAAN8", "AL2.ALAN8"):
        assert f"{column} > :k_an8" in sql, column
    for column in ("AL.ALAN8", "AI.AIAN8", "AI2.AIAN8", "WP.WPAN8", "EA.EAAN8"):  # more would skew the estimates
        assert f"{column} > :k_an8" not in sql, column
    assert sql.endswith("AND AB.ABAN8 > :k_an8 ORDER BY AB.ABAN8 ASC LIMIT 51")


def test_base_values_are_today_in_utc_or_the_date_given_in_a_new_dict_each_time(tmp_path):
    import datetime as dt

    from ecgateway.jde.conventions import date_to_julian

    wwa = load(resources(tmp_path))
    first = wwa.base_params()
    assert first == {"wwa_today": date_to_julian(dt.datetime.now(dt.UTC).date()), "wwa_company": wwa.company}
    first["wwa_today"] = 0  # a caller adding to or changing its dict changes no one else's
    assert wwa.base_params()["wwa_today"] != 0
    assert wwa.base_params(dt.date(2024, 2, 29))["wwa_today"] == 124060
