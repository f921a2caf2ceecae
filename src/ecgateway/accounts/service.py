"""Accounts a rep may serve: scopes, the listing, the count and the "may act" check.

Every read goes through a scope, and every scope is the base Work-with-Accounts query
plus (at most) one compiled restriction: the list, the check before acting on behalf,
the check on every later request and the admin preview all use the same statement.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.accounts.query import (
    AN8_MAX,
    LIST_COLUMNS,
    MAX_AN8_DIGITS,
    SORT_KEYS,
    Shape,
    WorkWithAccounts,
)
from ecgateway.accounts.restrictions import CompiledFilter, RestrictionError, render
from ecgateway.accounts.search import terms_of
from ecgateway.auth.roles import is_rep
from ecgateway.errors import GatewayError
from ecgateway.jde.conventions import BLANK
from ecgateway.portal.models import ImpersonateRestriction, User

if TYPE_CHECKING:
    from ecgateway.accounts.search import SearchIndex

ASSIGN_PAGE = "/admin/restrictions"  # the admin page where a rep's restriction is corrected
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The row count is written into the SQL (see Shape), so each distinct count is its own statement
# in the caches of the gateway and the database: a page fetches the smallest of these that holds
# the page size asked for, and a client cycling through sizes cannot fill those caches.
FETCH_SIZES = (10, 25, 50, 100, MAX_PAGE_SIZE)
_FETCH_FOR = [0] + [next(size for size in FETCH_SIZES if size >= n) for n in range(1, MAX_PAGE_SIZE + 1)]
_DIGITS = re.compile(rf"^\d{{1,{MAX_AN8_DIGITS}}}$")


class CursorError(GatewayError, ValueError):
    """A page cursor that cannot be used; the message says to start from the first page."""

    status = 422


@dataclass(frozen=True)
class AccountScope:
    """The accounts a caller may see: all, those a compiled restriction allows, or none."""

    kind: Literal["all", "filter", "none"]
    reason: str
    restriction: CompiledFilter | None = None
    invalid: bool = False  # "none" because the stored filter no longer compiles (see rep_scope)

    @property
    def filter_text(self) -> str | None:
        return self.restriction.text if self.restriction else None


class AccountRow(NamedTuple):
    """One account of a list page. A named tuple: built 50 times a page, it costs a fifth of a
    frozen dataclass (0.4 against 2 microseconds here), which the benchmark's ratio shows."""

    an8: int
    name: str
    city: str
    state: str
    postal_code: str
    country: str
    phone: str
    email: str


@dataclass(frozen=True)
class AccountPage:
    items: list[AccountRow]
    next_cursor: str | None
    sort: str
    q: str | None
    limit: int
    # Per item, why it matched q (accounts.search.MATCHES); None without a search index.
    matches: list[str] | None = None


# --- scopes -------------------------------------------------------------------------------

def rep_scope(portal: Session, *, rep: User, wwa: WorkWithAccounts) -> AccountScope:
    """The rep's scope, read fresh from EC_Impersonate_Restrictions (a change applies at once)."""
    if not rep.active:
        return AccountScope("none", f"{rep.login} is not active")
    if not is_rep(rep):
        return AccountScope("none", f"{rep.login} has user type {rep.user_type}; only internal reps act for accounts")
    text = portal.scalar(sa.select(ImpersonateRestriction.filter_text).where(ImpersonateRestriction.rep_id == rep.id))
    if text is None:
        if wwa.restriction_default == "deny":
            return AccountScope("none", f"{rep.login} has no restriction and ECGW_RESTRICTION_DEFAULT is deny")
        return AccountScope("all", f"{rep.login} has no restriction: all accounts")
    try:
        return AccountScope("filter", f"restriction of {rep.login}", wwa.compile(text))
    except RestrictionError as exc:  # stored before a policy change, or by another tool: fail closed, say why
        return AccountScope("none", f"the restriction of {rep.login} is no longer valid: {exc.message}. "
                                    f"An administrator can correct it on the admin page Assign Customers to "
                                    f"Representatives ({ASSIGN_PAGE}/{rep.id})", invalid=True)


