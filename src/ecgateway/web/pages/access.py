"""The customer's access history (who acted for their account, from the audit) and their receipts setting."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ecgateway.obo import history, receipts
from ecgateway.web.deps import Auth, CustomerAuth, PortalSessionDep, request_session
from ecgateway.web.params import ROW_ID_MAX
from ecgateway.web.responses import render

router = APIRouter(include_in_schema=False)

PAGE = 20
PREVIEW = 5


@router.get("/account/access-history", response_class=HTMLResponse)
def access_history_page(request: Request, auth: CustomerAuth, db: PortalSessionDep,
                        before: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None):
    """Every session in which a representative acted for the customer's own account, newest first."""
    an8 = auth.user.account_an8
    page = history.access_history(db, an8=an8, before=before, limit=PAGE)
    return render(request, "access_history.html", {
        "history": page, "an8": an8, "receipts_on": receipts.receipts_on(db, an8=an8), "full": True})


@router.post("/account/receipts")
def receipts_setting(request: Request, auth: CustomerAuth, db: PortalSessionDep,
                     obo_receipts: Annotated[str, Form(max_length=3)] = ""):
    """Turn e-mailed receipts of representatives' sessions on (obo_receipts=on) or off."""
    receipts.set_receipts(db, ctx=auth.context, on=obo_receipts == "on")
    return RedirectResponse("/account/access-history", status_code=303)


def preview(request: Request, auth: Auth, an8: int) -> dict | None:
    """For the account page: the newest sessions, shown to the account's own customer users only."""
    if auth.user is None or auth.user.user_type != "Customer" or auth.user.account_an8 != an8 or auth.on_behalf:
        return None
    with request_session(request) as db:
        return {"history": history.access_history(db, an8=an8, limit=PREVIEW),
                "receipts_on": receipts.receipts_on(db, an8=an8), "an8": an8, "full": False}
