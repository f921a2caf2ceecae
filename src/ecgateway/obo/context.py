"""The acting context passed explicitly into every service (never read from a global).

Modelled on RFC 8693 delegation: `subject` is whose account is acted on (`sub`), `actor`
is who is acting (`act`). When a user acts for themself, actor and subject describe the
same party and `on_behalf` is False.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecgateway.portal.models import User


@dataclass(frozen=True)
class Actor:
    """The signed-in user, always."""

    user_id: int
    login: str
    name: str
    email: str
    user_type: str

    @classmethod
    def of(cls, user: User) -> Actor:
        """The actor a portal user is when they act (audit entries name them by these)."""
        return cls(user_id=user.id, login=user.login, name=user.name, email=user.email, user_type=user.user_type)


@dataclass(frozen=True)
class ActingContext:
    actor: Actor
    subject_an8: int | None  # the account served (F0150 parent AN8); None: anonymous or staff without one
    billing_an8: int | None = None  # the borrowed billing address (sold-to)
    shipping_an8: int | None = None  # the chosen shipping address (ship-to)
    on_behalf: bool = False  # True when a rep acts for a customer account

    @property
    def cart_owner(self) -> int | None:
        """Carts are kept per (account, acting rep or none): the rep's id while on behalf."""
        return self.actor.user_id if self.on_behalf else None
