"""Filters built to exhaust the checker: deep nesting and long chains are refused cleanly.

A filter that is too deep or too long must come back as a RestrictionError with a position
(never a RecursionError or a 500), whatever the caller's stack depth, and the largest filter
the policy allows must work on every request of a rep, acting on behalf included.
"""

from __future__ import annotations

import threading

import pytest

from ecgateway.accounts import RestrictionError, compile_filter
from ecgateway.accounts.policy import default_policy
from ecgateway.accounts.restrictions import _compile
from web.web_env import PASSWORD, csrf_of

POLICY = default_policy()

TOO_MUCH = [
    ("3000 parentheses", "(" * 3000 + "ABAN8 = 1" + ")" * 3000),
    ("40000 parentheses", "(" * 40_000 + "ABAN8 = 1" + ")" * 40_000),
    ("3000 NOTs", "NOT " * 3000 + "ABAN8 = 1"),
    ("20000 NOTs", "NOT " * 20_000 + "ABAN8 = 1"),
    ("AND chain of 984", " AND ".join(f"ABAN8 <> {i}" for i in range(984))),
    ("AND chain of 5000", " AND ".join(f"ABAN8 <> {i}" for i in range(5000))),
    ("OR chain past the limit", " OR ".join(f"ABAN8 = {i}" for i in range(POLICY.max_connectives + 2))),
    ("nested ORs of ANDs", " OR ".join(f"(ABAN8 = {i} AND ABAC01 = 'NTH')" for i in range(400))),
]


def _in_fresh_thread(fn):
    """Run fn on a new thread's (shallow) stack, as a CLI would."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def _deep(levels: int, fn):
    return fn() if levels == 0 else _deep(levels - 1, fn)


@pytest.mark.parametrize("label,text", TOO_MUCH, ids=[c[0] for c in TOO_MUCH])
def test_too_deep_or_too_long_is_a_restriction_error_at_any_stack_depth(label, text):
    for run in (lambda f: f(), _in_fresh_thread, lambda f: _deep(300, f)):
        _compile.cache_clear()
        with pytest.raises(RestrictionError) as info:
            run(lambda: compile_filter(text, dialect="oracle"))
        assert info.value.line >= 1 and info.value.col >= 1, label


def test_the_longest_allowed_chain_compiles_even_from_a_deep_stack():
    text = " AND ".join(f"ABAN8 <> {i}" for i in range(POLICY.max_connectives + 1))
    for dialect in ("oracle", "postgresql", "sqlite"):
        _compile.cache_clear()
        compiled = _deep(300, lambda d=dialect: compile_filter(text, dialect=d))
        assert len(compiled.params) == POLICY.max_connectives + 1
        assert _deep(300, lambda c=compiled: c.sql).count(" AND ") == POLICY.max_connectives


def test_a_rep_with_the_largest_allowed_filter_can_list_act_and_sign_out(gw):
    """Stored and compiled afresh (as after a restart), on the web request's stack."""
    from ecgateway.auth.users import create_user

    allowed = gw.accounts[:3]
    chain = " AND ".join(["ABAN8 IN (" + ", ".join(f"'{a}'" for a in allowed) + ")"] +
                         [f"ABAN8 <> {90_000_000 + i}" for i in range(POLICY.max_connectives)])
    with gw.portal() as db:
        user = create_user(db, login="sec_biggest", name="Biggest", user_type="Internal_AR", password=PASSWORD)
        db.commit()
        gw.users["sec_biggest"] = user.id
    _in_fresh_thread(lambda: gw.restrict("sec_biggest", chain))
    _compile.cache_clear()
    client = gw.client("sec_biggest", raise_server_exceptions=False)
    listed = client.get("/api/v1/accounts", params={"limit": 200})
    assert listed.status_code == 200 and [a["an8"] for a in listed.json()["items"]] == allowed
    assert client.post("/obo", data={"an8": allowed[0], "csrf_token": csrf_of(client)}).status_code == 303
    _compile.cache_clear()
    assert client.get("/api/v1/obo").json()["acting"] is True
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 303
