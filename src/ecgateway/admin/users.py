"""Admin: portal users. Create with a set-password link, change type, deactivate.

The admin never sets or sees a password: a new user (or one who lost theirs) gets a
single-use link that expires; only the link's SHA-256 is stored. Changing a user's type
or deactivating them ends all their sessions, and with them any on-behalf-of session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from ecgateway.admin.models import SetPasswordToken
from ecgateway.audit import record
from ecgateway.auth import users as portal_users
from ecgateway.auth.passwords import hash_password
from ecgateway.auth.roles import is_rep
from ecgateway.auth.sessions import end_user_sessions
from ecgateway.clock import utcnow
from ecgateway.config import INTERNAL_TYPES, USER_TYPES
from ecgateway.db import in_values
from ecgateway.errors import GatewayError
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import User

SET_PASSWORD_TTL = dt.timedelta(hours=72)
PASSWORD_MIN = 12
PASSWORD_MAX = 256
MAX_PAGE = 200


class AdminError(GatewayError, ValueError):
    """An admin action was refused; the message says what, where (field) and what to do."""

    def body(self) -> dict:
        return {**super().body(), "field": self.field}  # admin answers always name the field (or null)


class NotFound(AdminError):
    def __init__(self, message: str):
        super().__init__(message, status=404)


class DualRoleWarning(AdminError):
    """One person would be both Admin and an internal rep: they could widen their own list."""

    def __init__(self, message: str, conflicts: list[User]):
        super().__init__(message, field="user_type", status=409)
        self.conflicts = conflicts

    def body(self) -> dict:
        return {**super().body(), "conflicts": [u.login for u in self.conflicts]}


class DualRoleRefused(AdminError):
    """One person would be both Admin and an internal rep, and the setting ECGW_ALLOW_DUAL_ROLE is off."""

    def __init__(self, message: str, conflicts: list[User]):
        super().__init__(message, field="user_type", status=409)
        self.conflicts = conflicts

    def body(self) -> dict:
        return {**super().body(), "conflicts": [u.login for u in self.conflicts]}


@dataclass(frozen=True)
class SetPasswordLink:
    token: str  # shown once to the admin, inside the link; never stored
    expires_at: dt.datetime

    def path(self) -> str:
        """In the fragment: browsers never send it, so the token stays out of logs and Referers."""
        return f"/set-password#{self.token}"


@dataclass(frozen=True)
class NewUser:
    user: User
    link: SetPasswordLink
    warnings: tuple[str, ...] = ()


def list_users(portal: Session, *, q: str | None = None, user_type: str | None = None,
               active: bool | None = None, limit: int = 100, offset: int = 0) -> tuple[list[User], int]:
    """Users matching q (login, name or e-mail contains), newest login order; returns (page, total)."""
    stmt = select(User)
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.login).like(like), func.lower(User.name).like(like),
                              func.lower(User.email).like(like)))
    if user_type:
        if user_type not in USER_TYPES:
            raise AdminError(f"user type {user_type!r} is not one of {', '.join(USER_TYPES)}", field="user_type")
        stmt = stmt.where(User.user_type == user_type)
    if active is not None:
        stmt = stmt.where(User.active == active)
    total = portal.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    limit = max(1, min(limit, MAX_PAGE))
    rows = portal.scalars(stmt.order_by(User.login).limit(limit).offset(max(0, offset))).all()
    return list(rows), total


def get_user(portal: Session, *, user_id: int) -> User:
    user = portal.get(User, user_id)
    if user is None:
        raise NotFound(f"there is no user with id {user_id}; pick one from the users list")
    return user


def dual_role_conflicts(portal: Session, *, user_type: str, email: str, name: str,
                        exclude_user_id: int | None = None) -> list[User]:
    """Active users who look like the same person (same e-mail or name) holding the other side of Admin / rep."""
    if user_type == "Admin":
        other_types: tuple[str, ...] = INTERNAL_TYPES
    elif is_rep(user_type):
        other_types = ("Admin",)
    else:
        return []
    same_person = []
    if email.strip():
        same_person.append(func.lower(User.email) == email.strip().lower())
    if name.strip():
        same_person.append(func.lower(User.name) == name.strip().lower())
    if not same_person:
        return []
    stmt = select(User).where(User.active.is_(True), in_values(User.user_type, other_types), or_(*same_person))
    if exclude_user_id is not None:
        stmt = stmt.where(User.id != exclude_user_id)
    return list(portal.scalars(stmt.order_by(User.login)))


def same_person(*, user: User, other: User) -> bool:
    """Is other the same person as user: the same login, or the same e-mail or name (as dual_role_conflicts has it)?"""
    if user.id == other.id:
        return True
    email, name = (user.email or "").strip().lower(), (user.name or "").strip().lower()
    return bool((email and email == (other.email or "").strip().lower())
                or (name and name == (other.name or "").strip().lower()))


def check_dual_role(user_type: str, conflicts: list[User], *, allow: bool, acknowledged: bool) -> tuple[str, ...]:
    """Refuse one person holding Admin and a rep type, unless allowed (then it needs acknowledging); the warnings."""
    if not conflicts:
        return ()
    if not allow:
        others = ", ".join(f"{u.login} ({u.user_type})" for u in conflicts)
        side = "an Admin" if user_type == "Admin" else f"an {user_type}"
        raise DualRoleRefused(
            f"Refused: this person also signs in as {others}, and one person may not be both Admin and a rep "
            f"(they could widen their own list of accounts), so they cannot be made {side}. Use another person, "
            "or deactivate the other login first. (The setting ECGW_ALLOW_DUAL_ROLE=true allows it; that person "
            "still cannot change their own restriction.)", conflicts)
    message = dual_role_message(user_type, conflicts)
    if not acknowledged:
        raise DualRoleWarning(message, conflicts)
    return (message,)


def dual_role_message(user_type: str, conflicts: list[User]) -> str:
    others = ", ".join(f"{u.login} ({u.user_type})" for u in conflicts)
    side = "an Admin" if user_type == "Admin" else f"an {user_type}"
    return (f"Warning: making this person {side} while they also sign in as {others} lets one person be both "
            "Admin and a rep, so they could widen their own list of accounts. Use another person, deactivate "
            "the other login, or confirm that this is intended.")


AccountCheck = Callable[[int], bool]  # is this JDE number a customer account (the Work-with-Accounts base query)?


def create_user(portal: Session, *, ctx: ActingContext, login: str, name: str, user_type: str,
                email: str = "", account_an8: int | None = None,
                acknowledge_dual_role: bool = False, account_check: AccountCheck | None = None,
                allow_dual_role: bool = False) -> NewUser:
    """Add a user without a password and issue their set-password link; audited.

    account_check: for a Customer user, the account must be one of JDE's customer accounts."""
    _check_customer_account(user_type, account_an8, account_check)
    conflicts = dual_role_conflicts(portal, user_type=user_type, email=email, name=name)
    warnings = check_dual_role(user_type, conflicts, allow=allow_dual_role, acknowledged=acknowledge_dual_role)
    try:
        user = portal_users.create_user(portal, login=login, name=(name or login).strip(), user_type=user_type,
                                        email=email.strip(), password=None, account_an8=account_an8)
    except portal_users.UserError as exc:
        raise AdminError(f"{exc}; correct it and submit again", field=_field_of(str(exc))) from None
    link = _new_link(portal, ctx=ctx, user=user)
    record(portal, actor=ctx.actor, subject_an8=user.account_an8, action="admin.user_create",
           object=f"user {user.login}", outcome="ok",
           detail={"user_id": user.id, "user_type": user_type, "dual_role_confirmed": bool(warnings)})
    return NewUser(user=user, link=link, warnings=warnings)


