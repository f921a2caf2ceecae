"""Benchmark: the rep's account picker at 100,000 accounts, served by uvicorn with 2 workers.

Run from the checkout:  .venv/bin/python bench/bench_picker.py [--backends sqlite,postgresql] [--write]
(`scripts/bench` runs it with the others). Writes bench/RESULTS-picker.md with --write.

JDE data: the 100,000-account database of bench/bench_accounts.py (seed 42), made once and
reused (var/bench/*.sqlite, PostgreSQL database ecgw_bench_100k). The portal database is a
fresh one per run (SQLite file in var/bench/, or a PostgreSQL database dropped afterwards)
with three reps: no restriction, a 1,000-value ABAN8 IN list, and a category-code filter.

Measured per backend, each over a rotation of searches a rep types (number prefixes, name
fragments, a city, an empty box):
- query: list_accounts() in this process, no HTTP: the query-builder's own time (baseline),
  run interleaved with the HTTP requests below so that both see the same load;
- api: GET /api/v1/accounts?q=... (JSON: what search-as-you-type fetches), over HTTP;
- page: GET /accounts?q=... (the full HTML page, rendered), over HTTP;
- api while acting: the same search while the rep acts on behalf (adds the per-request re-check);
- healthz: GET /healthz, the HTTP floor of this machine.
Latency: sequential requests, median and p99. Throughput: 8 concurrent clients for a fixed
time against the 2 workers. The client runs on the same 2 cores, so throughput is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from bench_accounts import PG_ADMIN_URL, prepare  # noqa: E402  the shared 100k JDE database

from ecgateway.accounts import all_scope, list_accounts, rep_scope, set_restriction  # noqa: E402
from ecgateway.accounts.query import WorkWithAccounts  # noqa: E402
from ecgateway.auth.users import create_user  # noqa: E402
from ecgateway.config import Settings  # noqa: E402
from ecgateway.db import make_engine  # noqa: E402
from ecgateway.portal.migrate import upgrade  # noqa: E402
from ecgateway.portal.models import User  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS-picker.md"
PASSWORD = "bench password 42"
SEARCHES = ["", "1", "12", "123", "5000", "acme", "prairie el", "tool", "denver", "summit h"]
WORKERS = 2
CONCURRENCY = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per measured case")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput run")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args, _ = parser.parse_known_args()  # scripts/bench passes the same arguments to every benchmark
    sections = []
    for backend in args.backends.split(","):
        sections.append(run_backend(backend, args))
    report = render(sections, args)
    print(report)
    if args.write:
        RESULTS.write_text(report)
        print(f"wrote {RESULTS}")


def run_backend(backend: str, args) -> dict:
    jde_engine, schema = prepare(backend, 100_000)
    jde_url = jde_engine.url.render_as_string(hide_password=False)
    with portal_database(backend) as portal_url:
        upgrade(portal_url)
        settings = Settings(data_dir=ROOT / "var" / "bench", jde_url=jde_url, jde_schema=schema,
                            portal_url=portal_url, secret_key="b" * 48)
        wwa = WorkWithAccounts.load(settings, dialect=jde_engine.dialect.name)
        with jde_engine.connect() as jde:
            every = _more_numbers(jde, wwa)
        reps = make_reps(portal_url, every)
        port = free_port()
        server = start_server(settings, port)
        portal_engine = make_engine(portal_url)
        try:
            base = f"http://127.0.0.1:{port}"
            result = {"backend": backend, "query": {}, "http": {}, "rps": {}}
            for rep in reps:
                client = signed_in(base, rep)
                with sa.orm.Session(portal_engine) as db, jde_engine.connect() as jde:
                    scope = rep_scope(db, rep=db.scalar(sa.select(User).where(User.login == rep)), wwa=wwa)
                    query, api, page = interleaved(client, jde, wwa, scope, args.requests)
                result["query"][rep] = query
                result["http"][(rep, "api")] = api
                result["http"][(rep, "page")] = page
                result["rps"][(rep, "api")] = throughput(base, client.cookies, "/api/v1/accounts?limit=50&q={}", args.seconds)
                result["rps"][(rep, "page")] = throughput(base, client.cookies, "/accounts?q={}", args.seconds)
                client.close()
            acting = signed_in(base, reps[1])
            token = acting.get("/api/v1/session").json()["csrf_token"]
            r = acting.post("/api/v1/obo", json={"an8": every[0]}, headers={"X-CSRF-Token": token})
            assert r.status_code == 200, r.text
            result["http"][(reps[1], "api, acting")] = sequential(acting, "/api/v1/accounts?limit=50&q={}", args.requests)
            result["rps"][(reps[1], "api, acting")] = throughput(base, acting.cookies, "/api/v1/accounts?limit=50&q={}", args.seconds)
            result["http"][("-", "healthz")] = sequential(acting, "/healthz", args.requests)
            result["rps"][("-", "healthz")] = throughput(base, acting.cookies, "/healthz", args.seconds)
            acting.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
            portal_engine.dispose()
    jde_engine.dispose()
    return result


# --- set-up ---------------------------------------------------------------------------------

class portal_database:
    """A throw-away portal database: a SQLite file, or a PostgreSQL database dropped afterwards."""

    def __init__(self, backend: str):
        self.backend = backend
        self.name = f"ecgw_bench_portal_{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            self.path = ROOT / "var" / "bench" / f"{self.name}.sqlite"
            return f"sqlite:///{self.path}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        return sa.engine.make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            return
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def _more_numbers(jde, wwa, limit: int = 20_000) -> list[int]:
    """The first `limit` account numbers, walked by keyset pages, for the 1,000-value IN list."""
    out: list[int] = []
    page = list_accounts(jde, wwa=wwa, scope=all_scope(wwa), limit=200)
    while True:
        out += [a.an8 for a in page.items]
        if not page.next_cursor or len(out) >= limit:
            return out
        page = list_accounts(jde, wwa=wwa, scope=all_scope(wwa), cursor=page.next_cursor, limit=200)


def make_reps(portal_url: str, numbers: list[int]) -> list[str]:
    spread = numbers[:: max(1, len(numbers) // 1000)][:1000]
    engine = make_engine(portal_url)
    with sa.orm.Session(engine) as db:
        for login, user_type, filter_text in (
            ("rep-all", "Internal_CustomerService", None),
            ("rep-in1000", "Internal_SalesRep", "ABAN8 IN (" + ",".join(f"'{n}'" for n in spread) + ")"),
            ("rep-region", "Internal_AR", "ABAC01 = 'NTH'"),
        ):
            user = create_user(db, login=login, name=login, user_type=user_type, password=PASSWORD)
            if filter_text:
                set_restriction(db, rep=user, filter_text=filter_text, changed_by="bench")
        db.commit()
    engine.dispose()
    return ["rep-all", "rep-in1000", "rep-region"]


def interleaved(client: httpx.Client, jde, wwa, scope, n: int) -> tuple[list[float], list[float], list[float]]:
    """Per search, in turn: list_accounts() in this process, the JSON API, the HTML page.

    Interleaving puts the baseline and the HTTP figures under the same load at the same moment."""
    query, api, page = [], [], []
    for q in SEARCHES:  # warm up: compiled filter cache, database caches
        list_accounts(jde, wwa=wwa, scope=scope, q=q or None, limit=50)
        client.get("/accounts", params={"q": q}).raise_for_status()
    for i in range(n):
        q = SEARCHES[i % len(SEARCHES)]
        t0 = time.perf_counter()
        list_accounts(jde, wwa=wwa, scope=scope, q=q or None, limit=50)
        query.append((time.perf_counter() - t0) * 1000)
        for out, path, params in ((api, "/api/v1/accounts", {"q": q, "limit": 50}), (page, "/accounts", {"q": q})):
            t0 = time.perf_counter()
            r = client.get(path, params=params)
            out.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"GET {path}?q={q} answered {r.status_code}: {r.text[:200]}")
    return query, api, page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(settings: Settings, port: int) -> subprocess.Popen:
    env = dict(os.environ, ECGW_JDE_URL=settings.jde_database_url, ECGW_PORTAL_URL=settings.portal_database_url,
               ECGW_DATA_DIR=str(settings.data_dir), ECGW_SECRET_KEY="b" * 48,
               ECGW_OUTBOX_RUN_WITH_SERVER="false")
    if settings.jde_schema:
        env["ECGW_JDE_SCHEMA"] = settings.jde_schema
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ecgateway.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(WORKERS), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the gateway did not start on port {port} within 60 s")


def signed_in(base: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    r = client.post("/api/v1/session", json={"login": login, "password": PASSWORD})
    r.raise_for_status()
    return client


# --- measuring ------------------------------------------------------------------------------

def sequential(client: httpx.Client, template: str, n: int) -> list[float]:
    for q in SEARCHES:  # warm up each search once (compiled filter cache, SQLite page cache)
        client.get(template.format(q)).raise_for_status()
    times = []
    for i in range(n):
        url = template.format(SEARCHES[i % len(SEARCHES)])
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"GET {url} answered {r.status_code}: {r.text[:200]}")
    return times


def throughput(base: str, cookies, template: str, seconds: float) -> float:
    async def run() -> int:
        done = 0
        stop = time.perf_counter() + seconds

        async def worker(k: int) -> None:
            nonlocal done
            async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
                i = k
                while time.perf_counter() < stop:
                    r = await client.get(template.format(SEARCHES[i % len(SEARCHES)]))
                    if r.status_code != 200:
                        raise SystemExit(f"throughput run got {r.status_code}: {r.text[:200]}")
                    done += 1
                    i += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
        return done / (time.perf_counter() - started)

    return asyncio.run(run())


# --- report ---------------------------------------------------------------------------------

def stats(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def render(sections: list[dict], args) -> str:
    lines = [
        "# Picker benchmark: 100,000 accounts, uvicorn with 2 workers",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} cores, "
        f"{_memory()} memory, Python {platform.python_version()}; shared with other work, so figures are noisy.",
        f"Command: `.venv/bin/python bench/bench_picker.py --write` ({args.requests} sequential requests per row, "
        f"{args.seconds:.0f} s of {CONCURRENCY} concurrent clients for req/s; the client shares the 2 cores).",
        f"Searches rotated: {', '.join(repr(s) for s in SEARCHES)}; 50 rows per page.",
        "",
        "`query` is list_accounts() alone (no HTTP), the query-builder's figure; `x query` is the",
        "ratio of HTTP medians to it; healthz is the HTTP floor measured in the same run.",
        "",
    ]
    for s in sections:
        lines += [f"## {s['backend']}", "",
                  "| rep (restriction) | what | median ms | p99 ms | x query | req/s (2 workers) |",
                  "|---|---|---:|---:|---:|---:|"]
        for login, times in s["query"].items():
            med, p99 = stats(times)
            lines.append(f"| {login} | query only | {med:.1f} | {p99:.1f} | 1.00 | |")
        for (login, what), times in s["http"].items():
            med, p99 = stats(times)
            base = stats(s["query"][login])[0] if login in s["query"] else None
            ratio = f"{med / base:.2f}" if base else ""
            lines.append(f"| {login} | {what} | {med:.1f} | {p99:.1f} | {ratio} | {s['rps'][(login, what)]:.0f} |")
        lines += ["", "Per search, median ms (rep-all: query only / api / page):", "",
                  "| search | query | api | page |", "|---|---:|---:|---:|"]
        for k, q in enumerate(SEARCHES):
            cells = [statistics.median(times[k::len(SEARCHES)]) for times in
                     (s["query"]["rep-all"], s["http"][("rep-all", "api")], s["http"][("rep-all", "page")])]
            lines.append(f"| {q!r} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _memory() -> str:
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        return f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        return "unknown"


if __name__ == "__main__":
    main()
