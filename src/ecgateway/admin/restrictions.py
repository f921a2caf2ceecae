"""Admin: "Assign Customers to Representatives". Every rep's filter, its count, preview, history.

Everything about which accounts a filter gives goes through the accounts API (the one
compiled query): filter_scope for text being edited, rep_scope for what a rep has now,
count_accounts / list_accounts to count and show them, set_restriction to save.
This module adds the history of every change, revert, and the point-and-click filter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlglot
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from sqlglot import exp

from ecgateway.accounts import (
    AccountRow,
    AccountScope,
    NotARepError,
    RestrictionError,
    all_scope,
    clear_restriction,
    count_accounts,
    filter_scope,
    get_restriction,
    last_change,
    list_accounts,
    rep_scope,
    set_restriction,
    validate_filter,
)
from ecgateway.admin.users import AdminError, NotFound, same_person
from ecgateway.audit import record
from ecgateway.auth.roles import is_rep
from ecgateway.config import INTERNAL_TYPES
from ecgateway.db import in_values
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import ImpersonateRestriction, RestrictionChange, User

PREVIEW_ROWS = 10
HISTORY_ROWS = 200
AN8_COLUMN = "ABAN8"
_POSITION = re.compile(r"\s*\(line \d+, col \d+\)")


@dataclass(frozen=True)
class FilterCheck:
    """The outcome of checking filter text: ok, or the refusal with its position."""

    ok: bool
    message: str = ""
    line: int | None = None
    col: int | None = None
    fragment: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "message": self.message, "line": self.line, "col": self.col,
                "fragment": self.fragment}


@dataclass(frozen=True)
class Preview:
    """What a filter would give a rep: how many accounts and the first of them."""

    check: FilterCheck
    count: int | None
    accounts: list[AccountRow]
    kind: str  # "all", "filter", "none" (AccountScope.kind); "" when the text is refused
    reason: str


@dataclass(frozen=True)
class RepRestriction:
    """One row of the Assign page: a rep, their filter and what it gives now."""

    rep: User
    filter_text: str | None
    changed_by: str | None
    changed_at: dt.datetime | None
    kind: str
    reason: str
    count: int | None
    invalid: bool = False  # the stored filter no longer compiles: the rep sees nothing until it is corrected


def list_reps(portal: Session, jde: Connection | None, *, wwa, q: str | None = None) -> list[RepRestriction]:
    """Every user of the three internal types with their filter and, when jde is given, its count."""
    stmt = (
        select(User, ImpersonateRestriction)
        .outerjoin(ImpersonateRestriction, ImpersonateRestriction.rep_id == User.id)
        .where(in_values(User.user_type, INTERNAL_TYPES))
        .order_by(User.active.desc(), User.login)
    )
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(User.login.ilike(like) | User.name.ilike(like) | ImpersonateRestriction.filter_text.ilike(like))
    rows = []
    counted: dict[tuple[str, str | None], int] = {}  # reps with the same filter share one count
    for user, restriction in portal.execute(stmt).all():
        scope = rep_scope(portal, rep=user, wwa=wwa)
        if scope.kind == "none":
            count: int | None = 0
        elif jde is None:
            count = None
        else:
            key = (scope.kind, scope.filter_text)
            if key not in counted:
                counted[key] = count_accounts(jde, wwa=wwa, scope=scope)
            count = counted[key]
        rows.append(RepRestriction(
            rep=user, filter_text=restriction.filter_text if restriction else None,
            changed_by=restriction.changed_by if restriction else None,
            changed_at=restriction.changed_at if restriction else None,
            kind=scope.kind, reason=scope.reason, count=count, invalid=scope.invalid,
        ))
    return rows


def get_rep(portal: Session, *, rep_id: int) -> User:
    """A user who may act on behalf (the three internal types), else NotFound / AdminError."""
    user = portal.get(User, rep_id)
    if user is None:
        raise NotFound(f"there is no user with id {rep_id}; pick a rep from the Assign Customers list")
    if not is_rep(user):
        raise AdminError(f"user {user.login} is {user.user_type}: only {', '.join(INTERNAL_TYPES)} users act on "
                         "behalf of accounts and have a restriction", field="rep", status=409)
    return user


def get_restriction_text(portal: Session, *, rep: User) -> str | None:
    """The rep's saved filter text, or None when they have no row."""
    row = get_restriction(portal, rep=rep)
    return row.filter_text if row is not None else None


