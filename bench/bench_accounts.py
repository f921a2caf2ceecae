"""Benchmark: the Work-with-Accounts listing at 100,000 accounts on SQLite and PostgreSQL.

Run from the checkout:  .venv/bin/python bench/bench_accounts.py [--repeats 40] [--write]
(`scripts/bench` runs it with the others). Writes bench/RESULTS-accounts.md with --write.

Data: ecgateway.jde.generator.seed_database(accounts=100,000, seed=42), about 1,000,000 F0101
rows. It takes about a minute per backend, so it is kept between runs: the SQLite file in
var/bench/, and on PostgreSQL (ECGW_TEST_PG_URL's server) the database ecgw_bench_100k with
the JDE tables in schema proddta. Both are reused when present; missing indexes are added.

For each backend and case (no filter, a 1,000-value IN list, a category-code filter, a name
search) the first page and a deep page (a keyset cursor 90% into the list) are timed
`repeats` times, interleaved with the same query written by hand and run through the same
SQLAlchemy connection and driver. The report gives median and p99 of each, the ratio of
medians (ours / by hand; target <= 1.2) and deep / first (target: about 1, so that the page
time does not depend on the depth). Compile time (parse + check + render) is timed cold
(caches cleared) and cached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from ecgateway.accounts import all_scope, filter_scope, list_accounts  # noqa: E402
from ecgateway.accounts import restrictions as restrictions_module  # noqa: E402
from ecgateway.accounts.query import WorkWithAccounts  # noqa: E402
from ecgateway.accounts.service import _encode_cursor  # noqa: E402
from ecgateway.config import Settings  # noqa: E402
from ecgateway.db import make_engine  # noqa: E402
from ecgateway.jde.conventions import today_julian  # noqa: E402
from ecgateway.jde.generator import seed_database  # noqa: E402
from ecgateway.jde.tables import jde_tables  # noqa: E402

PG_ADMIN_URL = os.environ.get("ECGW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DATABASE = "ecgw_bench_100k"
PG_SCHEMA = "proddta"
SEED = 42
# What the gateway's read-only JDE role on PostgreSQL should have (ALTER ROLE ... SET ...):
# pages of 50 by index; JIT compilation and parallel workers only add start-up time.
PG_GATEWAY_SETTINGS = ("SET jit = off", "SET max_parallel_workers_per_gather = 0")
PAGE = 50
RESULTS = ROOT / "bench" / "RESULTS-accounts.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--prepare-only", action="store_true", help="seed (or find) the databases and stop")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()

    lines: list[str] = []
    for backend in args.backends.split(","):
        writer, schema = prepare(backend, args.accounts)
        writer.dispose()
        if args.prepare_only:
            continue
        # timed through an engine like the gateway's page reader: read-only, case-sensitive LIKE
        engine = make_engine(writer.url.render_as_string(hide_password=False), jde=True, read_only=True)
        lines += run_backend(backend, engine, schema, args.repeats)
        if backend == "postgresql":
            lines += run_backend(backend, engine, schema, args.repeats, session_settings=PG_GATEWAY_SETTINGS)
        engine.dispose()
    if args.prepare_only:
        return
    report = render_report(lines, args)
    print(report)
    if args.write:
        RESULTS.write_text(report)
        print(f"wrote {RESULTS}")


# --- data ---------------------------------------------------------------------------------

def prepare(backend: str, accounts: int) -> tuple[sa.Engine, str | None]:
    """The seeded database for backend, reused when a previous run left it; indexes ensured."""
    if backend == "sqlite":
        path = ROOT / "var" / "bench" / f"jde-{accounts}-seed{SEED}.sqlite"
        engine, schema = make_engine(f"sqlite:///{path}"), None
    else:
        engine, schema = _postgres_database(accounts), PG_SCHEMA
    tables = jde_tables(schema)
    tables.metadata.create_all(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(tables.F0101)).scalar_one()
    if rows == 0:
        print(f"[{backend}] seeding {accounts:,} accounts (about a minute)...", flush=True)
        print(f"[{backend}] {seed_database(engine, tables, accounts=accounts, seed=SEED).describe()}", flush=True)
    else:
        print(f"[{backend}] reusing {rows:,} F0101 rows", flush=True)
    for table in tables.all():  # indexes added since the data was made
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    return engine, schema


def _postgres_database(accounts: int) -> sa.Engine:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = PG_DATABASE if accounts == 100_000 else f"{PG_DATABASE}_{accounts}"
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
    return engine


# --- the cases ----------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    filter_text: str | None
    q: str | None
    sort: str
    hand_where: str  # the restriction and search, as a person would write them after the base
    hand_params: dict[str, object]


def cases(account_numbers: list[int]) -> list[Case]:
    chosen = account_numbers[:: max(1, len(account_numbers) // 1000)][:1000]
    in_list = ", ".join(f"'{n}'" for n in chosen)
    hand_in = ", ".join(f":v{i}" for i in range(len(chosen)))
    return [
        Case("no filter", None, None, "number", "", {}),
        Case("no filter, sort by name", None, None, "name", "", {}),
        Case("no filter, sort by city", None, None, "city", "", {}),
        Case("1,000-value IN list", f"ABAN8 IN ({in_list})", None, "number",
             f"AND (AB.ABAN8 IN ({hand_in}))", {f"v{i}": n for i, n in enumerate(chosen)}),
        Case("category code ABAC01 = 'NTH'", "ABAC01 = 'NTH'", None, "number",
             "AND (AB.ABAC01 = :c)", {"c": "NTH"}),
        Case("name search 'acme'", None, "acme", "number",
             "AND (AB.ABDC LIKE :name OR UPPER(AL.ALCTY1) LIKE :city)", {"name": "%ACME%", "city": "%ACME%"}),
    ]


SORTS = {"number": ("AB.ABAN8", None, None), "name": ("AB.ABALPH", "ABALPH", "AB.ABAN8"),
         "city": ("AL.ALCTY1", "ALCTY1", "AL.ALAN8")}


def hand_sql(schema: str | None, case: Case) -> str:
    """The list query written by hand, flat, as a developer would type it for this case.

    Keyset paging by hand: every page starts after a key; the first after (' ', 0)."""
    s = f"{schema}." if schema else ""
    sort_column, _, tie = SORTS[case.sort]
    # By number, the bound is repeated in the F0150 checks (PostgreSQL does not infer it);
    # otherwise a row-value comparison (both SQLite and PostgreSQL have them) starts the index scan.
    k = " AND {} > :k_an8" if case.sort == "number" else ""
    if case.sort == "number":
        after, order = "AND AB.ABAN8 > :k_an8", "AB.ABAN8"
    else:
        after = f"AND ({sort_column}, {tie}) > (:k_sort, :k_an8)"
        order = f"{sort_column}, {tie}"
    # The baseline typed by hand: only this file's own clauses and the schema go in; values are bound.
    return f"""
