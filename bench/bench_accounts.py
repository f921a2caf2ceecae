"""Benchmark: the Work-with-Accounts listing at 100,000 accounts on SQLite and PostgreSQL.

Run from the checkout:  .venv/bin/python bench/bench_accounts.py [--repeats 40] [--write]
(`scripts/bench` runs it with the others). Writes bench/RESULTS-accounts.md with --write.

Data: ecgateway.jde.generator.seed_database(accounts=100,000, seed=42), about 1,000,000 F0101
rows. It takes about a minute per backend, so it is kept between runs: the SQLite file in
var/bench/, and on PostgreSQL (ECGW_TEST_PG_URL's server) the database ecgw_bench_100k with
the JDE tables in schema proddta. Both are reused when present; missing indexes are added.

For each backend and case (no filter, a 1,000-value IN list, a category-code filter, a name
search) the first page and a deep page (a keyset cursor 90% into the list) are timed
`repeats` times, interleaved (shuffled in each round) with the same query written by hand
and run through the same SQLAlchemy connection and driver, and with our statement alone. The
report gives median and p99 of each, the ratio of medians (ours / by hand; target <= 1.2) and
deep / first (target: about 1, so that the page time does not depend on the depth). Compile
time (parse + check + render) is timed cold (caches cleared) and cached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from ecgateway.accounts import all_scope, filter_scope, list_accounts  # noqa: E402
from ecgateway.accounts import restrictions as restrictions_module  # noqa: E402
from ecgateway.accounts.query import WorkWithAccounts  # noqa: E402
from ecgateway.accounts.service import _decode_cursor, _encode_cursor  # noqa: E402
from ecgateway.config import Settings  # noqa: E402
from ecgateway.db import make_engine  # noqa: E402
from ecgateway.jde.conventions import today_julian  # noqa: E402
from ecgateway.jde.generator import seed_database  # noqa: E402
from ecgateway.jde.tables import jde_tables  # noqa: E402

PG_ADMIN_URL = os.environ.get("ECGW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DATABASE = "ecgw_bench_100k"
PG_SCHEMA = "proddta"
SEED = 42
# The gateway's page reader runs with jit=off (ecgateway.db); what its read-only JDE role on
# PostgreSQL should also have (ALTER ROLE ... SET ...): parallel workers only add start-up time
# to pages of 50 read by index.
PG_GATEWAY_SETTINGS = ("SET max_parallel_workers_per_gather = 0",)
PAGE = 50
ROUND_BUDGET = 3.0  # seconds of timed rounds per case, at least; see _interleaved
MAX_ROUNDS = 2000
# Where the depth profile starts its pages: fractions of the list (0 is the first page).
DEPTHS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99)
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
    profile: list[str] = []
    for backend in args.backends.split(","):
        writer, schema = prepare(backend, args.accounts)
        writer.dispose()
        if args.prepare_only:
            continue
        # timed through an engine like the gateway's page reader: read-only, case-sensitive LIKE
        engine = make_engine(writer.url.render_as_string(hide_password=False), jde=True, read_only=True)
        settings_runs = [()] + ([PG_GATEWAY_SETTINGS] if backend == "postgresql" else [])
        for session_settings in settings_runs:
            rows, depths = run_backend(backend, engine, schema, args.repeats, session_settings=session_settings)
            lines += rows
            profile += depths
        engine.dispose()
    if args.prepare_only:
        return
    report = render_report(lines, profile, args)
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
    present = _index_names(engine, schema)
    for table in tables.all():  # indexes added since the data was made
        for index in table.indexes:
            if index.name not in present:
                index.create(engine)
    # Statistics, and on PostgreSQL the visibility map as autovacuum leaves it on a live database
    # (this server runs with autovacuum off): without it every index-only scan reads the table too.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE" if backend == "sqlite" else "VACUUM (ANALYZE)"))
    return engine, schema


def _index_names(engine: sa.Engine, schema: str | None) -> set[str]:
    """Names of the indexes present, read from the catalogue: SQLAlchemy's reflection skips
    expression indexes on SQLite (F0116 UPPER(ALCTY1)), so checkfirst would create it twice."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        else:
            rows = conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = :s"), {"s": schema})
        return {name for (name,) in rows}


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
    walks: bool = True  # the page walks an index in its order (all but the IN list, which probes)


