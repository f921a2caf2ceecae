"""The accounts search index: the index proposes, the compiled restriction decides.

The index is a copy of the Work-with-Accounts projection (every output column of
sql/work_with_accounts.sql) in the portal database, with a folded search text per account,
kept in the engine's own text index: SQLite FTS5 with the trigram tokenizer, PostgreSQL
pg_trgm (a GIN index on the folded text). A search asks the index for candidates, in
relevance order and after the page's keyset, already narrowed by the rep's restriction
compiled for the portal database; then the candidates go through the same composed
Work-with-Accounts query (base AND restriction AND ABAN8 IN (...)) that decides access
everywhere else (accounts/query.py), and each row that comes back is matched again, in
Python, on JDE's current values. So the index never adds an account the query would not
return, and a stale copy can only leave an account out until the next refresh, never show
one a rep may no longer serve. An exact account number always goes to JDE directly.

Relevance: 0 the exact account number, 1 a number starting with the digits typed, 2 a name
starting with the text typed, 3 every word typed found in the account's text (number, long
number, name, compressed name, city, state, postal code, phone (also as digits only),
e-mail). Inside each group, the page's sort (number, name or city), then the number, except
the name-prefix group, which is in folded-name order unless the page is sorted by city (names
starting with "ac" alphabetically; group_sort()): keyset pages over (group, sort value,
number), stable while the index is.

Case and accents: both sides are folded in Python (fold(): Unicode NFKD, combining marks
dropped, a few letters NFKD keeps (ø, ł, æ, ...) spelled out, case folded, spaces collapsed),
so "koln" finds Köln, "SAO" São Paulo and "Muller" Müller identically whatever the database.
No SQL function or collation does the folding: PostgreSQL's unaccent is not needed (its rules
differ from SQLite's, which has none), and on Oracle no NLS setting is involved either. The
JDE statements a search sends (also to Oracle) compare numbers only: ABAN8 = :an8 for the exact
number and ABAN8 IN (:c0, ...) for the candidates, under the sessions' NLS_SORT/NLS_COMP =
BINARY (db.binary_sort_order). tests/accounts/test_search_index.py compiles them for Oracle.

Freshness: `ecgateway search rebuild` copies every account; the refresh (every
ECGW_SEARCH_REFRESH_SECONDS in the relay loop of each gateway process, or `ecgateway search
refresh`) re-reads the accounts whose JDE rows carry an update stamp (UPMJ date, UPMT time,
on JDE's clock) since the last refresh, less a margin, and the accounts whose next address
became effective since; F0101 ABUPMJ/ABUPMT, F0116 ALUPMJ/ALUPMT, F0115 WPUPMJ/WPUPMT,
F01151 EAUPMJ/EAUPMT, F0150 MAUPMJ/MAUPMT (both ends of the link), F03012 AIUPMJ/AIUPMT.
A row deleted in JDE leaves no stamp: its account stays proposed until the next rebuild, and
the JDE query drops it meanwhile.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa

from ecgateway.accounts.query import (
    AN8_MAX,
    LIST_COLUMNS,
    MAX_AN8_DIGITS,
    Shape,
    WorkWithAccounts,
)
from ecgateway.accounts.restrictions import (
    CompiledFilter,
    RestrictionError,
    compile_filter,
    render,
    sqlglot_dialect,
)
from ecgateway.clock import utcnow
from ecgateway.db import in_values
from ecgateway.errors import GatewayError
from ecgateway.jde.conventions import date_to_julian, jde_now, time_of_day

if TYPE_CHECKING:
    from ecgateway.accounts.service import AccountPage, AccountScope
    from ecgateway.jde.tables import JdeTables

log = logging.getLogger("ecgateway.search")

INDEX_TABLE = "ecgw_search_account"
FTS_TABLE = "ecgw_search_fts"  # SQLite only: FTS5, trigram tokenizer, rowid = ABAN8
# The FTS5 table's statements, written out (no SQL is built from values; rowids are bound).
_FTS_DELETE_ONE = sa.text("DELETE FROM ecgw_search_fts WHERE rowid = :aban8")
_FTS_DELETE_ALL = sa.text("DELETE FROM ecgw_search_fts")
_FTS_INSERT = sa.text("INSERT INTO ecgw_search_fts (rowid, hay) VALUES (:aban8, :hay)")
# SQLite: the trigrams of the index starting with a text (fts5vocab over the FTS5 table, migration 0080).
_VOCAB_RANGE = sa.text("SELECT term FROM ecgw_search_vocab WHERE term >= :lo AND term < :hi")
# SQLite: the texts ending with two letters, by number, from ix_ecgw_search_tail only. INDEXED BY:
# with statistics (every generated text ends with ".com", ANALYZE says one value for all) the
# planner walked every account by number for "zi" instead.
_TAIL = sa.text("SELECT aban8 FROM ecgw_search_account INDEXED BY ix_ecgw_search_tail"
                " WHERE substr(hay, -2) = :tail AND aban8 > :after ORDER BY aban8 LIMIT :n")
_PG_SIZE = sa.text("SELECT pg_total_relation_size('ecgw_search_account')")
# The rebuild's statements (see SearchIndex.rebuild), written out like the migration's (0060_search_index).
_FTS_DROP = sa.text("DROP TABLE ecgw_search_fts")
_FTS_CREATE = sa.text("CREATE VIRTUAL TABLE ecgw_search_fts USING fts5(hay, tokenize='trigram')")
_FTS_FILL = sa.text("INSERT INTO ecgw_search_fts (rowid, hay) SELECT aban8, hay FROM ecgw_search_account")
_PG_BUILD_TABLE = "ecgw_search_account_next"
_PG_BUILD = (  # the next index, built beside the one searches read, then put in its place
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE TABLE ecgw_search_account_next (LIKE ecgw_search_account INCLUDING DEFAULTS)",
)
_PG_COPY = ("COPY ecgw_search_account_next (aban8, name_key, hay, phone, email, abalky, abalph, abdc, abat1, abmcu, "
            "abac01, abac02, abac03, abac04, abac05, abac06, abac07, abac08, abac09, abac10, abac11, abac12, abac13, "
            "abac14, abac15, abac16, abac17, abac18, abac19, abac20, abac21, abac22, abac23, abac24, abac25, abac26, "
            "abac27, abac28, abac29, abac30, alcty1, aladds, aladdz, alctr, aico, aicrcd, aicpgp) FROM STDIN")
# PostgreSQL: the accounts whose folded text holds a character outside ASCII (migration 0090, partial
# index ix_ecgw_search_non_ascii). Written out, never bound: the planner uses a partial index only when
# it can see that the query's condition is the index's predicate.
NON_ASCII_HAY = "hay !~ '^[\\x01-\\x7f]*$'"
_PAIR = re.compile(r"^[a-z0-9]{2}$")  # two letters or digits: _short_postgresql's regular expression is safe
_PG_INDEX = (  # after the load: one sort per index instead of one insertion per row
    "ALTER TABLE ecgw_search_account_next ADD CONSTRAINT ecgw_search_account_next_pkey PRIMARY KEY (aban8)",
    "CREATE INDEX ix_ecgw_search_name_next ON ecgw_search_account_next (name_key, aban8)",
    "CREATE INDEX ix_ecgw_search_alph_next ON ecgw_search_account_next (abalph, aban8)",
    "CREATE INDEX ix_ecgw_search_city_next ON ecgw_search_account_next (alcty1, aban8)",
    "CREATE INDEX ix_ecgw_search_hay_next ON ecgw_search_account_next USING gin (hay gin_trgm_ops)",
    "CREATE INDEX ix_ecgw_search_non_ascii_next ON ecgw_search_account_next (aban8) WHERE hay !~ '^[\\x01-\\x7f]*$'",
    "ANALYZE ecgw_search_account_next",
)
_PG_SWAP = (  # a moment's exclusive lock at the end of the transaction: the old index goes, the new one takes its names
    "DROP TABLE ecgw_search_account",
    "ALTER TABLE ecgw_search_account_next RENAME TO ecgw_search_account",
    "ALTER INDEX ecgw_search_account_next_pkey RENAME TO ecgw_search_account_pkey",
    "ALTER INDEX ix_ecgw_search_name_next RENAME TO ix_ecgw_search_name",
    "ALTER INDEX ix_ecgw_search_alph_next RENAME TO ix_ecgw_search_alph",
    "ALTER INDEX ix_ecgw_search_city_next RENAME TO ix_ecgw_search_city",
    "ALTER INDEX ix_ecgw_search_hay_next RENAME TO ix_ecgw_search_hay",
    "ALTER INDEX ix_ecgw_search_non_ascii_next RENAME TO ix_ecgw_search_non_ascii",
)
assert FTS_TABLE in str(_FTS_INSERT) and INDEX_TABLE in str(_PG_SIZE)  # one name each, kept in step
STATE_TABLE = "ecgw_search_state"
# The filter columns of restrictions/policy.toml the index holds, as JDE gives them (padded), so
# that a rep's restriction compiled for the portal database narrows the candidates there too.
# A policy column missing here only means the index proposes without that narrowing.
FILTER_COLUMNS = ("abalky", "abalph", "abdc", "abat1", "abmcu", *[f"abac{i:02d}" for i in range(1, 31)],
                  "alcty1", "aladds", "aladdz", "alctr", "aico", "aicrcd", "aicpgp")
MATCHES = ("number", "number-prefix", "name-prefix", "contains")  # the relevance groups, in order
# Accounts a page of the rebuild reads from JDE (keyset pages by number through the base query).
REBUILD_PAGE = 10_000
REFRESH_CHUNK = 500
# How far before the last refresh the next one looks: JDE stamps are written by other machines'
# clocks and committed after they are stamped.
REFRESH_OVERLAP = dt.timedelta(minutes=5)
# Candidate counts: the JDE statement has that many binds (a few shapes in every cache; Oracle
# takes 1,000 at most). 51: a page of 50 and the one row that says a next page exists. Without it
# that page asked the index for 100 candidates and JDE for their rows, about 40 us each on SQLite
# (4.0 ms against 2.1 ms at 100,000 accounts, py-spy: the decide was a third of a search request).
CANDIDATE_SIZES = (10, 25, 51, 100, 200, 500)
# Words of one or two letters have no trigram of their own: the contains group walks the accounts
# by number for them, this many at first (a common letter fills the page there); see _short().
SHORT_WALK = 2000
# PostgreSQL: when the first walk found at least SHORT_DENSE of the group, the pair is common among the
# rep's accounts and walking on by number (up to SHORT_WALK_ON more) finds the rest sooner than the
# trigram index, which reads every account holding the pair and sorts them ("ko" for a category-code rep:
# 4,575 rows read for 37, 9.4 ms, against about 2 ms walking; issue 19).
SHORT_DENSE, SHORT_WALK_ON = 5, 20_000
SHORT_TAIL, SHORT_TAIL_CHUNKS = 500, 4  # texts ending with the word: looked up 500 at a time, 4 times at most
# A rep whose restriction is one ABAN8 IN list of at most this many numbers: the contains group walks
# the list (primary key look-ups, each text matched) instead of the text index, whose matches among all
# the accounts were then read and nearly all refused (5-8 ms a keystroke at 100,000 accounts and 1,000
# values, against about 1 ms; issue 19). Past it the text index is the shorter way.
LIST_WALK_MAX = 5000
# Such a list of at most this many numbers is held in memory (number, folded name, text of each of its
# accounts, read from the index once per index generation: each rebuild and refresh) and the name-prefix
# and contains groups are matched there, as the recheck matches JDE's rows (rank_of). On PostgreSQL the
# index's queries for 1,000 numbers cost 2-6 ms each, two or three a keystroke (issue 19). At most
# LIST_CACHE lists are kept per process (2,000 accounts are about 0.5 MB).
LIST_MEMORY_MAX, LIST_CACHE = 2000, 64
_TOP = "\U0010ffff"  # sorts after every character: [text, text + _TOP) holds the names starting with text
_DIGITS = re.compile(rf"^\d{{1,{MAX_AN8_DIGITS}}}$")
_FOLD_EXTRA = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H",
                             "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH", "ı": "i"})

metadata = sa.MetaData()
accounts_table = sa.Table(
    INDEX_TABLE, metadata,
    sa.Column("aban8", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name_key", sa.Text, nullable=False),  # fold(ABALPH): the name-prefix group
    sa.Column("hay", sa.Text, nullable=False),  # the folded text every word is looked for in
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    *[sa.Column(name, sa.Text, nullable=False) for name in FILTER_COLUMNS],
)
# The sort indexes of migration 0060_search_index (SQLite's rebuild drops them and makes them again).
# Migration 0080's index of the texts' last two letters, dropped and made again around a rebuild's load
# as the sort indexes are (kept row by row, it would slow the bulk insert).
_TAIL_DROP = sa.text("DROP INDEX IF EXISTS ix_ecgw_search_tail")
_TAIL_CREATE = sa.text("CREATE INDEX IF NOT EXISTS ix_ecgw_search_tail ON ecgw_search_account (substr(hay, -2))")
SORT_INDEXES = (sa.Index("ix_ecgw_search_name", accounts_table.c.name_key, accounts_table.c.aban8),
                sa.Index("ix_ecgw_search_alph", accounts_table.c.abalph, accounts_table.c.aban8),
                sa.Index("ix_ecgw_search_city", accounts_table.c.alcty1, accounts_table.c.aban8))
assert _PG_COPY.split("(", 1)[1].split(")")[0].split(", ") == [c.name for c in accounts_table.c]
state_table = sa.Table(
    STATE_TABLE, metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("since_date", sa.Integer, nullable=False, default=0),  # JDE stamp (CYYDDD, HHMMSS) to look from
    sa.Column("since_time", sa.Integer, nullable=False, default=0),
    sa.Column("accounts", sa.Integer, nullable=False, default=0),
    sa.Column("rebuild_seconds", sa.Float, nullable=False, default=0),
    sa.Column("refresh_seconds", sa.Float, nullable=False, default=0),
    sa.Column("refreshed_accounts", sa.Integer, nullable=False, default=0),
)
_SORT_COLUMNS = {"number": (), "name": ("abalph",), "city": ("alcty1",)}
NAME_PREFIX = MATCHES.index("name-prefix")


def group_sort(rank: int, sort: str) -> tuple[str, ...]:
    """The index columns a relevance group is ordered by, before the number.

    The name-prefix group is in folded-name order unless the page is sorted by city: its
    accounts are then one range of the (name_key, aban8) index, read from the keyset on and
    stopped at the page's end. In number order that group had to be read whole and sorted
    (the 10,000 names starting with 'a' for the keystroke 'a', issue 19)."""
    if rank == NAME_PREFIX and sort != "city":
        return ("name_key",)
    return _SORT_COLUMNS[sort]


class SearchIndexMissing(GatewayError):
    """The search index has not been built; the message says which command builds it."""

    status = 503


# --- folding and matching (the same rules for the index, the recheck and the tests) ---------

def fold(text: str | None) -> str:
    """Text as the index compares it: no accents, case folded, single spaces ("Köln" -> "koln")."""
    if not text:
        return ""
    if text.isascii():  # most JDE text: no marks to drop, casefold is lower (10x faster, issue 19)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())


@dataclass(frozen=True)
class Terms:
    """What a search string asks for, folded."""

    text: str  # folded, e.g. "acme sup"
    words: tuple[str, ...]
    number: int | None = None  # the typed digits as an account number (1-8 digits)
    ranges: tuple[tuple[int, int], ...] = ()  # the numbers starting with those digits, ascending


def terms_of(q: str | None) -> Terms | None:
    """The search's terms; None when nothing searchable is left (only blanks or marks)."""
    text = fold(q)
    if not text:
        return None
    raw = (q or "").strip()
    if _DIGITS.match(raw):
        return Terms(text, tuple(text.split()), int(raw), number_ranges(raw))
    return Terms(text, tuple(text.split()))


