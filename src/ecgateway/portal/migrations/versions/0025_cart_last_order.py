"""One cart, one order at a time: the order last made from each cart (issue 14, point 3).

Revision ID: 0025_cart_last_order
Revises: 0011_managed_lists
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_cart_last_order"
down_revision = "0011_managed_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ec_carts", sa.Column("last_order_id", sa.Integer, nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place; a batch copy would lose ux_ec_carts_owner (an expression index)
    op.drop_column("ec_carts", "last_order_id")
