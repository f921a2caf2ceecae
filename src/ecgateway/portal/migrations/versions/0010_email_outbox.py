"""The e-mail outbox: messages committed with the action they tell of, sent by the mail sender.

Revision ID: 0010_email_outbox
Revises: 0006_merge_heads
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_email_outbox"
down_revision = "0006_merge_heads"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ec_email_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("to_addr", sa.String(254), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _when("next_attempt_at"),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        _when("claimed_until", nullable=True),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("message_id", sa.String(255), nullable=False, server_default=""),
        _when("created_at"),
        _when("sent_at", nullable=True),
        sa.CheckConstraint("state IN ('pending','sent','dead')", name="ck_ec_email_outbox_state"),
    )
    op.create_index("ix_ec_email_outbox_due", "ec_email_outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_ec_email_outbox_due", table_name="ec_email_outbox")
    op.drop_table("ec_email_outbox")
