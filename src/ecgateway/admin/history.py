"""Every change of EC_Impersonate_Restrictions made through the ORM lands in the history.

The admin console records its own changes with their source (editor, import, revert...);
this hook catches the others too (`ecgateway restrictions set/clear`, any code calling the
accounts API), so the history holds every change, not only the console's. A session marks
its changes with `mark(session, by=..., source=...)`; unmarked changes are recorded with the
row's changed_by and the source "outside the admin console".
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ecgateway.admin.models import RestrictionChange
from ecgateway.clock import utcnow
from ecgateway.portal.models import ImpersonateRestriction

_BY = "ecgw_restriction_by"
_SOURCE = "ecgw_restriction_source"
_LAST = "ecgw_restriction_last_change"
OUTSIDE = "outside the admin console"


def mark(session: Session, *, by: str, source: str) -> None:
    """Who makes the restriction changes of this session's next flush, and from where."""
    session.info[_BY] = by
    session.info[_SOURCE] = source
    session.info.pop(_LAST, None)


def unmark(session: Session) -> RestrictionChange | None:
    """Forget the mark; returns the last change recorded while it was set."""
    session.info.pop(_BY, None)
    session.info.pop(_SOURCE, None)
    return session.info.pop(_LAST, None)


@event.listens_for(Session, "before_flush")
def _record_restriction_changes(session: Session, _flush_context, _instances) -> None:
    for row in list(session.new):
        if isinstance(row, ImpersonateRestriction):
            _record(session, row.rep_id, None, row.filter_text, row.changed_by)
    for row in list(session.dirty):
        if isinstance(row, ImpersonateRestriction):
            changes = inspect(row).attrs.filter_text.history
            if changes.deleted and changes.deleted[0] != row.filter_text:
                _record(session, row.rep_id, changes.deleted[0], row.filter_text, row.changed_by)
    for row in list(session.deleted):
        if isinstance(row, ImpersonateRestriction):
            changes = inspect(row).attrs.filter_text.history
            old = changes.deleted[0] if changes.deleted else row.filter_text
            _record(session, row.rep_id, old, None, "")


def _record(session: Session, rep_id: int, old: str | None, new: str | None, row_by: str) -> None:
    by = session.info.get(_BY) or row_by or "unknown"
    change = RestrictionChange(rep_id=rep_id, old_filter=old, new_filter=new, changed_by=by[:64],
                               changed_at=utcnow(), source=session.info.get(_SOURCE, OUTSIDE)[:120])
    session.add(change)
    session.info[_LAST] = change