def number_ranges(digits: str) -> tuple[tuple[int, int], ...]:
    """Numbers of up to 8 digits that start with digits, as ascending ranges (5: 50-59, 500-599, ...)."""
    number = int(digits)
    ranges = []
    for extra in range(1, MAX_AN8_DIGITS - len(digits) + 1):
        scale = 10**extra
        ranges.append((number * scale, min(number * scale + scale - 1, AN8_MAX)))
    return tuple(r for r in ranges if r[0] > 0)


def search_text(row: Mapping[str, object]) -> tuple[str, str]:
    """(name key, text to search) of a Work-with-Accounts row (upper-case column names)."""
    phone = _text(row.get("PHONE"))
    fields = (str(row["ABAN8"]), _text(row.get("ABALKY")), _text(row.get("ABALPH")), _text(row.get("ABDC")),
              _text(row.get("ALCTY1")), _text(row.get("ALADDS")), _text(row.get("ALADDZ")), phone,
              "".join(ch for ch in phone if ch.isdigit()), _text(row.get("EMAIL")))
    return fold(_text(row.get("ABALPH"))), fold(" ".join(f for f in fields if f))


def rank_of(terms: Terms, an8: int, name_key: str, hay: str) -> int | None:
    """The relevance group (index into MATCHES) of an account, or None when it does not match."""
    if terms.number is not None:
        if an8 == terms.number:
            return 0
        if any(lo <= an8 <= hi for lo, hi in terms.ranges):
            return 1
    if name_key.startswith(terms.text):
        return 2
    if all(word in hay for word in terms.words):
        return 3
    return None


