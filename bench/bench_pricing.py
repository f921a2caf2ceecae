"""Benchmark: pricing a 200-line cart with the local ERP (SQLite, PostgreSQL) and with AIS.

Run from the checkout:  .venv/bin/python bench/bench_pricing.py  [--repeats 100] [--accounts 300]
Writes bench/RESULTS-pricing.md (with --write). PostgreSQL is taken from ECGW_TEST_PG_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test); a fresh database is made and dropped.

Each case is timed `repeats` times after a warm-up; the report gives median and p99 and the
ratio of each median to a baseline measured in the same run (a 1-line cart priced locally on
SQLite), because the machine is shared and absolute times wander.
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
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from ecgateway.config import Settings  # noqa: E402
from ecgateway.db import make_engine  # noqa: E402
from ecgateway.erp import PriceRequest, PriceRequestLine  # noqa: E402
from ecgateway.erp.ais import AisErp  # noqa: E402
from ecgateway.erp.local import LocalErp  # noqa: E402
from ecgateway.jde.generator import seed_database  # noqa: E402
from ecgateway.jde.tables import jde_tables  # noqa: E402
from erp.fake_ais import PASSWORD, USERNAME, FakeAis, local_pricer, serve  # noqa: E402

PG_ADMIN_URL = os.environ.get("ECGW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CART_LINES = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS-pricing.md")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-pricing-"))
    settings = Settings(data_dir=tmp)
    tables = jde_tables(None)
    sqlite = make_engine(f"sqlite:///{tmp / 'jde.sqlite'}")
    seed_database(sqlite, tables, accounts=args.accounts, seed=42)
    sold_to, cart = _cart(sqlite, tables)
    args.cart_summary = _summary(LocalErp(sqlite, tables, settings).price(cart))
    one_line = PriceRequest(sold_to=sold_to, ship_to=sold_to, company="00000", branch="30", currency=None,
                            lines=cart.lines[:1])
    local_sqlite = LocalErp(sqlite, tables, settings)

    results: list[tuple[str, list[float]]] = []
    measure = _measurer(args.repeats, results)
    measure("baseline: local SQLite, 1-line cart", lambda: local_sqlite.price(one_line))
    measure("local SQLite, 200 lines", lambda: local_sqlite.price(cart))
    measure("local SQLite, 200 lines one call per line (not used; for contrast)",
            lambda: [local_sqlite.price(PriceRequest(**{**cart.__dict__, "lines": (line,)})) for line in cart.lines],
            repeats=max(10, args.repeats // 10))

    with _postgres(args.accounts) as (pg, pg_tables):
        local_pg = LocalErp(pg, pg_tables, settings)
        measure("local PostgreSQL, 1-line cart", lambda: local_pg.price(one_line))
        measure("local PostgreSQL, 200 lines", lambda: local_pg.price(cart))

    fake = FakeAis(pricer=local_pricer(local_sqlite))
    with serve(fake) as url:
        ais_settings = Settings(data_dir=tmp, erp_mode="ais", ais_url=url, ais_username=USERNAME,
                                ais_password=PASSWORD)
        ais = AisErp(ais_settings)
        measure("AIS to the fake (pricing with local SQLite inside), 200 lines", lambda: ais.price(cart))
        fake.pricer = None  # the fake's own trivial prices: HTTP + JSON cost of the client alone
        measure("AIS to the fake (trivial prices inside), 200 lines", lambda: ais.price(cart))
        ais.close()
        token_requests = len(fake.token_requests)

    report = _report(results, args, token_requests)
    print(report)
    if args.write:
        (ROOT / "bench" / "RESULTS-pricing.md").write_text(report)


def _cart(engine: sa.Engine, t) -> tuple[int, PriceRequest]:
    """A sold-to with a price group and schedule, and 200 distinct items with mixed quantities."""
    with engine.connect() as conn:
        sold_to = conn.execute(sa.select(t.F03012.c.aian8).where(
            t.F03012.c.aibadt.in_(["B", "X"]), t.F03012.c.aicpgp == "WHOLESAL", t.F03012.c.aiasn == "PORTAL",
            t.F03012.c.aicrcd == "USD").order_by(t.F03012.c.aian8).limit(1)).scalar_one()
        items = conn.execute(sa.select(t.F4101.c.imlitm).order_by(t.F4101.c.imitm).limit(CART_LINES)).scalars().all()
    quantities = (1, 5, 12, 120, 3)
    lines = tuple(PriceRequestLine(item, quantities[n % len(quantities)]) for n, item in enumerate(items))
    return sold_to, PriceRequest(sold_to=sold_to, ship_to=sold_to, company="00000", branch="30", currency=None,
                                 lines=lines)


def _summary(result) -> str:
    priced = [line for line in result.lines if line.available]
    steps = sum(len(line.explanation) - 1 for line in priced)
    return (f"{len(priced)} lines priced with {steps} adjustment steps in all,"
            f" {len(result.lines) - len(priced)} refused")


def _measurer(default_repeats: int, results: list):
    def measure(name: str, call: Callable[[], object], repeats: int | None = None) -> None:
        repeats = repeats or default_repeats
        for _ in range(max(3, repeats // 10)):
            call()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        results.append((name, times))
        print(f"{name}: median {statistics.median(times) * 1000:.2f} ms", file=sys.stderr)

    return measure


class _postgres:
    def __init__(self, accounts: int):
        self.accounts = accounts
        self.name = f"ecgw_bench_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def __enter__(self):
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        url = sa.engine.make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)
        self.engine = make_engine(url)
        with self.engine.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA proddta"))
        tables = jde_tables("proddta")
        seed_database(self.engine, tables, accounts=self.accounts, seed=42)
        return self.engine, tables

    def __exit__(self, *_exc):
        self.engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _report(results, args, token_requests: int) -> str:
    baseline = statistics.median(results[0][1])
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    lines = [
        "# Pricing a 200-line cart",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}),"
        f" {mem_kb / 1024 / 1024:.0f} GB, Python {platform.python_version()}, {platform.system()} {platform.release()}.",
        "The machine is shared with other work running at the same time: read the ratios more than the times.",
        "",
        f"Command: `.venv/bin/python bench/bench_pricing.py --repeats {args.repeats} --accounts {args.accounts} --write`",
        f"Data: generated JDE data, seed 42, {args.accounts} accounts (300 items); the cart holds 200 distinct items",
        "with quantities 1, 5, 12, 120, 3 for a WHOLESAL sold-to with the PORTAL schedule, branch 30.",
        "",
        "| case | runs | median ms | p99 ms | median / baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, times in results:
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
        median = statistics.median(times)
        lines.append(f"| {name} | {len(times)} | {median * 1000:.2f} | {p99 * 1000:.2f} | {median / baseline:.1f} |")
    lines += [
        "",
        "Notes:",
        "- Local pricing of a cart is 5 queries whatever its size (customer with its F40942 group, F4101 with",
        "  F40941, F4106, F4070 with F4071, F4072); the one-call-per-line row shows what that saves.",
        f"- The 200-line cart: {args.cart_summary}.",
        "- AIS rows are real HTTP on loopback to a uvicorn fake (tests/erp/fake_ais.py) in the same process;",
        f"  the client requested {token_requests} token(s) for all AIS runs. A real AIS server adds its own",
        "  orchestration time (typically hundreds of ms), which this does not model.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
