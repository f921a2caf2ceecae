"""Registering a contact of an account on behalf (admin.registration): the rep's form and its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from ecgateway.accounts import may_act, rep_scope
from ecgateway.admin import registration as reg
from ecgateway.jde.addresses import postal_addresses
from ecgateway.web.deps import (
    AccountsQueryDep,
    Auth,
    JdeDep,
    PortalSessionDep,
    RepAuth,
    SettingsDep,
    request_session,
)
from ecgateway.web.params import AccountNumberPath
from ecgateway.web.responses import render

router = APIRouter(include_in_schema=False)


@router.get("/accounts/{an8}/contacts/new", response_class=HTMLResponse)
def register_form(request: Request, an8: AccountNumberPath, auth: RepAuth, db: PortalSessionDep, jde: JdeDep,
                  wwa: AccountsQueryDep):
    return _form(request, db, jde, wwa, auth, an8, form={})


@router.post("/accounts/{an8}/contacts", response_class=HTMLResponse)
def register_submit(request: Request, an8: AccountNumberPath, auth: RepAuth, db: PortalSessionDep, jde: JdeDep,
                    wwa: AccountsQueryDep, settings: SettingsDep,
                    name: Annotated[str, Form(max_length=200)] = "", email: Annotated[str, Form(max_length=300)] = "",
                    login: Annotated[str, Form(max_length=100)] = ""):
    form = {"name": name, "email": email, "login": login}
    try:
        done = reg.register_contact(db, jde, wwa=wwa, ctx=auth.context, rep=auth.user, an8=an8, name=name,
                                    email=email, login=login, settings=settings, base_url=base_url(request, settings))
    except reg.RegistrationRefused as exc:
        if exc.status in (403, 404):
            raise
        db.rollback()
        return _form(request, db, jde, wwa, auth, an8, form=form, error=exc, status=exc.status)
    _wake_mail(request)
    return render(request, "register_contact.html", {"an8": an8, "account_name": _name(jde, an8), "done": done,
                                                     "form": {}, "error": None})


def offer(request: Request, auth: Auth) -> bool:
    """For the account page: show "Register a contact" to reps holding the right."""
    if auth.user is None:
        return False
    with request_session(request) as db:
        return reg.may_register(db, rep=auth.user)


def base_url(request: Request, settings) -> str:
    """Where links in e-mails point: ECGW_PUBLIC_URL, else the address this request came to."""
    return settings.public_url or str(request.base_url)


def _form(request, db, jde, wwa, auth, an8, *, form, error=None, status=200):
    if not reg.may_register(db, rep=auth.user):
        raise reg.RegistrationRefused("Registering contacts needs the register right, which an administrator grants "
                                      "on the users page. Ask an administrator.", 403)
    if not may_act(jde.conn, wwa=wwa, scope=rep_scope(db, rep=auth.user, wwa=wwa), an8=an8):
        raise reg.RegistrationRefused(f"Account {an8} is not in your list of accounts, or does not exist. Pick an "
                                      "account from your list.", 404)
    return render(request, "register_contact.html", {"an8": an8, "account_name": _name(jde, an8), "done": None,
                                                     "form": form, "error": error}, status=status)


def _name(jde, an8: int) -> str:
    found = postal_addresses(jde, an8s=[an8]).get(an8)
    return found.name if found else f"account {an8}"


def _wake_mail(request: Request) -> None:
    mailer = getattr(request.app.state, "mailer", None)
    if mailer is not None:
        mailer.wake()
