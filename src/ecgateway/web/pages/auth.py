"""Sign-in and sign-out pages; where each user lands after sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ecgateway.auth import service as auth_service
from ecgateway.auth.roles import CUSTOMER, may_act_on_behalf
from ecgateway.commerce import carts
from ecgateway.obo import desk
from ecgateway.obo import service as obo
from ecgateway.portal.models import User
from ecgateway.web.deps import (
    AccountsQueryDep,
    JdeDep,
    OptionalAuth,
    PortalSessionDep,
    SettingsDep,
    SignedInAuth,
)
from ecgateway.web.security import csrf_exempt

router = APIRouter(include_in_schema=False)


def home_of(user: User) -> str:
    """Where a user lands after sign-in: reps on the account picker."""
    if may_act_on_behalf(user):
        return "/accounts"
    if user.user_type == CUSTOMER:
        return "/account"
    if user.is_admin:
        return "/admin"
    return "/"


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (never //host or a scheme), so sign-in cannot redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, auth: OptionalAuth, next: str | None = None, resume: str | None = None):
    """resume=1: reached from the idle warning after a timeout; signing in acts again for the account
    the rep had, if still allowed (the server decides which account, never the link)."""
    if auth.user is not None:
        return RedirectResponse(safe_next(next) or home_of(auth.user), status_code=303)
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": safe_next(next) or "", "login": "", "error": None, "resume": resume == "1"})


@router.post("/login", response_class=HTMLResponse)
@csrf_exempt  # no session yet: the Origin check still applies
def login_submit(request: Request, auth: OptionalAuth, db: PortalSessionDep, settings: SettingsDep, jde: JdeDep,
                 wwa: AccountsQueryDep, login: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=1024)] = "",
                 next: Annotated[str, Form(max_length=2000)] = "", resume: Annotated[str, Form(max_length=8)] = ""):
    try:
        signed = auth_service.sign_in(db, login=login, password=password, ip=client_ip(request), previous=auth.session, settings=settings)
    except auth_service.SignInError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": safe_next(next) or "", "login": login, "error": exc.message,
                                    "resume": resume == "1"},
            status_code=exc.status, headers=headers)
    obo.prepare_session(db, jde, user=signed.user, auth_session=signed.session)
    carts.show_notices_at_sign_in(db, user_id=signed.user.id, auth_session=signed.session)
    request.state.session_cookie = signed.token
    if resume == "1" and may_act_on_behalf(signed.user):
        resumed = desk.resume_after_timeout(db, jde, wwa=wwa, user=signed.user, auth_session=signed.session,
                                            settings=settings)
        if resumed is not None:
            request.state.session_cookie = resumed[1]
            signed.session.notice = (f"You are acting on behalf of account {resumed[0]} again, as before your "
                                     "session ended.")
            db.commit()
    return RedirectResponse(safe_next(next) or home_of(signed.user), status_code=303)


@router.post("/logout")
def logout(request: Request, auth: SignedInAuth, db: PortalSessionDep):
    auth_service.sign_out(db, user=auth.user, auth_session=auth.session)
    request.state.session_cookie = ""
    return RedirectResponse("/login", status_code=303)
