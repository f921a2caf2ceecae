"""The supervisor's figures as JSON under /api/v1/admin/supervisor: the same numbers as the view.

Admin only (403 for anyone else). Ending a session needs the `X-CSRF-Token` header.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from ecgateway.admin import supervisor as sv
from ecgateway.web.deps import AdminAuth, PortalSessionDep, SettingsDep
from ecgateway.web.params import AccountNumberPath, RowIdPath

router = APIRouter(prefix="/api/v1/admin/supervisor", tags=["supervisor"])

DateQuery = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (UTC), inclusive; default the "
                                                                      "last 14 days")]


class SessionsPerDay(BaseModel):
    day: dt.date
    rep: str
    sessions: int


class OrderFigureOut(BaseModel):
    channel: str = Field(description="'on behalf' (placed by a rep) or 'customer'")
    currency: str
    count: int
    amount: str = Field(description="Sum of the orders' totals, as a decimal string")


class RefusalOut(BaseModel):
    rep: str
    refused_starts: int
    refused_actions: int


class AccountFigureOut(BaseModel):
    account: int
    sessions: int
    reps: int


class FiguresOut(BaseModel):
    date_from: dt.date
    date_to: dt.date
    sessions_per_day: list[SessionsPerDay] = Field(description="On-behalf-of sessions started (obo.start and "
                                                               "obo.change), per UTC day and rep; zero days left out")
    orders: list[OrderFigureOut]
    refusals: list[RefusalOut]
    accounts: list[AccountFigureOut] = Field(description=f"The {sv.TOP_ACCOUNTS} accounts with most sessions")


class LiveSessionOut(BaseModel):
    id: int = Field(description="The session's row number (not its secret), for ending it")
    rep_id: int
    rep_login: str
    rep_name: str
    account: int
    since: dt.datetime
    last_seen: dt.datetime
    reason: str | None
    last_action: str | None
    last_action_at: dt.datetime | None


class AlertOut(BaseModel):
    rep_id: int
    rep_login: str
    refusals: int
    threshold: int
    first_at: dt.datetime
    last_at: dt.datetime
    entries: str = Field(description="The transaction log page with these entries")


class EndIn(BaseModel):
    reason: str = Field(min_length=1, max_length=sv.REASON_MAX, description="Shown to the rep on their next request")


class ServedActionOut(BaseModel):
    at: dt.datetime
    action: str
    outcome: str
    description: str


class ServedSessionOut(BaseModel):
    rep_login: str
    rep_name: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str | None
    reason: str | None
    actions: list[ServedActionOut]


class AccountRepOut(BaseModel):
    rep_login: str
    rep_name: str
    sessions: int
    first: dt.datetime
    last: dt.datetime


class AccountHistoryOut(BaseModel):
    account: int
    reps: list[AccountRepOut]
    sessions: list[ServedSessionOut]
    truncated: bool


@router.get("/figures", response_model=FiguresOut)
def figures(auth: AdminAuth, db: PortalSessionDep, date_from: DateQuery = None, date_to: DateQuery = None):
    """The period's figures: sessions per day per rep, orders on behalf against by customers, refusals, accounts."""
    return sv.figures(db, within=sv.period(date_from, date_to)).as_json()


@router.get("/sessions", response_model=list[LiveSessionOut])
def sessions(auth: AdminAuth, db: PortalSessionDep, settings: SettingsDep):
    """Every on-behalf-of session running now."""
    return [s.__dict__ for s in sv.live_sessions(db, settings=settings)]


@router.post("/sessions/{session_id}/end", response_model=LiveSessionOut)
def end(session_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, body: Annotated[EndIn, Body()]):
    """End a rep's on-behalf-of session; the rep reads the reason on their next request. Audited."""
    ended = sv.end_session(db, ctx=auth.context, session_id=session_id, reason=body.reason)
    db.commit()
    return ended.__dict__


@router.get("/alerts", response_model=list[AlertOut])
def alerts(auth: AdminAuth, db: PortalSessionDep, settings: SettingsDep):
    """Reps whose refused attempts in the last hour reached ECGW_SUPERVISOR_ALERT_REFUSALS."""
    found = sv.current_alerts(db, settings=settings)  # read only: the watcher raises and e-mails them
    return [{**a.__dict__, "entries": sv.alert_link(a)} for a in found]


@router.get("/accounts/{an8}", response_model=AccountHistoryOut)
def account(an8: AccountNumberPath, auth: AdminAuth, db: PortalSessionDep):
    """Which reps served the account, when, and what they did."""
    h = sv.account_history(db, account=an8)
    return {
        "account": h.account, "truncated": h.truncated,
        "reps": [{"rep_login": r[0], "rep_name": r[1], "sessions": r[2], "first": r[3], "last": r[4]} for r in h.reps],
        "sessions": [{**{k: getattr(s, k) for k in ("rep_login", "rep_name", "started_at", "ended_at", "end_reason",
                                                    "reason")},
                      "actions": [{"at": a[0], "action": a[1], "outcome": a[2], "description": a[3]}
                                  for a in s.actions]} for s in h.sessions],
    }
