"""The supervisor's view: indexes on the audit table for its figures, and the alerts raised.

Each figure reads one index range and nothing else (on SQLite the indexes cover the columns the
figure groups by, so the table itself is not read); bench/RESULTS-supervisor.md has the timings
at 1,000,000 entries.

Revision ID: 0050_supervisor
Revises: 0010_email_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0050_supervisor"
down_revision = "0010_email_outbox"
branch_labels = None
depends_on = None

# name -> columns; the same list is declared on AuditEntry (audit/models.py)
INDEXES = {
    # sessions per day per rep, orders, the accounts served most: one action, one outcome, a period
    "ix_audit_entries_action_outcome_at": ["action", "outcome", "at", "actor_login", "subject_an8"],
    # refusals per rep and the hourly alert: outcome refused in a period
    "ix_audit_entries_outcome_at": ["outcome", "at", "actor_user_id", "action"],
    # a live session's last action: the rep's latest entry
    "ix_audit_entries_actor_seq": ["actor_user_id", "seq"],
    # one account's history, newest first
    "ix_audit_entries_subject_seq": ["subject_an8", "seq"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_entries", columns)
    op.create_table(
        "ec_supervisor_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rep_id", sa.Integer, nullable=False),
        sa.Column("rep_login", sa.String(64), nullable=False),
        sa.Column("refusals", sa.Integer, nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("first_seq", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ec_supervisor_alerts_rep_id", "ec_supervisor_alerts", ["rep_id", "first_seq"], unique=True)
    op.create_index("ix_ec_supervisor_alerts_raised_at", "ec_supervisor_alerts", ["raised_at"])


def downgrade() -> None:
    op.drop_table("ec_supervisor_alerts")
    for name in INDEXES:
        op.drop_index(name, "audit_entries")
