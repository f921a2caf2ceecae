"""JSON API: the rep's accounts and one account's detail (/api/v1/accounts).

Sessions are in api/auth.py, on-behalf-of in api/obo.py. State changes with a session cookie
need the `X-CSRF-Token` header. Errors are JSON: {"status": 403, "message": "..."}.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ecgateway.accounts import MAX_PAGE_SIZE, SORT_KEYS, CursorError, list_accounts, rep_scope
from ecgateway.jde.account_detail import AccountDetail, read_account_detail
from ecgateway.jde.addresses import Address
from ecgateway.obo import service as obo
from ecgateway.runtime import Runtime
from ecgateway.web.deps import (
    AccountsQueryDep,
    JdeDep,
    PortalSessionDep,
    RuntimeDep,
    SignedInAuth,
    check_access,
    declare,
    load_auth,
    loads_auth,
)
from ecgateway.web.params import AccountNumberPath, limit_query

router = APIRouter(prefix="/api/v1", tags=["api v1"])


class AccountOut(BaseModel):
    an8: int
    name: str
    city: str
    state: str
    postal_code: str
    country: str
    phone: str
    email: str
    # Why the account matched q: "number", "number-prefix", "name-prefix" or "contains" (relevance
    # order); null without q (or before the search index is built).
    match: str | None = None


class AccountList(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None
    sort: str
    q: str | None
    limit: int
    notice: str | None = Field(None, description="why the list is empty when the rep may serve no account "
                                                 "(no restriction and default deny, or a restriction that no longer "
                                                 "compiles: it names the admin page where it is corrected)")


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


@router.get("/accounts", response_model=AccountList, summary="The rep's accounts",
            description="Search (q: the account number, exact or its first digits, and words of the name, "
                        "city, state, postal code, phone or e-mail; case and accents ignored), in relevance order "
                        "(exact number, number prefix, name prefix, contains; `match` on each item), sort "
                        f"({', '.join(SORT_KEYS)}) inside each group, keyset paging with next_cursor.",
            dependencies=[Depends(declare("rep"))])
@loads_auth
async def api_accounts(request: Request, db: PortalSessionDep, runtime: RuntimeDep,
                       q: Annotated[str | None, Query(max_length=100)] = None, sort: str = "number",
                       cursor: Annotated[str | None, Query(max_length=500)] = None,
                       limit: Annotated[int, limit_query(MAX_PAGE_SIZE)] = 50) -> AccountList:
    # The picker calls this on every keystroke. Its blocking work, who is signed in included, runs in one
    # hop to the thread pool, not one per dependency and one more for the answer's validation: each hop
    # cost the gateway about 1 ms of CPU a request on the picker mix (bench/RESULTS-search.md).
    return await run_in_threadpool(_accounts_page, request, db, runtime, q, sort, cursor, limit)


def _accounts_page(request: Request, db: Session, runtime: Runtime, q: str | None, sort: str, cursor: str | None,
                   limit: int) -> AccountList:
    auth = check_access("rep", load_auth(request, db, runtime))
    if sort not in SORT_KEYS:
        raise HTTPException(422, f"sort {sort!r} is not one of {', '.join(SORT_KEYS)}.")
    wwa = runtime.accounts
    # load_auth has ended its portal transaction: the JDE connection is asked for holding none (see
    # load_auth). Then one portal transaction reads the restriction and every group of the index.
    with runtime.reading_jde() as jde:
        try:
            scope = rep_scope(db, rep=auth.user, wwa=wwa)
            page = list_accounts(jde.conn, wwa=wwa, scope=scope, q=q, sort=sort, cursor=cursor, limit=limit,
                                 index=runtime.search, portal=db.connection())
        except CursorError as exc:
            raise HTTPException(422, str(exc)) from None
        db.commit()  # read only: the connection goes back here (after an error, the session's close rolls back)
    matches = page.matches or [None] * len(page.items)
    return AccountList(items=[AccountOut(**a._asdict(), match=m) for a, m in zip(page.items, matches, strict=True)],
                       next_cursor=page.next_cursor,
                       sort=page.sort, q=page.q, limit=page.limit,
                       notice=scope.reason if scope.kind == "none" else None)


@router.get("/accounts/{an8}", response_model=AccountDetailOut, summary="One account",
            description="A rep sees accounts in their list, a customer their own; anything else is 404.")
def api_account(an8: AccountNumberPath, auth: SignedInAuth, db: PortalSessionDep, jde: JdeDep,
                wwa: AccountsQueryDep) -> AccountDetailOut:
    if not obo.may_see_account(db, jde, wwa=wwa, user=auth.user, an8=an8):
        raise HTTPException(404, f"Account {an8} is not in your list of accounts, or does not exist.")
    detail = read_account_detail(jde, an8=an8)
    if detail is None:
        raise HTTPException(404, f"Account {an8} is not in JDE's address book.")
    return _detail_out(detail)


def _address_out(a: Address) -> AddressOut:
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
