"""Lists of values in IN go through db.py's one helper, which keeps each under Oracle's 1,000.

Oracle refuses an IN list of more than 1,000 expressions (ORA-01795), which SQLite and
PostgreSQL take: a list built anywhere else would only fail on the real JDE. So src/ builds
IN lists of values only through db.in_values (literal lists) or db.in_bound with db.in_chunks
(lists bound per execution of a cached statement); the restriction compiler in accounts/
splits its own literals. An IN of a subquery (SELECT ...) holds no list and may be written anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine.default import CACHE_HIT

import ecgateway
from ecgateway.db import IN_LIST_CHUNK, IN_LIST_LIMIT, in_bound, in_chunks

SRC = Path(ecgateway.__file__).parent
IN_METHODS = {"in_", "not_in", "notin_"}


def _is_select(node: ast.AST, selects: set[str]) -> bool:
    """select(...) or sa.select(...), with any chain of methods (.where, .limit...) after it, or a name bound to one."""
    if isinstance(node, ast.Name):
        return node.id in selects
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr != "select":
        node = node.func.value
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "select") or (isinstance(func, ast.Attribute)
                                                                   and func.attr == "select")


def in_lists(source: str, name: str) -> list[str]:
    """Where source builds an IN list of values itself: "name:line" each."""
    tree = ast.parse(source, filename=name)
    selects = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and _is_select(node.value, set())
               for target in node.targets if isinstance(target, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in IN_METHODS:
            if not (len(node.args) == 1 and _is_select(node.args[0], selects)):
                found.append(f"{name}:{node.lineno}")
    return found


def test_every_in_list_goes_through_db_py():
    offenders = [where for path in sorted(SRC.rglob("*.py"))
                 if path != SRC / "db.py" and SRC / "accounts" not in path.parents
                 for where in in_lists(path.read_text(), str(path.relative_to(SRC.parent)))]
    assert offenders == [], "build IN lists with ecgateway.db.in_values, or in_bound with in_chunks"


def test_the_check_sees_a_list_and_lets_a_subquery_pass():
    source = ("import sqlalchemy as sa\n"
              "sub = sa.select(t.c.a).where(t.c.b == 1)\n"
              "ok = t.c.a.in_(sub)\n"
              "also_ok = t.c.a.not_in(sa.select(t.c.a).limit(3))\n"
              "bad = t.c.a.in_([1, 2])\n"
              "bound = t.c.a.in_(sa.bindparam('x', expanding=True))\n"
              "values = t.c.a.notin_(ids)\n")
    assert in_lists(source, "example.py") == ["example.py:5", "example.py:6", "example.py:7"]


@pytest.mark.parametrize(("count", "size", "lengths"), [
    (0, IN_LIST_CHUNK, []),
    (1, IN_LIST_CHUNK, [1]),
    (IN_LIST_CHUNK, IN_LIST_CHUNK, [IN_LIST_CHUNK]),
    (1201, IN_LIST_CHUNK, [500, 500, 201]),
    (2500, IN_LIST_LIMIT, [1000, 1000, 500]),
])
def test_in_chunks_sizes(count, size, lengths):
    chunks = list(in_chunks(range(count), size))
    assert [len(chunk) for chunk in chunks] == lengths
    assert [value for chunk in chunks for value in chunk] == list(range(count))


def test_in_chunks_sends_each_value_once_and_refuses_oracles_limit():
    assert list(in_chunks([3, 1, 3, 2, 1], 2)) == [[3, 1], [2]]
    for size in (0, IN_LIST_LIMIT + 1):
        with pytest.raises(ValueError, match="1 to 1000 values"):
            list(in_chunks([1], size))


def test_in_bound_statement_is_one_cached_statement_for_every_list():
    t = sa.table("f4101", sa.column("imlitm"))
    stmt = sa.select(t.c.imlitm).where(in_bound(t.c.imlitm, "litms"))
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE TABLE f4101 (imlitm TEXT)"))
        conn.execute(sa.text("INSERT INTO f4101 VALUES ('A'), ('B'), ('C')"))
        found = [sorted(conn.execute(stmt, {"litms": chunk}).scalars()) for chunk in in_chunks("ABCX", 2)]
        result = conn.execute(stmt, {"litms": ["A"]})
        assert result.context.cache_hit is CACHE_HIT  # the SQL of the first run, reused
    assert found == [["A", "B"], ["C"]]
