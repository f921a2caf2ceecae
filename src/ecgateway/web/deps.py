"""Dependencies shared by routers: runtime, database sessions, the JDE handle, the ERP, who is
signed in, access levels, the transaction log's filter. The one place that unpacks the runtime.

The dependencies that only hand over a part of the runtime or check what get_auth loaded are
`async def`: FastAPI runs a plain `def` dependency in its thread pool, a hop to a thread and back
per dependency and request (about a quarter of a request's time in the gateway's own code on the
picker mix, bench/RESULTS-search.md). Those that read a database stay `def`.

Every route declares an access level through one of the aliases below (CurrentUser,
RepAuth, AdminAuth, CustomerAuth, ShopperContext, OptionalAuth...) or with
`dependencies=[Depends(require("level"))]`. A route that declares none is refused by the
request guard (deny by default). Levels: see ecgateway.auth.roles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from ecgateway.accounts import WorkWithAccounts, is_customer_account
from ecgateway.accounts.query import AN8_MAX
from ecgateway.accounts.search import SearchIndex
from ecgateway.admin import txlog
from ecgateway.admin.users import AdminError
from ecgateway.auth import sessions
from ecgateway.auth.models import AuthSession
from ecgateway.auth.roles import allowed
from ecgateway.commerce.errors import CommerceError
from ecgateway.commerce.outbox import Relay
from ecgateway.config import Settings
from ecgateway.erp import Erp
from ecgateway.jde.handle import Jde
from ecgateway.obo import service as obo
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import User
from ecgateway.runtime import Runtime
from ecgateway.web.params import OptionalRowIdQuery


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_portal_session(request: Request,
                             runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[Session]:
    """The request's portal session. `async`, so opening and closing it costs no hop to the thread pool:
    a new Session takes no connection until its first query (in the route's thread), and closing one
    that holds none does no I/O. Only a session still inside a transaction is closed in a thread, since
    giving its connection back rolls it back on the database: a thread of its own (a limiter of one, as
    FastAPI closes a `def` dependency), not one of the shared pool's, where it would wait behind
    requests that are themselves waiting for the connection it holds; and shielded, so a cancelled
    request still gives its connection back."""
    session = runtime.portal_sessions()
    request.state.portal_session = session  # for the page's own reads while it is drawn (request_session)
    try:
        yield session
    finally:
        request.state.portal_session = None
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


@contextmanager
def request_session(request: Request) -> Iterator[Session]:
    """The request's portal session while its route runs, else a new one: what a page reads while it is
    drawn (the header's cart count, the account page's parts). A second session there took a second
    connection from the same pool while the route's first was held: with every connection held so, each
    request waited for one that none gave back, until the pool's timeout (tests/web/test_one_connection.py)."""
    session = getattr(request.state, "portal_session", None)
    if session is not None and session.is_active:
        yield session
        return
    with request.app.state.runtime.portal_sessions() as session:
        yield session


def get_jde(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Jde]:
    """The request's JDE handle (connection on the read-only engine, tables, company, decimals)."""
    with runtime.reading_jde() as jde:
        yield jde


async def get_accounts_query(runtime: Annotated[Runtime, Depends(get_runtime)]) -> WorkWithAccounts:
    """The Work-with-Accounts query, loaded once per process."""
    return runtime.accounts


async def get_erp(request: Request) -> Erp:
    return request.app.state.erp


async def get_relay(request: Request) -> Relay:
    return request.app.state.relay


async def get_settings(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Settings:
    return runtime.settings


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PortalSessionDep = Annotated[Session, Depends(get_portal_session)]
JdeDep = Annotated[Jde, Depends(get_jde)]
AccountsQueryDep = Annotated[WorkWithAccounts, Depends(get_accounts_query)]


async def get_search_index(runtime: Annotated[Runtime, Depends(get_runtime)]) -> SearchIndex:
    """The accounts search index (accounts/search.py): it proposes, the rep's query decides."""
    return runtime.search


SearchIndexDep = Annotated[SearchIndex, Depends(get_search_index)]
ErpDep = Annotated[Erp, Depends(get_erp)]
RelayDep = Annotated[Relay, Depends(get_relay)]


async def get_customer_check(jde: JdeDep, wwa: AccountsQueryDep) -> Callable[[int], bool]:
    """For the user service: is a number one of JDE's customer accounts (the base query)?"""
    return lambda an8: is_customer_account(jde.conn, wwa=wwa, an8=an8)


CustomerCheckDep = Annotated[Callable[[int], bool], Depends(get_customer_check)]


async def audit_log_filter(
    rep: Annotated[str | None, Query(max_length=64, description="CSR login")] = None,
    account: Annotated[str | None, Query(max_length=12)] = None,
    action: Annotated[str | None, Query(max_length=64, description="obo.start, or an area: obo")] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    date_from: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (UTC)")] = None,
    date_to: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (UTC), inclusive")] = None,
    order: OptionalRowIdQuery = None,
    reason: Annotated[str | None, Query(max_length=200, description="words of an on-behalf-of session's reason "
                                        "or ticket")] = None,
) -> txlog.LogFilter:
    """The transaction log's filter from the query string (pages, CSV and API alike); AdminError
    (400) names a field that is not right."""
    return txlog.LogFilter(
        rep=rep or None, account=optional_an8(account or "", "account"), action=action or None,
        outcome=outcome or None, date_from=txlog.parse_date(date_from, field="date_from"),
        date_to=txlog.parse_date(date_to, field="date_to"), order_id=order, reason=reason or None,
    )


AuditLogFilterDep = Annotated[txlog.LogFilter, Depends(audit_log_filter)]


def optional_an8(text: str, field: str) -> int | None:
    """A form's optional account number typed as text; AdminError names the field when it is not one."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= AN8_MAX:
        raise AdminError(f"{field} {text[:20]!r} is not an account number; enter 1 to {AN8_MAX} in digits, e.g. 4242",
                         field=field)
    return int(text)


def refresh_after_refusal(request: Request, db: Annotated[Session, Depends(get_portal_session)]) -> Iterator[None]:
    """A refusal rolls the session back, which expires the signed-in user the error page shows:
    load it again while the session is still open."""
    try:
        yield
    except CommerceError:
        auth = getattr(request.state, "auth", None)
        for row in (getattr(auth, "user", None), getattr(auth, "session", None)):
            if row is not None and row in db:
                db.refresh(row)
        raise


@dataclass
class Auth:
    """Who is signed in for this request, and for whom they act."""

    user: User | None
    session: AuthSession | None
    context: ActingContext | None  # None when nobody is signed in
    notice: str | None = None  # a message to show once (e.g. why on-behalf-of ended)
    _banner: dict | None = field(default=None, repr=False)

    @property
    def csrf_token(self) -> str | None:
        return self.session.csrf_token if self.session else None

    @property
    def on_behalf(self) -> bool:
        return bool(self.context and self.context.on_behalf)


async def get_auth(request: Request, db: PortalSessionDep, runtime: RuntimeDep) -> Auth:
    """Who is signed in: loaded once per request (load_auth, in the thread pool), first of all its
    dependencies (guard_auth), and then handed out again."""
    loaded = getattr(request.state, "auth", None)
    if loaded is not None:
        return loaded
    return await run_in_threadpool(load_auth, request, db, runtime)


async def guard_auth(request: Request, db: PortalSessionDep, runtime: RuntimeDep) -> Auth | None:
    """What the request guard needs, before any dependency of the route: who is signed in, so that
    get_auth's portal transaction ends before a route's JDE connection is asked for (see load_auth).
    None for a GET to a route that loads it in the one hop of its own blocking work (loads_auth)."""
    route = request.scope.get("route")
    if request.method in ("GET", "HEAD") and getattr(getattr(route, "endpoint", None), "loads_auth", False):
        return None
    return await get_auth(request, db, runtime)


def loads_auth(endpoint):
    """Mark an `async def` GET endpoint that calls load_auth and check_access itself, first thing in
    its one hop to the thread pool (and opens any JDE connection after them): a request then pays one
    hop, not one for the guard's get_auth and another for the work. Its access level is declared with
    `dependencies=[Depends(declare(level))]`."""
    endpoint.loads_auth = True
    return endpoint


def load_auth(request: Request, db: Session, runtime: Runtime) -> Auth:
    """Load the session from its cookie, enforce timeouts, re-check on-behalf-of. Runs on every request."""
    settings = runtime.settings
    token = request.cookies.get(sessions.cookie_name(settings))
    loaded = sessions.load_session(db, token, settings=settings)
    row = loaded.session
    if row is None:
        if token:
            request.state.session_cookie = ""  # an unknown or expired id: tell the browser to drop it
        db.commit()
        notice = loaded.ended if loaded.ended not in (None, "unknown") else None
        return _remember(request, Auth(None, None, None, notice))
    # load_session wrote last_seen_at when TOUCH_EVERY had passed: commit it now, on its own. Left to the
    # COMMIT below, the UPDATE would go out with the re-check's first query and hold the session row's
    # lock while the re-check waits for a JDE connection (tests/obo/test_touch_before_recheck.py).
    # Committed here, it is never lost to a rollback either: a rep who only reads pages stays signed in.
    if db.dirty:
        db.commit()
    user = loaded.user  # read with the session, in the same statement (None: the user row is gone)
    if user is None or not user.active:
        sessions.end_session(db, row, reason="user deactivated")
        db.commit()
        request.state.session_cookie = ""
        return _remember(request, Auth(None, None, None, "Your user is no longer active. Ask an administrator."))
    if row.obo_an8 is not None:
        ended = obo.recheck(db, _jde_holding_no_portal_connection(db, runtime), wwa=runtime.accounts, user=user,
                            auth_session=row)
        if ended is not None:
            request.state.session_cookie = ended.token
    notice = row.notice
    if notice:
        row.notice = None  # shown once
    # Always a COMMIT, even with nothing to write: it gives the portal connection back before the route's
    # JDE connection (get_jde) is asked for. A request waits for a JDE connection only while it holds no
    # portal connection, so requests holding JDE connections and waiting for a portal one always get it:
    # with both pools full no two requests wait for each other (CI saw the circle: 503s once a pool timed
    # out; tests/obo/test_touch_before_recheck.py).
    db.commit()
    return _remember(request, Auth(user, row, obo.acting_context(user, row), notice))


def _jde_holding_no_portal_connection(db: Session, runtime: Runtime):
    """The re-check's JDE connection, asked for after the portal transaction ends (see get_auth)."""

    def connect():
        db.commit()  # nothing is pending here (the touch is committed): this only gives the connection back
        return runtime.jde_reader.connect()

    return connect


AuthDep = Annotated[Auth, Depends(get_auth)]


def require(level: str):
    """A dependency passing only users of an access level (ecgateway.auth.roles.ACCESS_LEVELS)."""

    async def check(auth: AuthDep) -> Auth:
        return check_access(level, auth)

    check.access_level = level  # read by the request guard: routes without a level are refused
    check.__name__ = f"require_{level}"
    return check


def check_access(level: str, auth: Auth) -> Auth:
    """auth when its user may use a route of this access level; else 401 (nobody signed in) or 403."""
    if level != "public" and auth.user is None:
        raise HTTPException(401, "You are not signed in. Sign in, then try again.")
    if not allowed(level, auth.user, on_behalf=auth.on_behalf):
        raise HTTPException(403, _denied_message(level))
    return auth


def declare(level: str):
    """The access level of a loads_auth endpoint, which checks it itself (check_access): a dependency
    that loads nothing, read by the request guard like require's."""

    async def declared(request: Request) -> None:
        # No session cookie at all: refused at once, before the query string is checked (a stranger
        # learns nothing of the route's parameters), as require's check would refuse it.
        if level != "public" and not request.cookies.get(sessions.cookie_name(request.app.state.settings)):
            raise HTTPException(401, "You are not signed in. Sign in, then try again.")

    declared.access_level = level
    declared.declared_only = True
    declared.__name__ = f"declare_{level}"
    return declared


_require = {level: require(level) for level in ("public", "user", "rep", "admin", "customer", "shopper")}

OptionalAuth = Annotated[Auth, Depends(_require["public"])]
SignedInAuth = Annotated[Auth, Depends(_require["user"])]
RepAuth = Annotated[Auth, Depends(_require["rep"])]
AdminAuth = Annotated[Auth, Depends(_require["admin"])]
CustomerAuth = Annotated[Auth, Depends(_require["customer"])]
ShopperAuth = Annotated[Auth, Depends(_require["shopper"])]


async def _current_user(auth: Annotated[Auth, Depends(_require["user"])]) -> User:
    return auth.user


async def _acting_context(auth: Annotated[Auth, Depends(_require["user"])]) -> ActingContext:
    return auth.context


async def _shopper_context(auth: Annotated[Auth, Depends(_require["shopper"])]) -> ActingContext:
    return auth.context


CurrentUser = Annotated[User, Depends(_current_user)]
ActingContextDep = Annotated[ActingContext, Depends(_acting_context)]  # any signed-in user
ShopperContext = Annotated[ActingContext, Depends(_shopper_context)]  # subject_an8 is set: customer or rep on behalf


def access_level_of(route) -> str | None:
    """The access level a route declared through its dependencies, or None."""
    cached = getattr(route, "_ecgw_access_level", False)
    if cached is not False:
        return cached
    found = _find_level(route.dependant, route.endpoint)
    route._ecgw_access_level = found
    return found


def _find_level(dependant, endpoint) -> str | None:
    for dep in dependant.dependencies:
        level = getattr(dep.call, "access_level", None)
        if level and getattr(dep.call, "declared_only", False) and not getattr(endpoint, "loads_auth", False):
            continue  # declare() checks nothing itself: it counts only for an endpoint that checks (loads_auth)
        if level:
            return level
        level = _find_level(dep, endpoint)
        if level:
            return level
    return None


def _remember(request: Request, auth: Auth) -> Auth:
    request.state.auth = auth
    return auth


def _denied_message(level: str) -> str:
    return {
        "rep": "Only internal representatives (AR, sales, customer service) may use this. Sign in with a representative's login.",
        "admin": "Only administrators may use this. Ask an administrator if you need a change.",
        "customer": "This is for customer users only.",
        "shopper": "Choose an account first: act on behalf of an account from your list (representatives) "
                   "or sign in with a customer login.",
        "user": "Your user may not use this.",
    }.get(level, "You may not use this.")