def row_matches(terms: Terms, an8: int, row: Mapping[str, object]) -> bool:
    """rank_of(terms, an8, *search_text(row)) is not None, with the whole text folded only when neither
    the number nor the name matches: most proposals are numbers or names (about 0.5 ms a page of 51)."""
    if terms.number is not None and (an8 == terms.number or any(lo <= an8 <= hi for lo, hi in terms.ranges)):
        return True
    if fold(_text(row.get("ABALPH"))).startswith(terms.text):
        return True
    hay = search_text(row)[1]
    return all(word in hay for word in terms.words)


# --- the index ---------------------------------------------------------------------------

class PortalFilter(NamedTuple):
    clause: sa.TextClause  # the restriction over the index's columns, with :f1.. binds
    params: dict[str, object]
    # The restriction is one list, ABAN8 IN (...): its numbers, ascending (else None). The number-prefix
    # group then takes its candidates from these, without asking the index (see _number_ranges).
    numbers: tuple[int, ...] | None = None


class Candidate(NamedTuple):
    an8: int
    key: str | None  # the sort value (None for the number sort)


@dataclass(frozen=True)
class IndexStatus:
    built: bool
    built_at: dt.datetime | None
    refreshed_at: dt.datetime | None
    accounts: int
    rows: int
    bytes: int | None
    rebuild_seconds: float
    refresh_seconds: float
    refreshed_accounts: int

    def describe(self, now: dt.datetime) -> list[str]:
        if not self.built:
            return ["search index: not built (run `ecgateway search rebuild`)"]

        def age(moment: dt.datetime | None) -> str:
            if moment is None:
                return "never"
            moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
            return f"{moment:%Y-%m-%d %H:%M:%S} UTC, {max(0, int((now - moment).total_seconds())):,} s ago"

        size = f"{self.bytes / 1e6:,.1f} MB" if self.bytes is not None else "size unknown"
        return [f"search index: {self.rows:,} accounts, {size}",
                f"built:     {age(self.built_at)} (in {self.rebuild_seconds:.1f} s)",
                f"refreshed: {age(self.refreshed_at)} ({self.refreshed_accounts:,} accounts in "
                f"{self.refresh_seconds:.2f} s)"]


@dataclass(frozen=True)
class RefreshResult:
    looked_from: tuple[int, int]
    changed: int
    stored: int
    removed: int
    seconds: float
    skipped: bool = False  # another process refreshed within fresh_within: nothing was read