SELECT AB.ABAN8, AB.ABALPH, AL.ALCTY1, AL.ALADDS, AL.ALADDZ, AL.ALCTR,
       (SELECT MIN(TRIM(WP.WPAR1) || ' ' || TRIM(WP.WPPH1)) FROM {s}F0115 WP
         WHERE WP.WPAN8 = AB.ABAN8 AND WP.WPIDLN = 0 AND WP.WPPHTP = '    ') AS PHONE,
       (SELECT MIN(EA.EAEMAL) FROM {s}F01151 EA
         WHERE EA.EAAN8 = AB.ABAN8 AND EA.EAIDLN = 0 AND EA.EAETP = 'E   ') AS EMAIL
  FROM {s}F0101 AB
  JOIN {s}F0116 AL ON AL.ALAN8 = AB.ABAN8 AND AL.ALEFTB <= :today
   AND NOT EXISTS (SELECT 1 FROM {s}F0116 X WHERE X.ALAN8 = AL.ALAN8{k.format("X.ALAN8")}
                      AND X.ALEFTB > AL.ALEFTB AND X.ALEFTB <= :today)
  LEFT JOIN {s}F03012 AI ON AI.AIAN8 = AB.ABAN8
   AND AI.AICO = (SELECT MAX(Y.AICO) FROM {s}F03012 Y
                   WHERE Y.AIAN8 = AB.ABAN8 AND Y.AICO IN ('00000', '00000'))
 WHERE AB.ABAT1 = 'C  '
   AND EXISTS (SELECT 1 FROM {s}F0150 C WHERE C.MAOSTP = '   ' AND C.MAPA8 = AB.ABAN8{k.format("C.MAPA8")})
   AND NOT EXISTS (SELECT 1 FROM {s}F0150 P WHERE P.MAOSTP = '   ' AND P.MAAN8 = AB.ABAN8{k.format("P.MAAN8")})
   {case.hand_where}
   {after}
 ORDER BY {order}
 LIMIT {PAGE + 1}"""  # noqa: S608


def run_backend(backend: str, engine: sa.Engine, schema: str | None, repeats: int,
                session_settings: tuple[str, ...] = ()) -> list[str]:
    settings = Settings(data_dir=ROOT / "var" / "bench", jde_schema=schema)
    wwa = WorkWithAccounts.load(settings, dialect=engine.dialect.name)
    rows: list[str] = []
    if session_settings:
        backend = f"{backend} (jit off, no parallel)"
    with engine.connect() as conn:
        for statement in session_settings:
            conn.exec_driver_sql(statement)
        numbers = [r.an8 for r in _walk_numbers(conn, wwa)]
        print(f"[{backend}] {len(numbers):,} accounts", flush=True)
        for case in cases(numbers):
            scope = filter_scope(case.filter_text, wwa=wwa) if case.filter_text else all_scope(wwa)
            deep_key = _deep_key(conn, schema, case)
            statement = sa.text(hand_sql(schema, case))
            for deep in (False, True):
                cursor = None
                sort_value, an8 = deep_key if deep else (" ", 0)
                if deep:
                    cursor = _encode_cursor(case.sort, sort_value, an8)
                hand_params: dict[str, object] = {"today": today_julian(), **case.hand_params, "k_an8": an8}
                if case.sort != "number":
                    hand_params["k_sort"] = sort_value

                def ours(scope=scope, cursor=cursor, case=case):
                    return list_accounts(conn, wwa=wwa, scope=scope, q=case.q, sort=case.sort, cursor=cursor, limit=PAGE)

                def by_hand(params=hand_params, statement=statement):
                    return conn.execute(statement, params).all()

                got = [r.an8 for r in ours().items]
                expected = [r[0] for r in by_hand()][:PAGE]
                assert got == expected, f"{case.name}: ours and the hand-written query disagree"
                ours_times, hand_times = _interleaved(ours, by_hand, repeats)
                rows.append(_row(backend, case.name, "deep (90%)" if deep else "first", ours_times, hand_times))
                print(rows[-1], flush=True)
        rows += _compile_times(backend, wwa, numbers)
    return rows


def _walk_numbers(conn, wwa):
    """All account numbers in order, by the hand: one pass over the keyset pages of 200."""
    scope, cursor, out = all_scope(wwa), None, []
    while True:
        page = list_accounts(conn, wwa=wwa, scope=scope, cursor=cursor, limit=200)
        out += page.items
        cursor = page.next_cursor
        if cursor is None:
            return out


def _deep_key(conn, schema: str | None, case: Case) -> tuple[object, int]:
    """(sort value as stored, ABAN8) of the row 90% into the case's list (set-up only, no LIMIT)."""
    sql = hand_sql(schema, case).replace(f"LIMIT {PAGE + 1}", "")
    params = {"today": today_julian(), **case.hand_params, "k_an8": 0, "k_sort": " "}
    all_rows = conn.execute(sa.text(sql), params).all()
    row = all_rows[int(len(all_rows) * 0.9)]
    _, column, _ = SORTS[case.sort]
    sort_value = None if column is None else {"ABALPH": row[1], "ALCTY1": row[2]}[column]
    return sort_value, row[0]