def issue_set_password_link(portal: Session, *, ctx: ActingContext, user: User) -> SetPasswordLink:
    """A fresh link for user (earlier unused links stop working); audited."""
    if not user.active:
        raise AdminError(f"user {user.login} is deactivated; reactivate them before sending a set-password link",
                         field="active", status=409)
    link = _new_link(portal, ctx=ctx, user=user)
    record(portal, actor=ctx.actor, subject_an8=user.account_an8, action="admin.user_link",
           object=f"user {user.login}", outcome="ok", detail={"user_id": user.id})
    return link


def user_for_link(portal: Session, *, token: str, now: dt.datetime | None = None) -> User:
    """The user a set-password link belongs to, when it is unused, unexpired and the user active."""
    row = _token_row(portal, token)
    _check_token(row, now or _utcnow())
    user = portal.get(User, row.user_id)
    if user is None or not user.active:
        raise AdminError("this set-password link belongs to a user who is deactivated; ask an administrator",
                         status=410)
    return user


def set_password_with_link(portal: Session, *, token: str, password: str, confirm: str,
                           now: dt.datetime | None = None) -> User:
    """Set the user's password through their link; the link is then used up. Ends their sessions."""
    now = now or _utcnow()
    user = user_for_link(portal, token=token, now=now)
    _check_new_password(password, confirm, login=user.login)
    row = _token_row(portal, token)
    row.used_at = now
    user.password_hash = hash_password(password)
    end_user_sessions(portal, user_id=user.id, reason="password set")
    record(portal, actor=None, subject_an8=user.account_an8, action="auth.password_set",
           object=f"user {user.login}", outcome="ok", detail={"user_id": user.id, "through": "set-password link"})
    portal.flush()
    return user