class SearchIndex:
    """The index in the portal database (engine), read and kept by the gateway."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite", "postgresql", ...
        self._built = False
        self._checked = 0.0
        self._lock = threading.Lock()
        self._filters: dict[str, PortalFilter] = {}  # filter text -> its SQL for the portal database
        # a short number list -> (index generation, its accounts' (aban8, name_key, hay) by number)
        self._lists: dict[tuple[int, ...], tuple[tuple, list[tuple[int, str, str]]]] = {}

    # -- reading ------------------------------------------------------------------------

    def ready(self) -> bool:
        """Has the index been built? (Once seen built it stays so; else asked again every 5 s, on a
        connection of its own: until then a request may hold two portal connections for that moment.)"""
        if self._built:
            return True
        now = time.monotonic()
        if now - self._checked < 5:
            return False
        self._checked = now
        try:
            with self.engine.connect() as conn:
                self._built = conn.scalar(sa.select(state_table.c.built_at).where(state_table.c.id == 1)) is not None
        except sa.exc.DBAPIError:  # the migration is not applied yet
            self._built = False
        return self._built

    def _connection(self, portal: sa.Connection | None):
        """The caller's portal connection, left open, or a new one closed after use."""
        return nullcontext(portal) if portal is not None else self.engine.connect()

    def search(self, jde: sa.Connection, *, wwa: WorkWithAccounts, scope: AccountScope, q: str, sort: str,
               cursor: str | None, limit: int, portal: sa.Connection | None = None) -> AccountPage:
        """One page of the scope's accounts matching q, in relevance order, after cursor. The index is read
        on portal when given (one connection and transaction for every group), else on a connection
        per group."""
        from ecgateway.accounts.service import AccountPage, CursorError

        terms = terms_of(q)
        if terms is None:
            raise ValueError("search() needs a q with something to search")
        after = _decode_cursor(cursor, sort, CursorError) if cursor else None
        if scope.kind == "none":
            return AccountPage([], None, sort, q, limit, matches=[])
        need = limit + 1  # one more than the page: then a next page exists
        found: list[tuple[Mapping[str, object], int, str | None]] = []  # (JDE row, group, sort value)
        start_rank = after[0] if after else 0
        prefilter = self._portal_filter(scope.restriction, wwa)
        for rank in range(start_rank, len(MATCHES)):
            if len(found) >= need:
                break
            if rank == 0:  # the exact number, from JDE itself: a new account is found at once
                if terms.number is not None and after is None:
                    row = _decide(jde, wwa, scope.restriction, [terms.number]).get(terms.number)
                    if row is not None:
                        found.append((row, 0, _sort_value(row, sort)))
                continue
            if rank == 1 and terms.number is None:
                continue
            key = (after[1], after[2]) if after and after[0] == rank else None
            found.extend(self._group(jde, wwa, scope, prefilter, terms, rank, sort, key, need - len(found),
                                     portal))
        more = len(found) > limit
        found = found[:limit]
        next_cursor = None
        if more:
            row, rank, key = found[-1]
            next_cursor = _encode_cursor(sort, rank, key, int(row["ABAN8"]))
        from ecgateway.accounts.service import _rows

        items = _rows([tuple(row[c] for c in LIST_COLUMNS) for row, _, _ in found])
        return AccountPage(items, next_cursor, sort, q, limit, matches=[MATCHES[rank] for _, rank, _ in found])

    def _group(self, jde, wwa, scope, prefilter, terms: Terms, rank: int, sort: str,
               key: tuple[str | None, int] | None, wanted: int, portal: sa.Connection | None = None):
        """Up to wanted accounts of one relevance group after key: candidates, decided by JDE."""
        out = []
        batch = wanted
        with self._connection(portal) as portal:
            while len(out) < wanted:
                size = next((s for s in CANDIDATE_SIZES if s >= batch), CANDIDATE_SIZES[-1])
                candidates = self._candidates(portal, prefilter, terms, rank, sort, key, size)
                if not candidates:
                    break
                rows = _decide(jde, wwa, scope.restriction, [c.an8 for c in candidates])
                for candidate in candidates:
                    row = rows.get(candidate.an8)
                    if row is not None and row_matches(terms, candidate.an8, row):
                        out.append((row, rank, candidate.key))
                        if len(out) == wanted:
                            break
                if len(candidates) < size:
                    break
                last = candidates[-1]
                key = (last.key, last.an8)
                batch = min(batch * 4, CANDIDATE_SIZES[-1])  # JDE left some out: ask for more at once
        return out

    def _candidates(self, portal: sa.Connection, prefilter, terms: Terms, rank: int, sort: str,
                    key: tuple[str | None, int] | None, size: int) -> list[Candidate]:
        t = accounts_table
        if rank == 1 and sort == "number":
            return self._number_ranges(portal, prefilter, terms, key, size)
        if sort == "number" and prefilter is not None and prefilter.numbers is not None:
            if rank in (2, 3) and len(prefilter.numbers) <= LIST_MEMORY_MAX:
                return self._from_list(self._list_rows(portal, prefilter), terms, rank, key, size)
            if rank == 3 and len(prefilter.numbers) <= LIST_WALK_MAX:
                return self._list_walk(portal, prefilter, terms, key, size)
        if rank == 3 and sort == "number" and all(len(w) < 3 for w in terms.words):
            if self.dialect == "sqlite":
                return self._short(portal, prefilter, terms, key, size)
            if self.dialect == "postgresql":
                return self._short_postgresql(portal, prefilter, terms, key, size)
        sort_cols = [t.c[name] for name in group_sort(rank, sort)]
        conditions = [self._group_condition(terms, rank)]
        params: dict[str, object] = {}
        if prefilter is not None:
            conditions.append(prefilter.clause)
            params.update(prefilter.params)
        if key is not None:
            conditions.append(self._after(sort_cols, key))
        source: sa.FromClause = t
        number_order = t.c.aban8
        if rank == 3 and self.dialect == "sqlite" and any(len(w) >= 3 for w in terms.words):
            fts = sa.table(FTS_TABLE, sa.column("rowid"))
            source = t.join(fts, fts.c.rowid == t.c.aban8)
            conditions.append(sa.text(f"{FTS_TABLE} MATCH :s_match"))
            params["s_match"] = " ".join('"' + w.replace('"', '""') + '"' for w in terms.words if len(w) >= 3)
            # FTS5 hands its matches over in rowid order: by number, the walk stops at the page's end
            number_order = fts.c.rowid
            if key is not None and not sort_cols:
                conditions.append(fts.c.rowid > key[1])
        stmt = (sa.select(t.c.aban8, *sort_cols).select_from(source).where(*conditions)
                .order_by(*sort_cols, number_order).limit(size))
        return [Candidate(int(r[0]), r[1] if sort_cols else None) for r in portal.execute(stmt, params)]

    def _short(self, portal: sa.Connection, prefilter, terms: Terms, key, size: int) -> list[Candidate]:
        """The contains group by number when every word has one or two letters (SQLite).

        First the next SHORT_WALK accounts by number are read and matched (a common letter fills
        the page there at once). If the page is still short and a word has two letters, the rest
        comes from the trigram index: an account's text contains "zi" exactly when one of its
        trigrams starts with "zi" or the text ends with "zi" (a text is at least 3 long only if
        it has a trigram: the end is looked up too, index ix_ecgw_search_tail). The trigrams of the
        index starting with "zi" are read from its vocabulary (fts5vocab): none for a text that
        occurs nowhere, so `zi` costs two index look-ups instead of reading every account
        (70-110 ms at 100,000 accounts, issue 19). A one-letter search keeps walking by number."""
        t = accounts_table
        conditions, params, end = self._short_start(portal, prefilter, terms, key)

        def walk(lo: int, hi: int | None, limit: int) -> list[Candidate]:
            window = [t.c.aban8 > lo] + ([t.c.aban8 <= hi] if hi is not None else [])
            stmt = sa.select(t.c.aban8).where(*conditions, *window).order_by(t.c.aban8).limit(limit)
            return [Candidate(int(an8), None) for an8 in portal.scalars(stmt, params)]

        out = walk(key[1] if key is not None else 0, end, size)
        if len(out) >= size or end is None:
            return out
        wanted = size - len(out)
        word = max(terms.words, key=len)
        if len(word) < 2:
            return out + walk(end, None, wanted)
        grams = list(portal.scalars(_VOCAB_RANGE, {"lo": word, "hi": word + _TOP}))
        found: set[int] = set()
        if grams:
            fts = sa.table(FTS_TABLE, sa.column("rowid"))
            stmt = (sa.select(t.c.aban8).select_from(t.join(fts, fts.c.rowid == t.c.aban8))
                    .where(*conditions, sa.text("ecgw_search_fts MATCH :s_match"), fts.c.rowid > end)
                    .order_by(fts.c.rowid).limit(wanted))
            match = " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)
            found.update(portal.scalars(stmt, {**params, "s_match": match}))
        ending: list[int] = []  # the texts ending with the word, by number, then decided like the rest
        last = end
        for _ in range(SHORT_TAIL_CHUNKS):
            numbers = list(portal.scalars(_TAIL, {"tail": word, "after": last, "n": SHORT_TAIL}))
            if numbers:
                ending += portal.scalars(sa.select(t.c.aban8).where(in_values(t.c.aban8, numbers), *conditions)
                                         .order_by(t.c.aban8), params)
            if len(ending) >= wanted or len(numbers) < SHORT_TAIL:
                break
            last = numbers[-1]
        else:  # a common ending (".com") and a rep who may serve few of them: walk by number instead
            return out + walk(end, None, wanted)
        found.update(ending)
        return out + [Candidate(int(an8), None) for an8 in sorted(found)[:wanted]]

    def _short_start(self, portal: sa.Connection, prefilter, terms: Terms, key):
        """What both short-word walks start from: the contains group's conditions (restriction included),
        their parameters, and the number that ends the first SHORT_WALK accounts after key (None: fewer)."""
        t = accounts_table
        after = key[1] if key is not None else 0
        conditions = [self._group_condition(terms, 3)]
        params = dict(prefilter.params) if prefilter is not None else {}
        if prefilter is not None:
            conditions.append(prefilter.clause)
        end = portal.scalar(sa.select(t.c.aban8).where(t.c.aban8 > after).order_by(t.c.aban8)
                            .limit(1).offset(SHORT_WALK - 1))
        return conditions, params, end

    def _short_postgresql(self, portal: sa.Connection, prefilter, terms: Terms, key, size: int) -> list[Candidate]:
        """The contains group by number when every word has one or two letters (PostgreSQL).

        As on SQLite, the next SHORT_WALK accounts by number first (a common pair fills the page
        there). Then, for a pair of letters or digits, the GIN trigram index: LIKE '%zi%' gives
        pg_trgm no trigram (it read every account: 55-61 ms at 100,000, issue 19), but the same
        occurrences, split by what comes before them, do: `(^|[\x01-\x7f])zi` (the start of the
        text or an ASCII character) is answered from the trigram index, and "zi" after a character
        outside ASCII is looked for among the few accounts of ix_ecgw_search_non_ascii (migration
        0090). Together they are exactly the texts containing "zi"; the LIKE conditions stay, and
        JDE's row is matched again in _group as always. Ordered by `aban8 + 0`: the planner then
        sorts the few accounts found instead of walking every account by number to stop early."""
        t = accounts_table
        after = key[1] if key is not None else 0
        conditions, params, end = self._short_start(portal, prefilter, terms, key)
        window = [t.c.aban8 > after] + ([t.c.aban8 <= end] if end is not None else [])
        stmt = sa.select(t.c.aban8).where(*conditions, *window).order_by(t.c.aban8).limit(size)
        out = [Candidate(int(an8), None) for an8 in portal.scalars(stmt, params)]
        if len(out) >= size or end is None:
            return out
        pairs = [w for w in terms.words if _PAIR.match(w)]
        if pairs and len(out) >= SHORT_DENSE:  # a common pair: walk on by number, then the index beyond
            far = portal.scalar(sa.select(t.c.aban8).where(t.c.aban8 > end).order_by(t.c.aban8)
                                .limit(1).offset(SHORT_WALK_ON - 1))
            window = [t.c.aban8 > end] + ([t.c.aban8 <= far] if far is not None else [])
            stmt = sa.select(t.c.aban8).where(*conditions, *window).order_by(t.c.aban8).limit(size - len(out))
            out += [Candidate(int(an8), None) for an8 in portal.scalars(stmt, params)]
            if len(out) >= size or far is None:
                return out
            end = far
        rest = [t.c.aban8 > end]
        if pairs:  # the pair's text is [a-z0-9]{2}: nothing in it is special to a regular expression
            rest += [sa.or_(t.c.hay.op("~")(sa.literal("(^|[\\x01-\\x7f])" + w, sa.Text, literal_execute=True)),
                            sa.and_(sa.text(NON_ASCII_HAY), t.c.hay.like(_pattern(w), escape="\\")))
                     for w in pairs]
            order = t.c.aban8 + sa.literal_column("0")  # not the primary key's order: the planner does not walk it
        else:  # one letter, or a pair with a mark: keep walking by number
            order = t.c.aban8
        stmt = sa.select(t.c.aban8).where(*conditions, *rest).order_by(order).limit(size - len(out))
        return out + [Candidate(int(an8), None) for an8 in portal.scalars(stmt, params)]

    def _list_rows(self, portal: sa.Connection, prefilter: PortalFilter) -> list[tuple[int, str, str]]:
        """The index rows of a short number list's accounts, by number: from memory while the index is
        the one they were read from (its built_at and refreshed_at, written with every change)."""
        generation = tuple(portal.execute(sa.select(state_table.c.built_at, state_table.c.refreshed_at)
                                          .where(state_table.c.id == 1)).first() or ())
        with self._lock:
            cached = self._lists.pop(prefilter.numbers, None)
            if cached is not None:
                self._lists[prefilter.numbers] = cached  # the most recently used last: the first goes when full
        if cached is not None and cached[0] == generation:
            return cached[1]
        t = accounts_table
        rows = [(int(an8), name_key, hay) for an8, name_key, hay in portal.execute(
            sa.select(t.c.aban8, t.c.name_key, t.c.hay).where(prefilter.clause).order_by(t.c.aban8),
            prefilter.params)]
        with self._lock:
            self._lists.pop(prefilter.numbers, None)
            self._lists[prefilter.numbers] = (generation, rows)
            while len(self._lists) > LIST_CACHE:
                self._lists.pop(next(iter(self._lists)))
        return rows

    @staticmethod
    def _from_list(rows: list[tuple[int, str, str]], terms: Terms, rank: int, key, size: int) -> list[Candidate]:
        """The name-prefix (rank 2, by folded name) or contains (rank 3, by number) group of a list's
        accounts after key, matched in memory by rank_of: the groups the index's queries give."""
        # A plain str test first (startswith, or the first word's `in`) leaves the few rows rank_of must
        # place: calling it for each of a 2,000-number list was a tenth of the gateway's CPU on PostgreSQL.
        if rank == NAME_PREFIX:
            text = terms.text
            named = sorted((name_key, an8) for an8, name_key, hay in rows
                           if name_key.startswith(text) and rank_of(terms, an8, name_key, hay) == rank)
            if key is not None:
                named = [n for n in named if n > (key[0], key[1])]
            return [Candidate(an8, name_key) for name_key, an8 in named[:size]]
        after = key[1] if key is not None else 0
        if terms.words:
            first = terms.words[0]
            rows = (row for row in rows if first in row[2])  # lazily: a common word stops at size
        out = []
        for an8, name_key, hay in rows:
            if an8 > after and rank_of(terms, an8, name_key, hay) == rank:
                out.append(Candidate(an8, None))
                if len(out) == size:
                    break
        return out

    def _list_walk(self, portal: sa.Connection, prefilter: PortalFilter, terms: Terms, key, size: int) -> list[Candidate]:
        """The contains group by number for a rep whose restriction is one short ABAN8 IN list: the
        list's accounts by primary key, in number order, each text matched with instr/strpos, which no
        text index answers (so neither planner walks one; see LIST_WALK_MAX)."""
        t = accounts_table
        if self.dialect == "postgresql":
            words = [sa.func.strpos(t.c.hay, w) > 0 for w in terms.words]
        else:
            words = [sa.func.instr(t.c.hay, w) > 0 for w in terms.words]
        conditions = [*words, self._not_higher(terms), prefilter.clause]
        if key is not None:
            conditions.append(t.c.aban8 > key[1])
        stmt = sa.select(t.c.aban8).where(*conditions).order_by(t.c.aban8).limit(size)
        return [Candidate(int(an8), None) for an8 in portal.scalars(stmt, prefilter.params)]

    def _number_ranges(self, portal: sa.Connection, prefilter, terms: Terms, key, size: int) -> list[Candidate]:
        """Numbers starting with the digits, by number: one range after the other, in order (5: 50-59,
        500-599, ...), each an index range walked from its start. An OR of the ranges was tested
        row by row or sorted (100-130 ms at 100,000 accounts, issue 19); a range answers in under 2 ms."""
        t = accounts_table
        after = key[1] if key is not None else 0
        if prefilter is not None and prefilter.numbers is not None:
            # A rep whose restriction is ABAN8 IN (...): the numbers in the ranges are read off the list
            # (ranges ascend and do not overlap). PostgreSQL planned the 1,000-value list once a range:
            # 6 ranges for "51", 55-75 ms a keystroke (issue 19). JDE decides them as always.
            return [Candidate(n, None) for n in prefilter.numbers
                    if n > after and n != terms.number and any(lo <= n <= hi for lo, hi in terms.ranges)][:size]
        out: list[Candidate] = []
        params = prefilter.params if prefilter is not None else {}
        for lo, hi in terms.ranges:
            if hi <= after:
                continue
            conditions = [t.c.aban8 >= max(lo, after + 1), t.c.aban8 <= hi, t.c.aban8 != terms.number]
            if prefilter is not None:
                conditions.append(prefilter.clause)
            stmt = sa.select(t.c.aban8).where(*conditions).order_by(t.c.aban8).limit(size - len(out))
            out += [Candidate(int(an8), None) for an8 in portal.scalars(stmt, params)]
            if len(out) >= size:
                break
        return out

    def _group_condition(self, terms: Terms, rank: int) -> sa.ColumnElement[bool]:
        t = accounts_table
        number_parts: list[sa.ColumnElement[bool]] = []
        if terms.number is not None:
            number_parts = [t.c.aban8 == terms.number, *[t.c.aban8.between(lo, hi) for lo, hi in terms.ranges]]
        if rank == 1:
            return sa.and_(t.c.aban8 != terms.number, sa.or_(sa.false(), *number_parts[1:]))
        name_prefix = sa.and_(t.c.name_key >= terms.text, t.c.name_key < terms.text + _TOP)
        higher = [*number_parts]
        if rank == 2:
            return sa.and_(name_prefix, *[sa.not_(p) for p in higher])
        return sa.and_(*self._contains(terms), self._not_higher(terms))

    def _not_higher(self, terms: Terms) -> sa.ColumnElement[bool]:
        """In none of the groups before contains: not the number, no number prefix, no name prefix."""
        t = accounts_table
        higher: list[sa.ColumnElement[bool]] = []
        if terms.number is not None:
            higher = [t.c.aban8 == terms.number, *[t.c.aban8.between(lo, hi) for lo, hi in terms.ranges]]
        higher.append(sa.and_(t.c.name_key >= terms.text, t.c.name_key < terms.text + _TOP))
        return sa.and_(*[sa.not_(p) for p in higher])

    def _contains(self, terms: Terms) -> list[sa.ColumnElement[bool]]:
        hay = accounts_table.c.hay
        if self.dialect == "sqlite":  # words of 3 or more: the FTS5 MATCH (see _candidates); shorter ones here
            return [sa.func.instr(hay, w) > 0 for w in terms.words if len(w) < 3] or [sa.true()]
        # PostgreSQL: the GIN trigram index answers LIKE '%word%'; elsewhere a plain LIKE. A word of one or
        # two letters has no trigram: its pattern is written into the statement (by SQLAlchemy, quoted) so
        # that the planner sees it. Bound, a server-side prepared statement's generic plan took the GIN
        # index for it too and read all of it (250 ms at 100,000 rows against 0.3 ms, EXPLAIN ANALYZE).
        return [hay.like(_pattern(w) if len(w) < 3 else "%" + _escape_like(w) + "%", escape="\\")
                for w in terms.words]

    def _after(self, sort_cols, key: tuple[str | None, int]) -> sa.ColumnElement[bool]:
        t = accounts_table
        value, an8 = key
        if not sort_cols:
            return t.c.aban8 > an8
        col = sort_cols[0]
        if self.dialect in ("sqlite", "postgresql"):
            return sa.tuple_(col, t.c.aban8) > sa.tuple_(sa.literal(value, sa.Text), sa.literal(an8))
        return sa.or_(col > value, sa.and_(col == value, t.c.aban8 > an8))

    def _portal_filter(self, restriction: CompiledFilter | None, wwa: WorkWithAccounts) -> PortalFilter | None:
        """The rep's restriction compiled for the portal database, when the index holds its columns.

        Rendered once per filter text, with its values written in as literals by sqlglot: with
        1,000 binds SQLAlchemy re-read them on every query (rendering, parsing, cache key, params:
        about a second a keystroke at 100,000 accounts on a loaded machine). The values are the
        policy-checked ones of the compiled filter (numbers and padded text, quoted by sqlglot),
        this SQL only narrows the proposals in the gateway's own database, and the JDE statement
        that decides still binds every value."""
        if restriction is None:
            return None
        held = {"ABAN8", *(c.upper() for c in FILTER_COLUMNS)}
        if not restriction.columns <= held:
            return None
        with self._lock:
            cached = self._filters.get(restriction.text)
        if cached is not None:
            return cached
        try:
            compiled = compile_filter(restriction.text, dialect=sqlglot_dialect(self.dialect), policy=wwa.policy)
        except RestrictionError:
            return None
        prefilter = PortalFilter(sa.text(render(_with_values(compiled), compiled.dialect)), {},
                                 _number_list(compiled))
        with self._lock:
            self._filters[restriction.text] = prefilter
            while len(self._filters) > 256:
                self._filters.pop(next(iter(self._filters)))
        return prefilter

    # -- building and keeping -----------------------------------------------------------

    def status(self) -> IndexStatus:
        with self.engine.connect() as conn:
            state = conn.execute(sa.select(state_table).where(state_table.c.id == 1)).first()
            rows = conn.scalar(sa.select(sa.func.count()).select_from(accounts_table))
            size = self._size(conn)
        if state is None or state.built_at is None:
            return IndexStatus(False, None, None, 0, rows or 0, size, 0, 0, 0)
        return IndexStatus(True, state.built_at, state.refreshed_at, state.accounts, rows, size,
                           state.rebuild_seconds, state.refresh_seconds, state.refreshed_accounts)

    def rebuild(self, jde: sa.Connection, *, wwa: WorkWithAccounts,
                on_progress: Callable[[int, int], None] | None = None) -> int:
        """Copy every account of the base query into the index; the count.

        One transaction, so a search running meanwhile reads the previous index, whole, until
        the commit and the new one after it, never a half-built one. JDE is read in keyset
        pages of REBUILD_PAGE accounts by number; each row's text is folded once, in Python.
        The text indexes are made after the load, in one pass each, not row by row:
        SQLite: the table is emptied, its sort indexes and the FTS5 table dropped, the rows
        inserted, then the indexes made again and the FTS5 table filled by one INSERT ... SELECT
        (WAL: readers keep their snapshot; the write lock is held for the rebuild, as before).
        PostgreSQL: a new table beside the one searches read, filled by COPY, indexed and
        analyzed, then swapped in under its names (searches wait only for the swap's lock).
        Measured in bench/RESULTS-search.md (rebuild)."""
        from ecgateway.accounts.service import all_scope, count_accounts

        started = time.perf_counter()
        mark = jde_now(wwa.zone) - REFRESH_OVERLAP
        total = count_accounts(jde, wwa=wwa, scope=all_scope(wwa))
        pages = _index_pages(jde, wwa, total, on_progress)
        with self.engine.begin() as portal:
            if self.dialect == "sqlite":
                done = self._load_sqlite(portal, pages)
            elif self.dialect == "postgresql" and portal.dialect.driver == "psycopg":  # psycopg 3: COPY
                done = self._load_postgresql(portal, pages)
            else:
                self._clear(portal)
                done = 0
                for page in pages:
                    portal.execute(accounts_table.insert(), [dict(zip(_INDEX_NAMES, r, strict=True)) for r in page])
                    done += len(page)
            now = utcnow()
            self._save_state(portal, built_at=now, refreshed_at=now, since=mark, accounts=done,
                             rebuild_seconds=time.perf_counter() - started, refresh_seconds=0.0, refreshed_accounts=0)
        if self.dialect == "sqlite":
            self._analyze()  # PostgreSQL analyzed the new table before the swap
        elif self.dialect == "postgresql":
            self._vacuum()
        self._built = True
        return done

    def _vacuum(self) -> None:
        """PostgreSQL: VACUUM the new table once (outside a transaction, as VACUUM must run; it was
        analyzed before the swap). It sets the visibility map, so the walks by number read the primary
        key alone: without it every row's heap page was read too (20,000 accounts: 6.3 ms against
        1.3 ms). Autovacuum would do it later, or never where it is off; about a second at 100,000
        accounts. The index is built whether or not this works: a failure is only logged."""
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ecgw_search_account"))  # INDEX_TABLE
        except sa.exc.DBAPIError as exc:
            log.warning("the search index is rebuilt, but VACUUM of it failed (searches read more pages "
                        "until autovacuum runs): %s", exc.orig)

    def _load_sqlite(self, portal: sa.Connection, pages: Iterable[list[tuple]]) -> int:
        # The DELETE comes first: it begins the transaction (BEGIN IMMEDIATE, db.immediate_transactions),
        # which the DDL after it is part of.
        portal.execute(accounts_table.delete())
        for index in SORT_INDEXES:
            index.drop(portal)
        portal.execute(_TAIL_DROP)
        portal.execute(_FTS_DROP)
        insert = str(accounts_table.insert().compile(dialect=portal.dialect))
        done = 0
        for page in pages:
            portal.exec_driver_sql(insert, page)
            done += len(page)
        for index in SORT_INDEXES:
            index.create(portal)
        portal.execute(_TAIL_CREATE)
        portal.execute(_FTS_CREATE)
        portal.execute(_FTS_FILL)
        return done

    def _load_postgresql(self, portal: sa.Connection, pages: Iterable[list[tuple]]) -> int:
        for statement in _PG_BUILD:
            portal.exec_driver_sql(statement)
        done = 0
        with portal.connection.driver_connection.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            for page in pages:
                for record in page:
                    copy.write_row(record)
                done += len(page)
        for statement in (*_PG_INDEX, *_PG_SWAP):
            portal.exec_driver_sql(statement)
        return done

    def refresh(self, jde: sa.Connection, *, wwa: WorkWithAccounts, tables: JdeTables,
                fresh_within: float | None = None) -> RefreshResult | None:
        """Re-read the accounts JDE changed since the last refresh; None when the index is not built.

        fresh_within (seconds): skip when the last refresh, by any process, is more recent than that.
        Every gateway process runs the refresh in its relay loop; the state row's lock puts them one
        after the other, and without this each would re-read the same changes from JDE in turn."""
        started = time.perf_counter()
        with self.engine.begin() as portal:
            claimed = None
            if fresh_within is not None:
                # Claimed by an UPDATE, first: it takes the row's lock on PostgreSQL and the write lock on
                # SQLite (BEGIN IMMEDIATE), so a second process waits here, then finds the claim and skips.
                # A plain read could not: on SQLite it runs outside the transaction and takes no lock.
                now = utcnow()
                claimed = portal.execute(
                    sa.update(state_table)
                    .where(state_table.c.id == 1, state_table.c.built_at.is_not(None),
                           sa.or_(state_table.c.refreshed_at.is_(None),
                                  state_table.c.refreshed_at < now - dt.timedelta(seconds=fresh_within)))
                    .values(refreshed_at=now)).rowcount
            state = portal.execute(sa.select(state_table).where(state_table.c.id == 1).with_for_update()).first()
            if state is None or state.built_at is None:
                return None
            since = (state.since_date, state.since_time)
            if claimed == 0:  # built, and another process refreshed within fresh_within
                return RefreshResult(since, 0, 0, 0, 0.0, skipped=True)
            mark = jde_now(wwa.zone) - REFRESH_OVERLAP
            changed = changed_accounts(jde, tables, since=since, today=wwa.base_params()["wwa_today"])
            stored = removed = 0
            statement_for = {}
            for chunk in _chunks(sorted(changed), REFRESH_CHUNK):
                size = next(s for s in CANDIDATE_SIZES if s >= len(chunk))
                statement = statement_for.setdefault(size, wwa.statement(None, Shape("index-in", rows=size)))
                params = wwa.base_params()
                params.update({f"c{i}": (chunk[i] if i < len(chunk) else 0) for i in range(size)})
                rows = [_upper(r) for r in jde.execute(statement, params)]
                portal.execute(accounts_table.delete().where(accounts_table.c.aban8.in_(chunk)))
                if self.dialect == "sqlite":
                    portal.execute(_FTS_DELETE_ONE, [{"aban8": n} for n in chunk])
                self._store(portal, rows)
                stored += len(rows)
                removed += len(chunk) - len(rows)
            seconds = time.perf_counter() - started
            accounts = portal.scalar(sa.select(sa.func.count()).select_from(accounts_table))
            self._save_state(portal, refreshed_at=utcnow(), since=mark, accounts=accounts,
                             refresh_seconds=seconds, refreshed_accounts=len(changed))
        return RefreshResult(since, len(changed), stored, removed, seconds)

    def _clear(self, portal: sa.Connection) -> None:
        portal.execute(accounts_table.delete())
        if self.dialect == "sqlite":
            portal.execute(_FTS_DELETE_ALL)

    def _store(self, portal: sa.Connection, rows: list[dict[str, object]]) -> None:
        if not rows:
            return
        records = [index_record(row) for row in rows]
        portal.execute(accounts_table.insert(), records)
        if self.dialect == "sqlite":
            portal.execute(_FTS_INSERT,
                           [{"aban8": r["aban8"], "hay": r["hay"]} for r in records])

    def _save_state(self, portal: sa.Connection, *, since: dt.datetime, **values) -> None:
        values.update(since_date=date_to_julian(since.date()), since_time=time_of_day(since))
        updated = portal.execute(state_table.update().where(state_table.c.id == 1).values(**values)).rowcount
        if not updated:
            portal.execute(state_table.insert().values(id=1, **values))

    def _analyze(self) -> None:
        """Statistics for the planner on the index's own tables, right after they were filled."""
        with self.engine.begin() as conn:
            if self.dialect in ("sqlite", "postgresql"):
                conn.execute(sa.text("ANALYZE ecgw_search_account"))  # INDEX_TABLE

    def _size(self, conn: sa.Connection) -> int | None:
        try:
            if self.dialect == "postgresql":
                return int(conn.scalar(_PG_SIZE))
            if self.dialect == "sqlite":
                return int(conn.scalar(sa.text(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'ecgw_search%' OR name LIKE 'sqlite_autoindex_ecgw_search%'"
                    " OR name LIKE 'ix_ecgw_search%'")) or 0)
        except sa.exc.DBAPIError:  # dbstat is not compiled into every SQLite
            return None
        return None


