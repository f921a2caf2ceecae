"""Benchmark: order submission throughput, through the service and through the relay into the local ERP.

For each backend (SQLite files; PostgreSQL databases made for the run and dropped after):
- baseline: one small portal transaction (insert a row, commit) -- the floor every order pays;
- service: `place_order` of a 3-line cart (key claim, ship-to check, repricing by the local
  ERP, order + lines + outbox + audit in one commit), one caller, then THREADS callers at once;
- relay: the outbox drained by `Relay.run_until_idle` into F47011/F47012 of the local ERP.
Latencies are per order; ratios are against the baseline measured in the same run.
Prints a Markdown report; `--write` writes it to bench/RESULTS-orders.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

PG_ADMIN = os.environ.get("ECGW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).with_name("RESULTS-orders.md")
COMPANY = "00000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200, help="orders per measured case")
    parser.add_argument("--threads", type=int, default=8, help="concurrent callers in the concurrent case")
    parser.add_argument("--accounts", type=int, default=200, help="generated JDE accounts")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS-orders.md")
    args, _unknown = parser.parse_known_args()  # scripts/bench passes its arguments to every benchmark
    rows = []
    load_before = os.getloadavg()[0]
    for backend in args.backends.split(","):
        rows += run_backend(backend, args)
    report = render(rows, args, load=(load_before, os.getloadavg()[0]))
    print(report)
    if args.write:
        RESULTS.write_text(report)
        print(f"written to {RESULTS}", file=sys.stderr)


def run_backend(backend: str, args) -> list[dict]:
    from ecgateway.commerce.outbox import OutboxSettings, Relay
    from ecgateway.config import Settings
    from ecgateway.db import make_engine
    from ecgateway.erp.local import LocalErp
    from ecgateway.jde.generator import seed_database
    from ecgateway.jde.tables import jde_tables
    from ecgateway.portal.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp, database(backend, tmp, "jde") as jde_url, \
            database(backend, tmp, "portal") as portal_url:
        schema = "proddta" if backend == "postgresql" else None
        jde_engine = make_engine(jde_url, pool_size=args.threads + 2)
        if schema:
            with jde_engine.begin() as c:
                c.execute(sa.text(f"CREATE SCHEMA {schema}"))
        tables = jde_tables(schema)
        seed_database(jde_engine, tables, accounts=args.accounts, seed=42)
        upgrade(portal_url)
        portal_engine = make_engine(portal_url, pool_size=args.threads + 2)
        sessions = sessionmaker(portal_engine, expire_on_commit=False)
        settings = Settings(jde_url=jde_url, jde_schema=schema, portal_url=portal_url, data_dir=Path(tmp), company=COMPANY)
        erp = LocalErp(jde_engine, tables, settings)
        shop = Shop(sessions, jde_engine, tables, erp, threads=args.threads)
        rows = []

        with portal_engine.begin() as c:
            c.execute(sa.text("CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, note VARCHAR(40))"))
        counter = iter(range(1, 10**9))

        def baseline_op() -> None:
            with portal_engine.begin() as c:
                c.execute(sa.text("INSERT INTO bench_baseline (id, note) VALUES (:id, 'x')"), {"id": next(counter)})

        rows.append(measure(backend, "baseline: insert one row and commit", args.orders, lambda _i: baseline_op()))
        rows.append(measure(backend, "service: place_order, 3-line cart, 1 caller", args.orders,
                            lambda i: shop.order(0, f"s1-{i}")))
        relay = Relay(sessions=sessions, erp=erp, settings=OutboxSettings(batch_size=20))
        rows.append(drain(backend, "relay: outbox -> local ERP (F47011/F47012), batch 20", relay, args.orders))
        rows.append(measure(backend, f"service: place_order, {args.threads} callers at once", args.orders,
                            lambda i: shop.order(shop.caller(), f"sN-{i}"), threads=args.threads))
        relays = [Relay(sessions=sessions, erp=erp, settings=OutboxSettings(batch_size=20)) for _ in range(2)]
        rows.append(drain(backend, "relay: two relays at once, batch 20", relays, args.orders))
        with jde_engine.connect() as c:
            queued = c.scalar(sa.select(sa.func.count()).select_from(tables.F47011))
        assert queued == 2 * args.orders, f"expected {2 * args.orders} EDI orders, found {queued}"
        jde_engine.dispose()
        portal_engine.dispose()
        return rows


class Shop:
    """Reps with a cart each on one account, so concurrent callers do not share a cart."""

    def __init__(self, sessions, jde_engine, tables, erp, *, threads: int):
        from ecgateway.auth.users import create_user
        from ecgateway.erp.base import PriceRequest, PriceRequestLine
        from ecgateway.jde.addresses import billing_addresses, shipping_addresses
        from ecgateway.jde.handle import Jde
        from ecgateway.obo.context import ActingContext, Actor

        self.sessions, self.jde_engine, self.tables, self.erp = sessions, jde_engine, tables, erp
        f0150 = tables.F0150
        with jde_engine.connect() as c:
            for account in c.execute(sa.select(f0150.c.mapa8).distinct().where(
                    f0150.c.mapa8.not_in(sa.select(f0150.c.maan8))).order_by(f0150.c.mapa8)).scalars():
                bills = billing_addresses(Jde(c, tables, COMPANY), account_an8=account)
                if bills:
                    self.ship_to = shipping_addresses(Jde(c, tables, COMPANY), billing_an8=bills[0].an8)[0].an8
                    break
            candidates = list(c.execute(sa.select(tables.F4101.c.imlitm).order_by(tables.F4101.c.imitm).limit(40)).scalars())
        priced = erp.price(PriceRequest(sold_to=bills[0].an8, ship_to=self.ship_to, company=COMPANY, branch="",
                                        currency=None, lines=tuple(PriceRequestLine(i, 1) for i in candidates)))
        self.items = [line.item for line in priced.lines if line.available][:3]
        self.ctxs = []
        self._local, self._lock, self._next = threading.local(), threading.Lock(), 0
        with sessions() as s:
            for n in range(threads):
                user = create_user(s, login=f"rep{n}", name=f"Rep {n}", user_type="Internal_SalesRep", email=f"rep{n}@example.com")
                actor = Actor(user.id, user.login, user.name, user.email, user.user_type)
                self.ctxs.append(ActingContext(actor=actor, subject_an8=account, billing_an8=bills[0].an8, on_behalf=True))
            s.commit()

    def caller(self) -> int:
        """This thread's rep: each concurrent caller keeps its own cart."""
        if not hasattr(self._local, "who"):
            with self._lock:
                self._local.who = self._next
                self._next += 1
        return self._local.who

    def order(self, who: int, key: str) -> float:
        from ecgateway.commerce import carts, orders
        from ecgateway.jde.handle import Jde

        ctx = self.ctxs[who]
        with self.sessions() as s, self.jde_engine.connect() as conn:
            jde = Jde(conn, self.tables, COMPANY)
            for n, item in enumerate(self.items):
                carts.add_item(s, jde, ctx=ctx, item=item, quantity=n + 1)
            s.commit()
            started = time.perf_counter()
            orders.place_order(s, jde, self.erp, ctx=ctx,
                               idempotency_key=key, ship_to=self.ship_to, customer_po=key[:25])
            return time.perf_counter() - started


