"""Admin pages: users, "Assign Customers to Representatives", the transaction log; set-password page.

Thin routes over admin.users, admin.restrictions, admin.txlog. Every /admin route is
AdminAuth (403 for anyone else); every POST carries the session's CSRF token (request guard).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ecgateway.accounts import WorkWithAccounts
from ecgateway.admin import restrictions as rs
from ecgateway.admin import rights as rg
from ecgateway.admin import txlog
from ecgateway.admin import users as us
from ecgateway.admin.users import AdminError
from ecgateway.config import INTERNAL_TYPES, USER_TYPES
from ecgateway.jde.handle import Jde
from ecgateway.web.deps import (
    AccountsQueryDep,
    AdminAuth,
    AuditLogFilterDep,
    CustomerCheckDep,
    JdeDep,
    OptionalAuth,
    PortalSessionDep,
    SearchIndexDep,
    SettingsDep,
    optional_an8,
)
from ecgateway.web.params import AccountNumber, PageOffset, RowIdPath
from ecgateway.web.responses import audit_csv, render
from ecgateway.web.security import csrf_exempt

router = APIRouter(include_in_schema=False)

LOG_PAGE = 50
SEARCH_ROWS = 25


# -- landing ---------------------------------------------------------------------------------

@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, auth: AdminAuth):
    return render(request, "admin/home.html", {})


# -- users -----------------------------------------------------------------------------------

@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, auth: AdminAuth, db: PortalSessionDep,
               q: Annotated[str | None, Query(max_length=100)] = None,
               type: Annotated[str | None, Query(max_length=32)] = None,  # noqa: A002 - the form's field name
               status: Annotated[str | None, Query(pattern="^(active|inactive)?$")] = None,
               offset: PageOffset = 0):
    return _users_page(request, db, q=q, user_type=type or None, status=status or None, offset=offset)


@router.post("/admin/users", response_class=HTMLResponse)
def users_create(request: Request, auth: AdminAuth, db: PortalSessionDep, customer_check: CustomerCheckDep,
                 settings: SettingsDep,
                 login: Annotated[str, Form(max_length=64)] = "", name: Annotated[str, Form(max_length=120)] = "",
                 email: Annotated[str, Form(max_length=254)] = "", user_type: Annotated[str, Form(max_length=32)] = "",
                 account_an8: Annotated[str, Form(max_length=40)] = "",
                 acknowledge_dual_role: Annotated[bool, Form()] = False):
    form = {"login": login, "name": name, "email": email, "user_type": user_type, "account_an8": account_an8}
    try:
        new = us.create_user(db, ctx=auth.context, login=login, name=name, user_type=user_type, email=email,
                             account_an8=optional_an8(account_an8, "account_an8"),
                             acknowledge_dual_role=acknowledge_dual_role, account_check=customer_check,
                             allow_dual_role=settings.allow_dual_role)
    except us.DualRoleWarning as exc:
        db.rollback()
        return _users_page(request, db, form=form, warning=exc.message, status_code=409)
    except AdminError as exc:
        db.rollback()
        return _users_page(request, db, form=form, error=exc, status_code=exc.status)
    db.commit()
    return render(request, "admin/user_link.html", {
        "user": new.user, "link": _absolute(request, new.link.path()), "expires_at": new.link.expires_at,
        "warnings": new.warnings, "created": True})


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep):
    return _user_page(request, db, us.get_user(db, user_id=user_id))


@router.post("/admin/users/{user_id}/type", response_class=HTMLResponse)
def user_type(request: Request, user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, customer_check: CustomerCheckDep,
              settings: SettingsDep,
              user_type: Annotated[str, Form(max_length=32)], account_an8: Annotated[str, Form(max_length=40)] = "",
              acknowledge_dual_role: Annotated[bool, Form()] = False):
    user = us.get_user(db, user_id=user_id)
    try:
        ended = us.change_user_type(db, ctx=auth.context, user=user, user_type=user_type,
                                    account_an8=optional_an8(account_an8, "account_an8"),
                                    acknowledge_dual_role=acknowledge_dual_role,
                                    account_check=customer_check, allow_dual_role=settings.allow_dual_role)
    except us.DualRoleWarning as exc:
        db.rollback()
        return _user_page(request, db, user, warning=exc.message, asked_type=user_type, status_code=409)
    except AdminError as exc:
        db.rollback()
        return _user_page(request, db, user, error=exc, status_code=exc.status)
    db.commit()
    return _user_page(request, db, user, message=f"{user.login} is now {user.user_type}; {_signed_out(ended)}")


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
def user_active(request: Request, user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, settings: SettingsDep,
                active: Annotated[bool, Form()]):
    user = us.get_user(db, user_id=user_id)
    try:
        ended = us.set_active(db, ctx=auth.context, user=user, active=active,
                              allow_dual_role=settings.allow_dual_role)
    except AdminError as exc:
        db.rollback()
        return _user_page(request, db, user, error=exc, status_code=exc.status)
    db.commit()
    text = f"{user.login} is active again" if active else f"{user.login} is deactivated; {_signed_out(ended)}"
    return _user_page(request, db, user, message=text)


@router.post("/admin/users/{user_id}/link", response_class=HTMLResponse)
def user_link(request: Request, user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep):
    user = us.get_user(db, user_id=user_id)
    link = us.issue_set_password_link(db, ctx=auth.context, user=user)
    db.commit()
    return render(request, "admin/user_link.html", {
        "user": user, "link": _absolute(request, link.path()), "expires_at": link.expires_at, "warnings": (),
        "created": False})


@router.post("/admin/users/{user_id}/rights", response_class=HTMLResponse)
def user_right(request: Request, user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep,
               right: Annotated[str, Form(max_length=32)], granted: Annotated[bool, Form()]):
    """Grant or take away one right (e.g. preparing lists for customers)."""
    user = us.get_user(db, user_id=user_id)
    try:
        changed = rg.set_user_right(db, ctx=auth.context, user=user, right=right, granted=granted)
    except AdminError as exc:
        db.rollback()
        return _user_page(request, db, user, error=exc, status_code=exc.status)
    db.commit()
    what = rg.RIGHT_WORDS.get(right, right).split(":")[0]
    text = (f"{user.login} may now: {what}" if granted else f"{user.login} may no longer: {what}") if changed \
        else "Nothing changed."
    return _user_page(request, db, user, message=text)


# -- set-password (public: the link is the credential) -----------------------------------------
# The link is /set-password#TOKEN: a URL fragment never reaches the server, so the token is in
# no access log and no Referer; the page's script moves it into the form (or the user pastes it).

@router.get("/set-password", response_class=HTMLResponse)
def set_password_page(request: Request, auth: OptionalAuth):
    return _set_password(request)


@router.post("/set-password", response_class=HTMLResponse)
@csrf_exempt  # no session: the single-use link is the credential; the Origin check still applies
def set_password_submit(request: Request, auth: OptionalAuth, db: PortalSessionDep,
                        token: Annotated[str, Form(max_length=200)] = "",
                        password: Annotated[str, Form(max_length=1024)] = "",
                        confirm: Annotated[str, Form(max_length=1024)] = ""):
    try:
        user = us.set_password_with_link(db, token=token.strip(), password=password, confirm=confirm)
    except AdminError as exc:
        db.rollback()
        return _set_password(request, token=token.strip(), error=exc.message, field=exc.field,
                             status_code=exc.status)
    db.commit()
    return _set_password(request, done=user.login)


# -- Assign Customers to Representatives --------------------------------------------------------

@router.get("/admin/restrictions", response_class=HTMLResponse)
def assign_page(request: Request, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep,
                q: Annotated[str | None, Query(max_length=100)] = None, counts: bool = False):
    """Counting takes a while on large JDE data: the page's script fills the counts in after it
    shows (one request per distinct filter); counts=true counts on the server (no script)."""
    reps = rs.list_reps(db, jde.conn if counts else None, wwa=wwa, q=q)
    return render(request, "admin/assign.html", {"reps": reps, "q": q or "", "counts": counts,
                                                  "default": wwa.restriction_default})


@router.get("/admin/restrictions/{rep_id}", response_class=HTMLResponse)
def editor_page(request: Request, rep_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep,
                wwa: AccountsQueryDep):
    rep = rs.get_rep(db, rep_id=rep_id)
    current = rs.get_restriction_text(db, rep=rep)
    check = rs.check_filter(current or "")
    error = None if check.ok else (f"The saved filter no longer compiles, so {rep.login} sees no accounts: line "
                                   f"{check.line}, column {check.col}: {check.message}. Correct it below and save.")
    return _editor(request, db, jde, wwa, rep, current or "", preview=True, error=error)


@router.post("/admin/restrictions/{rep_id}/preview", response_class=HTMLResponse)
def editor_preview(request: Request, rep_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep,
                   wwa: AccountsQueryDep, filter_text: Annotated[str, Form(max_length=20000)] = ""):
    rep = rs.get_rep(db, rep_id=rep_id)
    return _editor(request, db, jde, wwa, rep, filter_text, preview=True)


@router.post("/admin/restrictions/{rep_id}/search", response_class=HTMLResponse)
def editor_search(request: Request, rep_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep,
                  wwa: AccountsQueryDep, index: SearchIndexDep, filter_text: Annotated[str, Form(max_length=20000)] = "",
                  aq: Annotated[str, Form(max_length=100)] = ""):
    rep = rs.get_rep(db, rep_id=rep_id)
    found = rs.search_accounts(jde.conn, wwa=wwa, q=aq or None, limit=SEARCH_ROWS, index=index)
    return _editor(request, db, jde, wwa, rep, filter_text, preview=False, search=(aq, found))


@router.post("/admin/restrictions/{rep_id}/pick", response_class=HTMLResponse)
def editor_pick(request: Request, rep_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep,
                wwa: AccountsQueryDep, index: SearchIndexDep, filter_text: Annotated[str, Form(max_length=20000)] = "",
                an8: Annotated[list[AccountNumber] | None, Form()] = None, mode: Annotated[str, Form()] = "add",
                aq: Annotated[str, Form(max_length=100)] = ""):
    """Point-and-click: the ticked accounts go into the filter text (not saved until Save)."""
    rep = rs.get_rep(db, rep_id=rep_id)
    try:
        text = rs.an8_filter(filter_text, an8 or [], mode=mode)
    except AdminError as exc:
        found = rs.search_accounts(jde.conn, wwa=wwa, q=aq or None, limit=SEARCH_ROWS, index=index)
        return _editor(request, db, jde, wwa, rep, filter_text, preview=False, search=(aq, found),
                       error=exc.message, status_code=exc.status)
    return _editor(request, db, jde, wwa, rep, text, preview=True, picked=True,
                   message=f"{len(an8 or [])} ticked account(s) written into the filter below. Check the preview, "
                           "then save.")


@router.post("/admin/restrictions/{rep_id}", response_class=HTMLResponse)
def editor_save(request: Request, rep_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep,
                wwa: AccountsQueryDep, source: Annotated[str, Form(max_length=40)],
                filter_text: Annotated[str, Form(max_length=20000)] = ""):
    """Save (empty text removes the filter). `source` is required, so an empty post saves nothing."""
    rep = rs.get_rep(db, rep_id=rep_id)
    check = rs.check_filter(filter_text)
    if not check.ok:
        return _editor(request, db, jde, wwa, rep, filter_text, preview=True, status_code=422,
                       error=f"Not saved: the filter is refused at line {check.line}, column {check.col}: "
                             f"{check.message}. Correct it there and save again.")
    change = rs.save_restriction(db, ctx=auth.context, rep=rep, filter_text=filter_text,
                                 source="point-and-click" if source == "point-and-click" else "editor")
    db.commit()
    if change is None:
        message = "Nothing to save: the filter is the same as the one saved."
    elif change.new_filter is None:
        message = f"Saved: {rep.login} has no restriction now, so the default applies. It applies from their next request."
    else:
        message = f"Saved. {rep.login}'s list changes from their next request."
    return _editor(request, db, jde, wwa, rep, rs.get_restriction_text(db, rep=rep) or "", preview=True,
                   message=message)


@router.post("/admin/restrictions/history/{change_id}/revert", response_class=HTMLResponse)
def editor_revert(request: Request, change_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep,
                  wwa: AccountsQueryDep):
    change = rs.revert(db, ctx=auth.context, change_id=change_id)
    db.commit()
    rep = rs.get_rep(db, rep_id=change.rep_id)
    return _editor(request, db, jde, wwa, rep, change.new_filter or "", preview=True,
                   message=f"Reverted: the filter is back to what it was before change {change_id}.")


# -- transaction log -------------------------------------------------------------------------

@router.get("/admin/audit", response_class=HTMLResponse)
def log_page(request: Request, auth: AdminAuth, db: PortalSessionDep, flt: AuditLogFilterDep,
             sort: Annotated[str, Query(max_length=16)] = "date",
             direction: Annotated[str, Query(max_length=4)] = "desc",
             offset: PageOffset = 0):
    page = txlog.query_log(db, flt=flt, sort=sort, direction=direction, limit=LOG_PAGE, offset=offset)
    args = flt.query_args()

    def link(**changes) -> str:
        merged = {**args, "sort": sort, "direction": direction, **{k: str(v) for k, v in changes.items()}}
        return "/admin/audit?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})

    actions = txlog.actions(db)
    return render(request, "admin/audit.html", {
        "page": page, "flt": flt, "sort": sort, "direction": direction, "actions": actions,
        "areas": sorted({a.split(".", 1)[0] for a in actions}),
        "link": link, "csv_link": "/admin/audit.csv?" + urlencode({**args, "sort": sort, "direction": direction}),
        "prev_offset": max(0, offset - LOG_PAGE) if offset else None,
        "next_offset": offset + LOG_PAGE if offset + LOG_PAGE < page.total else None,
    })


@router.get("/admin/audit.csv")
def log_csv(auth: AdminAuth, db: PortalSessionDep, flt: AuditLogFilterDep,
            sort: Annotated[str, Query(max_length=16)] = "date",
            direction: Annotated[str, Query(max_length=4)] = "asc"):
    return audit_csv(db, flt, sort, direction)


@router.get("/admin/orders/{order_id}/audit")
def order_entries(order_id: RowIdPath, auth: AdminAuth):
    """The link an order page uses: the transaction log filtered to that order's entries."""
    return RedirectResponse(f"/admin/audit?order={order_id}&sort=date&direction=asc", status_code=303)