def index_record(row: Mapping[str, object]) -> dict[str, object]:
    """The index row of a Work-with-Accounts row (upper-case column names, values as JDE gives them)."""
    return dict(zip(_INDEX_NAMES, index_values(row), strict=True))


_INDEX_NAMES = tuple(c.name for c in accounts_table.c)
_FILTER_KEYS = tuple(name.upper() for name in FILTER_COLUMNS)


def index_values(row: Mapping[str, object]) -> tuple:
    """index_record's values, in the index table's column order (the rebuild inserts these)."""
    name_key, hay = _build_text(row)
    get = row.get
    return (int(row["ABAN8"]), name_key, hay, _text(get("PHONE")), _text(get("EMAIL")),
            *["" if (value := get(key)) is None else str(value) for key in _FILTER_KEYS])


def _build_text(row: Mapping[str, object]) -> tuple[str, str]:
    """search_text(row), with ASCII text (most of JDE's) folded without the Unicode steps, which
    leave it as it is: the same result, in a third of the time (tests/accounts/test_search_rebuild.py)."""
    get = row.get
    phone = _text(get("PHONE"))
    name = _text(get("ABALPH"))
    fields = (str(row["ABAN8"]), _text(get("ABALKY")), name, _text(get("ABDC")), _text(get("ALCTY1")),
              _text(get("ALADDS")), _text(get("ALADDZ")), phone, "".join(ch for ch in phone if ch.isdigit()),
              _text(get("EMAIL")))
    return _quick_fold(name), _quick_fold(" ".join(f for f in fields if f))


