"""Managed lists (a rep's prepared order for the customer to accept or reject), their lines, the list
reference on cart and order lines, and the per-user rights table (lists.create).

Revision ID: 0011_managed_lists
Revises: 0060_search_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_managed_lists"
down_revision = "0060_search_index"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ec_user_rights",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("right", sa.String(32), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=False),
        _when("granted_at"),
        sa.UniqueConstraint("user_id", "right", name="ux_ec_user_rights"),
    )
    op.create_index("ix_ec_user_rights_user_id", "ec_user_rights", ["user_id"])
    op.create_table(
        "ec_lists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_an8", sa.Integer, nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("rep_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("rep_login", sa.String(64), nullable=False),
        sa.Column("rep_name", sa.String(120), nullable=False),
        sa.Column("rep_email", sa.String(254), nullable=False, server_default=""),
        sa.Column("sold_to", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reject_reason", sa.Text, nullable=False, server_default=""),
        _when("expires_at", nullable=True),
        _when("created_at"),
        _when("opened_at", nullable=True),
        _when("decided_at", nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        _when("closed_at", nullable=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("ec_orders.id", ondelete="SET NULL"), nullable=True),
        sa.CheckConstraint("status IN ('open','accepted','rejected','ordered')", name="ck_ec_lists_status"),
    )
    op.create_index("ix_ec_lists_account_an8", "ec_lists", ["account_an8"])
    op.create_table(
        "ec_list_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("list_id", sa.Integer, sa.ForeignKey("ec_lists.id", ondelete="CASCADE"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("item", sa.String(25), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("proposed_quantity", sa.Integer, nullable=False),
        sa.Column("uom", sa.String(2), nullable=False, server_default=""),
        sa.Column("dropped", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("quoted_price", sa.Numeric(18, 4), nullable=True),
        sa.UniqueConstraint("list_id", "item", name="ux_ec_list_lines_item"),
        sa.CheckConstraint("quantity > 0 AND proposed_quantity > 0", name="ck_ec_list_lines_quantity"),
    )
    for table in ("ec_cart_lines", "ec_order_lines"):
        _add_list_reference(table)
    op.create_index("ix_ec_order_lines_list_id", "ec_order_lines", ["list_id"])


_SQLITE_ADD_LIST_ID = {  # written out: no SQL text built from names
    "ec_cart_lines": "ALTER TABLE ec_cart_lines ADD COLUMN list_id INTEGER REFERENCES ec_lists (id) ON DELETE SET NULL",
    "ec_order_lines": "ALTER TABLE ec_order_lines ADD COLUMN list_id INTEGER REFERENCES ec_lists (id) ON DELETE SET NULL",
}


def _add_list_reference(table: str) -> None:
    """list_id -> ec_lists.id ON DELETE SET NULL. SQLite adds a column with REFERENCES in place (a NULL
    default allows it); Alembic's batch copy would instead drop ec_carts' expression index."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SQLITE_ADD_LIST_ID[table])
        return
    op.add_column(table, sa.Column("list_id", sa.Integer, nullable=True))
    op.create_foreign_key(f"fk_{table}_list", table, "ec_lists", ["list_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    op.drop_index("ix_ec_order_lines_list_id", table_name="ec_order_lines")
    for table in ("ec_order_lines", "ec_cart_lines"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN list_id")  # SQLite 3.35+; no index or key names it
        else:
            op.drop_constraint(f"fk_{table}_list", table, type_="foreignkey")
            op.drop_column(table, "list_id")
    op.drop_table("ec_list_lines")
    op.drop_index("ix_ec_lists_account_an8", table_name="ec_lists")
    op.drop_table("ec_lists")
    op.drop_index("ix_ec_user_rights_user_id", table_name="ec_user_rights")
    op.drop_table("ec_user_rights")
