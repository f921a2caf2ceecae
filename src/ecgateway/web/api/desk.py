"""JSON API of the rep's desk: the header switcher's search (/api/v1/desk/search), and the idle
warning's "Stay signed in" (/api/v1/session/idle).

One request per keystroke answers everything the switcher shows, so one sequence rule
(static/js/account_search.js) decides which answer is on screen.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ecgateway.accounts import list_accounts, rep_scope
from ecgateway.clock import utcnow
from ecgateway.obo import desk
from ecgateway.web.api.accounts import AccountOut
from ecgateway.web.deps import (
    AccountsQueryDep,
    JdeDep,
    PortalSessionDep,
    RepAuth,
    SearchIndexDep,
    SettingsDep,
    SignedInAuth,
)
from ecgateway.web.idle import seconds_left

router = APIRouter(prefix="/api/v1", tags=["api v1"])

SWITCHER_ROWS = 8


class OrderMatchOut(BaseModel):
    account: AccountOut
    order_id: int
    customer_po: str
    erp_reference: str | None
    matched: str


class DeskSearch(BaseModel):
    q: str
    accounts: list[AccountOut]
    more: bool
    orders: list[OrderMatchOut]
    recent: list[AccountOut]


@router.get("/desk/search", response_model=DeskSearch, summary="The header switcher's search",
            description="q empty: the rep's recent accounts (still allowed). Otherwise the rep's accounts matching q "
                        "(as /api/v1/accounts) and accounts whose portal orders have q as customer PO (from the "
                        "start, any case) or order number. Every account passed the rep's restriction.")
def desk_search(auth: RepAuth, db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep, index: SearchIndexDep,
                q: Annotated[str, Query(max_length=100)] = "") -> DeskSearch:
    q = q.strip()
    if not q:
        recent = desk.recent_accounts(db, jde, wwa=wwa, user=auth.user)
        return DeskSearch(q="", accounts=[], more=False, orders=[], recent=[AccountOut(**a._asdict()) for a in recent])
    page = list_accounts(jde.conn, wwa=wwa, scope=rep_scope(db, rep=auth.user, wwa=wwa), q=q, limit=SWITCHER_ROWS,
                         index=index)
    orders = desk.accounts_by_order(db, jde, wwa=wwa, user=auth.user, q=q)
    return DeskSearch(
        q=q, accounts=[AccountOut(**a._asdict(), match=m) for a, m in zip(page.items, page.matches or [None] * len(
            page.items), strict=True)], more=page.next_cursor is not None,
        orders=[OrderMatchOut(account=AccountOut(**m.account._asdict()), order_id=m.order_id, customer_po=m.customer_po,
                              erp_reference=m.erp_reference, matched=m.matched) for m in orders],
        recent=[])


class IdleOut(BaseModel):
    seconds_left: int
    idle_minutes: int


@router.get("/session/idle", response_model=IdleOut, summary="Stay signed in",
            description="Counts as activity (as every request does) and says how many seconds of idle time are left: "
                        "the idle warning's 'Stay signed in'.")
def session_idle(auth: SignedInAuth, db: PortalSessionDep, settings: SettingsDep) -> IdleOut:
    auth.session.last_seen_at = utcnow()  # the person asked to stay: a full idle period from now
    db.commit()
    return IdleOut(seconds_left=seconds_left(auth.session, settings), idle_minutes=settings.session_idle_minutes)
