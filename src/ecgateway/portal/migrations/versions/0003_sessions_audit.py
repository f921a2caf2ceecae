"""Sessions, failed sign-ins, and the tamper-evident audit log.

Revision ID: 0003_sessions_audit
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_sessions_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

# The log refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE): entries are only ever appended.
_PG_APPEND_ONLY = [
    """
    CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP
            USING HINT = 'audit entries are never changed or removed; write a new entry instead';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
    """,
    """
    CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()
    """,
]
_SQLITE_APPEND_ONLY = [
    f"""
    CREATE TRIGGER audit_entries_no_{op_name.lower()} BEFORE {op_name} ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only: {op_name} refused'); END
    """
    for op_name in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("obo_an8", sa.Integer, nullable=True),
        sa.Column("billing_an8", sa.Integer, nullable=True),
        sa.Column("shipping_an8", sa.Integer, nullable=True),
        sa.Column("obo_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice", sa.Text, nullable=True),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    op.create_table(
        "auth_login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_auth_login_failures_login_at", "auth_login_failures", ["login", "at"])
    op.create_index("ix_auth_login_failures_ip_at", "auth_login_failures", ["ip", "at"])

    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer, nullable=True),
        sa.Column("actor_login", sa.String(64), nullable=False, server_default=""),
        sa.Column("subject_an8", sa.Integer, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object", sa.String(200), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for column in ("at", "actor_user_id", "subject_an8", "action"):
        op.create_index(f"ix_audit_entries_{column}", "audit_entries", [column])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "last_hash": GENESIS_HASH}])
    dialect = op.get_bind().dialect.name
    for statement in {"postgresql": _PG_APPEND_ONLY, "sqlite": _SQLITE_APPEND_ONLY}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update_delete ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
    op.drop_table("audit_chain_head")
    for column in ("at", "actor_user_id", "subject_an8", "action"):
        op.drop_index(f"ix_audit_entries_{column}", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index("ix_auth_login_failures_ip_at", table_name="auth_login_failures")
    op.drop_index("ix_auth_login_failures_login_at", table_name="auth_login_failures")
    op.drop_table("auth_login_failures")
    op.drop_index("ix_auth_sessions_user_id", table_name="auth_sessions")
    op.drop_table("auth_sessions")
