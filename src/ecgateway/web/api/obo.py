"""JSON API: the acting context and on-behalf-of (/api/v1/obo).

State changes need the `X-CSRF-Token` header; starting and ending on-behalf-of rotate the
session id and the CSRF token (the new token is in the reply).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from ecgateway.obo import service as obo
from ecgateway.web.deps import (
    AccountsQueryDep,
    Auth,
    JdeDep,
    PortalSessionDep,
    RepAuth,
    SettingsDep,
    ShopperAuth,
    SignedInAuth,
)
from ecgateway.web.params import AccountNumber

CSRF_NOTE = " Needs the `X-CSRF-Token` header (from POST /api/v1/session or the last call that rotated the session)."
router = APIRouter(prefix="/api/v1", tags=["api v1"])


class UserOut(BaseModel):
    id: int
    login: str
    name: str
    email: str
    user_type: str
    account_an8: int | None


class TimeBoxOut(BaseModel):
    started_at: dt.datetime = Field(description="When this on-behalf-of session started (UTC)")
    ends_at: dt.datetime = Field(description="When it ends by itself (ECGW_OBO_MAX_MINUTES, never past the sign-in)")
    seconds_left: int
    extended: bool = Field(description="The one extension was used")
    may_extend: bool = Field(description="POST /api/v1/obo/extend would lengthen it")
    warn_seconds: int = Field(description="The banner warns this long before ends_at")
    extend_minutes: int


class OboState(BaseModel):
    acting: bool = Field(description="True while a rep acts on behalf of an account")
    account_an8: int | None = Field(description="The effective account: on behalf of, or the customer's own")
    billing_an8: int | None
    shipping_an8: int | None
    actor: UserOut
    reason: str | None = Field(None, description="The reason or ticket the rep gave for this session")
    time_box: TimeBoxOut | None = Field(None, description="The session's limit, while acting")
    reason_setting: str = Field("optional", description="ECGW_OBO_REASON: off, optional or required")
    notice: str | None = Field(None, description="Why a running on-behalf-of session ended, shown once")
    csrf_token: str = Field(description="The session's current CSRF token: it changes when the session id rotates")


class StartObo(BaseModel):
    an8: AccountNumber = Field(description="Account number from the rep's list")
    billing_an8: AccountNumber | None = Field(None, description="One of the account's billing addresses; default the first")
    reason: str | None = Field(None, max_length=1000, description="Reason or ticket number (at most 200 characters "
                               "once spaces are tidied); required when ECGW_OBO_REASON=required, ignored when off")


class ChooseAddresses(BaseModel):
    billing_an8: AccountNumber | None = None
    shipping_an8: AccountNumber | None = None


@router.get("/obo", response_model=OboState, summary="The acting context")
def api_obo(auth: SignedInAuth, settings: SettingsDep) -> OboState:
    return obo_state(auth, settings)


@router.post("/obo", response_model=OboState, summary="Act on behalf of an account",
             description="Starts or changes on-behalf-of. The session id and CSRF token rotate: use the new "
                         "csrf_token from the reply. A number outside the rep's list is 404, a user who is not a rep "
                         "gets 403, a missing reason where one is required 422; all are audited." + CSRF_NOTE)
def api_obo_start(request: Request, body: StartObo, auth: SignedInAuth, db: PortalSessionDep, jde: JdeDep,
                  wwa: AccountsQueryDep, settings: SettingsDep) -> OboState:
    request.state.session_cookie = obo.start(db, jde, wwa=wwa, user=auth.user, auth_session=auth.session,
                                             an8=body.an8, billing_an8=body.billing_an8, reason=body.reason,
                                             settings=settings)
    return obo_state(Auth(auth.user, auth.session, obo.acting_context(auth.user, auth.session)), settings)


@router.post("/obo/extend", response_model=OboState, summary="Extend the on-behalf-of session once",
             description="Adds ECGW_OBO_EXTEND_MINUTES to the running session's limit, once per session, never past "
                         "the rep's own sign-in (409 otherwise). Audited as obo.extend." + CSRF_NOTE)
def api_obo_extend(auth: RepAuth, db: PortalSessionDep, settings: SettingsDep) -> OboState:
    obo.extend(db, user=auth.user, auth_session=auth.session, settings=settings)
    return obo_state(auth, settings)


@router.post("/obo/addresses", response_model=OboState, summary="Choose billing and shipping addresses",
             description="billing_an8 from the effective account's billing addresses (resets shipping), then "
                         "shipping_an8 from that billing address's shipping addresses." + CSRF_NOTE)
def api_obo_addresses(body: ChooseAddresses, auth: ShopperAuth, db: PortalSessionDep, jde: JdeDep,
                      settings: SettingsDep) -> OboState:
    if body.billing_an8 is None and body.shipping_an8 is None:
        raise HTTPException(422, "Give billing_an8, shipping_an8, or both.")
    if body.billing_an8 is not None:
        obo.choose_billing(db, jde, user=auth.user, auth_session=auth.session, billing_an8=body.billing_an8)
    if body.shipping_an8 is not None:
        obo.choose_shipping(db, jde, user=auth.user, auth_session=auth.session, shipping_an8=body.shipping_an8)
    return obo_state(Auth(auth.user, auth.session, obo.acting_context(auth.user, auth.session)), settings)


@router.delete("/obo", response_model=OboState, summary="Stop acting on behalf",
               description="Ends on-behalf-of; the session id and CSRF token rotate." + CSRF_NOTE)
def api_obo_end(request: Request, auth: RepAuth, db: PortalSessionDep, settings: SettingsDep) -> OboState:
    token = obo.end(db, user=auth.user, auth_session=auth.session)
    if token is not None:
        request.state.session_cookie = token
    return obo_state(Auth(auth.user, auth.session, obo.acting_context(auth.user, auth.session)), settings)


def user_out(user) -> UserOut:
    return UserOut(id=user.id, login=user.login, name=user.name, email=user.email, user_type=user.user_type,
                   account_an8=user.account_an8)


def obo_state(auth: Auth, settings=None) -> OboState:
    ctx = auth.context
    box = obo.time_box(auth.session, settings) if settings is not None and ctx.on_behalf else None
    return OboState(acting=ctx.on_behalf, account_an8=ctx.subject_an8, billing_an8=ctx.billing_an8,
                    shipping_an8=ctx.shipping_an8, actor=user_out(auth.user), notice=auth.notice,
                    reason=auth.session.obo_reason if ctx.on_behalf else None,
                    time_box=TimeBoxOut(**vars(box)) if box else None,
                    reason_setting=settings.obo_reason if settings is not None else "optional",
                    csrf_token=auth.session.csrf_token)
