"""JSON API under /api/v1: sessions, accounts, on-behalf-of.

State changes with a session cookie need the `X-CSRF-Token` header (the token comes back
from POST /api/v1/session and from every call that rotates the session). Errors are JSON:
{"status": 403, "message": "..."}.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ecgateway.accounts import MAX_PAGE_SIZE, SORT_KEYS, CursorError, list_accounts, rep_scope
from ecgateway.auth import service as auth_service
from ecgateway.obo import service as obo
from ecgateway.obo.account_data import AccountDetail, PostalAddress, read_account_detail
from ecgateway.web.auth_pages import client_ip
from ecgateway.web.deps import (
    Auth,
    JdeDep,
    OptionalAuth,
    PortalSessionDep,
    RepAuth,
    RuntimeDep,
    ShopperAuth,
    SignedInAuth,
)
from ecgateway.web.params import AccountNumber, AccountNumberPath
from ecgateway.web.security import csrf_exempt

CSRF_NOTE = " Needs the `X-CSRF-Token` header (from POST /api/v1/session or the last call that rotated the session)."
router = APIRouter(prefix="/api/v1", tags=["api v1"])


class Credentials(BaseModel):
    login: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class UserOut(BaseModel):
    id: int
    login: str
    name: str
    email: str
    user_type: str
    account_an8: int | None


class OboState(BaseModel):
    acting: bool = Field(description="True while a rep acts on behalf of an account")
    account_an8: int | None = Field(description="The effective account: on behalf of, or the customer's own")
    billing_an8: int | None
    shipping_an8: int | None
    actor: UserOut
    notice: str | None = Field(None, description="Why a running on-behalf-of session ended, shown once")
    csrf_token: str = Field(description="The session's current CSRF token: it changes when the session id rotates")


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str
    obo: OboState


class StartObo(BaseModel):
    an8: AccountNumber = Field(description="Account number from the rep's list")
    billing_an8: AccountNumber | None = Field(None, description="One of the account's billing addresses; default the first")


class ChooseAddresses(BaseModel):
    billing_an8: AccountNumber | None = None
    shipping_an8: AccountNumber | None = None


class AccountOut(BaseModel):
    an8: int
    name: str
    city: str
    state: str
    postal_code: str
    country: str
    phone: str
    email: str


class AccountList(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None
    sort: str
    q: str | None
    limit: int


class AddressOut(BaseModel):
    an8: int
    name: str
    lines: list[str]
    city: str
    state: str
    postal_code: str
    country: str


class BillingOut(BaseModel):
    address: AddressOut
    billing_type: str
    shipping: list[AddressOut]


class OrderOut(BaseModel):
    company: str
    number: int
    order_type: str
    ordered_on: date | None
    sold_to: int
    ship_to: int
    lines: int
    amount: Decimal
    currency: str
    status: str


class AccountDetailOut(BaseModel):
    an8: int
    name: str
    address: AddressOut | None
    phones: list[str]
    emails: list[str]
    credit_limit: Decimal | None
    currency: str
    payment_terms: str
    hold_code: str
    billing: list[BillingOut]
    open_orders: list[OrderOut]


class SignedOut(BaseModel):
    signed_out: bool


@router.post("/session", response_model=SessionOut, summary="Sign in",
             description="Checks login and password, sets the session cookie (HttpOnly), returns the user and "
                         "the CSRF token. Repeated failures are throttled (429 with Retry-After).")
@csrf_exempt  # no session yet: the Origin check still applies
def api_sign_in(request: Request, body: Credentials, auth: OptionalAuth, db: PortalSessionDep, jde: JdeDep,
                runtime: RuntimeDep) -> SessionOut:
    signed = auth_service.sign_in(db, login=body.login, password=body.password, ip=client_ip(request),
                                  previous=auth.session, settings=runtime.settings)
    obo.prepare_session(db, jde, runtime=runtime, user=signed.user, auth_session=signed.session)
    request.state.session_cookie = signed.token
    state = _obo_state(Auth(signed.user, signed.session, obo.acting_context(signed.user, signed.session)))
    return SessionOut(user=state.actor, csrf_token=signed.session.csrf_token, obo=state)


@router.get("/session", response_model=SessionOut, summary="Who is signed in")
def api_session(auth: SignedInAuth) -> SessionOut:
    state = _obo_state(auth)
    return SessionOut(user=state.actor, csrf_token=auth.csrf_token, obo=state)


@router.delete("/session", response_model=SignedOut, summary="Sign out",
               description="Ends the session and any on-behalf-of session with it." + CSRF_NOTE)
def api_sign_out(request: Request, auth: SignedInAuth, db: PortalSessionDep) -> SignedOut:
    auth_service.sign_out(db, user=auth.user, auth_session=auth.session)
    request.state.session_cookie = ""
    return SignedOut(signed_out=True)


@router.get("/accounts", response_model=AccountList, summary="The rep's accounts",
            description="Search (q: digits match the number, else name or city), sort "
                        f"({', '.join(SORT_KEYS)}), keyset paging with next_cursor.")
def api_accounts(auth: RepAuth, db: PortalSessionDep, jde: JdeDep, runtime: RuntimeDep,
                 q: Annotated[str | None, Query(max_length=100)] = None, sort: str = "number",
                 cursor: Annotated[str | None, Query(max_length=500)] = None,
                 limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50) -> AccountList:
    if sort not in SORT_KEYS:
        raise HTTPException(422, f"sort {sort!r} is not one of {', '.join(SORT_KEYS)}.")
    scope = rep_scope(db, rep=auth.user, wwa=runtime.accounts)
    try:
        page = list_accounts(jde, wwa=runtime.accounts, scope=scope, q=q, sort=sort, cursor=cursor, limit=limit)
    except CursorError as exc:
        raise HTTPException(422, str(exc)) from None
    return AccountList(items=[AccountOut(**a._asdict()) for a in page.items], next_cursor=page.next_cursor,
                       sort=page.sort, q=page.q, limit=page.limit)


@router.get("/accounts/{an8}", response_model=AccountDetailOut, summary="One account",
            description="A rep sees accounts in their list, a customer their own; anything else is 404.")
def api_account(an8: AccountNumberPath, auth: SignedInAuth, db: PortalSessionDep, jde: JdeDep, runtime: RuntimeDep) -> AccountDetailOut:
    if not obo.may_see_account(db, jde, runtime=runtime, user=auth.user, an8=an8):
        raise HTTPException(404, f"Account {an8} is not in your list of accounts, or does not exist.")
    detail = read_account_detail(jde, tables=runtime.jde, an8=an8, company=runtime.settings.company,
                                 decimals=runtime.settings.decimals)
    if detail is None:
        raise HTTPException(404, f"Account {an8} is not in JDE's address book.")
    return _detail_out(detail)


@router.get("/obo", response_model=OboState, summary="The acting context")
def api_obo(auth: SignedInAuth) -> OboState:
    return _obo_state(auth)


@router.post("/obo", response_model=OboState, summary="Act on behalf of an account",
             description="Starts or changes on-behalf-of. The session id and CSRF token rotate: use the new "
                         "csrf_token from the reply. A number outside the rep's list is 404, a user who is not a rep "
                         "gets 403; both are audited." + CSRF_NOTE)
def api_obo_start(request: Request, body: StartObo, auth: SignedInAuth, db: PortalSessionDep, jde: JdeDep,
                  runtime: RuntimeDep) -> OboState:
    request.state.session_cookie = obo.start(db, jde, runtime=runtime, user=auth.user, auth_session=auth.session,
                                             an8=body.an8, billing_an8=body.billing_an8)
    return _obo_state(Auth(auth.user, auth.session, obo.acting_context(auth.user, auth.session)))


@router.post("/obo/addresses", response_model=OboState, summary="Choose billing and shipping addresses",
             description="billing_an8 from the effective account's billing addresses (resets shipping), then "
                         "shipping_an8 from that billing address's shipping addresses." + CSRF_NOTE)
def api_obo_addresses(body: ChooseAddresses, auth: ShopperAuth, db: PortalSessionDep, jde: JdeDep,
                      runtime: RuntimeDep) -> OboState:
    if body.billing_an8 is None and body.shipping_an8 is None:
        raise HTTPException(422, "Give billing_an8, shipping_an8, or both.")
    if body.billing_an8 is not None:
        obo.choose_billing(db, jde, runtime=runtime, user=auth.user, auth_session=auth.session, billing_an8=body.billing_an8)
    if body.shipping_an8 is not None:
        obo.choose_shipping(db, jde, runtime=runtime, user=auth.user, auth_session=auth.session, shipping_an8=body.shipping_an8)
    return _obo_state(Auth(auth.user, auth.session, obo.acting_context(auth.user, auth.session)))


@router.delete("/obo", response_model=OboState, summary="Stop acting on behalf",
               description="Ends on-behalf-of; the session id and CSRF token rotate." + CSRF_NOTE)
def api_obo_end(request: Request, auth: RepAuth, db: PortalSessionDep) -> OboState:
    token = obo.end(db, user=auth.user, auth_session=auth.session)
    if token is not None:
        request.state.session_cookie = token
    return _obo_state(Auth(auth.user, auth.session, obo.acting_context(auth.user, auth.session)))


def _user_out(user) -> UserOut:
    return UserOut(id=user.id, login=user.login, name=user.name, email=user.email, user_type=user.user_type,
                   account_an8=user.account_an8)


def _obo_state(auth: Auth) -> OboState:
    ctx = auth.context
    return OboState(acting=ctx.on_behalf, account_an8=ctx.subject_an8, billing_an8=ctx.billing_an8,
                    shipping_an8=ctx.shipping_an8, actor=_user_out(auth.user), notice=auth.notice,
                    csrf_token=auth.session.csrf_token)


def _address_out(a: PostalAddress) -> AddressOut:
    return AddressOut(an8=a.an8, name=a.name, lines=list(a.lines), city=a.city, state=a.state,
                      postal_code=a.postal_code, country=a.country)


def _detail_out(d: AccountDetail) -> AccountDetailOut:
    return AccountDetailOut(
        an8=d.an8, name=d.name, address=_address_out(d.address) if d.address else None, phones=list(d.phones),
        emails=list(d.emails), credit_limit=d.credit_limit, currency=d.currency, payment_terms=d.payment_terms,
        hold_code=d.hold_code,
        billing=[BillingOut(address=_address_out(b.address), billing_type=b.billing_type,
                            shipping=[_address_out(s) for s in b.shipping]) for b in d.billing],
        open_orders=[OrderOut(**vars(o)) for o in d.open_orders],
    )
