"""The account's setting for receipts, and the receipt itself: a short e-mail to the account's
customer users when an on-behalf-of session that changed something ends (default off).

The setting is the customer's own: a rep acting on behalf may not change it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecgateway.audit import record
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import AccountSetting, OboReceipt
from ecgateway.auth.roles import CUSTOMER
from ecgateway.clock import as_utc, utcnow
from ecgateway.config import Settings
from ecgateway.errors import GatewayError
from ecgateway.mail import MailSender, enqueue
from ecgateway.mail.outbox import SendResult
from ecgateway.obo import history
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import User

log = logging.getLogger(__name__)
DEFAULT_BASE = "http://127.0.0.1:8000"  # the receipts' link without ECGW_PUBLIC_URL (as mail.link_url)


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


def queue_due(db: Session, *, settings: Settings, base_url: str,
              account_name: Callable[[int], str] | None = None, batch: int = 50) -> int:
    """Queue the receipt of every ended session of an account that asked for receipts and has none yet.

    Reads the audit's obo.end entries (every way a session ends writes one), so it may be called
    from anywhere after a session ended; each end gets one ec_obo_receipts row (unique end_seq),
    also when nothing changed or nobody has an address, so it is looked at once. Returns mails queued.
    """
    done_seqs = select(OboReceipt.end_seq)
    ends = db.scalars(
        select(AuditEntry).join(AccountSetting, AccountSetting.an8 == AuditEntry.subject_an8)
        .where(AuditEntry.action == "obo.end", AuditEntry.outcome == "ok", AccountSetting.obo_receipts.is_(True),
               AuditEntry.at >= AccountSetting.changed_at, AuditEntry.seq.not_in(done_seqs))
        .order_by(AuditEntry.seq).limit(batch)).all()
    queued = 0
    for end in ends:
        an8 = end.subject_an8
        start_seq = _start_seq(end)
        found = history.visit(db, an8=an8, start_seq=start_seq) if start_seq else None
        recipients = []
        if found is not None and found.changed_something:
            recipients = list(db.scalars(select(User).where(
                User.account_an8 == an8, User.user_type == CUSTOMER, User.active.is_(True), User.email != "")))
        for user in recipients:
            enqueue(db, user.email, "obo_receipt", {
                "name": user.name or user.login, "an8": an8,
                "account_name": account_name(an8) if account_name else f"account {an8}",
                "rep_name": found.rep_name, "rep_role": found.rep_role,
                "started_at": found.started_at.strftime("%Y-%m-%d %H:%M"),
                "ended_at": as_utc(end.at).strftime("%Y-%m-%d %H:%M"),
                "reason": found.reason or "none given", "done": [d.text for d in found.done],
                "history_link": base_url.rstrip("/") + "/account/access-history",
            }, settings=settings)
        db.add(OboReceipt(end_seq=end.seq, an8=an8, recipients=len(recipients), created_at=utcnow()))
        try:
            db.commit()
        except IntegrityError:  # another process took this end first
            db.rollback()
            continue
        queued += len(recipients)
    return queued


def _start_seq(end: AuditEntry) -> int | None:
    try:
        value = json.loads(end.detail or "{}").get("start_seq")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


@dataclass
class ReceiptingMailSender(MailSender):
    """The mail sender of each gateway process: every pass first queues the receipts now due, so
    a session ended any way (by the rep, the time box, sign-out, expiry, an admin) gets its receipt."""

    account_name: Callable[[int], str] | None = None

    def run_once(self) -> SendResult:
        try:
            with self.sessions() as db:
                queue_due(db, settings=self.settings, base_url=self.settings.public_url or DEFAULT_BASE,
                          account_name=self.account_name)
        except Exception:  # noqa: BLE001 - a failed look for receipts must not stop the mail
            log.exception("receipts: looking for ended sessions failed; trying again on the next pass")
        return super().run_once()