def cases(account_numbers: list[int]) -> list[Case]:
    chosen = account_numbers[:: max(1, len(account_numbers) // 1000)][:1000]
    in_list = ", ".join(f"'{n}'" for n in chosen)
    hand_in = ", ".join(f":v{i}" for i in range(len(chosen)))
    return [
        Case("no filter", None, None, "number", "", {}),
        Case("no filter, sort by name", None, None, "name", "", {}),
        Case("no filter, sort by city", None, None, "city", "", {}),
        Case("1,000-value IN list", f"ABAN8 IN ({in_list})", None, "number",
             f"AND (AB.ABAN8 IN ({hand_in}))", {f"v{i}": n for i, n in enumerate(chosen)}, walks=False),
        Case("category code ABAC01 = 'NTH'", "ABAC01 = 'NTH'", None, "number",
             "AND (AB.ABAC01 = :c)", {"c": "NTH"}),
        Case("name search 'acme'", None, "acme", "number",
             "AND (AB.ABDC LIKE :name OR UPPER(AL.ALCTY1) LIKE :city)", {"name": "%ACME%", "city": "%ACME%"}),
    ]


class Sort(NamedTuple):
    column: str  # the sort column, qualified as in the hand-written query
    key: str | None  # its name in a row and in the walked table (None: the number is the sort)
    tie: str | None  # the tie-breaker, qualified
    table: str  # the table whose index a page walks in this order
    number: str  # that table's account-number column


SORTS = {"number": Sort("AB.ABAN8", None, None, "F0101", "ABAN8"),
         "name": Sort("AB.ABALPH", "ABALPH", "AB.ABAN8", "F0101", "ABAN8"),
         "city": Sort("AL.ALCTY1", "ALCTY1", "AL.ALAN8", "F0116", "ALAN8")}


def hand_sql(schema: str | None, case: Case) -> str:
    """The list query written by hand, flat, as a developer would type it for this case.

    Keyset paging by hand: every page starts after a key; the first after (' ', 0)."""
    s = f"{schema}." if schema else ""
    sort_column, _, tie, _, _ = SORTS[case.sort]
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
                session_settings: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """Rows of the main table and of the depth profile for one backend."""
    settings = Settings(data_dir=ROOT / "var" / "bench", jde_schema=schema)
    wwa = WorkWithAccounts.load(settings, dialect=engine.dialect.name)
    rows: list[str] = []
    profile: list[str] = []
    if session_settings:
        backend = f"{backend} (no parallel)"
    with engine.connect() as conn:
        for statement in session_settings:
            conn.exec_driver_sql(statement)
        numbers = [r.an8 for r in _walk_numbers(conn, wwa)]
        print(f"[{backend}] {len(numbers):,} accounts", flush=True)
        for case in cases(numbers):
            scope = filter_scope(case.filter_text, wwa=wwa) if case.filter_text else all_scope(wwa)
            keys = _keys_at(conn, schema, case, DEPTHS)
            deep_key = keys[0.9]
            statement = sa.text(hand_sql(schema, case))
            runs: dict[str, Callable] = {}
            read: dict[str, int] = {}
            for page in ("first", "deep"):
                cursor = None
                sort_value, an8 = deep_key if page == "deep" else (" ", 0)
                if page == "deep":
                    cursor = _encode_cursor(case.sort, sort_value, an8)
                hand_params: dict[str, object] = {"today": today_julian(), **case.hand_params, "k_an8": an8}
                if case.sort != "number":
                    hand_params["k_sort"] = sort_value

                def ours(scope=scope, cursor=cursor, case=case):
                    return list_accounts(conn, wwa=wwa, scope=scope, q=case.q, sort=case.sort, cursor=cursor, limit=PAGE)

                def by_hand(params=hand_params, statement=statement):
                    return conn.execute(statement, params).all()

                # our statement alone, with the values list_accounts binds (caught as it runs)
                ours_statement, ours_params = _caught(conn, ours)

                def statement_only(statement=ours_statement, params=ours_params):
                    return conn.execute(statement, params).all()

                got = [r.an8 for r in ours().items]
                expected = [r[0] for r in by_hand()][:PAGE]
                assert got == expected, f"{case.name}: ours and the hand-written query disagree"
                assert [r[0] for r in statement_only()][:PAGE] == got
                runs |= {f"ours {page}": ours, f"hand {page}": by_hand, f"statement {page}": statement_only}
                if case.walks:
                    read[page] = _rows_walked(conn, schema, case, (sort_value, an8), ours())
            times = _interleaved(runs, repeats)
            for page in ("first", "deep"):
                rows.append(_row(backend, case.name, page, times, read))
                print(rows[-1], flush=True)
            profile.append(_depth_profile(conn, wwa, backend, schema, case, scope, keys, repeats))
            print(profile[-1], flush=True)
        rows += _compile_times(backend, wwa, numbers)
    return rows, profile


def _rows_walked(conn, schema: str | None, case: Case, start: tuple[object, int], page) -> int:
    """Rows of the index the page walks (F0101 by number or name, F0116 by city) from its start
    key to its last row: what the database reads, customers or not, to find the page's 50."""
    s = f"{schema}." if schema else ""
    sort = SORTS[case.sort]
    if sort.key is None:
        low, high, params = f"{sort.number} > :a0", f"{sort.number} <= :a1", {"a0": start[1]}
    else:
        low = f"({sort.key}, {sort.number}) > (:s0, :a0)"
        high = f"({sort.key}, {sort.number}) <= (:s1, :a1)"
        params = {"s0": start[0], "a0": start[1]}
    if page.next_cursor is None:  # the last page reads to the end
        high = "1 = 1"
    else:
        params["s1"], params["a1"] = _decode_cursor(page.next_cursor, case.sort)
    sql = f"SELECT COUNT(*) FROM {s}{sort.table} WHERE {low} AND {high}"  # noqa: S608 (bench set-up, names are ours)
    return conn.execute(sa.text(sql), params).scalar_one()


def _depth_profile(conn, wwa, backend: str, schema: str | None, case: Case, scope,
                   keys: dict[float, tuple[object, int]], repeats: int) -> str:
    """Our page at each depth of DEPTHS, timed interleaved: the median per depth, and the slowest
    deeper page over the first. For a walk, also microseconds per row walked, which takes out how
    densely the page's accounts lie in the index around it."""
    runs: dict[str, Callable] = {}
    read: dict[str, int] = {}
    for fraction, (sort_value, an8) in keys.items():
        cursor = _encode_cursor(case.sort, sort_value, an8) if fraction else None

        def ours(cursor=cursor):
            return list_accounts(conn, wwa=wwa, scope=scope, q=case.q, sort=case.sort, cursor=cursor, limit=PAGE)

        runs[str(fraction)] = ours
        if case.walks:
            start = (sort_value, an8) if fraction else (" ", 0)
            read[str(fraction)] = _rows_walked(conn, schema, case, start, ours())
    times = _interleaved(runs, repeats)
    medians = {name: statistics.median(t) for name, t in times.items()}
    cells = [_ms(m) for m in medians.values()]
    first, *deeper = medians
    spread = f"{max(medians[d] for d in deeper) / medians[first]:.2f}"
    if read:
        per = {name: medians[name] / read[name] for name in medians}
        cells = [f"{_ms(m)} ({per[name] * 1e6:.2f})" for name, m in medians.items()]
        spread += f" ({max(per[d] for d in deeper) / per[first]:.2f} per row)"
    rounds = len(next(iter(times.values())))
    return f"| {backend} | {case.name} | " + " | ".join(cells) + f" | {spread} | {rounds:,} |"


def _caught(conn: sa.Connection, call: Callable) -> tuple[object, dict]:
    """The statement and parameters the call executes (one execute expected)."""
    seen: list[tuple[object, dict]] = []

    def listen(conn, clauseelement, multiparams, params, execution_options):
        seen.append((clauseelement, dict(params or multiparams[0])))

    sa.event.listen(conn, "before_execute", listen)
    try:
        call()
    finally:
        sa.event.remove(conn, "before_execute", listen)
    assert len(seen) == 1, f"expected one statement, saw {len(seen)}"
    return seen[0]


def _walk_numbers(conn, wwa):
    """All account numbers in order, by the hand: one pass over the keyset pages of 200."""
    scope, cursor, out = all_scope(wwa), None, []
    while True:
        page = list_accounts(conn, wwa=wwa, scope=scope, cursor=cursor, limit=200)
        out += page.items
        cursor = page.next_cursor
        if cursor is None:
            return out


def _keys_at(conn, schema: str | None, case: Case, fractions: tuple[float, ...]) -> dict[float, tuple[object, int]]:
    """(sort value as stored, ABAN8) of the row at each fraction of the case's list, the place a
    cursor that far in starts after (set-up only: the whole list, by hand, without LIMIT)."""
    sql = hand_sql(schema, case).replace(f"LIMIT {PAGE + 1}", "")
    params = {"today": today_julian(), **case.hand_params, "k_an8": 0, "k_sort": " "}
    all_rows = conn.execute(sa.text(sql), params).all()
    key = SORTS[case.sort].key
    keys = {}
    for fraction in fractions:
        row = all_rows[int(len(all_rows) * fraction)]
        keys[fraction] = (None if key is None else {"ABALPH": row[1], "ALCTY1": row[2]}[key], row[0])
    return keys


def _interleaved(runs: dict[str, Callable], repeats: int) -> dict[str, list[float]]:
    """Time every run at least `repeats` times, all of them in each round, in a shuffled order per
    round: drift of the machine (other work, CPU frequency, caches) then falls on all alike, and
    the ratios between them (ours / by hand, deep / first) do not depend on when each was timed.
    Sub-millisecond runs get more rounds (about ROUND_BUDGET seconds' worth, at most MAX_ROUNDS):
    60 samples of 0.5 ms move by 10% from one run of the benchmark to the next."""
    order = list(runs)
    t0 = time.perf_counter()
    for _ in range(3):  # warm caches and prepared statements for all
        for name in order:
            runs[name]()
    one_round = (time.perf_counter() - t0) / 3
    rounds = max(repeats, min(MAX_ROUNDS, int(ROUND_BUDGET / max(one_round, 1e-6))))
    shuffle = random.Random(SEED).shuffle
    times: dict[str, list[float]] = {name: [] for name in order}
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            t0 = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - t0)
    return times


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
                   f"| {_ms(statistics.median(cached))} | {_ms(_p99(cached))} | | | | | {len(cold)} / {len(cached)} |")
    return out