# -- helpers ---------------------------------------------------------------------------------

def _users_page(request: Request, db, *, q=None, user_type=None, status=None, offset=0, form=None, warning=None,
                error: AdminError | None = None, status_code: int = 200):
    active = {"active": True, "inactive": False}.get(status or "")
    try:
        rows, total = us.list_users(db, q=q, user_type=user_type, active=active, limit=100, offset=offset)
    except AdminError as exc:
        rows, total, error = [], 0, exc
    dual = {u.id for u in rows if u.active and us.dual_role_conflicts(
        db, user_type=u.user_type, email=u.email, name=u.name, exclude_user_id=u.id)}
    return render(request, "admin/users.html", {
        "users": rows, "total": total, "q": q or "", "user_type": user_type or "", "status": status or "",
        "types": USER_TYPES, "form": form or {}, "warning": warning, "error": error, "dual": dual,
    }, status=status_code)


def _user_page(request: Request, db, user, *, message=None, warning=None, asked_type=None,
               error: AdminError | None = None, status_code: int = 200):
    conflicts = us.dual_role_conflicts(db, user_type=user.user_type, email=user.email, name=user.name,
                                       exclude_user_id=user.id) if user.active else []
    return render(request, "admin/user.html", {
        "user": user, "types": USER_TYPES, "internal": INTERNAL_TYPES, "message": message, "warning": warning,
        "asked_type": asked_type, "error": error,
        "standing_warning": us.dual_role_message(user.user_type, conflicts) if conflicts else None,
        "rights": rg.user_rights(db, user=user), "right_words": rg.RIGHT_WORDS,
    }, status=status_code)


