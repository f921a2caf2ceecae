"""Audit tables: the append-only entries and the one-row head of their hash chain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ecgateway.db import UtcDateTime
from ecgateway.portal.models import Base

GENESIS_HASH = "0" * 64  # the prev_hash of the first entry
ORDERS_PLACED = "action = 'order.place' AND outcome = 'ok'"  # the partial index's condition (a constant)


class AuditEntry(Base):
    """One action: who (actor) did what (action) to which object, for whom (subject), how it ended."""

    __tablename__ = "audit_entries"
    # For the supervisor's figures (migration 0050_supervisor, which says what each serves).
    __table_args__ = (
        Index("ix_audit_entries_action_outcome_at", "action", "outcome", "at", "actor_login", "subject_an8"),
        Index("ix_audit_entries_outcome_at", "outcome", "at", "actor_user_id", "action"),
        Index("ix_audit_entries_actor_seq", "actor_user_id", "seq"),
        Index("ix_audit_entries_subject_seq", "subject_an8", "seq"),
        # The orders placed in a period (migration 0070_supervisor_rollup): PostgreSQL planned the orders
        # figure on ix_audit_entries_at, reading every entry of the period to keep 1 in 20.
        Index("ix_audit_entries_orders_at", "at", postgresql_where=text(ORDERS_PLACED),
              sqlite_where=text(ORDERS_PLACED)),
    )

    # Position in the chain, given out under the head's lock: 1, 2, 3... with no gaps.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor_login: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    subject_an8: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    object: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    # Canonical JSON text (sorted keys): stored as text so that the hashed bytes come back unchanged.
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditChainHead(Base):
    """The last entry's number and hash; its row lock serialises writers of the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
