"""The on-behalf-of forms: start (or change), choose billing and shipping addresses, extend, end."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from ecgateway.obo import service as obo
from ecgateway.web.deps import (
    AccountsQueryDep,
    JdeDep,
    PortalSessionDep,
    RepAuth,
    SettingsDep,
    ShopperAuth,
    SignedInAuth,
)
from ecgateway.web.params import AccountNumberForm, OptionalAccountNumberForm

router = APIRouter(include_in_schema=False)


@router.post("/obo")
def obo_start(request: Request, auth: SignedInAuth, db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep,
              settings: SettingsDep, an8: AccountNumberForm, billing_an8: OptionalAccountNumberForm = None,
              reason: Annotated[str, Form(max_length=1000)] = ""):
    """Start, or change to, acting on behalf of an account from the rep's list (with the rep's reason).

    Open to every signed-in user so that the service refuses and audits anyone else who tries.
    """
    request.state.session_cookie = obo.start(db, jde, wwa=wwa, user=auth.user, auth_session=auth.session,
                                             an8=an8, billing_an8=billing_an8, reason=reason, settings=settings)
    return RedirectResponse("/account", status_code=303)


@router.post("/obo/extend")
def obo_extend(request: Request, auth: RepAuth, db: PortalSessionDep, settings: SettingsDep):
    """Lengthen the running on-behalf-of session once; back to the page the rep was on."""
    obo.extend(db, user=auth.user, auth_session=auth.session, settings=settings)
    return RedirectResponse(_same_site_back(request), status_code=303)


@router.post("/obo/billing")
def obo_billing(auth: ShopperAuth, db: PortalSessionDep, jde: JdeDep, billing_an8: AccountNumberForm):
    obo.choose_billing(db, jde, user=auth.user, auth_session=auth.session, billing_an8=billing_an8)
    return RedirectResponse("/account", status_code=303)


@router.post("/obo/shipping")
def obo_shipping(auth: ShopperAuth, db: PortalSessionDep, jde: JdeDep, shipping_an8: AccountNumberForm):
    obo.choose_shipping(db, jde, user=auth.user, auth_session=auth.session, shipping_an8=shipping_an8)
    return RedirectResponse("/account", status_code=303)


@router.post("/obo/end")
def obo_end(request: Request, auth: RepAuth, db: PortalSessionDep):
    token = obo.end(db, user=auth.user, auth_session=auth.session)
    if token is not None:
        request.state.session_cookie = token
    return RedirectResponse("/accounts", status_code=303)


def _same_site_back(request: Request) -> str:
    """The page the form was on (its path only, so no other site), else the account page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/account"
    path = referer.path or "/account"
    if not path.startswith("/") or path.startswith("//"):
        return "/account"
    return path + (f"?{referer.query}" if referer.query else "")
