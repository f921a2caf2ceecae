"""Auth tables: server-side sessions (keyed by a hash of the session id) and failed sign-ins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecgateway.db import UtcDateTime
from ecgateway.portal.models import Base


class AuthSession(Base):
    """A signed-in browser or API client. The id itself is never stored: only its SHA-256."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)  # synchronizer token, new at each rotation
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)  # sign-in: absolute timeout
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)  # idle timeout
    rotated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    # On-behalf-of: the account served (reps only); billing / shipping: the borrowed sold-to and
    # chosen ship-to, for a rep on behalf or a customer for their own account.
    obo_an8: Mapped[int | None] = mapped_column(Integer, nullable=True)
    billing_an8: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shipping_an8: Mapped[int | None] = mapped_column(Integer, nullable=True)
    obo_started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The on-behalf-of session's reason (or ticket), its time box and the audit entry that opened it;
    # all cleared when acting ends (obo.service).
    obo_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    obo_ends_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    obo_extended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    obo_start_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notice: Mapped[str | None] = mapped_column(Text, nullable=True)  # shown once on the next page


class LoginFailure(Base):
    """One failed sign-in, kept for the throttle window."""

    __tablename__ = "auth_login_failures"
    __table_args__ = (
        Index("ix_auth_login_failures_login_at", "login", "at"),
        Index("ix_auth_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), nullable=False)  # lower-cased as typed
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)


# Rights an admin grants per user, beyond what the user type gives (auth/rights.py).
RIGHT_LISTS = "lists.create"  # save the on-behalf cart as a managed list for the customer
RIGHT_REGISTER = "contacts.register"  # register contacts of an account as its customer users (admin/registration.py)
RIGHTS = (RIGHT_LISTS, RIGHT_REGISTER)


class UserRight(Base):
    """One right granted to one user, and who granted it when."""

    __tablename__ = "ec_user_rights"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    right: Mapped[str] = mapped_column(String(32), nullable=False)
    granted_by: Mapped[str] = mapped_column(String(64), nullable=False)
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("user_id", "right", name="ux_ec_user_rights"),)


class AccountSetting(Base):
    """A customer account's own choices (JDE parent AN8); no row: every choice at its default."""

    __tablename__ = "ec_account_settings"

    an8: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    obo_receipts: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # e-mail a receipt per session
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)


class OboReceipt(Base):
    """The receipt of one ended on-behalf-of session (its obo.end audit entry): made once, unique by end_seq."""

    __tablename__ = "ec_obo_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_seq: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    an8: Mapped[int] = mapped_column(Integer, nullable=False)
    recipients: Mapped[int] = mapped_column(Integer, nullable=False)  # 0: nobody to send to (still recorded)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
