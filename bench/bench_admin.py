"""Benchmark: the admin filter editor at 100,000 accounts: validate, preview, the Assign page.

Run from the checkout:  .venv/bin/python bench/bench_admin.py [--backends sqlite,postgresql] [--write]
(`scripts/bench` runs it with the others). Writes bench/RESULTS-admin.md with --write.

JDE data: the shared 100,000-account database of bench/bench_accounts.py (seed 42). Portal: a
fresh SQLite file with 12 reps (4 each of: no filter, a 1,000-value ABAN8 IN list, a
category-code filter). Measured in this process (no HTTP), each case `--repeats` times after
a warm-up, median and p99, and the ratio of each median to the baseline of the same run and
filter: the rep's own first page (list_accounts over rep_scope, 50 rows), i.e. what the
rep's picker costs. Cases:
- validate: check_filter(text), what runs on every pause while the admin types (no database; a new
  text each time, so the compiler's cache does not help);
- preview: count + first 10 accounts of the text (POST /api/v1/admin/restrictions/preview);
- assign page: list_reps() with the account count of all 12 reps (reps sharing a filter share a count).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from bench_accounts import prepare  # noqa: E402  the shared 100k JDE database

from ecgateway.accounts import all_scope, list_accounts, rep_scope, set_restriction  # noqa: E402
from ecgateway.accounts.query import WorkWithAccounts  # noqa: E402
from ecgateway.admin import restrictions as rs  # noqa: E402
from ecgateway.auth.users import create_user  # noqa: E402
from ecgateway.config import Settings  # noqa: E402
from ecgateway.db import make_engine  # noqa: E402
from ecgateway.portal.migrate import upgrade  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS-admin.md"
_FRESH = iter(range(10**9))  # numbers for a new filter text each time: the compiler's cache does not help


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args, _ = parser.parse_known_args()  # scripts/bench passes the same arguments to every benchmark
    rows: list[str] = []
    for backend in args.backends.split(","):
        rows += run_backend(backend, args.repeats)
    report = render(rows, args)
    print(report)
    if args.write:
        RESULTS.write_text(report)
        print(f"wrote {RESULTS}")


def run_backend(backend: str, repeats: int) -> list[str]:
    jde_engine, schema = prepare(backend, 100_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-admin-"))
    portal_url = f"sqlite:///{tmp / 'portal.sqlite'}"
    upgrade(portal_url)
    portal_engine = make_engine(portal_url)
    settings = Settings(data_dir=tmp, jde_schema=schema, secret_key="b" * 48)
    wwa = WorkWithAccounts.load(settings, dialect=jde_engine.dialect.name)
    from sqlalchemy.orm import Session

    with jde_engine.connect() as jde:
        numbers = [a.an8 for a in list_accounts(jde, wwa=wwa, scope=all_scope(wwa), limit=200).items]
        step = []
        cursor = None
        while len(step) < 5000:  # every 5th of the first 5,000 accounts: a 1,000-value list
            page = list_accounts(jde, wwa=wwa, scope=all_scope(wwa), limit=200, cursor=cursor)
            step += [a.an8 for a in page.items]
            cursor = page.next_cursor
        long_list = "ABAN8 IN (" + ",".join(f"'{n}'" for n in step[::5][:1000]) + ")"
    filters = {"no filter (all)": "", "1,000-value ABAN8 IN": long_list,
               "category codes": "ABAC01 = 'NTH' AND NOT ABAC03 IN ('GOV')"}
    reps = {}
    with Session(portal_engine) as portal:
        for label, text in filters.items():
            for i in range(4):
                rep = create_user(portal, login=f"{label[:8].strip()}-{i}", name="Bench Rep", user_type="Internal_AR")
                if text:
                    set_restriction(portal, rep=rep, filter_text=text, changed_by="bench")
                reps.setdefault(label, rep)
        portal.commit()
        out = []
        with jde_engine.connect() as jde:
            for label, text in filters.items():
                rep = reps[label]
                base = _time(lambda rep=rep: list_accounts(jde, wwa=wwa, scope=rep_scope(portal, rep=rep, wwa=wwa),
                                                           limit=50), repeats)
                check = _time(lambda text=text: rs.check_filter(f"({text or 'ABAN8 > 0'}) OR ABAN8 = {next(_FRESH)}"),
                              repeats)
                preview = _time(lambda text=text: rs.preview(jde, wwa=wwa, filter_text=text, limit=10), repeats)
                count = rs.preview(jde, wwa=wwa, filter_text=text).count
                for name, samples in (("rep's first page (baseline)", base), ("validate", check),
                                      ("preview: count + 10", preview)):
                    out.append(_row(backend, f"{label} ({count:,} accounts)", name, samples, base))
            assign = _time(lambda: rs.list_reps(portal, jde, wwa=wwa), max(5, repeats // 3))
            base = _time(lambda: list_accounts(jde, wwa=wwa, scope=rep_scope(portal, rep=reps["category codes"],
                                                                             wwa=wwa), limit=50), repeats)
            out.append(_row(backend, "12 reps", "assign page: list_reps with counts", assign, base))
        numbers.clear()
    portal_engine.dispose()
    jde_engine.dispose()
    return out


def _time(fn, repeats: int) -> list[float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def _row(backend: str, what: str, case: str, samples: list[float], base: list[float]) -> str:
    median = statistics.median(samples)
    return (f"| {backend} | {what} | {case} | {median * 1000:.2f} | {_p99(samples) * 1000:.2f} "
            f"| {median / statistics.median(base):.2f} |")


def render(rows: list[str], args) -> str:
    cores = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    return "\n".join([
        "# Admin filter editor at 100,000 accounts",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({cores} cores, {mem:.0f} GiB), "
        f"Python {platform.python_version()}, {args.repeats} repeats per case after a warm-up; the machine is "
        "shared with other work, so compare ratios rather than absolute times.",
        "Ratio: median of the case / median of the rep's own first page (50 rows) with the same filter.",
        "",
        "| backend | filter | case | median ms | p99 ms | ratio |",
        "|---|---|---|---:|---:|---:|",
        *rows,
        "",
    ])


if __name__ == "__main__":
    main()
