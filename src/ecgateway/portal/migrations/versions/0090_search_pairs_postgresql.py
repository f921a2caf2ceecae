"""Search index, PostgreSQL: what a contains search for two letters needs (accounts/search.py,
SearchIndex._short_postgresql): a partial index of the accounts whose folded text holds a
character outside ASCII.

pg_trgm takes no trigram from LIKE '%zi%', so that search read every account (55-61 ms at 100,000
accounts, issue 19). It does take trigrams from a regular expression that says what comes before
the two letters: `(^|[\\x01-\\x7f])zi` (the start of the text or any ASCII character) is answered
from the GIN trigram index. What it leaves out, "zi" after a character outside ASCII (a Cyrillic or
Greek letter that folding keeps), is looked for with LIKE among the few accounts of this index.
The predicate is written out the same way in the search's SQL (NON_ASCII_HAY), so the planner can
prove that the index applies. SQLite: nothing (migration 0080 has its way).

Revision ID: 0090_search_pairs_postgresql
Revises: 0080_search_short_words
"""

from alembic import op

revision = "0090_search_pairs_postgresql"
down_revision = "0080_search_short_words"
branch_labels = None
depends_on = None

# The same text as ecgateway.accounts.search.NON_ASCII_HAY (a test keeps the two equal).
NON_ASCII_HAY = "hay !~ '^[\\x01-\\x7f]*$'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # IF NOT EXISTS: a rebuild by this version before `db upgrade` already made it (SearchIndex._PG_INDEX)
        op.execute("CREATE INDEX IF NOT EXISTS ix_ecgw_search_non_ascii ON ecgw_search_account (aban8)"
                   " WHERE hay !~ '^[\\x01-\\x7f]*$'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_ecgw_search_non_ascii")
