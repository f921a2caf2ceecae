"""Search index, SQLite: what a contains search for one or two letters needs (accounts/search.py,
SearchIndex._short): the FTS5 table's vocabulary (fts5vocab, a view of the trigrams it holds, no
storage of its own) and an index on the last two characters of each account's folded text.

A text contains "zi" exactly when one of its trigrams starts with "zi" or it ends with "zi": the
vocabulary says which trigrams start with "zi", the index finds the texts ending with it.
PostgreSQL: nothing (pg_trgm keeps no vocabulary one can read).

Revision ID: 0080_search_short_words
Revises: 0070_supervisor_rollup
"""

from alembic import op

revision = "0080_search_short_words"
down_revision = "0070_supervisor_rollup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE ecgw_search_vocab USING fts5vocab('ecgw_search_fts', 'row')")
        op.execute("CREATE INDEX ix_ecgw_search_tail ON ecgw_search_account (substr(hay, -2))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_ecgw_search_tail")
        op.execute("DROP TABLE IF EXISTS ecgw_search_vocab")
