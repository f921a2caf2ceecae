"""The e-mail outbox: one row per message, committed in the transaction of the action it tells of."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecgateway.clock import utcnow
from ecgateway.db import UtcDateTime
from ecgateway.portal.models import Base

MAIL_PENDING = "pending"
MAIL_SENT = "sent"
MAIL_DEAD = "dead"  # the SMTP server refused it for good (e.g. 550 no such mailbox): kept, never retried


class EmailMessage(Base):
    """A rendered message waiting for the sender, or the record that it went."""

    __tablename__ = "ec_email_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254), nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    text_body: Mapped[str] = mapped_column(Text, nullable=False)
    html_body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=MAIL_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    # A sender's lease on the row, as the order relay's: another sender takes it only after it ran out.
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    message_id: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_ec_email_outbox_due", "state", "next_attempt_at"),
        CheckConstraint("state IN ('pending','sent','dead')", name="ck_ec_email_outbox_state"),
    )
