"""Admin JSON API under /api/v1/admin: users, restrictions (with preview), the transaction log.

Admin only (403 for anyone else). State changes need the `X-CSRF-Token` header. Errors are
JSON: {"status": 422, "message": "...", "field": "filter_text"}.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from ecgateway.admin import restrictions as rs
from ecgateway.admin import rights as rg
from ecgateway.admin import transfer, txlog
from ecgateway.admin import users as us
from ecgateway.admin.users import AdminError
from ecgateway.web.deps import (
    AccountsQueryDep,
    AdminAuth,
    AuditLogFilterDep,
    CustomerCheckDep,
    JdeDep,
    PortalSessionDep,
    SearchIndexDep,
    SettingsDep,
)
from ecgateway.web.params import AccountNumber, Offset, OptionalRowIdQuery, RowIdPath, limit_query
from ecgateway.web.responses import audit_csv

CSRF = " Needs the `X-CSRF-Token` header."
router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


# -- shapes ----------------------------------------------------------------------------------

class AdminUser(BaseModel):
    id: int
    login: str
    name: str
    email: str
    user_type: str
    account_an8: int | None
    active: bool
    created_at: dt.datetime


class UserList(BaseModel):
    items: list[AdminUser]
    total: int


class NewUserIn(BaseModel):
    login: str = Field(min_length=1, max_length=64)
    name: str = Field("", max_length=120)
    email: str = Field("", max_length=254)
    user_type: str = Field(description="Internal_AR, Internal_SalesRep, Internal_CustomerService, Admin or Customer")
    account_an8: AccountNumber | None = Field(None, description="The JDE account of a Customer user; none for staff")
    acknowledge_dual_role: bool = Field(False, description="Only with the setting ECGW_ALLOW_DUAL_ROLE=true: create "
                                                           "even when the same person (e-mail or name) would be both "
                                                           "Admin and a rep. Without the setting that is always 409")


class SetPasswordLinkOut(BaseModel):
    url: str = Field(description="Single-use link for the user to choose a password; shown once, stored hashed")
    expires_at: dt.datetime


class NewUserOut(BaseModel):
    user: AdminUser
    set_password_link: SetPasswordLinkOut
    warnings: list[str]


class UserChange(BaseModel):
    user_type: str | None = Field(None, description="A new user type: ends the user's sessions")
    account_an8: AccountNumber | None = Field(None, description="With user_type Customer: their JDE account")
    active: bool | None = Field(None, description="false deactivates (ends every session); true reactivates")
    acknowledge_dual_role: bool = False


class UserChangeOut(BaseModel):
    user: AdminUser
    sessions_ended: int


class FilterIn(BaseModel):
    filter_text: str = Field("", max_length=20000, description="Oracle-syntax condition, e.g. ABAN8 IN ('4242','1003'); "
                                                                 "empty: no restriction (the default applies)")


class PreviewIn(FilterIn):
    limit: int = Field(rs.PREVIEW_ROWS, ge=1, le=200)
    q: str | None = Field(None, max_length=100, description="Search within the preview (number, name, city)")


class FilterCheckOut(BaseModel):
    ok: bool
    message: str = ""
    line: int | None = None
    col: int | None = None
    fragment: str = ""


class AccountOut(BaseModel):
    an8: int
    name: str
    city: str
    state: str
    country: str


class PreviewOut(BaseModel):
    check: FilterCheckOut
    count: int | None = Field(description="How many accounts the rep would see; null when the filter is refused")
    accounts: list[AccountOut]
    kind: str = Field(description="all, filter, none; empty when refused")
    reason: str


class RestrictionOut(BaseModel):
    rep_id: int
    login: str
    name: str
    user_type: str
    active: bool
    filter_text: str | None
    changed_by: str | None
    changed_at: dt.datetime | None
    kind: str
    reason: str
    account_count: int | None
    valid: bool = Field(True, description="false when the saved filter no longer compiles: the rep sees no account "
                                          "until it is corrected (reason says why and where)")


class ChangeOut(BaseModel):
    id: int
    rep_id: int
    old_filter: str | None
    new_filter: str | None
    changed_by: str
    changed_at: dt.datetime
    source: str


class SaveOut(BaseModel):
    changed: bool
    change: ChangeOut | None
    restriction: RestrictionOut


class ComposeIn(BaseModel):
    current: str = Field("", max_length=20000)
    an8: list[AccountNumber] = Field(min_length=1, max_length=5000)
    mode: Literal["add", "replace"] = "add"


class ComposeOut(BaseModel):
    filter_text: str
    check: FilterCheckOut


class ImportFailureOut(BaseModel):
    row: int
    rep: str
    reason: str


class ImportOut(BaseModel):
    rows: int
    saved: int
    unchanged: int
    failures: list[ImportFailureOut]
    saved_anything: bool


class LogLineOut(BaseModel):
    seq: int
    at: dt.datetime
    csr: str = Field(description="The rep (actor) login")
    csr_name: str
    account: int | None
    action: str
    outcome: str
    object: str
    description: str
    detail: dict
    order_id: int | None


class LogPageOut(BaseModel):
    items: list[LogLineOut]
    total: int
    limit: int
    offset: int


# -- users -----------------------------------------------------------------------------------

@router.get("/users", response_model=UserList, summary="List and search users")
def api_users(auth: AdminAuth, db: PortalSessionDep, q: Annotated[str | None, Query(max_length=100)] = None,
              user_type: Annotated[str | None, Query(max_length=32)] = None, active: bool | None = None,
              limit: Annotated[int, limit_query(us.MAX_PAGE)] = 100, offset: Offset = 0):
    rows, total = us.list_users(db, q=q, user_type=user_type, active=active, limit=limit, offset=offset)
    return UserList(items=[_user(u) for u in rows], total=total)


@router.post("/users", response_model=NewUserOut, status_code=201, summary="Create a user with a set-password link",
             description="No password is set here: the answer holds a single-use, expiring link for the user." + CSRF)
def api_create_user(request: Request, body: NewUserIn, auth: AdminAuth, db: PortalSessionDep, customer_check: CustomerCheckDep,
                    settings: SettingsDep):
    new = us.create_user(db, ctx=auth.context, login=body.login, name=body.name or body.login,
                         user_type=body.user_type, email=body.email, account_an8=body.account_an8,
                         acknowledge_dual_role=body.acknowledge_dual_role, account_check=customer_check,
                         allow_dual_role=settings.allow_dual_role)
    db.commit()
    return NewUserOut(user=_user(new.user), set_password_link=_link(request, new.link), warnings=list(new.warnings))


@router.get("/users/{user_id}", response_model=AdminUser, summary="One user")
def api_user(user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep):
    return _user(us.get_user(db, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserChangeOut, summary="Change type, deactivate or reactivate",
              description="Changing the type or deactivating ends all of the user's sessions." + CSRF)
def api_change_user(user_id: RowIdPath, body: UserChange, auth: AdminAuth, db: PortalSessionDep, customer_check: CustomerCheckDep,
                    settings: SettingsDep):
    user = us.get_user(db, user_id=user_id)
    if body.user_type is None and body.active is None:
        raise AdminError("send user_type, active or both", field="user_type")
    ended = 0
    if body.user_type is not None:
        ended += us.change_user_type(db, ctx=auth.context, user=user, user_type=body.user_type,
                                     account_an8=body.account_an8, acknowledge_dual_role=body.acknowledge_dual_role,
                                     account_check=customer_check, allow_dual_role=settings.allow_dual_role)
    if body.active is not None and body.active != user.active:
        ended += us.set_active(db, ctx=auth.context, user=user, active=body.active,
                               allow_dual_role=settings.allow_dual_role)
    db.commit()
    return UserChangeOut(user=_user(user), sessions_ended=ended)


@router.post("/users/{user_id}/set-password-link", response_model=SetPasswordLinkOut,
             summary="A new set-password link (earlier unused links stop working)", description=CSRF.strip())
def api_user_link(request: Request, user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep):
    link = us.issue_set_password_link(db, ctx=auth.context, user=us.get_user(db, user_id=user_id))
    db.commit()
    return _link(request, link)


class RightIn(BaseModel):
    right: Literal["lists.create"] = Field(description="lists.create: prepare managed lists for customers (reps only)")
    granted: bool


class RightsOut(BaseModel):
    user_id: int
    rights: list[str] = Field(description="The rights the user holds now")
    changed: bool


@router.get("/users/{user_id}/rights", response_model=RightsOut, summary="The rights an admin granted a user")
def api_user_rights(user_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep):
    user = us.get_user(db, user_id=user_id)
    return RightsOut(user_id=user.id, rights=rg.user_rights(db, user=user), changed=False)


@router.post("/users/{user_id}/rights", response_model=RightsOut, summary="Grant or take away one right",
             description="Takes effect on the user's next request; audited." + CSRF)
def api_set_user_right(user_id: RowIdPath, body: RightIn, auth: AdminAuth, db: PortalSessionDep):
    user = us.get_user(db, user_id=user_id)
    changed = rg.set_user_right(db, ctx=auth.context, user=user, right=body.right, granted=body.granted)
    db.commit()
    return RightsOut(user_id=user.id, rights=rg.user_rights(db, user=user), changed=changed)


# -- restrictions ----------------------------------------------------------------------------

@router.get("/restrictions", response_model=list[RestrictionOut], summary="Every rep, their filter and account count")
def api_restrictions(auth: AdminAuth, db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep,
                     q: Annotated[str | None, Query(max_length=100)] = None):
    return [_restriction(row) for row in rs.list_reps(db, jde.conn, wwa=wwa, q=q)]


@router.post("/restrictions/validate", response_model=FilterCheckOut, summary="Check filter text (as you type)",
             description="200 with ok=false, the message, line and column when the text is refused." + CSRF)
def api_validate(body: FilterIn, auth: AdminAuth):
    return FilterCheckOut(**rs.check_filter(body.filter_text).as_dict())


@router.post("/restrictions/preview", response_model=PreviewOut, summary="Count and first accounts a filter gives",
             description="The same compiled query as the rep's list; nothing is saved." + CSRF)
def api_preview(body: PreviewIn, auth: AdminAuth, jde: JdeDep, wwa: AccountsQueryDep):
    return _preview(rs.preview(jde.conn, wwa=wwa, filter_text=body.filter_text, limit=body.limit, q=body.q))


@router.post("/restrictions/compose", response_model=ComposeOut, summary="Point-and-click: add ticked accounts",
             description="Writes `ABAN8 IN (...)` from account numbers, or adds them to the current filter." + CSRF)
def api_compose(body: ComposeIn, auth: AdminAuth):
    text = rs.an8_filter(body.current, body.an8, mode=body.mode)
    return ComposeOut(filter_text=text, check=FilterCheckOut(**rs.check_filter(text).as_dict()))


@router.get("/restrictions/history", response_model=list[ChangeOut], summary="Every restriction change, newest first")
def api_history(auth: AdminAuth, db: PortalSessionDep, rep_id: OptionalRowIdQuery = None,
                limit: Annotated[int, limit_query(1000)] = rs.HISTORY_ROWS):
    return [_change(c) for c in rs.history(db, rep_id=rep_id, limit=limit)]


@router.post("/restrictions/history/{change_id}/revert", response_model=ChangeOut,
             summary="Put back the filter a change replaced", description=CSRF.strip())
def api_revert(change_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep):
    change = rs.revert(db, ctx=auth.context, change_id=change_id)
    db.commit()
    return _change(change)


@router.get("/restrictions/export", summary="Every restriction as CSV (the format import reads)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def api_export(auth: AdminAuth, db: PortalSessionDep):
    return Response(transfer.export_csv(db), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="restrictions.csv"'})


@router.post("/restrictions/import", response_model=ImportOut, summary="Import restrictions from CSV",
             description="Every row is checked; if any fails nothing is saved unless save_valid=true." + CSRF)
def api_import(auth: AdminAuth, db: PortalSessionDep,
               csv_text: Annotated[str, Body(media_type="text/csv", max_length=5_000_000)],
               save_valid: bool = False):
    try:
        report = transfer.import_restrictions(db, ctx=auth.context, text=csv_text, name="upload",
                                              save_valid=save_valid)
    except transfer.ImportFileError as exc:
        raise AdminError(str(exc), field="file", status=422) from None
    db.commit()
    return ImportOut(rows=report.rows, saved=report.saved, unchanged=report.unchanged,
                     saved_anything=report.saved_anything,
                     failures=[ImportFailureOut(row=f.row, rep=f.rep, reason=f.reason) for f in report.failures])


@router.get("/restrictions/{rep_id}", response_model=RestrictionOut, summary="One rep's filter and count")
def api_restriction(rep_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep):
    return _one(db, jde, wwa, rs.get_rep(db, rep_id=rep_id))


@router.put("/restrictions/{rep_id}", response_model=SaveOut, summary="Save a rep's filter",
            description="422 with the position when refused (nothing saved). Empty text removes the row. Applies "
                        "from the rep's next request, also to an on-behalf-of session already running." + CSRF)
def api_save(rep_id: RowIdPath, body: FilterIn, auth: AdminAuth, db: PortalSessionDep, jde: JdeDep, wwa: AccountsQueryDep):
    rep = rs.get_rep(db, rep_id=rep_id)
    check = rs.check_filter(body.filter_text)
    if not check.ok:
        raise AdminError(f"the filter is refused at line {check.line}, col {check.col}: {check.message}",
                         field="filter_text", status=422)
    change = rs.save_restriction(db, ctx=auth.context, rep=rep, filter_text=body.filter_text, source="api")
    db.commit()
    return SaveOut(changed=change is not None, change=_change(change) if change else None,
                   restriction=_one(db, jde, wwa, rep))


@router.get("/accounts", response_model=list[AccountOut], summary="Search all accounts (for point-and-click)")
def api_accounts(auth: AdminAuth, jde: JdeDep, wwa: AccountsQueryDep, index: SearchIndexDep,
                 q: Annotated[str | None, Query(max_length=100)] = None,
                 limit: Annotated[int, limit_query(200)] = 25):
    return [_account(a) for a in rs.search_accounts(jde.conn, wwa=wwa, q=q, limit=limit, index=index)]


# -- transaction log -------------------------------------------------------------------------

@router.get("/audit", response_model=LogPageOut, summary="Transaction log entries, filtered and sorted")
def api_audit(auth: AdminAuth, db: PortalSessionDep, flt: AuditLogFilterDep,
              sort: Annotated[Literal["date", "rep", "account", "action"], Query()] = "date",
              direction: Annotated[Literal["asc", "desc"], Query()] = "desc",
              limit: Annotated[int, limit_query(txlog.MAX_PAGE)] = 50,
              offset: Offset = 0):
    page = txlog.query_log(db, flt=flt, sort=sort, direction=direction, limit=limit, offset=offset)
    return LogPageOut(items=[_line(x) for x in page.lines], total=page.total, limit=page.limit, offset=page.offset)


@router.get("/audit.csv", summary="Transaction log as CSV", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
def api_audit_csv(auth: AdminAuth, db: PortalSessionDep, flt: AuditLogFilterDep,
                  sort: Annotated[Literal["date", "rep", "account", "action"], Query()] = "date",
                  direction: Annotated[Literal["asc", "desc"], Query()] = "asc"):
    return audit_csv(db, flt, sort, direction)


# -- helpers ---------------------------------------------------------------------------------

def _user(u) -> AdminUser:
    return AdminUser(id=u.id, login=u.login, name=u.name, email=u.email, user_type=u.user_type,
                     account_an8=u.account_an8, active=u.active, created_at=u.created_at)


def _link(request: Request, link: us.SetPasswordLink) -> SetPasswordLinkOut:
    return SetPasswordLinkOut(url=str(request.base_url).rstrip("/") + link.path(), expires_at=link.expires_at)


def _account(a) -> AccountOut:
    return AccountOut(an8=a.an8, name=a.name, city=a.city, state=a.state, country=a.country)


def _preview(p: rs.Preview) -> PreviewOut:
    return PreviewOut(check=FilterCheckOut(**p.check.as_dict()), count=p.count,
                      accounts=[_account(a) for a in p.accounts], kind=p.kind, reason=p.reason)


def _restriction(row: rs.RepRestriction) -> RestrictionOut:
    return RestrictionOut(rep_id=row.rep.id, login=row.rep.login, name=row.rep.name, user_type=row.rep.user_type,
                          active=row.rep.active, filter_text=row.filter_text, changed_by=row.changed_by,
                          changed_at=row.changed_at, kind=row.kind, reason=row.reason, account_count=row.count,
                          valid=not row.invalid)


def _one(db, jde, wwa, rep) -> RestrictionOut:
    saved = rs.get_restriction(db, rep=rep)
    now = rs.rep_preview(db, jde.conn, wwa=wwa, rep=rep, limit=1)
    return RestrictionOut(rep_id=rep.id, login=rep.login, name=rep.name, user_type=rep.user_type, active=rep.active,
                          filter_text=saved.filter_text if saved else None,
                          changed_by=saved.changed_by if saved else None,
                          changed_at=saved.changed_at if saved else None,
                          kind=now.kind, reason=now.reason, account_count=now.count, valid=now.check.ok)


def _change(c) -> ChangeOut:
    return ChangeOut(id=c.id, rep_id=c.rep_id, old_filter=c.old_filter, new_filter=c.new_filter,
                     changed_by=c.changed_by, changed_at=c.changed_at, source=c.source)


def _line(x: txlog.LogLine) -> LogLineOut:
    return LogLineOut(seq=x.seq, at=x.at, csr=x.rep_login, csr_name=x.rep_name, account=x.account, action=x.action,
                      outcome=x.outcome, object=x.object, description=x.description, detail=x.detail,
                      order_id=x.order_id)
