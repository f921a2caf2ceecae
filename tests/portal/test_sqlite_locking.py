"""The embedded portal database under concurrent writers (issue 14, point 2), shown directly on the
engine make_engine() gives: WAL, a busy timeout that is honoured, and a write transaction that
takes the write lock when it begins (BEGIN IMMEDIATE), so a session that read first and writes
later never has to upgrade its lock (in WAL mode SQLite refuses that upgrade at once, without
waiting, when another connection wrote since the read: the "database is locked" errors the probe
saw with 4 concurrent shoppers)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.db import SQLITE_BUSY_SECONDS, make_engine


@pytest.fixture()
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.sqlite'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(sa.text("INSERT INTO t (id, n) VALUES (1, 0)"))
    yield engine
    engine.dispose()


def test_wal_and_the_busy_timeout_are_set_on_every_connection(engine):
    with engine.connect() as a, engine.connect() as b:
        for conn in (a, b):
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_SECONDS * 1000


def test_a_second_writer_waits_for_the_first_instead_of_failing(engine):
    waited: list[float] = []
    errors: list[BaseException] = []
    with engine.connect() as first:
        first.execute(sa.text("UPDATE t SET n = n + 1 WHERE id = 1"))  # holds the write lock, not committed
        assert first.exec_driver_sql("SELECT 1").scalar() == 1

        def second() -> None:
            t0 = time.monotonic()
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text("UPDATE t SET n = n + 10 WHERE id = 1"))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            waited.append(time.monotonic() - t0)

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive()  # waiting on the lock (the busy timeout), not failed
        first.commit()
    thread.join(10)
    assert not errors, errors
    assert waited and waited[0] >= 0.4
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT n FROM t WHERE id = 1")) == 11  # both writes, one after the other


def test_read_then_write_after_another_connection_wrote_does_not_fail(engine):
    """A session reads, another connection writes and commits, the session then writes: with
    pysqlite's deferred transaction the read's snapshot could not be upgraded (SQLITE_BUSY at once)."""
    with Session(engine) as session:
        assert session.scalar(sa.text("SELECT n FROM t WHERE id = 1")) == 0
        with engine.begin() as other:
            other.execute(sa.text("UPDATE t SET n = 5 WHERE id = 1"))
        session.execute(sa.text("UPDATE t SET n = n + 1 WHERE id = 1"))
        session.commit()
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT n FROM t WHERE id = 1")) == 6


def test_a_savepoint_takes_the_write_lock_first_so_its_later_write_never_fails(engine):
    """SQLAlchemy's begin_nested() sends SAVEPOINT, which pysqlite does not precede with BEGIN: SQLite
    then opens a deferred transaction, and its read, another connection's write, then its own write
    failed at once with "database is locked" (checked on a plain pysqlite engine). Here the SAVEPOINT
    comes after BEGIN IMMEDIATE: the other writer waits for this transaction instead."""
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE t SET n = 5 WHERE id = 1"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with Session(engine) as session:
        with session.begin_nested():
            assert session.scalar(sa.text("SELECT n FROM t WHERE id = 1")) == 0
            thread = threading.Thread(target=other)
            thread.start()
            time.sleep(0.3)
            assert thread.is_alive()  # waits for this transaction's write lock
            session.execute(sa.text("UPDATE t SET n = n + 1 WHERE id = 1"))
        session.commit()
    thread.join(10)
    assert not errors, errors
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT n FROM t WHERE id = 1")) == 5  # ours (1), then the other's
