"""Benchmark: the supervisor's view (/admin/supervisor) at 1,000,000 audit entries, SQLite and PostgreSQL.

Run from the checkout:  .venv/bin/python bench/bench_supervisor.py [--entries N] [--backends sqlite,postgresql]
[--repeats R] [--write]   (`scripts/bench` runs it with the others; --write writes bench/RESULTS-supervisor.md)

The log: N entries over the 365 days before now, written in bulk (SQLite: executemany in one
transaction; PostgreSQL: COPY) with the hash chain computed by the generator through the audit
module's own entry_hash and canonical detail, so `ecgateway audit verify` passes on it. 60 reps,
400 customers, 3,000 accounts; the mix of actions is in MIX. The indexes of 0050_supervisor are
(and 0070's partial index) dropped for the load and made again after it (as a restore would), then ANALYZE / VACUUM ANALYZE.

Timed, each `--repeats` times after 3 warm-ups, median and p95 (ms):
- the whole page: GET /admin/supervisor signed in as an admin, through the app in this process
  (httpx ASGI transport: routing, the session check, every query, the SVG and the template);
  default period (14 days), 90 days and 366 days;
- its parts: the figures of the period, the live sessions (40 running), the alerts, one account's history;
- baseline of the same run: GET /admin (the admin home: the session check and a template, no figures),
  so that ratio = page / baseline says what the figures add on this machine at this moment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from ecgateway.admin import supervisor as sv  # noqa: E402
from ecgateway.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry  # noqa: E402
from ecgateway.audit.service import HEAD_ID, _canonical_detail, entry_hash  # noqa: E402
from ecgateway.auth.models import AuthSession  # noqa: E402
from ecgateway.auth.users import create_user  # noqa: E402
from ecgateway.clock import utcnow  # noqa: E402
from ecgateway.db import make_engine  # noqa: E402
from ecgateway.portal.migrate import upgrade  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS-supervisor.md"
PG_ADMIN = os.environ.get("ECGW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BENCH_DB = "ecgw_bench_supervisor"
CACHE = Path(os.environ.get("ECGW_BENCH_CACHE", ROOT / "var" / "bench-supervisor"))
PASSWORD = "bench password 42"
REPS, CUSTOMERS, ACCOUNTS, LIVE = 60, 400, 3000, 40
# action, outcome, by a rep (else a customer), share of the log
MIX = [
    ("obo.start", "ok", True, 10), ("obo.change", "ok", True, 3), ("obo.end", "ok", True, 12),
    ("obo.start", "refused", True, 1), ("obo.billing", "ok", True, 3), ("obo.shipping", "ok", True, 4),
    ("cart.add", "ok", True, 18), ("cart.add", "ok", False, 12), ("cart.change", "ok", True, 6),
    ("cart.add", "refused", True, 1), ("order.place", "ok", True, 3), ("order.place", "ok", False, 2),
    ("order.place", "refused", False, 1), ("order.sent", "ok", None, 5), ("auth.sign_in", "ok", True, 10),
    ("auth.sign_in", "ok", False, 6), ("auth.sign_out", "ok", True, 3),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--fresh", action="store_true", help="generate the log again even when one is cached")
    parser.add_argument("--prepare-only", action="store_true", help="generate (or check) the cached log, time nothing")
    parser.add_argument("--periods", default="14,90,366", help="periods timed, in days")
    args, _ = parser.parse_known_args()
    args.load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, notes = [], []
    for backend in args.backends.split(","):
        r, n = run_backend(backend, args.entries, args.repeats, fresh=args.fresh, prepare_only=args.prepare_only,
                           periods=tuple(int(p) for p in args.periods.split(",")))
        rows += r
        notes += n
    report = render(rows, notes, args)
    print(report)
    if args.write:
        RESULTS.write_text(report)
        print(f"wrote {RESULTS}")


def run_backend(backend: str, entries: int, repeats: int, *, fresh: bool = False, prepare_only: bool = False,
                periods: tuple[int, ...] = (14, 90, 366)) -> tuple[list[str], list[str]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-supervisor-"))
    url, notes = prepare(backend, entries, fresh=fresh)
    if prepare_only:
        return [], notes
    engine = make_engine(url)
    users = load_users(engine)
    notes.append(catch_up_rollup(backend, engine))
    start_live(engine, users)
    out = measure(backend, url, tmp, engine, users, repeats, notes, periods)
    engine.dispose()
    return out, notes


def cache_url(backend: str, entries: int) -> str:
    """Where the generated log of `entries` entries is kept between runs (generating it takes minutes)."""
    if backend == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{CACHE / f'portal-{entries}.sqlite'}"
    return sa.engine.make_url(PG_ADMIN).set(database=f"{BENCH_DB}_{entries}").render_as_string(False)


def cached(url: str, entries: int) -> str | None:
    """The cached log's marker (when it was generated), or None when there is no complete one."""
    try:
        engine = sa.create_engine(url)
        with engine.connect() as c:
            row = c.execute(sa.text("SELECT generated_at FROM bench_marker WHERE entries = :n"), {"n": entries}).first()
        engine.dispose()
    except sa.exc.SQLAlchemyError:
        return None
    return row[0] if row else None


