"""Benchmark: generate N accounts (default 100,000) on SQLite and PostgreSQL.

Each run is a fresh process, so its peak resident memory is the generator's own. Prints
a Markdown table; `--write` appends it to bench/RESULTS-generator.md with the date and machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN = os.environ.get("ECGW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BENCH_DB = "ecgw_bench_generator"


def one_run(backend: str, accounts: int) -> dict:
    from ecgateway.db import make_engine
    from ecgateway.jde.generator import seed_database
    from ecgateway.jde.tables import jde_tables

    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            url, schema = f"sqlite:///{tmp}/jde.sqlite", None
        else:
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
                c.execute(sa.text(f'CREATE DATABASE "{BENCH_DB}"'))
            url, schema = sa.engine.make_url(PG_ADMIN).set(database=BENCH_DB).render_as_string(False), "proddta"
        engine = make_engine(url)
        if schema:
            with engine.begin() as c:
                c.execute(sa.text(f"CREATE SCHEMA {schema}"))
        started = time.perf_counter()
        summary = seed_database(engine, jde_tables(schema), accounts=accounts, seed=1)
        seconds = time.perf_counter() - started
        engine.dispose()
        if backend != "sqlite":
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb, "rows": summary.rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--write", action="store_true", help="append the results to bench/RESULTS-generator.md")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one, args.accounts)))
        return
    lines = [
        f"### {time.strftime('%Y-%m-%d')} on {platform.node()}: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python {platform.python_version()}",
        "",
        f"{args.accounts:,} accounts, {args.repeat} run(s) per backend, each in a fresh process.",
        "",
        "| backend | F0101 rows | all rows | seconds (min / median / max) | rows per second (median) | peak RSS MiB (max) |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for backend in args.backends.split(","):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--one", backend, "--accounts", str(args.accounts)],
                                 check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        secs = [r["seconds"] for r in runs]
        total = sum(runs[0]["rows"].values())
        med = statistics.median(secs)
        lines.append(f"| {backend} | {runs[0]['rows']['F0101']:,} | {total:,} | {min(secs):.1f} / {med:.1f} / {max(secs):.1f} "
                     f"| {total / med:,.0f} | {max(r['peak_mb'] for r in runs):.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        path = Path(__file__).with_name("RESULTS-generator.md")
        if not path.exists():
            path.write_text("# Generator benchmark results\n\nRun with `scripts/bench` or `python bench/bench_generator.py --write`.\n\n")
        with path.open("a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