def _quick_fold(text: str) -> str:
    if text.isascii():  # NFKD, the combining marks and _FOLD_EXTRA change no ASCII character
        return " ".join(text.lower().split())
    return fold(text)


def _index_pages(jde: sa.Connection, wwa: WorkWithAccounts, total: int,
                 on_progress: Callable[[int, int], None] | None) -> Iterable[list[tuple]]:
    """Every account of the base query as index_values, page by page (keyset by number)."""
    statement = wwa.statement(None, Shape("index", rows=REBUILD_PAGE))
    after, done = 0, 0
    while True:
        params = wwa.base_params()
        params["k_an8"] = after
        result = jde.execute(statement, params)
        keys = [key.upper() for key in result.keys()]
        page = [index_values(dict(zip(keys, raw, strict=True))) for raw in result]
        if not page:
            return
        done += len(page)
        after = page[-1][0]
        yield page
        if on_progress:
            on_progress(done, max(total, done))
        if len(page) < REBUILD_PAGE:
            return


def changed_accounts(jde: sa.Connection, tables: JdeTables, *, since: tuple[int, int], today: int) -> set[int]:
    """Address numbers whose rows carry an update stamp at or after since, or whose next address
    became effective (ALEFTB) after the day of since and on or before today."""
    day, moment = since
    found: set[int] = set()
    stamped = (
        (tables.F0101, ("aban8",), "abupmj", "abupmt"),
        (tables.F0116, ("alan8",), "alupmj", "alupmt"),
        (tables.F0115, ("wpan8",), "wpupmj", "wpupmt"),
        (tables.F01151, ("eaan8",), "eaupmj", "eaupmt"),
        (tables.F0150, ("mapa8", "maan8"), "maupmj", "maupmt"),
        (tables.F03012, ("aian8",), "aiupmj", "aiupmt"),
    )
    for table, an8_columns, upmj, upmt in stamped:
        c = table.c
        # (UPMJ, UPMT) >= (day, moment), written so that one range of an (UPMJ, UPMT) index answers it
        since_stamp = sa.and_(c[upmj] >= day, sa.or_(c[upmj] > day, c[upmt] >= moment))
        stmt = sa.select(*[c[name] for name in an8_columns]).where(since_stamp)
        for row in jde.execute(stmt):
            found.update(int(v) for v in row)
    f0116 = tables.F0116.c
    effective = sa.select(f0116.alan8).where(f0116.aleftb > day, f0116.aleftb <= today)
    found.update(int(v) for v in jde.scalars(effective))
    found.discard(0)
    return found


