"""Admin tables: single-use set-password links (the restriction history is in portal.models)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ecgateway.clock import utcnow
from ecgateway.db import UtcDateTime
from ecgateway.portal.models import Base


class SetPasswordToken(Base):
    """A single-use, expiring link that lets a new user choose a password. Only its SHA-256 is kept."""

    __tablename__ = "ec_set_password_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SupervisorAlert(Base):
    """A rep whose refused attempts within one hour reached the threshold (ECGW_SUPERVISOR_ALERT_REFUSALS).

    Kept so that each crossing is raised, and e-mailed to the admins, once: a rep already alerted
    in the last hour gets no second alert until the count crosses the threshold again after it.
    """

    __tablename__ = "ec_supervisor_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    __table_args__ = (Index("ix_ec_supervisor_alerts_rep_id", "rep_id", "first_seq", unique=True),)

    rep_id: Mapped[int] = mapped_column(Integer, nullable=False)  # users.id (kept if the user goes)
    rep_login: Mapped[str] = mapped_column(String(64), nullable=False)
    refusals: Mapped[int] = mapped_column(Integer, nullable=False)  # in the hour when raised
    threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    first_seq: Mapped[int] = mapped_column(Integer, nullable=False)  # the audit entries of that hour
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    first_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    raised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