def check_filter(text: str) -> FilterCheck:
    """Validate filter text as the compiler would; empty text means "no restriction" and is ok."""
    if not text.strip():
        return FilterCheck(ok=True)
    try:
        validate_filter(text)
    except RestrictionError as exc:
        message = _POSITION.sub("", exc.message)  # the position is given apart, as line and col
        return FilterCheck(ok=False, message=message, line=exc.line, col=exc.col, fragment=exc.fragment)
    return FilterCheck(ok=True)


def preview(jde: Connection, *, wwa, filter_text: str, limit: int = PREVIEW_ROWS,
            q: str | None = None) -> Preview:
    """How many accounts filter_text gives and the first `limit` of them, as the rep's list would show."""
    check = check_filter(filter_text)
    if not check.ok:
        return Preview(check=check, count=None, accounts=[], kind="", reason=check.message)
    scope = _scope_for_text(filter_text, wwa=wwa)
    if scope is None:
        return Preview(check=check, count=0, accounts=[], kind="none",
                       reason="no restriction, and reps without one see no accounts (restriction_default = deny)")
    count = count_accounts(jde, wwa=wwa, scope=scope, q=q)
    page = list_accounts(jde, wwa=wwa, scope=scope, q=q, limit=max(1, limit))
    return Preview(check=check, count=count, accounts=page.items, kind=scope.kind, reason=scope.reason)


def rep_preview(portal: Session, jde: Connection, *, wwa, rep: User, limit: int = PREVIEW_ROWS) -> Preview:
    """What the rep sees now, through rep_scope (the scope every one of their requests uses)."""
    scope = rep_scope(portal, rep=rep, wwa=wwa)
    if scope.kind == "none":
        check = check_filter(get_restriction_text(portal, rep=rep) or "") if scope.invalid else FilterCheck(ok=True)
        return Preview(check=check, count=0, accounts=[], kind="none", reason=scope.reason)
    count = count_accounts(jde, wwa=wwa, scope=scope)
    page = list_accounts(jde, wwa=wwa, scope=scope, limit=max(1, limit))
    return Preview(check=FilterCheck(ok=True), count=count, accounts=page.items, kind=scope.kind,
                   reason=scope.reason)


def save_restriction(portal: Session, *, ctx: ActingContext, rep: User, filter_text: str,
                     source: str = "editor") -> RestrictionChange | None:
    """Save rep's filter (empty text removes the row); records history and an audit entry.

    Returns the history row, or None when the text is the same as now (nothing saved).
    Raises AdminError with the position when the text is refused; the caller commits.
    """
    refuse_own_restriction(portal, ctx=ctx, rep=rep)
    text = filter_text.strip()
    current = get_restriction(portal, rep=rep)
    old = current.filter_text if current is not None else None
    new = text or None
    if old == new:
        return None
    try:
        if new is None:
            clear_restriction(portal, rep=rep, changed_by=ctx.actor.login, source=source)
        else:
            set_restriction(portal, rep=rep, filter_text=new, changed_by=ctx.actor.login, source=source)
    except RestrictionError as exc:
        raise AdminError(f"the filter for {rep.login} was not saved: {exc}. Correct it at that position and "
                         "save again", field="filter_text", status=422) from None
    except NotARepError as exc:
        raise AdminError(f"{exc}; change the user type first", field="rep", status=409) from None
    change = last_change(portal, rep=rep)
    record(portal, actor=ctx.actor, subject_an8=None,
           action="admin.restriction_set" if new is not None else "admin.restriction_clear",
           object=f"restriction of {rep.login}", outcome="ok",
           detail={"rep_id": rep.id, "old": old, "new": new, "change_id": change.id, "source": change.source})
    return change


def own_restriction_reason(portal: Session, *, ctx: ActingContext, rep: User) -> str | None:
    """Why the acting admin may not change rep's restriction (rep is the same person), or None."""
    admin = portal.get(User, ctx.actor.user_id) if ctx.actor.user_id is not None else None
    if admin is None or not same_person(user=admin, other=rep):
        return None
    return (f"{rep.login} is you (the same login, e-mail or name as {admin.login}): nobody may change their own "
            "restriction, as they could widen their own list. Ask another administrator")