# --- helpers ------------------------------------------------------------------------------

def _decide(jde: sa.Connection, wwa: WorkWithAccounts, restriction: CompiledFilter | None,
            an8s: list[int]) -> dict[int, dict[str, object]]:
    """Which of an8s the composed query (base AND restriction) returns, with their rows."""
    size = next((s for s in CANDIDATE_SIZES if s >= len(an8s)), None)
    if size is None:
        raise ValueError(f"at most {CANDIDATE_SIZES[-1]} candidates at once")
    params = wwa.base_params()
    if restriction is not None:
        params.update(restriction.params)
    params.update(zip(_CANDIDATE_BINDS[:size], [*an8s, *[0] * (size - len(an8s))], strict=True))
    result = jde.execute(wwa.statement(restriction, Shape("decide", rows=size)), params)
    keys = [key.upper() for key in result.keys()]  # once, not per row
    rows = (dict(zip(keys, row, strict=True)) for row in result)
    return {int(row["ABAN8"]): row for row in rows}


_CANDIDATE_BINDS = tuple(f"c{i}" for i in range(CANDIDATE_SIZES[-1]))


def _with_values(compiled: CompiledFilter):
    """The filter's condition with each bound value written in as a literal (see _portal_filter)."""
    from sqlglot import exp

    def literal(node):
        if isinstance(node, exp.Placeholder):
            value = compiled.params[node.name]
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError(f"unexpected value type in a compiled filter: {type(value).__name__}")
            return exp.Literal.number(value) if isinstance(value, int) else exp.Literal.string(value)
        return node

    return compiled.condition.transform(literal)


