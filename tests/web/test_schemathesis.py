"""schemathesis against the gateway's own OpenAPI document, signed in as each role (issue 14, point 7).

Every API operation gets EXAMPLES generated requests per role (a customer, each rep type, a rep
acting on behalf of an account, an admin), sent to the app under uvicorn on loopback. Each answer
must pass schemathesis's checks: no 5xx, a status the document lists for the operation, the
content type and the body the document gives for that status. Bounded: no shrinking, a fixed
number of examples, SQLite only (the same routes run on PostgreSQL in the rest of the suite).
"""

from __future__ import annotations

import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from browser.browser_support import serving
from web.web_env import PASSWORD

EXAMPLES = 6
ROLES = ("cust1", "ar1", "sales1", "cs1", "admin1", "sales1 acting")
# Ending the session or the on-behalf-of under test would leave the rest of the role's run signed out:
# these three run in test_the_session_operations_answer_as_documented, each example on a session of its own.
# "Schema-valid request rejected" takes every refusal of a well-formed request for a bug, but the
# gateway refuses such requests by design, with 400/422 and the reason: a NUL in any text, a
# shipping address not of the account, an item JDE does not price, a filter the policy forbids.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]
SKIPPED = {("DELETE", "/api/v1/session"), ("DELETE", "/api/v1/obo"), ("POST", "/api/v1/session")}


@pytest.fixture(scope="module")
def backend() -> str:
    """Schemathesis runs once, on SQLite: it checks the routes' answers, not the database (both
    databases are covered by every other web test). Not a skip: the PostgreSQL case is not made at all."""
    return "sqlite"


@pytest.fixture(scope="module")
def served(gw, backend):
    with serving(gw) as base:
        yield gw, base


@pytest.mark.parametrize("role", ROLES)
def test_every_api_operation_answers_as_documented(served, role):
    gw, base = served
    session = _signed_in(base, role)
    schema = schemathesis.openapi.from_dict(gw.app.openapi())
    failures, calls, started = [], 0, time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(base_url=base, session=session, excluded_checks=EXCLUDED_CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - gather every operation's failures
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
        calls += 1
    print(f"schemathesis as {role}: {calls} operations x {EXAMPLES} examples in {time.monotonic() - started:.1f} s")
    assert not failures, f"{len(failures)} operations fail as {role}:\n\n" + "\n\n".join(failures)


# (method, path, who sends it): each generated request gets a fresh session of that role (None: signed out).
SESSION_OPERATIONS = [("DELETE", "/api/v1/session", "cs1"), ("DELETE", "/api/v1/obo", "sales1 acting"),
                      ("POST", "/api/v1/session", None)]


@pytest.mark.parametrize(("method", "path", "role"), SESSION_OPERATIONS)
def test_the_session_operations_answer_as_documented(served, method, path, role):
    """Sign-in, sign-out and ending the on-behalf-of, fuzzed too: a new session for every example, so
    what one example ends is not what the next one needs. Sign-in's generated logins fail, and fail
    into the throttle's counts: they are removed afterwards, so no other test meets a 429."""
    import sqlalchemy as sa

    from ecgateway.auth.models import LoginFailure

    gw, base = served
    schema = schemathesis.openapi.from_dict(gw.app.openapi())
    operation = schema[path][method]
    calls = []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case):
        session = _signed_in(base, role) if role else requests.Session()
        calls.append(case)
        case.call_and_validate(base_url=base, session=session, excluded_checks=EXCLUDED_CHECKS)

    try:
        check()
    finally:
        with gw.portal() as db:
            db.execute(sa.delete(LoginFailure))
            db.commit()
    assert calls, "no request was generated"


def _signed_in(base: str, role: str) -> requests.Session:
    login, _, acting = role.partition(" ")
    session = requests.Session()
    r = session.post(base + "/api/v1/session", json={"login": login, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    token = r.json()["csrf_token"]
    if acting:
        accounts = session.get(base + "/api/v1/accounts", params={"limit": 1}, timeout=30).json()["items"]
        r = session.post(base + "/api/v1/obo", json={"an8": accounts[0]["an8"]}, headers={"X-CSRF-Token": token},
                         timeout=30)
        assert r.status_code == 200, r.text
        token = r.json()["csrf_token"]
    session.headers["X-CSRF-Token"] = token
    return session