def _set_password(request: Request, *, token: str = "", error=None, field=None, done=None, status_code: int = 200):
    return render(request, "admin/set_password.html", {
        "token": token, "error": error, "field": field, "done": done, "min_length": us.PASSWORD_MIN,
    }, status=status_code)  # Referers never carry the code: it is in the fragment


def _editor(request: Request, db, jde: Jde, wwa: WorkWithAccounts, rep, filter_text: str, *, preview: bool, search=None,
            message=None, error=None, picked: bool = False, status_code: int = 200):
    saved = rs.get_restriction_text(db, rep=rep)
    result = rs.preview(jde.conn, wwa=wwa, filter_text=filter_text) if preview else None
    if result is not None and result.check.ok and filter_text.strip() == (saved or "") and rep.active:
        now = result  # the text shown is the saved one: one count serves both (counting is the slow part)
    else:
        now = rs.rep_preview(db, jde.conn, wwa=wwa, rep=rep, limit=1)
    return render(request, "admin/editor.html", {
        "rep": rep, "filter_text": filter_text, "saved_text": saved,
        "result": result, "now": now, "search": search, "message": message, "error": error, "picked": picked,
        "history": rs.history(db, rep_id=rep.id, limit=50), "default": wwa.restriction_default,
        "column_names": wwa.policy.column_names(),
    }, status=status_code)


def _absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _signed_out(ended: int) -> str:
    return "they had no session open" if not ended else f"their {ended} session(s) ended, they must sign in again"