def refuse_own_restriction(portal: Session, *, ctx: ActingContext, rep: User) -> None:
    reason = own_restriction_reason(portal, ctx=ctx, rep=rep)
    if reason is not None:
        raise AdminError(f"not saved: {reason}", field="rep", status=403)


def history(portal: Session, *, rep_id: int | None = None, limit: int = HISTORY_ROWS) -> list[RestrictionChange]:
    """Changes, newest first, for one rep or for all."""
    stmt = select(RestrictionChange)
    if rep_id is not None:
        stmt = stmt.where(RestrictionChange.rep_id == rep_id)
    stmt = stmt.order_by(RestrictionChange.id.desc()).limit(max(1, min(limit, 1000)))
    return list(portal.scalars(stmt))


def revert(portal: Session, *, ctx: ActingContext, change_id: int) -> RestrictionChange:
    """Put back the filter a change replaced (a new change, recorded like any other)."""
    change = portal.get(RestrictionChange, change_id)
    if change is None:
        raise NotFound(f"there is no restriction change {change_id}; pick one from the history list")
    rep = get_rep(portal, rep_id=change.rep_id)
    result = save_restriction(portal, ctx=ctx, rep=rep, filter_text=change.old_filter or "",
                              source=f"revert of change {change.id}")
    if result is None:
        raise AdminError(f"the filter of {rep.login} already is what change {change.id} replaced; nothing changed",
                         status=409)
    return result


def search_accounts(jde: Connection, *, wwa, q: str | None, limit: int = 50, index=None) -> list[AccountRow]:
    """Accounts for the point-and-click mode: every account of the base query, no rep filter.
    With the search index (built), found as the reps' picker finds them: relevance order, accents
    and case ignored, without reading every account."""
    return list_accounts(jde, wwa=wwa, scope=all_scope(wwa), q=q, limit=limit, index=index).items


def an8_filter(current: str, an8s: list[int], *, mode: str = "add") -> str:
    """The filter text after ticking accounts: `ABAN8 IN (...)`, merged into or ORed onto current.

    mode "replace" writes a list of just these accounts; "add" keeps what current allows and
    adds them: merged into current when it is itself one ABAN8 IN list, else `(current) OR ...`.
    """
    if mode not in ("add", "replace"):
        raise AdminError(f"mode {mode!r} is not one of add, replace", field="mode")
    picked = _unique(an8s)
    if not picked:
        raise AdminError("tick at least one account to add to the filter", field="an8")
    if mode == "replace" or not current.strip():
        return _in_list(picked)
    existing = _an8_list(current)
    if existing is not None:
        return _in_list(_unique(existing + picked))
    return f"({current.strip()}) OR {_in_list(picked)}"


# -- helpers -------------------------------------------------------------------------------

def _scope_for_text(text: str, *, wwa) -> AccountScope | None:
    """The scope a rep would get with this text saved; None when that is "no accounts"."""
    if text.strip():
        return filter_scope(text, wwa=wwa)
    return all_scope(wwa) if wwa.restriction_default == "allow" else None


def _in_list(an8s: list[int]) -> str:
    return f"{AN8_COLUMN} IN (" + ", ".join(f"'{n}'" for n in an8s) + ")"


def _unique(an8s: list[int]) -> list[int]:
    seen: dict[int, None] = {}
    for n in an8s:
        seen.setdefault(int(n), None)
    return list(seen)


def _an8_list(text: str) -> list[int] | None:
    """The numbers of a filter that is exactly `ABAN8 IN (...)` of whole numbers; else None."""
    try:
        validate_filter(text)  # only a filter the compiler accepts (bounded numbers, Oracle syntax) is merged into
        tree = sqlglot.parse_one(text, read="oracle")
    except (RestrictionError, sqlglot.errors.SqlglotError):
        return None
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if not isinstance(tree, exp.In) or tree.args.get("query") or not isinstance(tree.this, exp.Column):
        return None
    if tree.this.table or tree.this.name.upper() != AN8_COLUMN:
        return None
    numbers = []
    for value in tree.expressions:
        if not isinstance(value, exp.Literal) or not value.this.strip().isdigit():
            return None
        numbers.append(int(value.this.strip()))
    return numbers
