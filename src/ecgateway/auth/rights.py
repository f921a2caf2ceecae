"""Rights granted per user by an admin, beyond what the user type gives (deny by default).

`lists.create` lets a rep save their on-behalf cart as a managed list for the customer. A right
only ever adds to a user type's rights: a right of a rep is ignored once the user is no longer a rep.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.auth.models import RIGHTS, UserRight
from ecgateway.clock import utcnow


def has_right(db: Session, *, user_id: int, right: str) -> bool:
    """Whether the user holds the right now (read on every request: a revoke takes effect at once)."""
    return db.scalar(sa.select(sa.func.count()).select_from(UserRight)
                     .where(UserRight.user_id == user_id, UserRight.right == right)) > 0


def rights_of(db: Session, *, user_id: int) -> list[str]:
    return sorted(db.scalars(sa.select(UserRight.right).where(UserRight.user_id == user_id)))


def set_right(db: Session, *, user_id: int, right: str, granted: bool, by: str) -> bool:
    """Grant or revoke; True when something changed. The caller audits and commits."""
    if right not in RIGHTS:
        raise ValueError(f"unknown right {right!r}; rights: {', '.join(RIGHTS)}")
    held = has_right(db, user_id=user_id, right=right)
    if granted and not held:
        db.add(UserRight(user_id=user_id, right=right, granted_by=by, granted_at=utcnow()))
        db.flush()
        return True
    if not granted and held:
        db.execute(sa.delete(UserRight).where(UserRight.user_id == user_id, UserRight.right == right))
        return True
    return False
