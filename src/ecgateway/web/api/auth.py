"""JSON API: sign in, who is signed in, sign out (/api/v1/session).

Errors are JSON: {"status": 401, "message": "..."}; repeated failures are throttled (429 with Retry-After).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ecgateway.auth import service as auth_service
from ecgateway.commerce import carts
from ecgateway.obo import service as obo
from ecgateway.web.api.obo import CSRF_NOTE, OboState, UserOut, obo_state
from ecgateway.web.deps import (
    Auth,
    JdeDep,
    OptionalAuth,
    PortalSessionDep,
    SettingsDep,
    SignedInAuth,
)
from ecgateway.web.pages.auth import client_ip
from ecgateway.web.security import csrf_exempt

router = APIRouter(prefix="/api/v1", tags=["api v1"])


class Credentials(BaseModel):
    login: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str
    obo: OboState


class SignedOut(BaseModel):
    signed_out: bool


@router.post("/session", response_model=SessionOut, summary="Sign in",
             description="Checks login and password, sets the session cookie (HttpOnly), returns the user and "
                         "the CSRF token. Repeated failures are throttled (429 with Retry-After).")
@csrf_exempt  # no session yet: the Origin check still applies
def api_sign_in(request: Request, body: Credentials, auth: OptionalAuth, db: PortalSessionDep, jde: JdeDep,
                settings: SettingsDep) -> SessionOut:
    signed = auth_service.sign_in(db, login=body.login, password=body.password, ip=client_ip(request),
                                  previous=auth.session, settings=settings)
    obo.prepare_session(db, jde, user=signed.user, auth_session=signed.session)
    carts.show_notices_at_sign_in(db, user_id=signed.user.id, auth_session=signed.session)
    request.state.session_cookie = signed.token
    state = obo_state(Auth(signed.user, signed.session, obo.acting_context(signed.user, signed.session)))
    return SessionOut(user=state.actor, csrf_token=signed.session.csrf_token, obo=state)


@router.get("/session", response_model=SessionOut, summary="Who is signed in")
def api_session(auth: SignedInAuth) -> SessionOut:
    state = obo_state(auth)
    return SessionOut(user=state.actor, csrf_token=auth.csrf_token, obo=state)


@router.delete("/session", response_model=SignedOut, summary="Sign out",
               description="Ends the session and any on-behalf-of session with it." + CSRF_NOTE)
def api_sign_out(request: Request, auth: SignedInAuth, db: PortalSessionDep) -> SignedOut:
    auth_service.sign_out(db, user=auth.user, auth_session=auth.session)
    request.state.session_cookie = ""
    return SignedOut(signed_out=True)