def _interleaved(ours: Callable, by_hand: Callable, repeats: int) -> tuple[list[float], list[float]]:
    for _ in range(3):  # warm caches and prepared statements for both
        ours()
        by_hand()
    a, b = [], []
    for i in range(repeats):
        first, second = (ours, by_hand) if i % 2 == 0 else (by_hand, ours)
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        (a if first is ours else b).append(t1 - t0)
        (b if first is ours else a).append(t2 - t1)
    return a, b


def _compile_times(backend: str, wwa: WorkWithAccounts, numbers: list[int]) -> list[str]:
    from ecgateway.accounts.query import Shape

    out = []
    in_list = "ABAN8 IN (" + ", ".join(f"'{n}'" for n in numbers[::100][:1000]) + ")"
    for label, text in (("1,000-value IN list", in_list), ("category code", "ABAC01 = 'NTH'")):
        cold, cached = [], []
        for _ in range(10):
            restrictions_module._compile.cache_clear()
            wwa._cache.clear()
            t0 = time.perf_counter()
            wwa.statement(wwa.compile(text), Shape("list"))
            cold.append(time.perf_counter() - t0)
            for _ in range(10):
                t0 = time.perf_counter()
                wwa.statement(wwa.compile(text), Shape("list"))
                cached.append(time.perf_counter() - t0)
        out.append(f"| {backend} | compile {label} | cold / cached | {_ms(statistics.median(cold))} | {_ms(_p99(cold))} "
                   f"| {_ms(statistics.median(cached))} | {_ms(_p99(cached))} | | |")
    return out


# --- report -------------------------------------------------------------------------------

def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


_FIRST_MEDIANS: dict[tuple[str, str], float] = {}


def _row(backend: str, case: str, page: str, ours: list[float], hand: list[float]) -> str:
    median_ours, median_hand = statistics.median(ours), statistics.median(hand)
    depth = ""
    if page == "first":
        _FIRST_MEDIANS[(backend, case)] = median_ours
    else:
        depth = f"{median_ours / _FIRST_MEDIANS[(backend, case)]:.2f}"
    return (f"| {backend} | {case} | {page} | {_ms(median_ours)} | {_ms(_p99(ours))} | {_ms(median_hand)} "
            f"| {_ms(_p99(hand))} | {median_ours / median_hand:.2f} | {depth} |")


