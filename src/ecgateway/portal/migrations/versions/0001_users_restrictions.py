"""Users and EC_Impersonate_Restrictions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("user_type", sa.String(32), nullable=False),
        sa.Column("account_an8", sa.Integer, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()),
        sa.CheckConstraint(
            "user_type IN ('Internal_AR','Internal_SalesRep','Internal_CustomerService','Admin','Customer')",
            name="ck_users_user_type",
        ),
        sa.CheckConstraint(
            "(user_type = 'Customer' AND account_an8 IS NOT NULL)"
            " OR (user_type <> 'Customer' AND account_an8 IS NULL)", name="ck_users_customer_account"
        ),
    )
    op.create_index("ix_users_account_an8", "users", ["account_an8"])
    op.create_table(
        "ec_impersonate_restrictions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rep_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("filter_text", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ec_impersonate_restrictions")
    op.drop_index("ix_users_account_an8", table_name="users")
    op.drop_table("users")
