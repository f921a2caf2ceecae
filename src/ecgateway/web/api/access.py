"""JSON API: the customer's access history and their account's receipts setting (/api/v1/account)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ecgateway.obo import history, receipts
from ecgateway.web.api.obo import CSRF_NOTE
from ecgateway.web.deps import CustomerAuth, PortalSessionDep
from ecgateway.web.params import ROW_ID_MAX

router = APIRouter(prefix="/api/v1", tags=["api v1"])


class DoneOut(BaseModel):
    at: dt.datetime
    action: str = Field(description="The audit action, e.g. order.place, cart.empty, contact.register")
    text: str


class VisitOut(BaseModel):
    start_seq: int = Field(description="The audit entry that opened the session")
    rep_name: str
    rep_role: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = Field(description="None while the session is still running")
    end_reason: str | None
    reason: str | None = Field(description="The reason or ticket the representative gave, if any")
    extended: bool
    done: list[DoneOut]


class HistoryOut(BaseModel):
    account_an8: int
    visits: list[VisitOut]
    next_before: int | None = Field(description="Pass as ?before= for older sessions; null: none older")


class AccountSettings(BaseModel):
    obo_receipts: bool = Field(description="E-mail the account's customer users a receipt when a representative's "
                                           "session that changed something ends")


@router.get("/account/access-history", response_model=HistoryOut, summary="Who acted for my account",
            description="The sessions in which a representative acted on behalf of the signed-in customer's own "
                        "account, newest first, from the audit log. Customers only; no other account is reachable.")
def api_access_history(auth: CustomerAuth, db: PortalSessionDep,
                       before: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
                       limit: Annotated[int, Query(ge=1, le=history.MAX_PAGE)] = 20) -> HistoryOut:
    an8 = auth.user.account_an8
    page = history.access_history(db, an8=an8, before=before, limit=limit)
    return HistoryOut(account_an8=an8, next_before=page.next_before, visits=[
        VisitOut(start_seq=v.start_seq, rep_name=v.rep_name, rep_role=v.rep_role, started_at=v.started_at,
                 ended_at=v.ended_at, end_reason=v.end_reason, reason=v.reason, extended=v.extended,
                 done=[DoneOut(at=d.at, action=d.action, text=d.text) for d in v.done])
        for v in page.visits])


@router.get("/account/settings", response_model=AccountSettings, summary="My account's settings")
def api_account_settings(auth: CustomerAuth, db: PortalSessionDep) -> AccountSettings:
    return AccountSettings(obo_receipts=receipts.receipts_on(db, an8=auth.user.account_an8))


@router.put("/account/settings", response_model=AccountSettings, summary="Change my account's settings",
            description="Customers only, for their own account (a representative acting on behalf gets 403). "
                        "Audited as account.receipts." + CSRF_NOTE)
def api_account_settings_put(body: AccountSettings, auth: CustomerAuth, db: PortalSessionDep) -> AccountSettings:
    return AccountSettings(obo_receipts=receipts.set_receipts(db, ctx=auth.context, on=body.obo_receipts))