def change_user_type(portal: Session, *, ctx: ActingContext, user: User, user_type: str,
                     account_an8: int | None = None, acknowledge_dual_role: bool = False,
                     account_check: AccountCheck | None = None, allow_dual_role: bool = False) -> int:
    """Give user another type; ends their sessions (returns how many). Audited."""
    if user_type not in USER_TYPES:
        raise AdminError(f"user type {user_type!r} is not one of {', '.join(USER_TYPES)}; pick one from the list",
                         field="user_type")
    if user.id == ctx.actor.user_id:
        raise AdminError("you cannot change your own user type; ask another administrator", field="user_type",
                         status=409)
    if user_type == "Customer" and account_an8 is None:
        raise AdminError("a Customer user needs the JDE account number they belong to; enter it", field="account_an8")
    _check_customer_account(user_type, account_an8, account_check)
    if user_type == user.user_type and (user_type != "Customer" or account_an8 == user.account_an8):
        raise AdminError(f"user {user.login} already is {user_type}; nothing changed", field="user_type", status=409)
    conflicts = dual_role_conflicts(portal, user_type=user_type, email=user.email, name=user.name,
                                    exclude_user_id=user.id)
    check_dual_role(user_type, conflicts, allow=allow_dual_role, acknowledged=acknowledge_dual_role)
    old = user.user_type
    user.user_type = user_type
    user.account_an8 = account_an8 if user_type == "Customer" else None
    ended = end_user_sessions(portal, user_id=user.id, reason="user type changed")
    record(portal, actor=ctx.actor, subject_an8=user.account_an8, action="admin.user_type",
           object=f"user {user.login}", outcome="ok",
           detail={"user_id": user.id, "from": old, "to": user_type, "signed_out_everywhere": ended,
                   "dual_role_confirmed": bool(conflicts)})
    portal.flush()
    return ended


def set_active(portal: Session, *, ctx: ActingContext, user: User, active: bool, allow_dual_role: bool = False) -> int:
    """Deactivate (ends every session, returns how many) or reactivate a user. Audited."""
    if user.id == ctx.actor.user_id and not active:
        raise AdminError("you cannot deactivate yourself; ask another administrator", field="active", status=409)
    if user.active == active:
        state = "active" if active else "deactivated"
        raise AdminError(f"user {user.login} is already {state}; nothing changed", field="active", status=409)
    if active:
        conflicts = dual_role_conflicts(portal, user_type=user.user_type, email=user.email, name=user.name,
                                        exclude_user_id=user.id)
        if conflicts and not allow_dual_role:
            check_dual_role(user.user_type, conflicts, allow=False, acknowledged=False)
    user.active = active
    ended = 0 if active else end_user_sessions(portal, user_id=user.id, reason="user deactivated")
    if not active:
        portal.execute(delete(SetPasswordToken).where(SetPasswordToken.user_id == user.id,
                                                      SetPasswordToken.used_at.is_(None)))
    record(portal, actor=ctx.actor, subject_an8=user.account_an8,
           action="admin.user_reactivate" if active else "admin.user_deactivate",
           object=f"user {user.login}", outcome="ok", detail={"user_id": user.id, "signed_out_everywhere": ended})
    portal.flush()
    return ended


# -- helpers -------------------------------------------------------------------------------

def _check_customer_account(user_type: str, account_an8: int | None, check: AccountCheck | None) -> None:
    if user_type != "Customer" or account_an8 is None or check is None:
        return
    if not check(account_an8):
        raise AdminError(f"{account_an8} is not a customer account in JDE (a parent account of search type C); "
                         "check the number in Work with Accounts", field="account_an8")


def _utcnow() -> dt.datetime:
    return utcnow()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _new_link(portal: Session, *, ctx: ActingContext, user: User) -> SetPasswordLink:
    portal.execute(delete(SetPasswordToken).where(SetPasswordToken.user_id == user.id,
                                                  SetPasswordToken.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    now = _utcnow()
    expires = now + SET_PASSWORD_TTL
    portal.add(SetPasswordToken(user_id=user.id, token_hash=_hash(token), created_by=ctx.actor.login,
                                created_at=now, expires_at=expires))
    portal.flush()
    return SetPasswordLink(token=token, expires_at=expires)


def _token_row(portal: Session, token: str) -> SetPasswordToken:
    row = None
    if token and len(token) <= 200:
        row = portal.scalar(select(SetPasswordToken).where(SetPasswordToken.token_hash == _hash(token)))
    if row is None:
        raise AdminError("this set-password link is not valid (mistyped, or replaced by a newer link); "
                         "ask an administrator for a new one", status=404)
    return row


def _check_token(row: SetPasswordToken, now: dt.datetime) -> None:
    if row.used_at is not None:
        raise AdminError("this set-password link was already used; sign in with your password, or ask an "
                         "administrator for a new link", status=410)
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if now >= expires:
        raise AdminError("this set-password link has expired; ask an administrator for a new one", status=410)


def _check_new_password(password: str, confirm: str, *, login: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AdminError(f"the password has {len(password)} characters; use at least {PASSWORD_MIN}",
                         field="password")
    if len(password) > PASSWORD_MAX:
        raise AdminError(f"the password is longer than {PASSWORD_MAX} characters; use a shorter one",
                         field="password")
    if password.strip().lower() == login.lower():
        raise AdminError("the password must not be your login; choose another", field="password")
    if password != confirm:
        raise AdminError("the two passwords differ; type the same password in both fields", field="confirm")


def _field_of(message: str) -> str | None:
    for needle, field in (("login", "login"), ("user type", "user_type"), ("account", "account_an8")):
        if needle in message:
            return field
    return None
