"""The rep's desk: recent accounts, accounts found by an order (customer PO or order number),
and the acting context brought back after an idle timeout.

Every account returned here has passed the rep's compiled restriction (accounts.get_account with
rep_scope): the audit log and the portal's orders only name candidates, never grant anything.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.accounts import AccountRow, WorkWithAccounts, get_account, rep_scope
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import AuthSession
from ecgateway.clock import as_utc, utcnow
from ecgateway.commerce.models import Order
from ecgateway.config import Settings
from ecgateway.db import in_values
from ecgateway.jde.handle import Jde
from ecgateway.obo import service as obo
from ecgateway.portal.models import User

RECENT = 8  # accounts offered by the header switcher before anything is typed
ORDER_MATCHES = 8
# At most this many matching orders are read for one switcher search (newest first, 32 at a time),
# and at most ORDER_ACCOUNTS distinct accounts of theirs are checked against the rep's restriction.
ORDER_SCAN = 2000
ORDER_ACCOUNTS = 64
# How far back the audit log is read for recent accounts: the rep's last starts and changes.
RECENT_ENTRIES = 200
# After an idle timeout, signing in again within this many minutes restores the acting context.
RESUME_WITHIN_MINUTES = 120
# The reasons an on-behalf-of session ends that a new sign-in may undo (auth.sessions' words).
TIMEOUT_REASONS = ("idle timeout", "session expired")


@dataclass(frozen=True)
class OrderMatch:
    """An account found through one of its portal orders."""

    account: AccountRow
    order_id: int
    customer_po: str
    erp_reference: str | None
    matched: str  # "customer PO" or "order number"


def recent_accounts(db: Session, jde: Jde, *, wwa: WorkWithAccounts, user: User, limit: int = RECENT) -> list[AccountRow]:
    """The accounts the rep last acted for, newest first, that their restriction still allows."""
    rows = db.execute(
        sa.select(AuditEntry.subject_an8)
        .where(AuditEntry.actor_user_id == user.id, in_values(AuditEntry.action, ("obo.start", "obo.change")),
               AuditEntry.outcome == "ok", AuditEntry.subject_an8.is_not(None))
        .order_by(AuditEntry.seq.desc()).limit(RECENT_ENTRIES)).scalars()
    seen: list[int] = []
    for an8 in rows:
        if an8 not in seen:
            seen.append(an8)
        if len(seen) >= limit:
            break
    scope = rep_scope(db, rep=user, wwa=wwa)
    found = (get_account(jde.conn, wwa=wwa, scope=scope, an8=an8) for an8 in seen)
    return [a for a in found if a is not None]


def accounts_by_order(db: Session, jde: Jde, *, wwa: WorkWithAccounts, user: User, q: str,
                      limit: int = ORDER_MATCHES) -> list[OrderMatch]:
    """Accounts whose portal orders carry q as customer PO (case-insensitive, from the start) or as
    order number (the portal's, or JDE's reference); only those the rep's restriction allows."""
    q = (q or "").strip()
    if not q or len(q) > 25:
        return []
    wanted = [sa.func.upper(Order.customer_po).like(_prefix(q.upper()), escape="\\")]
    if q.isascii() and q.isdigit() and len(q) <= 9:
        wanted.append(Order.id == int(q))
    wanted.append(Order.erp_reference == q)
    scope = rep_scope(db, rep=user, wwa=wwa)
    if scope.kind == "none":
        return []
    allowed: dict[int, AccountRow | None] = {}
    matches: list[OrderMatch] = []
    before: int | None = None
    # Newest first, a batch at a time: the newest matches may all be of accounts the rep does not serve
    # (a common PO prefix), so read on until the list is full, up to ORDER_SCAN orders.
    for _batch in range(ORDER_SCAN // (limit * 4) + 1):
        stmt = (sa.select(Order.id, Order.account_an8, Order.customer_po, Order.erp_reference)
                .where(sa.or_(*wanted), *([Order.id < before] if before is not None else []))
                .order_by(Order.id.desc()).limit(limit * 4))
        orders = db.execute(stmt).all()
        for o in orders:
            if o.account_an8 not in allowed:
                if len(allowed) >= ORDER_ACCOUNTS:  # one JDE query per account: keep a keystroke's cost bounded
                    return matches
                allowed[o.account_an8] = get_account(jde.conn, wwa=wwa, scope=scope, an8=o.account_an8)
            account = allowed[o.account_an8]
            if account is None:
                continue
            by_number = str(o.id) == q or (o.erp_reference or "") == q
            matches.append(OrderMatch(account, o.id, o.customer_po, o.erp_reference,
                                      "order number" if by_number else "customer PO"))
            if len(matches) >= limit:
                return matches
        if len(orders) < limit * 4:
            break
        before = orders[-1].id
    return matches


def resume_after_timeout(db: Session, jde: Jde, *, wwa: WorkWithAccounts, user: User,
                         auth_session: AuthSession, settings: Settings | None = None) -> tuple[int, str] | None:
    """Right after a sign-in asked to resume: when the rep's last on-behalf-of session ended by a
    timeout a short while ago, act for that account again, with the billing and shipping addresses
    it had, if the restriction still allows it (obo.start checks and audits). Returns the account and
    the session's new id."""
    entries = db.execute(
        sa.select(AuditEntry)
        .where(AuditEntry.actor_user_id == user.id, AuditEntry.action.like("obo.%"))
        .order_by(AuditEntry.seq.desc()).limit(50)).scalars().all()
    if not entries or entries[0].action != "obo.end" or entries[0].outcome != "ok":
        return None
    end = entries[0]
    end_detail = json.loads(end.detail or "{}")
    if end_detail.get("reason") not in TIMEOUT_REASONS:
        return None
    reason = end_detail.get("obo_reason")  # the rep's own reason for that session (ECGW_OBO_REASON), kept
    if utcnow() - as_utc(end.at) > dt.timedelta(minutes=RESUME_WITHIN_MINUTES):
        return None
    an8 = end.subject_an8
    billing = shipping = None
    for e in entries[1:]:  # newest first, back to the start of that session's account
        if e.subject_an8 != an8:
            break
        detail = json.loads(e.detail or "{}")
        if e.action == "obo.shipping" and shipping is None and billing is None:
            shipping = _number(e.object)
        elif e.action == "obo.billing" and billing is None:
            billing = _number(e.object)
        elif e.action in ("obo.start", "obo.change"):
            if billing is None:
                billing = detail.get("billing_an8")
            break
        elif e.action == "obo.end":
            break
    try:
        return _restart(db, jde, wwa=wwa, user=user, auth_session=auth_session, an8=an8, billing=billing,
                        shipping=shipping, reason=reason)
    except obo.OboRefused:
        return None


def _restart(db, jde, *, wwa, user, auth_session, an8, billing, shipping, reason=None) -> tuple[int, str]:
    # The session's reason (obo.end's obo_reason) goes on with it, so a required reason is met again.
    try:
        token = obo.start(db, jde, wwa=wwa, user=user, auth_session=auth_session, an8=an8, billing_an8=billing,
                          reason=reason)
    except obo.OboRefused:
        if billing is None:
            raise
        token = obo.start(db, jde, wwa=wwa, user=user, auth_session=auth_session, an8=an8,
                          reason=reason)  # the billing went away
    if shipping is not None:
        try:
            obo.choose_shipping(db, jde, user=user, auth_session=auth_session, shipping_an8=shipping)
        except obo.OboRefused:
            pass  # no longer one of the billing address's: the rep chooses again
    return an8, token


def _number(text: str) -> int | None:
    last = (text or "").rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else None


def _prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
