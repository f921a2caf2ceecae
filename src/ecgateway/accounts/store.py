"""EC_Impersonate_Restrictions: read, set (validated first) and clear a rep's filter.

Every change is written to the restriction history here, by the functions that make it, with who
made it and from where (the admin console passes its source; the CLI and other callers get
OUTSIDE_CONSOLE), so the history holds every change whichever way it was made.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.accounts.policy import Policy
from ecgateway.accounts.restrictions import validate_filter
from ecgateway.auth.roles import is_rep
from ecgateway.clock import utcnow
from ecgateway.config import INTERNAL_TYPES
from ecgateway.errors import GatewayError
from ecgateway.portal.models import ImpersonateRestriction, RestrictionChange, User

OUTSIDE_CONSOLE = "outside the admin console"


class NotARepError(GatewayError, ValueError):
    """Restrictions belong to internal reps only; the message names the user and type."""


def get_restriction(portal: Session, *, rep: User) -> ImpersonateRestriction | None:
    """The rep's restriction row, read from the database (not from the session's cache)."""
    statement = sa.select(ImpersonateRestriction).where(ImpersonateRestriction.rep_id == rep.id)
    return portal.scalars(statement.execution_options(populate_existing=True)).first()


def set_restriction(
    portal: Session, *, rep: User, filter_text: str, changed_by: str, policy: Policy | None = None,
    source: str = OUTSIDE_CONSOLE,
) -> ImpersonateRestriction:
    """Validate filter_text and save it as the rep's restriction, with its history row; the caller commits.

    Raises RestrictionError (nothing saved) when the filter is refused, NotARepError when
    the user is not one of the internal rep types.
    """
    if not is_rep(rep):
        raise NotARepError(f"{rep.login} has user type {rep.user_type}; restrictions are for {', '.join(INTERNAL_TYPES)}")
    text = filter_text.strip()
    validate_filter(text, policy=policy)
    row = get_restriction(portal, rep=rep)
    old = row.filter_text if row is not None else None
    if row is None:
        row = ImpersonateRestriction(rep_id=rep.id, filter_text=text, changed_by=changed_by)
        portal.add(row)
    if old != text:
        _record_change(portal, rep=rep, old=old, new=text, by=changed_by, source=source)
    row.filter_text = text
    row.changed_by = changed_by
    row.changed_at = utcnow()
    portal.flush()
    return row


def clear_restriction(portal: Session, *, rep: User, changed_by: str = "", source: str = OUTSIDE_CONSOLE) -> bool:
    """Remove the rep's restriction (the rep then gets the default), with its history row; True when one existed."""
    row = get_restriction(portal, rep=rep)
    if row is None:
        return False
    _record_change(portal, rep=rep, old=row.filter_text, new=None, by=changed_by, source=source)
    portal.delete(row)
    portal.flush()
    return True


def last_change(portal: Session, *, rep: User) -> RestrictionChange | None:
    """The newest history row of the rep's restriction."""
    return portal.scalars(sa.select(RestrictionChange).where(RestrictionChange.rep_id == rep.id)
                          .order_by(RestrictionChange.id.desc()).limit(1)).first()


def _record_change(portal: Session, *, rep: User, old: str | None, new: str | None, by: str, source: str) -> None:
    portal.add(RestrictionChange(rep_id=rep.id, old_filter=old, new_filter=new, changed_by=(by or "unknown")[:64],
                                 changed_at=utcnow(), source=source[:120]))
