"""Admin console: restriction history and set-password links.

Revision ID: 0005_admin
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_admin"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ec_restriction_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rep_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("old_filter", sa.Text, nullable=True),
        sa.Column("new_filter", sa.Text, nullable=True),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(120), nullable=False, server_default=""),
    )
    op.create_index("ix_ec_restriction_history_rep_id", "ec_restriction_history", ["rep_id"])
    op.create_table(
        "ec_set_password_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ec_set_password_tokens_user_id", "ec_set_password_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_ec_set_password_tokens_user_id", table_name="ec_set_password_tokens")
    op.drop_table("ec_set_password_tokens")
    op.drop_index("ix_ec_restriction_history_rep_id", table_name="ec_restriction_history")
    op.drop_table("ec_restriction_history")
