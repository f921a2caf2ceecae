"""The accounts search index (accounts/search.py): a copy of the Work-with-Accounts projection
with a folded search text, in the engine's own text index.

SQLite: an FTS5 table with the trigram tokenizer over the folded text (rowid = ABAN8).
PostgreSQL: pg_trgm and a GIN trigram index on it (`CREATE EXTENSION pg_trgm`: a trusted
extension since PostgreSQL 13, so the database owner may create it). Accents are folded in
Python before storing and before searching, so unaccent is not needed. The name, city and
folded-name columns sort in code-point order (COLLATE "C" on PostgreSQL, binary on SQLite),
the order Python and the keyset pages use.

Revision ID: 0060_search_index
Revises: 0040_obo_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0060_search_index"
down_revision = "0040_obo_sessions"
branch_labels = None
depends_on = None

# Frozen copy of accounts.search.FILTER_COLUMNS at this revision.
FILTER_COLUMNS = ("abalky", "abalph", "abdc", "abat1", "abmcu", *[f"abac{i:02d}" for i in range(1, 31)],
                  "alcty1", "aladds", "aladdz", "alctr", "aico", "aicrcd", "aicpgp")
SORTED = ("name_key", "abalph", "alcty1")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"

    def text(name: str) -> sa.Column:
        kind = sa.Text(collation="C") if postgres and name in SORTED else sa.Text()
        return sa.Column(name, kind, nullable=False)

    op.create_table(
        "ecgw_search_account",
        sa.Column("aban8", sa.Integer, primary_key=True, autoincrement=False),
        text("name_key"), text("hay"), text("phone"), text("email"),
        *[text(name) for name in FILTER_COLUMNS],
    )
    op.create_index("ix_ecgw_search_name", "ecgw_search_account", ["name_key", "aban8"])
    op.create_index("ix_ecgw_search_alph", "ecgw_search_account", ["abalph", "aban8"])
    op.create_index("ix_ecgw_search_city", "ecgw_search_account", ["alcty1", "aban8"])
    op.create_table(
        "ecgw_search_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since_date", sa.Integer, nullable=False, server_default="0"),
        sa.Column("since_time", sa.Integer, nullable=False, server_default="0"),
        sa.Column("accounts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rebuild_seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("refresh_seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("refreshed_accounts", sa.Integer, nullable=False, server_default="0"),
    )
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_ecgw_search_hay ON ecgw_search_account USING gin (hay gin_trgm_ops)")
    elif op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE ecgw_search_fts USING fts5(hay, tokenize='trigram')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS ecgw_search_fts")
    op.drop_table("ecgw_search_state")
    op.drop_table("ecgw_search_account")