def filter_scope(filter_text: str, *, wwa: WorkWithAccounts) -> AccountScope:
    """The scope of any filter text (admin preview); RestrictionError when it is refused."""
    return AccountScope("filter", "preview of a filter", wwa.compile(filter_text))


def all_scope(wwa: WorkWithAccounts) -> AccountScope:
    """Every account of the base query (admin screens; never a rep's scope)."""
    return AccountScope("all", "all accounts")


# --- reads --------------------------------------------------------------------------------

def list_accounts(
    jde: sa.Connection,
    *,
    wwa: WorkWithAccounts,
    scope: AccountScope,
    q: str | None = None,
    sort: str = "number",
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    index: SearchIndex | None = None,
    portal: sa.Connection | None = None,
) -> AccountPage:
    """One page of the scope's accounts, searched and sorted, continuing after cursor.

    With q and a built search index, the index proposes and this scope's query decides
    (accounts/search.py), in relevance order; without an index, q is matched in JDE. The index is read
    on portal when given (a connection to the portal database the caller holds)."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort {sort!r} is not one of {', '.join(SORT_KEYS)}")
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    q = (q or "").strip() or None
    if q is not None and index is not None and terms_of(q) is not None and index.ready():
        return index.search(jde, wwa=wwa, scope=scope, q=q, sort=sort, cursor=cursor, limit=limit, portal=portal)
    after = _decode_cursor(cursor, sort) if cursor else None
    if scope.kind == "none":
        return AccountPage([], None, sort, q, limit)
    search, params = _search(q)
    shape = _list_shape(search, sort, _FETCH_FOR[limit] + 1)  # more than limit: a page follows
    params.update(_scope_params(wwa, scope))
    # The first page starts after the lowest key: a blank (never '', which Oracle reads as NULL) and 0.
    sort_value, params["k_an8"] = after if after is not None else (BLANK, 0)
    if sort != "number":
        params["k_sort"] = sort_value
    elif after is not None and scope.restriction is not None:
        _skip_numbers_before(params, scope.restriction.number_in_params, params["k_an8"])
    rows = jde.execute(wwa.statement(scope.restriction, shape), params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        key = None if sort == "number" else last[LIST_COLUMNS.index(SORT_KEYS[sort][0])]
        next_cursor = _encode_cursor(sort, key, int(last[0]))
    return AccountPage(_rows(rows), next_cursor, sort, q, limit)


@functools.lru_cache(maxsize=256)
def _list_shape(search: str | None, sort: str, rows: int) -> Shape:
    """The Shape of a list page; one object per kind (building a frozen dataclass costs more
    than the rest of a page's bookkeeping)."""
    return Shape("list", search=search, sort=sort, rows=rows)


def _skip_numbers_before(params: dict[str, object], names: frozenset[str], key: int) -> None:
    """A page by number only holds accounts after key, so in ABAN8 IN (...) every value up to
    key can be any number up to key without changing which of those accounts match, wherever
    the IN sits in the filter (under OR or NOT too). They become 0 (no account has it): the
    database then probes one value instead of every value before the page, and a deep page
    costs what the first one does. The statement stays the same; only bound values change."""
    for name in names:
        value = params[name]
        if isinstance(value, int) and value <= key:
            params[name] = 0


def count_accounts(jde: sa.Connection, *, wwa: WorkWithAccounts, scope: AccountScope, q: str | None = None) -> int:
    """How many accounts the scope gives (with the search, when q is given)."""
    if scope.kind == "none":
        return 0
    search, params = _search((q or "").strip() or None)
    params.update(_scope_params(wwa, scope))
    return int(jde.execute(wwa.statement(scope.restriction, Shape("count", search=search)), params).scalar_one())


def get_account(jde: sa.Connection, *, wwa: WorkWithAccounts, scope: AccountScope, an8: int) -> AccountRow | None:
    """The account when the scope allows it, else None: base + restriction + ABAN8 = :an8."""
    if scope.kind == "none":
        return None
    try:
        an8 = int(an8)
    except (TypeError, ValueError):
        return None
    if not 0 < an8 <= AN8_MAX:
        return None
    params = _scope_params(wwa, scope)
    params["an8"] = an8
    row = jde.execute(wwa.statement(scope.restriction, Shape("one")), params).first()
    return _row(row) if row is not None else None


def may_act(jde: sa.Connection, *, wwa: WorkWithAccounts, scope: AccountScope, an8: int) -> bool:
    """May the holder of scope act for account an8? The same compiled query as the list."""
    return get_account(jde, wwa=wwa, scope=scope, an8=an8) is not None


def is_customer_account(jde: sa.Connection, *, wwa: WorkWithAccounts, an8: int) -> bool:
    """Is an8 an account of the base Work-with-Accounts query (any rep's restriction aside)?"""
    return may_act(jde, wwa=wwa, scope=all_scope(wwa), an8=an8)


def compiled_sql(wwa: WorkWithAccounts, scope: AccountScope) -> tuple[str, dict[str, object]]:
    """The first-page list query of a scope and its parameters, as the database gets them."""
    params = _scope_params(wwa, scope)
    params["k_an8"] = 0
    shape = Shape("list", rows=DEFAULT_PAGE_SIZE + 1)
    return render(wwa.compose(scope.restriction, shape), wwa.dialect), params


# --- helpers ------------------------------------------------------------------------------

def _scope_params(wwa: WorkWithAccounts, scope: AccountScope) -> dict[str, object]:
    params = wwa.base_params()
    if scope.restriction is not None:
        params.update(scope.restriction.params)
    return params


def _search(q: str | None) -> tuple[str | None, dict[str, object]]:
    """The search shape and its values: a number (exact or prefix), else name or city."""
    if q is None:
        return None, {}
    if _DIGITS.match(q):
        number = int(q)
        params: dict[str, object] = {"q_an8": number}
        for extra in range(1, MAX_AN8_DIGITS - len(q) + 1):
            scale = 10**extra
            params[f"q_lo{extra}"] = number * scale
            params[f"q_hi{extra}"] = number * scale + scale - 1
        return f"number:{len(q)}", params
    city = "".join(ch for ch in q.upper() if ch not in "%_")
    name = "".join(ch for ch in q.upper() if ch.isalnum())  # as JDE compresses names into ABDC
    params = {"q_city": f"%{city}%"}
    if not name:
        return "name-only", params
    params["q_name"] = f"%{name}%"
    return "text", params


def _row(row: sa.Row) -> AccountRow:
    """A result row (columns in LIST_COLUMNS order; names vary in case by database), trimmed."""
    return _rows((row,))[0]


_make_row = tuple.__new__  # AccountRow's own __new__ is a Python function; this skips one call a row


def _rows(rows) -> list[AccountRow]:
    """Result rows as AccountRows, JDE's padding trimmed. One comprehension, no call per row:
    it runs 50 times a page, and on sub-millisecond SQLite pages it was most of the gateway's
    own cost (bench/RESULTS-accounts.md)."""
    return [_make_row(AccountRow, (int(an8), name.strip(), city.strip(), state.strip(), postal_code.strip(),
                                   country.strip(), phone.strip() if phone else "", email.strip() if email else ""))
            for an8, name, city, state, postal_code, country, phone, email in rows]


_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"))  # json.dumps with separators builds one per call


def _encode_cursor(sort: str, key: str | None, an8: int) -> str:
    raw = _CURSOR_JSON.encode([1, sort, key, an8]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[str | None, int]:
    problem = "the page cursor is not valid"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, cursor_sort, key, an8 = json.loads(raw)
    except (ValueError, TypeError):
        raise CursorError(f"{problem}; start again from the first page (leave the cursor out)") from None
    if version != 1 or not isinstance(an8, int) or isinstance(an8, bool) or not 0 <= an8 <= AN8_MAX:
        raise CursorError(f"{problem}; start again from the first page (leave the cursor out)")
    if cursor_sort != sort:
        raise CursorError(f"the page cursor belongs to sort {cursor_sort!r}, not {sort!r}; "
                          "start again from the first page of this sort")
    if sort == "number" and key is not None or sort != "number" and (not isinstance(key, str) or len(key) > 64):
        raise CursorError(f"{problem}; start again from the first page (leave the cursor out)")
    return key, an8