# --- report -------------------------------------------------------------------------------

def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _row(backend: str, case: str, page: str, times: dict[str, list[float]], read: dict[str, int]) -> str:
    ours, hand, alone = times[f"ours {page}"], times[f"hand {page}"], times[f"statement {page}"]
    median_ours, median_hand = statistics.median(ours), statistics.median(hand)
    depth = ""
    if page == "deep":
        first = statistics.median(times["ours first"])
        depth = f"{median_ours / first:.2f}"
        if read:  # a walk: the cost per row walked, deep against first
            depth += f" ({median_ours / read['deep'] / (first / read['first']):.2f} per row)"
    reads = f"{read[page]:,}" if read else ""
    label = "deep (90%)" if page == "deep" else page
    return (f"| {backend} | {case} | {label} | {_ms(median_ours)} | {_ms(_p99(ours))} | {_ms(median_hand)} "
            f"| {_ms(_p99(hand))} | {median_ours / median_hand:.2f} | {statistics.median(alone) / median_hand:.2f} "
            f"| {depth} | {reads} | {len(ours):,} |")


def render_report(lines: list[str], profile: list[str], args) -> str:
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
        f"{args.accounts:,} accounts (seed {SEED}), pages of {PAGE}. Per case, six runs are timed after 3 "
        "warm-ups, all six in each round in a shuffled order, on one connection: our page (list_accounts) "
        "and the hand-written query, first and deep, and our statement alone. `rounds` is how many times "
        f"each was timed: at least {args.repeats}, and for fast cases about {ROUND_BUDGET:.0f} s of rounds "
        f"(at most {MAX_ROUNDS:,}). Times in ms.",
        "",
        "- ratio = median of our page / median of the hand-written query (target <= 1.2). Our page is "
        "everything list_accounts does: parameters, the cached statement, the rows trimmed into "
        "AccountRows and the next cursor; the hand-written query returns the driver's rows as they are.",
        "- statement = median of our statement alone (executed with the values list_accounts binds, "
        "rows as the driver gives them) / the hand-written query: the composed SQL against SQL typed by hand.",
        "- deep/first = median deep page (a cursor 90% into the list) / median first page of ours "
        "(target about 1: no dependence on depth). A page walks an index in its order (F0101 by "
        "number or name, F0116 by city) and keeps the rows that are accounts of the list and pass "
        "the filter or search until it has 50; `read` is how many rows of that index lie between "
        "the page's start and its last row (customers or not), and \"per row\" compares the cost "
        "of each, deep against first. The IN list probes its values instead of walking.",
        "- compile rows: the two pairs of columns are cold (caches cleared) and cached.",
        "",
        f"Load average of the machine at the end of the run (the benchmark and its database count): "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1 / 5 / 15 min).",
        "",
        "| backend | case | page | ours median | ours p99 | by hand median | by hand p99 | ratio | statement "
        "| deep/first | read | rounds |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    depth_head = [
        "",
        "#### Depth profile: our page at several depths",
        "",
        "Medians in ms of our page starting at each fraction of the list (0 = the first page), the "
        "seven timed interleaved like the table above; then the slowest deeper page over the first "
        "(target about 1). In brackets, microseconds per row walked (see `read` above). Each loop "
        "has its own mix of pages competing for the caches, so absolute times here and in the table "
        "above differ (by up to half); compare within one table.",
        "",
        "| backend | case | " + " | ".join("first" if d == 0 else f"{d:.0%}" for d in DEPTHS) + " | slowest deeper / first | rounds |",
        "|---|---|" + "---:|" * (len(DEPTHS) + 2),
    ]
    return "\n".join(head + lines + depth_head + profile) + "\n" + NOTES


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
  same connection. The statement column compares our composed SQL alone with it; the ratio
  column adds what list_accounts does around the statement (parameters, the statement cache,
  the rows trimmed into AccountRows, the next cursor): about 0.05-0.1 ms a page.
