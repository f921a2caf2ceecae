"""Admin tables: single-use set-password links, the supervisor's alerts and its daily roll-up (the restriction
history is in portal.models)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
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


# -- the supervisor's daily roll-up (admin/rollup.py; migration 0070_supervisor_rollup) ----------------
# Per UTC day, the figures of the audit entries numbered up to ec_supervisor_rollup.last_seq; the
# entries after it are counted live. Rows are only written by rollup.catch_up (the relay loop).


class SupervisorRollup(Base):
    """One row (id 1): the audit entries numbered up to last_seq are in the daily tables below."""

    __tablename__ = "ec_supervisor_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rolled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SupervisorDaySessions(Base):
    """On-behalf-of sessions started (obo.start / obo.change, ok) per UTC day, actor login and account."""

    __tablename__ = "ec_supervisor_day_sessions"
    __table_args__ = (Index("ix_ec_supervisor_day_sessions_day", "day", "actor_login", "subject_an8", "sessions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    actor_login: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_an8: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sessions: Mapped[int] = mapped_column(Integer, nullable=False)


class SupervisorDayReps(Base):
    """The same sessions per UTC day and actor login only (the accounts summed): the sessions-per-day figure
    reads one row per day and rep instead of one per day, rep and account."""

    __tablename__ = "ec_supervisor_day_reps"
    __table_args__ = (Index("ix_ec_supervisor_day_reps_day", "day", "actor_login", "sessions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    actor_login: Mapped[str] = mapped_column(String(64), nullable=False)
    sessions: Mapped[int] = mapped_column(Integer, nullable=False)


class SupervisorDayOrders(Base):
    """Orders placed (order.place, ok) per UTC day, channel ("on behalf" / "customer") and currency."""

    __tablename__ = "ec_supervisor_day_orders"
    __table_args__ = (Index("ix_ec_supervisor_day_orders_day", "day", "channel", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    currency: Mapped[str] = mapped_column(String(64), nullable=False)
    orders: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_e4: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the amount in ten-thousandths: exact


class SupervisorDayRefusals(Base):
    """Refused entries per UTC day and actor (user id): refused starts (obo.start) and refused actions."""

    __tablename__ = "ec_supervisor_day_refusals"
    __table_args__ = (Index("ix_ec_supervisor_day_refusals_day", "day", "actor_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    actor_user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    refused_starts: Mapped[int] = mapped_column(Integer, nullable=False)
    refused_actions: Mapped[int] = mapped_column(Integer, nullable=False)
