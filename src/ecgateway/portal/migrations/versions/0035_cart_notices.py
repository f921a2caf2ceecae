"""Cart notices: what a customer user is told on their next sign-in (a rep emptied their cart).

Revision ID: 0035_cart_notices
Revises: 0025_cart_last_order
"""

import sqlalchemy as sa
from alembic import op

revision = "0035_cart_notices"
down_revision = "0025_cart_last_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ec_cart_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ec_cart_notices_user_id", "ec_cart_notices", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_ec_cart_notices_user_id", table_name="ec_cart_notices")
    op.drop_table("ec_cart_notices")
