"""The rep's pages: the account picker and the account page (the on-behalf-of forms are in pages/obo.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ecgateway.accounts import MAX_PAGE_SIZE, SORT_KEYS, CursorError, list_accounts, rep_scope
from ecgateway.accounts.describe import describe_or_none
from ecgateway.auth.roles import CUSTOMER, may_act_on_behalf
from ecgateway.commerce import lists as managed_lists
from ecgateway.jde.account_detail import read_account_detail
from ecgateway.jde.handle import Jde
from ecgateway.obo import service as obo
from ecgateway.web.deps import (
    AccountsQueryDep,
    Auth,
    JdeDep,
    PortalSessionDep,
    RepAuth,
    SearchIndexDep,
    SignedInAuth,
)
from ecgateway.web.pages import access, registration
from ecgateway.web.params import AccountNumberPath, limit_query
from ecgateway.web.responses import render

router = APIRouter(include_in_schema=False)

SORT_LABELS = {"number": "Account number", "name": "Name", "city": "City"}
PICKER_PAGE = 50


@router.get("/accounts", response_class=HTMLResponse)
def picker(request: Request, auth: RepAuth, db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep,
           index: SearchIndexDep,
           q: Annotated[str | None, Query(max_length=100)] = None, sort: str = "number",
           cursor: Annotated[str | None, Query(max_length=500)] = None,
           limit: Annotated[int, limit_query(MAX_PAGE_SIZE)] = PICKER_PAGE):
    """Search as you type (number, name, city), sort, keyset paging: the rep's own compiled query."""
    scope = rep_scope(db, rep=auth.user, wwa=wwa)
    error = None
    if sort not in SORT_KEYS:
        error, sort = f"Sorting by {sort!r} is not offered; sorted by account number instead.", "number"
    try:
        page = list_accounts(jde.conn, wwa=wwa, scope=scope, q=q, sort=sort, cursor=cursor, limit=limit, index=index)
    except CursorError as exc:
        error = str(exc)
        page = list_accounts(jde.conn, wwa=wwa, scope=scope, q=q, sort=sort, limit=limit, index=index)
    next_query = None
    if page.next_cursor:
        next_query = urlencode({k: v for k, v in (("q", q), ("sort", sort), ("cursor", page.next_cursor)) if v})
    return render(request, "picker.html", {
        "items": page.items, "next_cursor": page.next_cursor, "next_query": next_query, "q": q, "sort": sort,
        "sorts": [(k, SORT_LABELS.get(k, k)) for k in SORT_KEYS], "scope_reason": _scope_text(scope, wwa),
        "error": error,
    })


@router.get("/accounts/{an8}", response_class=HTMLResponse)
def account_by_number(request: Request, an8: AccountNumberPath, auth: SignedInAuth, db: PortalSessionDep, jde: JdeDep,
                      wwa: AccountsQueryDep):
    """An account named in the URL: shown only if the signed-in user may see it (else 404)."""
    if not obo.may_see_account(db, jde, wwa=wwa, user=auth.user, an8=an8):
        raise HTTPException(404, f"Account {an8} is not in your list of accounts, or does not exist. "
                                 "Search your list on the Accounts page.")
    return _account_page(request, auth, jde, an8)


@router.get("/account", response_class=HTMLResponse)
def effective_account_page(request: Request, auth: SignedInAuth, jde: JdeDep, db: PortalSessionDep):
    """The effective account: on behalf of, else the user's own (a customer's home: with their open lists)."""
    an8 = obo.effective_account(auth.context)
    if an8 is None:
        if may_act_on_behalf(auth.user):
            return RedirectResponse("/accounts", status_code=303)
        raise HTTPException(404, "Your user has no account of its own. Administrators manage users and "
                                 "restrictions on the Administration pages.")
    open_lists = managed_lists.list_lists(db, ctx=auth.context, only_open=True) \
        if managed_lists.is_customer(auth.context) else []
    return _account_page(request, auth, jde, an8, open_lists=open_lists)


def _account_page(request: Request, auth: Auth, jde: Jde, an8: int, open_lists: list | None = None):
    detail = read_account_detail(jde, an8=an8)
    if detail is None:
        raise HTTPException(404, f"Account {an8} is not in JDE's address book. Check the number.")
    ctx = auth.context
    choosing = ctx is not None and ctx.subject_an8 == an8 and (ctx.on_behalf or auth.user.user_type == CUSTOMER)
    return render(request, "account.html", {
        "d": detail, "choosing": choosing,
        "current_billing": ctx.billing_an8 if choosing else None,
        "current_shipping": ctx.shipping_an8 if choosing else None,
        "can_start": may_act_on_behalf(auth.user) and not (ctx and ctx.on_behalf and ctx.subject_an8 == an8),
        "open_lists": open_lists or [],
        "access": access.preview(request, auth, an8),  # the customer's own access history
        "can_register": registration.offer(request, auth),  # reps with the register right
    })


def _scope_text(scope, wwa) -> str:
    """The rep's list in words from the allow-list's labels, never the filter's SQL (the admin sees that)."""
    if scope.kind == "all":
        return "You may serve every customer account."
    if scope.kind == "filter":
        words = describe_or_none(scope.filter_text, policy=wwa.policy) or "the accounts an administrator chose for you"
        words = words if len(words) <= 300 else words[:297] + "..."
        return f"You may serve the customer accounts where {words}."
    if scope.invalid:
        return (f"You see no accounts: your restriction can no longer be used, so nothing is shown until it is "
                f"corrected ({scope.reason}).")
    return "You have no accounts to serve: ask an administrator to assign you accounts."
