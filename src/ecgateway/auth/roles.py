"""Who may do what: user types, and the one rule for acting on behalf. Deny by default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecgateway.config import INTERNAL_TYPES

if TYPE_CHECKING:
    from ecgateway.portal.models import User

ADMIN = "Admin"
CUSTOMER = "Customer"

# Route access levels, used by web.deps and the authorization matrix test.
#   public    anyone, signed in or not
#   user      any signed-in, active user
#   rep       the internal types (Internal_AR, Internal_SalesRep, Internal_CustomerService)
#   admin     Admin only
#   customer  Customer only
#   shopper   whoever has an effective account: a customer, or a rep acting on behalf
ACCESS_LEVELS = ("public", "user", "rep", "admin", "customer", "shopper")


def is_rep(who: User | str | None) -> bool:
    """An internal representative (AR, sales, customer service), given a user or a user type."""
    user_type = who if isinstance(who, str) else getattr(who, "user_type", None)
    return user_type in INTERNAL_TYPES


def is_staff(who: User | str | None) -> bool:
    """A rep or an admin: the people who work for the seller, not for a customer."""
    user_type = who if isinstance(who, str) else getattr(who, "user_type", None)
    return is_rep(user_type) or user_type == ADMIN


def may_act_on_behalf(user: User | None) -> bool:
    """Only active users of the three internal types; never Admin, never Customer."""
    return user is not None and user.active and is_rep(user)


def allowed(level: str, user: User | None, *, on_behalf: bool = False) -> bool:
    """Whether user passes an access level; unknown levels deny."""
    if level == "public":
        return True
    if user is None or not user.active:
        return False
    if level == "user":
        return True
    if level == "rep":
        return is_rep(user)
    if level == "admin":
        return user.user_type == ADMIN
    if level == "customer":
        return user.user_type == CUSTOMER
    if level == "shopper":
        return user.user_type == CUSTOMER or (is_rep(user) and on_behalf)
    return False
