"""A running gateway for tests: the app over a seeded JDE db and a migrated portal, with users.

Used by tests/web, tests/obo, tests/auth and tests/browser (`from web.web_env import ...`).
Users are made here with ecgateway.auth.users.create_user: one of each type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecgateway.accounts import all_scope, list_accounts, set_restriction
from ecgateway.app import create_app
from ecgateway.auth.users import create_user
from ecgateway.config import Settings
from ecgateway.jde.addresses import billing_addresses
from ecgateway.jde.handle import Jde
from ecgateway.portal.models import User
from ecgateway.runtime import Runtime

PASSWORD = "correct horse battery 42"
BASE_URL = "http://testserver"

# login -> (user type, what the user may serve). Reps: "first:N" = ABAN8 IN the first N accounts.
USERS = {
    "ar1": ("Internal_AR", "first:4"),
    "sales1": ("Internal_SalesRep", "first:8"),
    "cs1": ("Internal_CustomerService", None),  # no restriction row: every account (restriction_default allow)
    "admin1": ("Admin", None),
    "cust1": ("Customer", "account:0"),
}
REP_LOGINS = ("ar1", "sales1", "cs1")


@dataclass
class Gateway:
    settings: Settings
    runtime: Runtime
    app: FastAPI
    accounts: list[int]  # customer accounts of the seeded data, in number order
    users: dict[str, int] = field(default_factory=dict)  # login -> user id
    employee_an8: int | None = None  # an F0101 'E' party: never a target
    billing_child_an8: int | None = None  # a billing address (a child, not an account): never a target

    def client(self, login: str | None = None, **kwargs) -> TestClient:
        """A client; signed in through the form when login is given."""
        client = TestClient(self.app, base_url=BASE_URL, follow_redirects=False, **kwargs)
        if login:
            r = client.post("/login", data={"login": login, "password": PASSWORD})
            assert r.status_code == 303, (r.status_code, r.text[:300])
        return client

    def portal(self) -> Session:
        return self.runtime.portal_sessions()

    def user(self, login: str) -> User:
        with self.portal() as db:
            return db.scalar(sa.select(User).where(User.login == login))

    def restrict(self, login: str, filter_text: str) -> None:
        with self.portal() as db:
            set_restriction(db, rep=db.get(User, self.users[login]), filter_text=filter_text, changed_by="test")
            db.commit()

    def allowed_for(self, login: str) -> list[int]:
        kind = USERS[login][1]
        if kind is None:
            return list(self.accounts)
        n = int(kind.split(":")[1])
        return self.accounts[:n]


def build_gateway(jde_db, portal_url: str, data_dir: Path, **settings: object) -> Gateway:
    """The app over these databases; settings override the test defaults (e.g. erp_mode="ais")."""
    settings = Settings(**{"data_dir": data_dir, "jde_url": jde_db.url, "jde_schema": jde_db.schema,
                           "portal_url": portal_url, "secret_key": "t" * 48, "cookie_secure": False, **settings})
    runtime = Runtime.from_settings(settings)
    app = create_app(settings, runtime)
    with runtime.jde_engine.connect() as jde:
        accounts = [a.an8 for a in list_accounts(jde, wwa=runtime.accounts, scope=all_scope(runtime.accounts), limit=200).items]
        f0101 = runtime.jde.F0101
        employee = jde.scalar(sa.select(f0101.c.aban8).where(f0101.c.abat1 == "E").order_by(f0101.c.aban8).limit(1))
        billing = billing_addresses(Jde(jde, runtime.jde, settings.company), account_an8=accounts[0])
    gw = Gateway(settings, runtime, app, accounts, employee_an8=employee, billing_child_an8=billing[0].an8)
    with runtime.portal_sessions() as db:
        for login, (user_type, scope) in USERS.items():
            account = accounts[int(scope.split(":")[1])] if scope and scope.startswith("account:") else None
            existing = db.scalar(sa.select(User).where(User.login == login))
            user = existing or create_user(db, login=login, name=f"{login.title()} Tester", user_type=user_type,
                                           email=f"{login}@example.com", password=PASSWORD, account_an8=account)
            db.flush()
            gw.users[login] = user.id
            if scope and scope.startswith("first:"):
                n = int(scope.split(":")[1])
                quoted = ",".join(f"'{a}'" for a in accounts[:n])
                set_restriction(db, rep=user, filter_text=f"ABAN8 IN ({quoted})", changed_by="test")
        db.commit()
    return gw


def csrf_of(client: TestClient) -> str:
    r = client.get("/api/v1/session")
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]


def session_cookie(client: TestClient) -> str | None:
    return client.cookies.get("ecgw_session")


@pytest.fixture(scope="module")
def gw(jde_db, portal_url, tmp_path_factory) -> Gateway:
    """One gateway per backend and test module (import this fixture into a conftest)."""
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("gw"))
    yield gateway
    gateway.runtime.dispose()


def api_client(gateway: Gateway, login: str):
    """A client signed in through POST /api/v1/session, and its CSRF token."""
    client = TestClient(gateway.app, base_url=BASE_URL, follow_redirects=False)
    r = client.post("/api/v1/session", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client, r.json()["csrf_token"]
