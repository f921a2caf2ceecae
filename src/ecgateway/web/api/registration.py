"""JSON API: registering a contact of an account on behalf (/api/v1/accounts/{an8}/contacts)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ecgateway.admin import registration as reg
from ecgateway.web.api.obo import CSRF_NOTE
from ecgateway.web.deps import AccountsQueryDep, JdeDep, PortalSessionDep, RepAuth, SettingsDep
from ecgateway.web.pages.registration import base_url
from ecgateway.web.params import AccountNumberPath

router = APIRouter(prefix="/api/v1", tags=["api v1"])


class NewContact(BaseModel):
    name: str = Field(max_length=200)
    email: str = Field(max_length=300)
    login: str = Field("", max_length=100, description="Default: the e-mail address")
    user_type: str = Field("Customer", max_length=40, description="Always Customer: the internal types and Admin "
                                                                    "are reserved and refused (422)")


class Registered(BaseModel):
    user_id: int
    login: str
    name: str
    email: str
    account_an8: int
    mailed_to: str
    link_expires_at: dt.datetime = Field(description="The set-password link (e-mailed to the contact only) works "
                                                     "once, until then")


@router.post("/accounts/{an8}/contacts", response_model=Registered, status_code=201,
             summary="Register a contact of an account",
             description="Reps holding the register right, for accounts of their list (404 otherwise, as the "
                         "picker). The contact gets a single-use set-password link by e-mail; the answer never "
                         "holds it. A duplicate e-mail or login is 409; audited as contact.register." + CSRF_NOTE)
def api_register_contact(request: Request, an8: AccountNumberPath, body: NewContact, auth: RepAuth,
                         db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep, settings: SettingsDep) -> Registered:
    done = reg.register_contact(db, jde, wwa=wwa, ctx=auth.context, rep=auth.user, an8=an8, name=body.name,
                                email=body.email, login=body.login, user_type=body.user_type, settings=settings,
                                base_url=base_url(request, settings))
    mailer = getattr(request.app.state, "mailer", None)
    if mailer is not None:
        mailer.wake()
    user = done.user
    return Registered(user_id=user.id, login=user.login, name=user.name, email=user.email, account_an8=an8,
                      mailed_to=done.mailed_to, link_expires_at=done.link_expires_at)