def prepare(backend: str, entries: int, *, fresh: bool) -> tuple[str, list[str]]:
    """The benchmark's database: the cached one when complete (migrations applied on top), else generated."""
    url = cache_url(backend, entries)
    stamp = None if fresh else cached(url, entries)
    if stamp is not None:
        upgrade(url)  # a migration added since the log was generated (e.g. the roll-up table)
        print(f"[{backend}] reusing the log generated {stamp} ({url})", flush=True)
        return url, [f"{backend}: reused the cached log of {entries:,} entries generated {stamp} "
                     "(its entries span the 365 days before that moment)"]
    if backend == "sqlite":
        Path(sa.engine.make_url(url).database).unlink(missing_ok=True)
    else:
        name = sa.engine.make_url(url).database
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    upgrade(url)
    engine = make_engine(url)
    users = make_users(engine)
    started = time.perf_counter()
    rows_made, hashed_s = generate(engine, users, entries)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE" if backend == "sqlite" else "VACUUM (ANALYZE)"))
    analyze_s = time.perf_counter() - started
    stamp = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bench_marker (entries INTEGER NOT NULL, generated_at VARCHAR(40) NOT NULL)"))
        conn.execute(sa.text("INSERT INTO bench_marker (entries, generated_at) VALUES (:n, :at)"),
                     {"n": entries, "at": stamp})
    engine.dispose()
    print(f"[{backend}] loaded in {load_s:.0f} s, kept at {url}", flush=True)
    return url, [f"{backend}: {rows_made:,} entries generated and loaded in {load_s:.1f} s (of which the hash chain "
                 f"{hashed_s:.1f} s; indexes made after the load, included), "
                 f"{'ANALYZE' if backend == 'sqlite' else 'VACUUM ANALYZE'} {analyze_s:.1f} s; generated {stamp}"]


def load_users(engine) -> dict:
    """The generated users (rep00.., cust000.., boss), read back from the database."""
    from ecgateway.portal.models import User

    with Session(engine) as s:
        users = s.scalars(sa.select(User).order_by(User.login)).all()
        return {"reps": [(u.id, u.login) for u in users if u.login.startswith("rep")],
                "customers": [(u.id, u.login, u.account_an8) for u in users if u.login.startswith("cust")],
                "admin": next(u.id for u in users if u.login == "boss")}


def catch_up_rollup(backend: str, engine) -> str:
    """Bring the daily roll-up up to date, as the relay loop does (the first time: the whole log)."""
    from ecgateway.admin import rollup

    started = time.perf_counter()
    with Session(engine) as s:
        rolled = rollup.catch_up(s)
        s.commit()
    took = time.perf_counter() - started
    with Session(engine) as s:
        last = rollup.last_seq(s)
        live = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.seq > last))
    print(f"[{backend}] roll-up caught up: {rolled:,} entries in {took:.1f} s; {live:,} entries counted live",
          flush=True)
    return (f"{backend}: roll-up caught up over {rolled:,} new entries in {took:.1f} s (0 when the cached log was "
            f"rolled up by an earlier run); rolled up to entry {last:,}, the {live:,} entries after it (today's, UTC) "
            "are counted live")


def make_users(engine) -> dict:
    with Session(engine) as s:
        reps = [create_user(s, login=f"rep{i:02d}", name=f"Rep {i:02d}", user_type=("Internal_AR", "Internal_SalesRep",
                            "Internal_CustomerService")[i % 3], password=None) for i in range(REPS)]
        customers = [create_user(s, login=f"cust{i:03d}", name=f"Customer {i:03d}", user_type="Customer",
                                 account_an8=10_000 + i, password=None) for i in range(CUSTOMERS)]
        admin = create_user(s, login="boss", name="The Boss", user_type="Admin", email="boss@example.com",
                            password=PASSWORD)
        s.commit()
        return {"reps": [(u.id, u.login) for u in reps], "customers": [(u.id, u.login, u.account_an8) for u in customers],
                "admin": admin.id}


