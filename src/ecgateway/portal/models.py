"""The portal's own tables: users and EC_Impersonate_Restrictions (later issues add more)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ecgateway.clock import utcnow
from ecgateway.config import INTERNAL_TYPES
from ecgateway.db import UtcDateTime


class Base(DeclarativeBase):
    pass




class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    user_type: Mapped[str] = mapped_column(String(32), nullable=False)
    # The JDE account (F0150 parent AN8) a Customer user belongs to; None for staff.
    account_an8: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow, server_default=func.current_timestamp())

    restriction: Mapped[ImpersonateRestriction | None] = relationship(
        back_populates="rep", foreign_keys="ImpersonateRestriction.rep_id", uselist=False
    )

    @property
    def is_internal(self) -> bool:
        return self.user_type in INTERNAL_TYPES

    @property
    def is_admin(self) -> bool:
        return self.user_type == "Admin"


class ImpersonateRestriction(Base):
    """A rep's filter over the Work-with-Accounts query: the accounts they may serve."""

    __tablename__ = "ec_impersonate_restrictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False)
    filter_text: Mapped[str] = mapped_column(Text, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)

    rep: Mapped[User] = relationship(back_populates="restriction", foreign_keys=[rep_id])


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
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    # Where the change came from: "editor", "point-and-click", "api", "import", "revert of change 12".
    source: Mapped[str] = mapped_column(String(120), nullable=False, default="")
