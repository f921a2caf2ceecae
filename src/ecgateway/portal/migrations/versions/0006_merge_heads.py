"""Join the three branches that grew from 0001 (sessions and audit, commerce, admin) into one
head, so that `alembic upgrade head` and `downgrade` work as operators expect.

Revision ID: 0006_merge_heads
Revises: 0003_sessions_audit, 0004_commerce, 0005_admin
"""

revision = "0006_merge_heads"
down_revision = ("0003_sessions_audit", "0004_commerce", "0005_admin")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to change."""
