"""The one clock: every "now" of the gateway (sessions, audit entries, carts, orders, outbox,
JDE's "today") comes from utcnow(), so a test that freezes it here freezes all of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_now: Callable[[], dt.datetime] = _system_now


def utcnow() -> dt.datetime:
    """Now, in UTC (aware)."""
    return _now()


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """For tests: utcnow() answers `at` (made aware, UTC) until the block ends."""
    global _now
    fixed = as_utc(at)
    previous, _now = _now, lambda: fixed
    try:
        yield
    finally:
        _now = previous
