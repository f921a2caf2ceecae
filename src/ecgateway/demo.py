"""The demo: generated JDE data and a portal with one user of each kind, on SQLite files."""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.accounts import all_scope, count_accounts, filter_scope, list_accounts, may_act
from ecgateway.accounts.describe import describe_or_none
from ecgateway.accounts.query import WorkWithAccounts
from ecgateway.accounts.search import SearchIndex
from ecgateway.accounts.store import set_restriction
from ecgateway.auth.models import RIGHT_LISTS
from ecgateway.auth.passwords import hash_password
from ecgateway.auth.rights import set_right
from ecgateway.auth.users import create_user, get_by_login
from ecgateway.config import Settings
from ecgateway.db import in_values, make_engine
from ecgateway.jde.generator import seed_database
from ecgateway.jde.tables import JdeTables, jde_tables
from ecgateway.portal.migrate import upgrade
from ecgateway.portal.models import User

# (login, name, user type, restriction filter or None for "no row": sees every account)
DEMO_STAFF: tuple[tuple[str, str, str, str | None], ...] = (
    ("admin", "Ada Admin", "Admin", None),
    ("sales", "Sam Sales", "Internal_SalesRep", "ABAC02 IN ('R01','R02','R03')"),
    ("ar", "Avery Receivables", "Internal_AR", "ABAC01 = 'NTH'"),
    ("service", "Casey Service", "Internal_CustomerService", None),
)


@dataclass(frozen=True)
class DemoLogin:
    login: str
    user_type: str
    password: str
    serves: str = ""  # reps: which accounts they may serve; customers: the account they belong to


class DemoRunning(Exception):
    """Another demo holds this data folder: running a second would reset the first one's passwords."""


@contextmanager
def demo_lock(settings: Settings, *, port: int) -> Iterator[None]:
    """Hold the data folder's demo lock while the block runs; DemoRunning when another demo holds it.

    An OS lock (flock) on var/demo.lock: it goes with the process, so a demo that was killed leaves
    nothing to clean up. The file says who holds it, for the message.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "demo.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held open for the whole demo
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise DemoRunning(f"A demo is already running from {settings.data_dir} ({holder}). Its logins and "
                              "passwords are the ones it printed; nothing was changed. Stop it first (Ctrl+C in its "
                              "terminal), or run this one with another ECGW_DATA_DIR.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, http://127.0.0.1:{port}/\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def prepare_demo(settings: Settings, *, accounts: int, seed: int, echo: Callable[[str], None] = print) -> list[DemoLogin]:
    """Create what is missing (JDE data, portal schema, demo users) and return their logins.

    Demo passwords come from ECGW_DEMO_PASSWORD when set, else are new random ones on
    every run (nothing stores them in clear, so a re-run sets and prints fresh ones).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    jde_engine = make_engine(settings.jde_database_url, jde=True)
    tables = jde_tables(settings.jde_schema, control_schema=settings.jde_control_schema, timezone=settings.jde_timezone)
    try:
        if _jde_is_empty(jde_engine, tables):
            echo(f"generating {accounts:,} JDE accounts (seed {seed}) in {settings.jde_database_url}")
            echo(seed_database(jde_engine, tables, accounts=accounts, seed=seed, show_progress=True).describe())
        else:
            stale = _stale_edi_tables(jde_engine, tables)
            if stale:
                echo(f"warning: {stale} in {settings.jde_database_url} are from an older gateway, so orders cannot be"
                     " queued there; if it holds demo data only, delete the file and run the demo again")
        upgrade(settings.portal_database_url)
        portal_engine = make_engine(settings.portal_database_url)
        try:
            with Session(portal_engine) as session, session.begin():
                logins = _demo_users(session, jde_engine, tables)
            _build_search_index(settings, jde_engine, portal_engine, echo)
        finally:
            portal_engine.dispose()
        return _with_what_they_serve(logins, settings, jde_engine)
    finally:
        jde_engine.dispose()


def _with_what_they_serve(logins: list[DemoLogin], settings: Settings, jde_engine: sa.Engine) -> list[DemoLogin]:
    """Each rep's accounts in words (with how many and the first few), each customer's account by name."""
    wwa = WorkWithAccounts.load(settings, dialect=jde_engine.dialect.name)
    filters = {login: text for login, _name, _type, text in DEMO_STAFF}
    out = []
    scopes = {e.login: (filter_scope(filters[e.login], wwa=wwa) if filters.get(e.login) else all_scope(wwa))
              for e in logins if e.user_type.startswith("Internal_")}
    with jde_engine.connect() as conn:
        for entry in logins:
            serves = ""
            if entry.user_type.startswith("Internal_"):
                text, scope = filters.get(entry.login), scopes[entry.login]
                count = count_accounts(conn, wwa=wwa, scope=scope)
                first = list_accounts(conn, wwa=wwa, scope=scope, limit=3).items
                example = "; ".join(f"{a.an8} {a.name}" + (f", {a.city}" if a.city else "") for a in first)
                words = f"where {describe_or_none(text, policy=wwa.policy)}" if text else "every customer account"
                serves = f"may serve {count:,} accounts, {words} (e.g. {example})" if first else "may serve no account"
            elif entry.user_type.startswith("Customer of account "):
                an8 = int(entry.user_type.removeprefix("Customer of account "))
                found = list_accounts(conn, wwa=wwa, scope=all_scope(wwa), q=str(an8), limit=5).items
                row = next((a for a in found if a.an8 == an8), None)
                reps = [login for login, scope in scopes.items() if may_act(conn, wwa=wwa, scope=scope, an8=an8)]
                serves = (f"belongs to account {an8}" + (f", {row.name}" + (f", {row.city}" if row.city else "")
                                                        if row else "")
                          + f"; reps who may serve it: {', '.join(reps) or 'none'}")
            out.append(DemoLogin(entry.login, entry.user_type, entry.password, serves))
    return out


