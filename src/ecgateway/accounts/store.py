"""EC_Impersonate_Restrictions: read, set (validated first) and clear a rep's filter."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.accounts.policy import Policy
from ecgateway.accounts.restrictions import validate_filter
from ecgateway.auth.roles import is_rep
from ecgateway.clock import utcnow
from ecgateway.config import INTERNAL_TYPES
from ecgateway.errors import GatewayError
from ecgateway.portal.models import ImpersonateRestriction, User


class NotARepError(GatewayError, ValueError):
    """Restrictions belong to internal reps only; the message names the user and type."""


def get_restriction(portal: Session, *, rep: User) -> ImpersonateRestriction | None:
    """The rep's restriction row, read from the database (not from the session's cache)."""
    statement = sa.select(ImpersonateRestriction).where(ImpersonateRestriction.rep_id == rep.id)
    return portal.scalars(statement.execution_options(populate_existing=True)).first()


def set_restriction(
    portal: Session, *, rep: User, filter_text: str, changed_by: str, policy: Policy | None = None
) -> ImpersonateRestriction:
    """Validate filter_text and save it as the rep's restriction; the caller commits.

    Raises RestrictionError (nothing saved) when the filter is refused, NotARepError when
    the user is not one of the internal rep types.
    """
    if not is_rep(rep):
        raise NotARepError(f"{rep.login} has user type {rep.user_type}; restrictions are for {', '.join(INTERNAL_TYPES)}")
    text = filter_text.strip()
    validate_filter(text, policy=policy)
    row = get_restriction(portal, rep=rep)
    if row is None:
        row = ImpersonateRestriction(rep_id=rep.id, filter_text=text, changed_by=changed_by)
        portal.add(row)
    row.filter_text = text
    row.changed_by = changed_by
    row.changed_at = utcnow()
    portal.flush()
    return row


def clear_restriction(portal: Session, *, rep: User) -> bool:
    """Remove the rep's restriction (the rep then gets the default); True when one existed."""
    row = get_restriction(portal, rep=rep)
    if row is None:
        return False
    portal.delete(row)
    portal.flush()
    return True
