"""Admin tables: the history of every restriction change, and single-use set-password links."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecgateway.clock import utcnow
from ecgateway.portal.models import Base


class RestrictionChange(Base):
    """One change of a rep's filter: what it was, what it became, who changed it and when.

    A None filter means "no row in EC_Impersonate_Restrictions" (the default applies).
    """

    __tablename__ = "ec_restriction_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    old_filter: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_filter: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    # Where the change came from: "editor", "point-and-click", "api", "import", "revert of change 12".
    source: Mapped[str] = mapped_column(String(120), nullable=False, default="")


class SetPasswordToken(Base):
    """A single-use, expiring link that lets a new user choose a password. Only its SHA-256 is kept."""

    __tablename__ = "ec_set_password_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