def _number_list(compiled: CompiledFilter) -> tuple[int, ...] | None:
    """The numbers of a filter that is one ABAN8 IN (...) list and nothing else, ascending; else None."""
    from sqlglot import exp

    node = compiled.condition
    while isinstance(node, exp.Paren):
        node = node.this
    if not isinstance(node, exp.In) or node.args.get("query") or not isinstance(node.this, exp.Column):
        return None
    if node.this.name.upper() != "ABAN8":
        return None
    values = []
    for item in node.expressions:
        if not isinstance(item, exp.Placeholder) or item.name not in compiled.number_in_params:
            return None
        value = compiled.params[item.name]
        try:
            values.append(int(str(value).strip()))
        except ValueError:
            return None
    return tuple(sorted(set(values)))


def _upper(row: sa.Row) -> dict[str, object]:
    return {key.upper(): value for key, value in row._mapping.items()}


def _text(value: object) -> str:
    return str(value).strip() if value is not None else ""


def _sort_value(row: Mapping[str, object], sort: str) -> str | None:
    columns = _SORT_COLUMNS[sort]
    return str(row[columns[0].upper()]) if columns else None


def _pattern(word: str) -> sa.BindParameter:
    """LIKE '%word%' with the pattern written into the statement when it runs (quoted by SQLAlchemy),
    not bound: see SearchIndex._contains."""
    return sa.literal("%" + _escape_like(word) + "%", sa.Text, literal_execute=True)


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"))
# 3: the name-prefix group in folded-name order (keyed by the folded name); a page cursor of
# version 2 keyed that group by number or by the raw name, so it is refused (start again).
CURSOR_VERSION = 3


def _encode_cursor(sort: str, rank: int, key: str | None, an8: int) -> str:
    raw = _CURSOR_JSON.encode([CURSOR_VERSION, sort, rank, key, an8]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, error: type[Exception]) -> tuple[int, str | None, int]:
    problem = "the page cursor is not valid for this search; start again from the first page (leave the cursor out)"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, cursor_sort, rank, key, an8 = json.loads(raw)
    except (ValueError, TypeError):
        raise error(problem) from None
    valid = (version == CURSOR_VERSION and cursor_sort == sort and isinstance(rank, int) and not isinstance(rank, bool)
             and 0 <= rank < len(MATCHES) and isinstance(an8, int) and not isinstance(an8, bool)
             and 0 <= an8 <= AN8_MAX
             and (key is None if not group_sort(rank, sort) else isinstance(key, str) and len(key) <= 160))
    if not valid:
        raise error(problem)
    return rank, key, an8


def render_for(dialect: str, restriction: CompiledFilter) -> str:
    """The restriction's SQL for a dialect (tests and `ecgateway search status`)."""
    return render(restriction.condition, sqlglot_dialect(dialect))