def render_report(lines: list[str], args) -> str:
    cores = os.cpu_count()
    memory = _memory_gib()
    head = [
        "# Work-with-Accounts benchmark results",
        "",
        "Run with `scripts/bench` or `.venv/bin/python bench/bench_accounts.py --write`.",
        "",
        f"### {dt.date.today().isoformat()} on {platform.node() or 'this machine'}: {cores} cores, {memory} GiB "
        f"(shared with other work), Python {platform.python_version()}",
        "",
        f"{args.accounts:,} accounts (seed {SEED}), pages of {PAGE}, {args.repeats} timed runs per query after "
        "3 warm-ups, ours and by-hand interleaved on one connection. Times in ms.",
        "ratio = median ours / median by hand (target <= 1.2); deep/first = median deep page / median "
        "first page of ours (target about 1: no dependence on depth). For compile rows the two "
        "pairs of columns are cold (caches cleared) and cached.",
        f"Load average of the machine at the end of the run (other work shares it): "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1 / 5 / 15 min).",
        "",
        "| backend | case | page | ours median | ours p99 | by hand median | by hand p99 | ratio | deep/first |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    return "\n".join(head + lines) + "\n" + NOTES


NOTES = """
### What the query does to stay fast and depth-independent

- Keyset paging, never OFFSET: every page, the first too, starts after a key (the first
  after a blank and 0), so one plan serves all pages. On PostgreSQL and SQLite the key is
  a row-value comparison `(sort, number) > (:k_sort, :k_an8)`: one exact index range.
  Oracle and SQL Server get `sort >= :k AND (sort > :k OR number > :n)`.
- Indexes added for the sorts (src/ecgateway/jde/tables.py): F0101 (ABALPH, ABAN8) and
  F0116 (ALCTY1, ALAN8). The others were there: the primary keys, and F0150 (MAAN8, MAOSTP)
  for "is not a child".
- By number, the page bound is repeated inside the EXISTS checks (F0150 MAPA8 / MAAN8 and
  the later-F0116-row check > the key). PostgreSQL does not infer it, and its merge semi/anti joins otherwise read the F0150
  index from the start on every deep page (300 ms at 90%). Not elsewhere: each repeated
  bound lowers PostgreSQL's row estimate, and repeated on every joined number it estimated a
  deep page at 9 rows and sorted the rest of the table instead.
- The current F0116 row is `NOT EXISTS (a later row on or before today)`, not
  `= (SELECT MAX(...))`: PostgreSQL misestimated the MAX form at 10 rows and hashed all of
  F0116 (4.5 s for a first page).
- JDE's fixed codes (search type 'C  ', blank structure) are literals and the page's row
  count is written into the SQL: bound, PostgreSQL's generic plans (psycopg prepares a
  statement after 5 runs) guessed them and picked parallel sort plans for deep pages.
- The by-hand query is the same SQL typed flat, with the same keyset conditions, run on the
  same connection; the ratio is what the composer, the caches and the row objects cost.
- "postgresql (jit off, no parallel)" is the same database with `SET jit = off` and
  `SET max_parallel_workers_per_gather = 0`, the settings recommended for the gateway's
  read-only JDE role (`ALTER ROLE ... SET ...`): JIT compilation (up to 900 ms when a plan's
  estimated cost crosses jit_above_cost) and parallel workers only add start-up time to
  pages of 50 rows.
- The name search is `ABDC LIKE '%ACME%' OR UPPER(ALCTY1) LIKE '%ACME%'` (contains, any
  case): no index can serve it, so a page costs the rows scanned until 50 match. That
  depends on where the matches lie, not on the depth: in this data the last tenth of the
  number range has half as many 'ACME' names as the first (61 against 124 in 3,000 rows),
  so its pages scan about twice as many rows.
- IN lists by number: on deep pages the values before the page's key are bound as 0 (same
  statement, other values; accounts.service._skip_numbers_before), so SQLite probes one
  value instead of every value before the page. What is left of deep/first for the IN list
  is the list itself (1,000 binds sorted and deduplicated on every page), not the table.
- The engine is the one the gateway uses for pages: read-only (PRAGMA query_only on SQLite,
  read-only transactions on PostgreSQL), and on SQLite case-sensitive LIKE.
"""


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        return f"{kib / 1024 / 1024:.0f}"
    except (OSError, ValueError, IndexError):
        return "?"


if __name__ == "__main__":
    main()
