"""Granting and taking away per-user rights (auth/rights.py), from the admin console; audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecgateway.admin.users import AdminError
from ecgateway.audit.service import record
from ecgateway.auth.models import RIGHT_LISTS, RIGHT_REGISTER, RIGHTS
from ecgateway.auth.rights import rights_of, set_right
from ecgateway.auth.roles import is_rep
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import User

# What each right means, in the admin's words (the users page shows them).
RIGHT_WORDS = {
    RIGHT_LISTS: "Prepare lists for customers: save the cart, while acting on behalf of an account, as a list the "
                 "customer accepts or rejects",
    RIGHT_REGISTER: "Register contacts: create customer users for contacts of the accounts in their list; each "
                    "contact chooses their password through an e-mailed link",
}


def user_rights(portal: Session, *, user: User) -> list[str]:
    return rights_of(portal, user_id=user.id)


def set_user_right(portal: Session, *, ctx: ActingContext, user: User, right: str, granted: bool) -> bool:
    """Grant or take away one right; True when it changed. Takes effect on the user's next request."""
    if right not in RIGHTS:
        raise AdminError(f"there is no right {right!r}; the rights are {', '.join(RIGHTS)}", field="right")
    if granted and right in (RIGHT_LISTS, RIGHT_REGISTER) and not is_rep(user):
        what = "prepare lists for customers" if right == RIGHT_LISTS else "register contacts of accounts"
        raise AdminError(f"{user.login} is {user.user_type}: only representatives (AR, sales, customer service) "
                         f"{what}", field="right")
    changed = set_right(portal, user_id=user.id, right=right, granted=granted, by=ctx.actor.login)
    if changed:
        record(portal, actor=ctx.actor, subject_an8=None, action="admin.user_right", object=f"user {user.login}",
               outcome="ok", detail={"user_id": user.id, "right": right, "granted": "granted" if granted else "taken away"})
    return changed
