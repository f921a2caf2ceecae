"""Registering a contact on behalf of an account: a rep with the register right creates a portal
user (Customer) for a contact of an account they may serve, checked with the rep's compiled
restriction exactly as the picker checks it. The contact gets a single-use, expiring
set-password link by e-mail (ecgateway.mail, in this transaction); the rep never sets or sees a
password or the link. Reserved types (the internal ones and Admin) are never created this way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecgateway.accounts import WorkWithAccounts, may_act, rep_scope
from ecgateway.admin.users import _new_link
from ecgateway.audit import record
from ecgateway.auth import users as portal_users
from ecgateway.auth.models import RIGHT_REGISTER
from ecgateway.auth.rights import has_right
from ecgateway.auth.roles import CUSTOMER, may_act_on_behalf
from ecgateway.config import INTERNAL_TYPES, Settings
from ecgateway.errors import GatewayError
from ecgateway.jde.addresses import postal_addresses
from ecgateway.jde.handle import Jde
from ecgateway.mail import enqueue
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import User

RESERVED_TYPES = (*INTERNAL_TYPES, "Admin")
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_LOGIN = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")


class RegistrationRefused(GatewayError):
    """A registration that is refused; message for the rep, field where the form is wrong."""

    def __init__(self, message: str, status: int = 422, field: str | None = None):
        super().__init__(message, status=status, field=field)


@dataclass(frozen=True)
class Registered:
    user: User
    link_expires_at: dt.datetime
    mailed_to: str


def register_contact(db: Session, jde: Jde, *, wwa: WorkWithAccounts, ctx: ActingContext, rep: User, an8: int,
                     name: str, email: str, login: str = "", user_type: str = CUSTOMER,
                     settings: Settings, base_url: str) -> Registered:
    """Create the contact's user without a password and e-mail their set-password link; audited with
    both names. A refusal is audited and committed before RegistrationRefused is raised."""
    name, email, login = " ".join((name or "").split()), (email or "").strip(), (login or "").strip()
    if not may_act_on_behalf(rep) or not has_right(db, user_id=rep.id, right=RIGHT_REGISTER):
        _refuse(db, ctx, an8, "no register right")
        raise RegistrationRefused("Registering contacts needs the register right, which an administrator grants on "
                                  "the users page. Ask an administrator.", 403)
    if not may_act(jde.conn, wwa=wwa, scope=rep_scope(db, rep=rep, wwa=wwa), an8=an8):
        _refuse(db, ctx, an8, "account not in the rep's list")
        raise RegistrationRefused(f"Account {an8} is not in your list of accounts, or does not exist. Pick an "
                                  "account from your list.", 404)
    if user_type != CUSTOMER:
        _refuse(db, ctx, an8, f"reserved user type {user_type[:40]}")
        kind = "an internal or administrator type" if user_type in RESERVED_TYPES else "not a type of user"
        raise RegistrationRefused(f"{user_type[:40]!r} is {kind}: contacts registered for an account are always "
                                  "customer users. Administrators create staff users on the users page.",
                                  422, "user_type")
    if not name:
        raise RegistrationRefused("Type the contact's name.", 422, "name")
    if len(name) > 120:
        raise RegistrationRefused(f"The name has {len(name)} characters; use at most 120.", 422, "name")
    if len(email) > 254 or not _EMAIL.match(email):
        raise RegistrationRefused(f"{email[:60]!r} is not an e-mail address; type it as name@example.com.", 422,
                                  "email")
    login = login or email.lower()
    if not _LOGIN.match(login):
        raise RegistrationRefused("The login may hold letters, digits and . _ @ + - only, at most 64; leave it "
                                  "empty to use the e-mail address.", 422, "login")
    taken = db.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if taken is not None:
        _refuse(db, ctx, an8, "e-mail already registered")
        raise RegistrationRefused(f"There is already a portal user with the e-mail address {email}. Each person "
                                  "has one user: if they need this account too, ask an administrator.", 409, "email")
    if db.scalar(select(User.id).where(func.lower(User.login) == login.lower())) is not None:
        raise RegistrationRefused(f"The login {login!r} is taken; type another login for the contact.", 409, "login")
    user = portal_users.create_user(db, login=login, name=name, user_type=CUSTOMER, email=email, password=None,
                                    account_an8=an8)
    link = _new_link(db, ctx=ctx, user=user)
    account = postal_addresses(jde, an8s=[an8]).get(an8)
    enqueue(db, email, "contact_registered", {
        "name": name, "login": login, "account_name": account.name if account else f"account {an8}", "an8": an8,
        "rep_name": rep.name, "link": base_url.rstrip("/") + link.path(),
        "expires_at": link.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    }, settings=settings)
    record(db, actor=ctx.actor, subject_an8=an8, action="contact.register", object=f"user {login}", outcome="ok",
           detail={"user_id": user.id, "contact_login": login, "contact_name": name, "email": email,
                   "on_behalf": ctx.on_behalf})
    db.commit()
    return Registered(user=user, link_expires_at=link.expires_at, mailed_to=email)


def may_register(db: Session, *, rep: User | None) -> bool:
    """Whether to offer the form: a rep holding the register right."""
    return rep is not None and may_act_on_behalf(rep) and has_right(db, user_id=rep.id, right=RIGHT_REGISTER)


def _refuse(db: Session, ctx: ActingContext, an8: int, why: str) -> None:
    # Nothing is written before a refusal; no rollback either, so the page drawing the error can
    # still read the signed-in user (a rollback would expire it).
    record(db, actor=ctx.actor, subject_an8=an8, action="contact.register", object=f"account {an8}",
           outcome="refused", detail={"reason": why})
    db.commit()
