"""On-behalf-of sessions with a reason and a time box; per-rep rights; account settings; receipts.

Revision ID: 0040_obo_sessions
Revises: 0006_merge_heads
"""

import sqlalchemy as sa
from alembic import op

revision = "0040_obo_sessions"
down_revision = "0006_merge_heads"
branch_labels = None
depends_on = None

_SESSION_COLUMNS = ("obo_reason", "obo_ends_at", "obo_extended_at", "obo_start_seq")


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("obo_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("obo_ends_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("obo_extended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("obo_start_seq", sa.Integer, nullable=True))
    op.create_table(
        "ec_user_rights",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("right", sa.String(32), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "right", name="uq_ec_user_rights_user_right"),
    )
    op.create_table(
        "ec_account_settings",
        sa.Column("an8", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("obo_receipts", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ec_obo_receipts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("end_seq", sa.Integer, nullable=False, unique=True),
        sa.Column("an8", sa.Integer, nullable=False),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ec_obo_receipts")
    op.drop_table("ec_account_settings")
    op.drop_table("ec_user_rights")
    with op.batch_alter_table("auth_sessions") as batch:
        for name in _SESSION_COLUMNS:
            batch.drop_column(name)