def generate(engine, users: dict, n: int) -> tuple[int, float]:
    """n entries over the last 365 days, in time order, chained; bulk-loaded with the indexes off."""
    rng = random.Random(18)
    now = utcnow()
    span = 365 * 86400
    offsets = sorted(rng.random() * span for _ in range(n))
    weights = [m[3] for m in MIX]
    kinds = rng.choices(MIX, weights=weights, k=n)
    reps, customers = users["reps"], users["customers"]
    hot = list(range(10_000, 10_000 + ACCOUNTS))
    table = AuditEntry.__table__
    indexes = [ix for ix in table.indexes if ix.name.startswith("ix_audit_entries_")
               and (len(ix.columns) > 1 or ix.name == "ix_audit_entries_orders_at")]
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn)
    prev = GENESIS_HASH
    hashed = 0.0
    batch: list[dict] = []
    sqlite = engine.dialect.name == "sqlite"

    def flush(conn):
        if sqlite:
            conn.execute(sa.insert(table), batch)
        else:
            raw = conn.connection.driver_connection
            cols = ("seq", "at", "actor_user_id", "actor_login", "subject_an8", "action", "object", "outcome",
                    "detail", "prev_hash", "hash")
            with raw.cursor().copy(f"COPY audit_entries ({', '.join(cols)}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row([row[c] for c in cols])
        batch.clear()

    with engine.begin() as conn:
        for seq, (off, (action, outcome, by_rep, _)) in enumerate(zip(offsets, kinds, strict=True), start=1):
            at = now - dt.timedelta(seconds=span - off)
            if by_rep is None:
                uid, login, an8 = None, "", rng.choice(hot)
            elif by_rep:
                uid, login = reps[min(len(reps) - 1, int(rng.paretovariate(1.2)) - 1)]
                an8 = hot[min(ACCOUNTS - 1, int(rng.paretovariate(0.8)) - 1)] if rng.random() < .7 else rng.choice(hot)
            else:
                uid, login, an8 = rng.choice(customers)
            detail = _detail(action, outcome, by_rep, an8, rng)
            t0 = time.perf_counter()
            entry = SimpleNamespace(at=at, actor_user_id=uid, actor_login=login, subject_an8=an8, action=action,
                                    object=f"account {an8}", outcome=outcome, detail=_canonical_detail(detail),
                                    prev_hash=prev)
            entry.hash = entry_hash(entry)
            hashed += time.perf_counter() - t0
            prev = entry.hash
            batch.append({"seq": seq, **vars(entry)})
            if len(batch) >= 20_000:
                flush(conn)
        if batch:
            flush(conn)
        conn.execute(sa.update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(seq=n, last_hash=prev))
    with engine.begin() as conn:
        for ix in indexes:
            ix.create(conn)
    return n, hashed


def _detail(action, outcome, by_rep, an8, rng) -> dict:
    if action in ("obo.start", "obo.change") and outcome == "ok":
        return {"billing_an8": an8}
    if outcome == "refused":
        return {"reason": "account not in the rep's list"} if action == "obo.start" else {"reason": "no price"}
    if action == "order.place":
        return {"on_behalf": bool(by_rep), "total": f"{rng.randrange(1000, 500_000) / 100:.2f}",
                "currency": "USD" if rng.random() < .9 else "CAD", "lines": rng.randrange(1, 20)}
    if action.startswith("cart."):
        return {"on_behalf": bool(by_rep), "quantity": rng.randrange(1, 10)}
    return {}


def start_live(engine, users: dict) -> None:
    """LIVE reps acting on behalf of an account now, with a session row each, opened by one of the
    last 5,000 entries (a session's first entry, obo_start_seq, bounds the walk for its last action)."""
    now = utcnow()
    tokens = [hashlib.sha256(f"live{i}".encode()).hexdigest() for i in range(LIVE)]
    with Session(engine) as s:
        s.execute(sa.delete(AuthSession).where(AuthSession.token_hash.in_(tokens)))  # an earlier run's, on a cached log
        last = s.scalar(sa.select(sa.func.max(AuditEntry.seq)))
        for i, (uid, _) in enumerate(users["reps"][:LIVE]):
            s.add(AuthSession(token_hash=tokens[i], user_id=uid,
                              csrf_token="x", created_at=now, last_seen_at=now, rotated_at=now, obo_an8=10_000 + i,
                              obo_started_at=now - dt.timedelta(minutes=i), obo_start_seq=last - 5000 + i * 100))
        s.commit()


def measure(backend: str, url: str, tmp: Path, engine, users: dict, repeats: int, notes: list[str],
            periods: tuple[int, ...]) -> list[str]:
    import httpx

    from ecgateway.app import create_app
    from ecgateway.config import Settings
    from ecgateway.jde.generator import seed_database
    from ecgateway.jde.tables import jde_tables
    from ecgateway.runtime import Runtime

    jde_url = f"sqlite:///{tmp / 'jde.sqlite'}"
    jde_engine = make_engine(jde_url)
    seed_database(jde_engine, jde_tables(None), accounts=20, seed=1)  # the app needs a JDE; the view reads none
    jde_engine.dispose()
    settings = Settings(data_dir=tmp, jde_url=jde_url, portal_url=url, secret_key="s" * 48,
                        outbox_run_with_server=False, mail_run_with_server=False,
                        supervisor_alert_run_with_server=False)
    runtime = Runtime.from_settings(settings)
    app = create_app(settings, runtime)
    rows: list[str] = []

    import asyncio

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.post("/login", data={"login": "boss", "password": PASSWORD})
            assert r.status_code == 303, r.text[:300]

            async def page(path):
                r = await client.get(path)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])

            base = await _atime(lambda: page("/admin"), repeats)
            rows.append(_row(backend, "GET /admin (baseline: session check + template)", base, base))
            for days in periods:
                label, query = (("default period (14 days)", "") if days == sv.DEFAULT_PERIOD_DAYS
                                else (f"{days} days", "?date_from=" + _ago(days - 1)))
                samples = await _atime(lambda q=query: page("/admin/supervisor" + q), repeats)
                rows.append(_row(backend, f"GET /admin/supervisor, {label}", samples, base))
            samples = await _atime(lambda: page("/admin/supervisor/live"), repeats)
            rows.append(_row(backend, "GET /admin/supervisor/live (the refresh)", samples, base))

    asyncio.run(run())
    with Session(engine) as db:
        for days in periods:
            within = sv.period(_ago(days - 1), None)
            rows.append(_row(backend, f"figures, {days} days (roll-up + today live)",
                             _time(lambda w=within: sv.figures(db, within=w), repeats), None))
            rows.append(_row(backend, f"figures, {days} days, direct from the audit entries (no roll-up, for "
                             "comparison)", _time(lambda w=within: sv.figures_direct(db, within=w), repeats), None))
            db.rollback()
            figs, direct = sv.figures(db, within=within), sv.figures_direct(db, within=within)
            assert (figs.sessions, figs.orders, figs.refusals, figs.accounts) == \
                (direct.sessions, direct.orders, direct.refusals, direct.accounts), f"roll-up differs, {days} days"
            db.rollback()
        rows.append(_row(backend, f"live sessions ({LIVE})", _time(lambda: sv.live_sessions(db, settings=settings),
                                                                    repeats), None))
        rows.append(_row(backend, "alerts (last hour)", _time(lambda: sv.current_alerts(db, settings=settings),
                                                              repeats), None))
        busiest = 10_000
        count = db.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.subject_an8 == busiest))
        rows.append(_row(backend, f"one account's history (the busiest: {count:,} entries, newest {sv.ACCOUNT_ENTRIES:,})",
                         _time(lambda: sv.account_history(db, account=busiest), max(5, repeats // 3)), None))
        figs = sv.figures(db, within=sv.period(None, None))
        notes.append(f"{backend}: default period holds {sum(figs.sessions.values()):,} session starts, "
                     f"{sum(o.count for o in figs.orders):,} orders, {len(figs.reps)} reps")
    runtime.dispose()
    return rows


def _ago(days: int) -> str:
    return (utcnow().date() - dt.timedelta(days=days)).isoformat()


def _time(fn, repeats: int) -> list[float]:
    for _ in range(3):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def _atime(fn, repeats: int) -> list[float]:
    for _ in range(3):
        await fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _row(backend: str, case: str, samples: list[float], base: list[float] | None) -> str:
    med = statistics.median(samples)
    ratio = f"{med / statistics.median(base):.1f}" if base else ""
    line = f"| {backend} | {case} | {med:.1f} | {_p95(samples):.1f} | {len(samples)} | {ratio} |"
    print(line, flush=True)  # as it comes: a long run shows its progress
    return line


def render(rows: list[str], notes: list[str], args) -> str:
    mem = ""
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join([
        "# The supervisor's view at 1,000,000 audit entries", "",
        "Run with `.venv/bin/python bench/bench_supervisor.py --write` (or `scripts/bench`).", "",
        f"Run {stamp} on {platform.node()} ({os.cpu_count()} cores{mem}), Python {platform.python_version()}, "
        f"{args.entries:,} entries per backend, {args.repeats} repeats per case after 3 warm-ups. The machine is "
        f"shared with other engineers' work (load average 1/5/15 min: {args.load_before} at the start, {load} at the "
        "end); compare ratios.", "",
        "Target (issue 18 point 5): the view answers in under 300 ms. `ratio` = median / median of GET /admin "
        "(the same app and session check, no figures) in the same run.", "",
        "| backend | case | median ms | p95 ms | runs | ratio |", "|---|---|---:|---:|---:|---:|",
        *rows, "", *[f"- {n}" for n in notes], "",
    ])


if __name__ == "__main__":
    main()
