"""Admin tables: single-use set-password links (the restriction history is in portal.models)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
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