def measure(backend, case, n, op, threads=1) -> dict:
    """Run op n times (on threads callers); per-call seconds come from op or from the call itself."""
    lock = threading.Lock()
    times: list[float] = []

    def one(i):
        started = time.perf_counter()
        inner = op(i)
        took = inner if isinstance(inner, float) else time.perf_counter() - started
        with lock:
            times.append(took)

    wall = time.perf_counter()
    if threads == 1:
        for i in range(n):
            one(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(n)))
    wall = time.perf_counter() - wall
    return row(backend, case, times, wall)


def drain(backend, case, relays, n) -> dict:
    relays = relays if isinstance(relays, list) else [relays]
    from ecgateway.commerce.outbox import Relay

    sent_times: list[float] = []
    lock = threading.Lock()

    def run(relay: Relay):
        while True:
            started = time.perf_counter()
            result = relay.run_once()
            if not result.claimed:
                return
            with lock:
                per = (time.perf_counter() - started) / result.claimed
                sent_times.extend([per] * result.sent)

    wall = time.perf_counter()
    with ThreadPoolExecutor(len(relays)) as pool:
        list(pool.map(run, relays))
    wall = time.perf_counter() - wall
    assert len(sent_times) == n, f"{case}: sent {len(sent_times)} of {n}"
    return row(backend, case, sent_times, wall)


def row(backend, case, times, wall) -> dict:
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return {"backend": backend, "case": case, "n": len(times), "median_ms": statistics.median(times) * 1000,
            "p99_ms": p99 * 1000, "per_second": len(times) / wall}


@contextmanager
def database(backend: str, tmp: str, name: str):
    if backend == "sqlite":
        yield f"sqlite:///{tmp}/{name}.sqlite"
        return
    dbname = f"ecgw_bench_orders_{name}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{dbname}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN).set(database=dbname).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


def render(rows: list[dict], args, load: tuple[float, float]) -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    out = [
        "# Order submission throughput",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}),"
        f" {mem_kb / 1024 / 1024:.0f} GB, Python {platform.python_version()}, {platform.system()} {platform.release()}.",
        "The machine is shared with other work running at the same time: read the ratios more than the times",
        f"(1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end, on {os.cpu_count()} cores).",
        "",
        f"Command: `.venv/bin/python bench/bench_orders.py --orders {args.orders} --threads {args.threads}"
        f" --accounts {args.accounts}{' --write' if args.write else ''}`",
        "Each order: a rep's 3-line cart, priced again by the local ERP at submit; order, lines, outbox row,",
        "audit entry and idempotency key in one commit. The relay sends each into F47011/F47012 once.",
        "",
        "| backend | case | orders | median ms | p99 ms | per second | median / baseline |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for backend in dict.fromkeys(r["backend"] for r in rows):
        base = next(r for r in rows if r["backend"] == backend and r["case"].startswith("baseline"))
        for r in (r for r in rows if r["backend"] == backend):
            out.append(f"| {backend} | {r['case']} | {r['n']} | {r['median_ms']:.2f} | {r['p99_ms']:.2f} |"
                       f" {r['per_second']:.0f} | {r['median_ms'] / base['median_ms']:.1f} |")
    out += [
        "",
        "Notes:",
        "- Service latency counts `place_order` only (filling the cart is not timed); per second is orders",
        "  over the wall time of the case, so with several callers it is the throughput of all of them.",
        "- Relay latency is a claim-send-mark pass divided by the orders it sent. Each send takes the local",
        "  ERP's F47011 writer lock; a second relay overlaps waits on PostgreSQL and queues on SQLite's one",
        "  writer. Relays are for safety (any process may die) more than for speed.",
        "- SQLite serialises writers: concurrent callers there queue on the database lock (see the p99).",
        "- An order is two portal commits (the key's claim, then order + lines + outbox + audit + key) and",
        "  about twenty statements across the portal and JDE (ship-to list, cart, pricing): on PostgreSQL",
        "  it costs about a dozen baseline commits.",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    main()
