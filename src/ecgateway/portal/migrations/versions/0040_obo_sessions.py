"""On-behalf-of sessions with a reason and a time box; account settings; receipts of sessions.

Revision ID: 0040_obo_sessions
Revises: 0050_supervisor
"""

import sqlalchemy as sa
from alembic import op

revision = "0040_obo_sessions"
down_revision = "0050_supervisor"
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
    with op.batch_alter_table("auth_sessions") as batch:
        for name in _SESSION_COLUMNS:
            batch.drop_column(name)
