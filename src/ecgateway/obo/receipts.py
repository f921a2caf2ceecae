"""The account's setting for receipts, and the receipt itself: a short e-mail to the account's
customer users when an on-behalf-of session that changed something ends (default off).

The setting is the customer's own: a rep acting on behalf may not change it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecgateway.audit import record
from ecgateway.auth.models import AccountSetting
from ecgateway.auth.roles import CUSTOMER
from ecgateway.clock import utcnow
from ecgateway.errors import GatewayError
from ecgateway.obo.context import ActingContext


class SettingRefused(GatewayError):
    def __init__(self, message: str, status: int = 403):
        super().__init__(message, status=status)


def receipts_on(db: Session, *, an8: int) -> bool:
    """Whether the account asked for a receipt of each on-behalf-of session (no row: off)."""
    row = db.get(AccountSetting, an8)
    return bool(row and row.obo_receipts)


def set_receipts(db: Session, *, ctx: ActingContext, on: bool) -> bool:
    """The signed-in customer turns receipts on or off for their own account; audited. Returns the value."""
    if ctx.on_behalf or ctx.actor.user_type != CUSTOMER or ctx.subject_an8 is None:
        raise SettingRefused("Only the account's own customer users may change whether they get receipts of "
                             "representatives' sessions.")
    an8 = ctx.subject_an8
    row = db.get(AccountSetting, an8)
    if row is None:
        row = AccountSetting(an8=an8, obo_receipts=on, changed_by=ctx.actor.login, changed_at=utcnow())
        db.add(row)
    else:
        row.obo_receipts, row.changed_by, row.changed_at = on, ctx.actor.login, utcnow()
    record(db, actor=ctx.actor, subject_an8=an8, action="account.receipts", object=f"account {an8}", outcome="ok",
           detail={"obo_receipts": on})
    db.commit()
    return on