- Both PostgreSQL sets run through the gateway's page reader, which turns JIT compilation
  off (it added up to 900 ms when a plan's estimated cost crossed jit_above_cost).
  "postgresql (no parallel)" also sets `max_parallel_workers_per_gather = 0`, recommended for
  the gateway's read-only JDE role (`ALTER ROLE ... SET ...`): parallel workers only add
  start-up time to pages of 50 rows.
- Every page but the IN list's walks an index in its order and keeps what qualifies: F0101
  by number (about 10 rows per account: billing and shipping addresses, suppliers,
  employees), F0101 (ABALPH, ABAN8) by name, F0116 (ALCTY1, ALAN8) by city. Its cost is the
  rows it walks (`read`), which depends on how the qualifying accounts lie in that index
  around the page, not on how deep the page is. The name search is
  `ABDC LIKE '%ACME%' OR UPPER(ALCTY1) LIKE '%ACME%'` (contains, any case; no index can
  serve it): the first page finds its 50 in 11,222 F0101 rows, the page 90% in needs 16,899
  (each tenth of the list holds 313 to 370 'ACME' accounts: the spread is local). By name,
  an account's billing and shipping addresses ("Acme Supply Co - Ship 1.2") sort next to it,
  so how many rows a page of 50 accounts walks varies from place to place (351 on the
  first page, 544 on the page 90% in).
  "per row" divides that out.
- IN lists by number: on deep pages the values before the page's key are bound as 0 (same
  statement, other values; accounts.service._skip_numbers_before), so SQLite probes one
  value instead of every value before the page. The list itself (1,000 binds) costs every
  page the same.
- On PostgreSQL the JDE engines bind every int as bigint (ecgateway.db). psycopg types an int
  by its size (0 smallint, 40,000 integer) and a prepared statement is per types (psycopg
  prepares after 5 runs), so a deep IN-list page, whose zeros changed the mix of types, was a
  statement of its own, and PostgreSQL chose per statement between a generic plan and planning
  every run: pages 80-95% in took 6.2 ms where the others took 5.0 (+25%). With one type they
  are one statement and the profile is flat.
- PostgreSQL is vacuumed after the data is loaded (VACUUM (ANALYZE), as autovacuum would on a
  live database; this server has autovacuum off). Before that, no page was marked all-visible
  and every index-only scan also read the table: the first pages, where the scans start, were
  up to twice as slow as deep ones.
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
