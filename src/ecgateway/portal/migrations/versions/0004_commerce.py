"""Commerce: carts, cart lines, orders, order lines, idempotency keys, the outbox.

Revision ID: 0004_commerce
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_commerce"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ec_carts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_an8", sa.Integer, nullable=False),
        sa.Column("rep_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        _when("created_at"),
        _when("updated_at"),
    )
    # One cart per (account, rep or none); NULL never equals NULL, so "none" keys as 0.
    op.create_index("ux_ec_carts_owner", "ec_carts", ["account_an8", sa.text("coalesce(rep_id, 0)")], unique=True)
    op.create_table(
        "ec_cart_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cart_id", sa.Integer, sa.ForeignKey("ec_carts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item", sa.String(25), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.UniqueConstraint("cart_id", "item", name="ux_ec_cart_lines_item"),
        sa.CheckConstraint("quantity > 0", name="ck_ec_cart_lines_quantity"),
    )
    op.create_table(
        "ec_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("erp_key", sa.String(25), nullable=False, unique=True),
        sa.Column("account_an8", sa.Integer, nullable=False),
        sa.Column("sold_to", sa.Integer, nullable=False),
        sa.Column("ship_to", sa.Integer, nullable=False),
        sa.Column("company", sa.String(5), nullable=False),
        sa.Column("branch", sa.String(12), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customer_po", sa.String(25), nullable=False),
        sa.Column("total", sa.Numeric(18, 4), nullable=False),
        sa.Column("placed_by_user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("placed_by_login", sa.String(64), nullable=False),
        sa.Column("on_behalf", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("rep_name", sa.String(120), nullable=True),
        sa.Column("rep_email", sa.String(254), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("erp_reference", sa.String(40), nullable=True),
        sa.Column("status_detail", sa.Text, nullable=False, server_default=""),
        _when("created_at"),
        _when("updated_at"),
        sa.CheckConstraint("status IN ('waiting','sent','rejected')", name="ck_ec_orders_status"),
    )
    op.create_index("ix_ec_orders_account_an8", "ec_orders", ["account_an8"])
    op.create_table(
        "ec_order_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("ec_orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("item", sa.String(25), nullable=False),
        sa.Column("description", sa.String(60), nullable=False, server_default=""),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("uom", sa.String(2), nullable=False),
        sa.Column("unit_price", sa.Numeric(18, 4), nullable=False),
        sa.Column("extended", sa.Numeric(18, 4), nullable=False),
        sa.Column("price_source", sa.String(120), nullable=False, server_default=""),
        sa.UniqueConstraint("order_id", "line_no", name="ux_ec_order_lines_no"),
    )
    op.create_table(
        "ec_idempotency_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim_token", sa.String(64), nullable=True),
        _when("claimed_until", nullable=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("ec_orders.id", ondelete="SET NULL"), nullable=True),
        _when("created_at"),
        sa.UniqueConstraint("user_id", "key", name="ux_ec_idempotency_keys_user_key"),
        sa.CheckConstraint("state IN ('in_flight','done')", name="ck_ec_idempotency_keys_state"),
    )
    op.create_table(
        "ec_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("ec_orders.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _when("next_attempt_at"),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        _when("claimed_until", nullable=True),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        _when("created_at"),
        _when("done_at", nullable=True),
        sa.CheckConstraint("state IN ('pending','done','dead')", name="ck_ec_outbox_state"),
    )
    op.create_index("ix_ec_outbox_due", "ec_outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_ec_outbox_due", table_name="ec_outbox")
    op.drop_table("ec_outbox")
    op.drop_table("ec_idempotency_keys")
    op.drop_table("ec_order_lines")
    op.drop_index("ix_ec_orders_account_an8", table_name="ec_orders")
    op.drop_table("ec_orders")
    op.drop_table("ec_cart_lines")
    op.drop_index("ux_ec_carts_owner", table_name="ec_carts")
    op.drop_table("ec_carts")
