"""Fixtures of the commerce tests: a seeded JDE database, a migrated portal, users and contexts."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ecgateway.auth.users import create_user
from ecgateway.commerce.models import Cart, IdempotencyKey, Order, OutboxMessage
from ecgateway.config import Settings
from ecgateway.db import make_engine
from ecgateway.erp.base import PriceRequest, PriceRequestLine
from ecgateway.erp.local import LocalErp
from ecgateway.jde.addresses import Address, billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.obo.context import ActingContext, Actor

COMPANY = "00000"

sys.path.insert(0, str(Path(__file__).parent))  # commerce_procs: helpers of the process tests


@dataclass
class Shop:
    backend: str
    settings: Settings
    jde_engine: sa.Engine
    tables: object
    portal_engine: sa.Engine
    sessions: sessionmaker
    erp: LocalErp
    account: int
    billing: int
    ships: list[Address]
    items: list[str]
    users: dict[str, Actor] = field(default_factory=dict)

    def ctx(self, who: str, *, account: int | None = None, billing: int | None = None) -> ActingContext:
        actor = self.users[who]
        on_behalf = actor.user_type.startswith("Internal_")
        return ActingContext(actor=actor, subject_an8=account or self.account, billing_an8=billing or self.billing,
                             on_behalf=on_behalf)

    def session(self) -> Session:
        return self.sessions()

    def f47011_count(self, reference: str | None = None) -> int:
        h = self.tables.F47011
        stmt = sa.select(sa.func.count()).select_from(h)
        if reference is not None:
            stmt = stmt.where(h.c.syvr02 == reference)
        with self.jde_engine.connect() as conn:
            return conn.scalar(stmt)


@pytest.fixture(scope="module")
def shop(jde_db, portal_url, tmp_path_factory) -> Shop:
    settings = Settings(jde_url=jde_db.url, jde_schema=jde_db.schema, portal_url=portal_url,
                        data_dir=tmp_path_factory.mktemp("data"), company=COMPANY)
    portal_engine = make_engine(portal_url)
    sessions = sessionmaker(portal_engine, expire_on_commit=False)
    erp = LocalErp(jde_db.engine, jde_db.tables, settings)
    with jde_db.engine.connect() as conn:
        account, billing, ships = pick_account(conn, jde_db.tables)
        items = pick_items(conn, jde_db.tables, erp, billing=billing, ship_to=ships[0].an8)
    shop = Shop(jde_db.backend, settings, jde_db.engine, jde_db.tables, portal_engine, sessions, erp,
                account, billing, ships, items)
    with sessions() as s:
        for login, user_type, name, email, acct in (
            ("cust", "Customer", "Carla Customer", "carla@example.com", account),
            ("rep", "Internal_SalesRep", "Ravi Rep", "ravi.rep@example.com", None),
            ("rep2", "Internal_CustomerService", "Rita Service", "rita@example.com", None),
            ("other", "Customer", "Oscar Other", "oscar@example.com", account + 100000),
        ):
            user = create_user(s, login=login, name=name, user_type=user_type, email=email, account_an8=acct)
            shop.users[login] = Actor(user.id, user.login, user.name, user.email, user.user_type)
        s.commit()
    yield shop
    portal_engine.dispose()


@pytest.fixture()
def clean(shop):
    """Start a test with no carts, orders, keys or outbox rows (the audit log is append-only and stays)."""
    with shop.session() as s:
        for model in (OutboxMessage, IdempotencyKey, Order, Cart):
            s.execute(sa.delete(model))
        s.commit()
    return shop


def pick_account(conn: sa.Connection, tables) -> tuple[int, int, list[Address]]:
    """A USD account whose first billing address has at least two shipping addresses."""
    f0150, f03012 = tables.F0150, tables.F03012
    children = sa.select(f0150.c.maan8)
    parents = conn.execute(
        sa.select(f0150.c.mapa8).distinct()
        .where(f0150.c.mapa8.not_in(children), f0150.c.mapa8.in_(
            sa.select(f03012.c.aian8).where(f03012.c.aicrcd == "USD", f03012.c.aico == COMPANY)))
        .order_by(f0150.c.mapa8)
    ).scalars().all()
    for account in parents:
        bills = billing_addresses(Jde(conn, tables, COMPANY), account_an8=account)
        if not bills:
            continue
        ships = shipping_addresses(Jde(conn, tables, COMPANY), billing_an8=bills[0].an8)
        currency = conn.scalar(sa.select(f03012.c.aicrcd).where(f03012.c.aian8 == bills[0].an8, f03012.c.aico == COMPANY))
        if len(ships) >= 2 and currency == "USD":
            return account, bills[0].an8, ships
    raise AssertionError("the generated JDE data has no USD account with two shipping addresses")


def pick_items(conn: sa.Connection, tables, erp: LocalErp, *, billing: int, ship_to: int) -> list[str]:
    """Six items the local ERP prices for the billing address."""
    litms = conn.execute(sa.select(tables.F4101.c.imlitm).order_by(tables.F4101.c.imitm).limit(30)).scalars().all()
    result = erp.price(PriceRequest(sold_to=billing, ship_to=ship_to, company=COMPANY, branch="", currency=None,
                                    lines=tuple(PriceRequestLine(item=i, quantity=1) for i in litms)))
    good = [line.item for line in result.lines if line.available]
    assert len(good) >= 6, result
    return good[:6]


@pytest.fixture(scope="module")
def gw(jde_db, portal_url, tmp_path_factory):
    """The whole gateway app (tests/web/web_env.py) with its users: ar1, sales1, cs1, admin1, cust1."""
    from web.web_env import build_gateway

    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("gw"))
    yield gateway
    gateway.runtime.dispose()