def _build_search_index(settings: Settings, jde_engine: sa.Engine, portal_engine: sa.Engine, echo) -> None:
    """Build the accounts search index when it never was (a later demo keeps it: the relay refreshes it)."""
    index = SearchIndex(portal_engine)
    if index.ready():
        return
    wwa = WorkWithAccounts.load(settings, dialect=jde_engine.dialect.name)
    with jde_engine.connect() as jde:
        count = index.rebuild(jde, wwa=wwa)
    echo(f"search index: {count:,} accounts")


def _stale_edi_tables(engine: sa.Engine, tables: JdeTables) -> str:
    """Which of F47011, F47012, F0002 lack columns (or are missing) compared with the gateway's layout."""
    inspector = sa.inspect(engine)
    stale = []
    for table in (tables.F47011, tables.F47012, tables.F0002):
        if not inspector.has_table(table.name, schema=table.schema):
            stale.append(table.name.upper())
            continue
        have = {c["name"].lower() for c in inspector.get_columns(table.name, schema=table.schema)}
        if not {c.name for c in table.c} <= have:
            stale.append(table.name.upper())
    return ", ".join(stale)


def demo_accounts(jde_engine: sa.Engine, tables: JdeTables, *, where: sa.ColumnElement[bool], limit: int) -> list[int]:
    """Top-level customer accounts (F0150 parents that are no one's child) matching where."""
    f0101, f0150 = tables.F0101, tables.F0150
    child = sa.select(f0150.c.maan8).where(f0150.c.maostp == " ")
    parent = sa.select(f0150.c.mapa8).where(f0150.c.maostp == " ")
    stmt = (
        sa.select(f0101.c.aban8)
        .where(f0101.c.abat1 == "C", f0101.c.aban8.in_(parent), f0101.c.aban8.not_in(child), where)
        .order_by(f0101.c.aban8)
        .limit(limit)
    )
    with jde_engine.connect() as conn:
        return list(conn.scalars(stmt))


def _jde_is_empty(engine: sa.Engine, tables: JdeTables) -> bool:
    if not sa.inspect(engine).has_table("f0101", schema=tables.metadata.schema):
        return True
    with engine.connect() as conn:
        return not conn.scalar(sa.select(sa.func.count()).select_from(tables.F0101))


def _password() -> str:
    return os.environ.get("ECGW_DEMO_PASSWORD") or secrets.token_urlsafe(12)


def _demo_users(session: Session, jde_engine: sa.Engine, tables: JdeTables) -> list[DemoLogin]:
    f0101 = tables.F0101
    customers = [
        ("buyer1", "Blake Buyer", demo_accounts(jde_engine, tables, where=in_values(f0101.c.abac02, ("R01", "R02", "R03")), limit=1)),
        ("buyer2", "Robin Purchaser", demo_accounts(jde_engine, tables, where=f0101.c.abac01 == "NTH", limit=1)),
    ]
    logins: list[DemoLogin] = []
    for login, name, user_type, filter_text in DEMO_STAFF:
        password = _password()
        user = _ensure_user(session, login=login, name=name, user_type=user_type, password=password)
        if login == "sales":  # the demo's rep who prepares managed lists (granted on the admin's user page)
            session.flush()
            set_right(session, user_id=user.id, right=RIGHT_LISTS, granted=True, by="demo")
        if filter_text and user.restriction is None:
            set_restriction(session, rep=user, filter_text=filter_text, changed_by="demo")
        logins.append(DemoLogin(login, user_type, password))
    for login, name, found in customers:
        if not found:
            continue
        password = _password()
        _ensure_user(session, login=login, name=name, user_type="Customer", password=password, account_an8=found[0])
        logins.append(DemoLogin(login, f"Customer of account {found[0]}", password))
    return logins


def _ensure_user(session: Session, *, login: str, name: str, user_type: str, password: str,
                 account_an8: int | None = None) -> User:
    user = get_by_login(session, login)
    if user is None:
        return create_user(session, login=login, name=name, user_type=user_type, password=password,
                           email=f"{login}@demo.ecgateway.invalid", account_an8=account_an8)
    user.password_hash = hash_password(password)
    return user
