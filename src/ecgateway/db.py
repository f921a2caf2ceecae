"""Engines for the two databases: JDE (read-mostly) and the portal's own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from sqlalchemy import ColumnElement, DateTime, Engine, bindparam, create_engine, event, or_
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator

# Oracle takes at most 1,000 expressions in one IN list (ORA-01795).
IN_LIST_LIMIT = 1000
# The lists of a statement built once and bound per call (in_bound): half the limit, so that
# a statement's lists together stay under 1,000 values too (the pricer's F4106 and F4072
# queries bind a chunk of items beside the item groups and a few small lists).
IN_LIST_CHUNK = IN_LIST_LIMIT // 2


def in_values(column: ColumnElement, values: Iterable) -> ColumnElement[bool]:
    """column IN (values) that every database takes: an OR of IN lists of at most 1,000 values.

    Every list of values the gateway sends (an account's ship-tos, its addresses, ids) goes
    through here or through in_bound with in_chunks; only the restriction filters compiled in
    accounts/ split their own literals. Repeated values are sent once; no values gives
    SQLAlchemy's empty IN, false on every database.
    """
    distinct = list(dict.fromkeys(values))
    if not distinct:
        return column.in_([])
    lists = [column.in_(chunk) for chunk in in_chunks(distinct, IN_LIST_LIMIT)]
    return lists[0] if len(lists) == 1 else or_(*lists)


def in_bound(column: ColumnElement, name: str) -> ColumnElement[bool]:
    """column IN (:name), the list bound when the statement runs, for a statement built once.

    The statement's SQL stays the same whatever the list, so it is compiled and cached once
    (SQLAlchemy renders the bound list per execution). Bind it only with one list from
    in_chunks, which keeps each under IN_LIST_LIMIT: run the statement once per chunk.
    """
    return column.in_(bindparam(name, expanding=True))


def in_chunks(values: Iterable, size: int = IN_LIST_CHUNK) -> Iterator[list]:
    """values (each once, in their order) in lists of at most size, for in_bound or in_values.

    Nothing to send gives no list at all: a caller running one query per chunk runs none.
    """
    if not 1 <= size <= IN_LIST_LIMIT:
        raise ValueError(f"an IN list holds 1 to {IN_LIST_LIMIT} values (Oracle's limit), not {size}")
    distinct = list(dict.fromkeys(values))
    for start in range(0, len(distinct), size):
        yield distinct[start:start + size]


# psycopg converts the %(name)s placeholders of a statement on every execution unless the
# statement is under 4,096 characters and 50 parameters (the limits of its conversion cache). The
# composed Work-with-Accounts statements are over both with a rep's list of values (1,000 binds),
# and so are the search's candidate lists (100 binds) and the search index's queries with such a
# list: the conversion took about 1 ms an execution, several a keystroke (issue 19; in process, a
# rep with 1,000 values on PostgreSQL: the keystrokes' medians summed 655 ms instead of 801).
PSYCOPG_CACHED_LENGTH, PSYCOPG_CACHED_PARAMS = 1 << 17, 4096


def cache_long_statements() -> None:
    """Let psycopg cache the conversion of long statements too (its LRU cache keeps 128)."""
    try:
        from psycopg import _queries
    except ImportError:  # another driver
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH") and hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, PSYCOPG_CACHED_LENGTH)
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, PSYCOPG_CACHED_PARAMS)


def make_engine(url: str, *, jde: bool = False, read_only: bool = False, **kwargs) -> Engine:
    """An engine with the settings each backend needs here.

    jde: the engine reads JDE tables. On SQLite, LIKE is then case-sensitive, as it is on
    Oracle and PostgreSQL, so that a rep's filter (ABALPH LIKE 'Acme%') means the same there.
    read_only: every connection refuses writes (SQLite: query_only; PostgreSQL: read-only
    transactions, and no JIT compilation). Oracle has no such switch per connection: give the
    gateway a reader login (ECGW_JDE_READ_URL) that holds SELECT grants only.
    Any other SQLite engine (the portal's) begins every transaction with BEGIN IMMEDIATE (below).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **kwargs)
        pragmas = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                   f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}"]
        if jde:
            pragmas.append("PRAGMA case_sensitive_like=ON")
        if read_only:
            pragmas.append("PRAGMA query_only=ON")
        event.listen(engine, "connect", _sqlite_pragmas(pragmas))
        if not jde and not read_only:
            immediate_transactions(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg")
    if read_only and parsed.get_backend_name() == "postgresql":
        # Pages of 50 rows: JIT compilation only adds start-up time (up to 0.9 s measured when a
        # plan's cost estimate crosses jit_above_cost; bench/RESULTS-accounts.md), so it is off.
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args["options"] = (connect_args.get("options", "") + " -c default_transaction_read_only=on"
                                   " -c jit=off").strip()
        kwargs["connect_args"] = connect_args
    if parsed.get_backend_name() == "postgresql":
        cache_long_statements()
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if jde and parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _bind_ints_as_bigint)
    if parsed.get_backend_name() == "oracle":
        event.listen(engine, "connect", binary_sort_order)
    return engine


# Binary comparison and sort on every Oracle session, whatever the client's or the database's
# NLS defaults: with a linguistic NLS_SORT (e.g. a client whose NLS_LANGUAGE implies one), ORDER BY
# and the keyset conditions (ABALPH > :after) follow the language's collation, not the B-tree
# index's binary order, so pages skip or repeat rows and the index is not used for the order.
# https://docs.oracle.com/en/database/oracle/oracle-database/19/nlspg/linguistic-sorting-and-matching.html
ORACLE_SESSION_STATEMENTS = ("ALTER SESSION SET NLS_SORT = BINARY", "ALTER SESSION SET NLS_COMP = BINARY")


def binary_sort_order(dbapi_connection, _record) -> None:
    """A connect listener: pin NLS_SORT and NLS_COMP to BINARY on a new Oracle connection."""
    cursor = dbapi_connection.cursor()
    try:
        for statement in ORACLE_SESSION_STATEMENTS:
            cursor.execute(statement)
    finally:
        cursor.close()


def _bind_ints_as_bigint(dbapi_connection, _record) -> None:
    """On psycopg 3, send every Python int as bigint.

    psycopg types an int parameter by its size (0 and numbers up to 32,767 as smallint, larger
    as integer), and the types are part of a prepared statement. The same page query then became
    a different server-side statement for each mix of small and large account numbers (a deep
    page binds the IN values before it as 0), each making its own choice between a generic and
    a per-run plan: pages 80-95% into a 1,000-value IN list took 25% longer than the rest
    (bench/RESULTS-accounts.md). With one type, one statement serves every page. JDE numbers
    are compared with integer columns (the JDE queries are SQLAlchemy Core, which casts each int
    it binds, or the accounts statement): raw SQL on a JDE engine that passes an int to a
    function (substr, make_date, date + n) must cast it, as there is no such function on bigint.
    """
    adapters = getattr(dbapi_connection, "adapters", None)
    if adapters is None:  # another PostgreSQL driver: leave its typing alone
        return
    from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper

    adapters.register_dumper(int, Int8Dumper)  # text format
    adapters.register_dumper(int, Int8BinaryDumper)  # binary, and (registered last) the automatic choice


# How long a SQLite connection waits for another's write lock before "database is locked".
SQLITE_BUSY_SECONDS = 30


def immediate_transactions(engine: Engine) -> None:
    """Make every writing transaction on a SQLite engine take the write lock when it begins.

    pysqlite begins a transaction before the first INSERT/UPDATE/DELETE only, as BEGIN
    DEFERRED, and not at all before a SAVEPOINT (SQLAlchemy's begin_nested), which then starts a
    deferred transaction itself: one that reads and later writes must upgrade its read lock, and
    in WAL mode SQLite answers that upgrade with SQLITE_BUSY at once, without waiting the busy
    timeout, when another connection wrote since the read. Under 4 concurrent shoppers that gave
    32 "database is locked" errors in 60 cart updates (issue 14). Here pysqlite's own BEGIN is
    off and the first write or SAVEPOINT of a transaction is preceded by BEGIN IMMEDIATE: the
    write lock is taken first, a writer waits its turn (the busy timeout) and never upgrades.
    Reads before it run outside a transaction, as pysqlite ran them, so a reading session never
    holds the lock (a second session in the same request does not wait on the first); keep
    writing transactions short (no ERP call or long JDE query while one is open). After
    SQLAlchemy's pysqlite recipe "Serializable isolation / Savepoints / Transactional DDL":
    https://docs.sqlalchemy.org/en/20/dialects/sqlite.html
    """

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN (nor COMMIT before DDL) itself

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_immediate_before_writing(conn, cursor, statement, _parameters, _context, _executemany) -> None:
        dbapi_connection = cursor.connection
        if not dbapi_connection.in_transaction and statement.lstrip()[:9].upper().startswith(_WRITES):
            dbapi_connection.execute("BEGIN IMMEDIATE")


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


class UtcDateTime(TypeDecorator):
    """A timestamp with time zone that always comes back aware, in UTC, on every database.

    PostgreSQL stores `timestamp with time zone`; SQLite has no such type and gives naive
    datetimes back. Values are stored in UTC (a naive value is taken to be UTC already, as
    clock.utcnow() and the rows SQLite wrote are) and read back with tzinfo=UTC, so the API's
    timestamps carry their zone whatever the portal database (issue 14, point 7).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or not isinstance(value, dt.datetime):
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None or not isinstance(value, dt.datetime):
            return value
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def is_in_memory(engine: Engine) -> bool:
    """A SQLite database in memory: a second engine on its URL would be another, empty database."""
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def _sqlite_pragmas(pragmas: list[str]):
    """A connect listener that sets pragmas on each new SQLite connection."""

    def apply(dbapi_connection, _record) -> None:
        cur = dbapi_connection.cursor()
        for pragma in pragmas:
            cur.execute(pragma)
        cur.close()

    return apply
