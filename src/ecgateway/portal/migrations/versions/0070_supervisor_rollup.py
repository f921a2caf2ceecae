"""The supervisor's daily roll-up: per UTC day, the figures of the audit entries up to a sequence number.

With a partial index on audit_entries.at for the orders placed (the orders figure's live part).
Kept by the relay loop (admin/rollup.py, catch_up); the view adds the entries after last_seq,
counted live from the audit table (the 0050_supervisor indexes). The one state row starts at
last_seq 0: the first catch-up rolls up the whole log, in batches.

Revision ID: 0070_supervisor_rollup
Revises: 0035_cart_notices
"""

import sqlalchemy as sa
from alembic import op

revision = "0070_supervisor_rollup"
down_revision = "0035_cart_notices"
branch_labels = None
depends_on = None


# Frozen copy of audit.models.ORDERS_PLACED at this revision.
ORDERS_PLACED = "action = 'order.place' AND outcome = 'ok'"


def upgrade() -> None:
    # The orders placed in a period, for the orders figure (PostgreSQL planned it on ix_audit_entries_at).
    op.create_index("ix_audit_entries_orders_at", "audit_entries", ["at"], postgresql_where=sa.text(ORDERS_PLACED),
                    sqlite_where=sa.text(ORDERS_PLACED))
    state = op.create_table(
        "ec_supervisor_rollup",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(state, [{"id": 1, "last_seq": 0, "rolled_at": None}])
    op.create_table(
        "ec_supervisor_day_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("actor_login", sa.String(64), nullable=False),
        sa.Column("subject_an8", sa.Integer, nullable=True),
        sa.Column("sessions", sa.Integer, nullable=False),
    )
    op.create_index("ix_ec_supervisor_day_sessions_day", "ec_supervisor_day_sessions",
                    ["day", "actor_login", "subject_an8", "sessions"])
    op.create_table(
        "ec_supervisor_day_reps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("actor_login", sa.String(64), nullable=False),
        sa.Column("sessions", sa.Integer, nullable=False),
    )
    op.create_index("ix_ec_supervisor_day_reps_day", "ec_supervisor_day_reps", ["day", "actor_login", "sessions"])
    op.create_table(
        "ec_supervisor_day_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(64), nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("amount_e4", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ec_supervisor_day_orders_day", "ec_supervisor_day_orders", ["day", "channel", "currency"])
    op.create_table(
        "ec_supervisor_day_refusals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("actor_user_id", sa.Integer, nullable=False),
        sa.Column("refused_starts", sa.Integer, nullable=False),
        sa.Column("refused_actions", sa.Integer, nullable=False),
    )
    op.create_index("ix_ec_supervisor_day_refusals_day", "ec_supervisor_day_refusals", ["day", "actor_user_id"])


def downgrade() -> None:
    for table in ("ec_supervisor_day_refusals", "ec_supervisor_day_orders", "ec_supervisor_day_reps",
                  "ec_supervisor_day_sessions",
                  "ec_supervisor_rollup"):
        op.drop_table(table)
    op.drop_index("ix_audit_entries_orders_at", "audit_entries")
