"""Work rows claimed with a lease, and the polling loop that works them off.

The order outbox (commerce/outbox.py) and the e-mail outbox (mail/outbox.py) keep their work as
rows with the same bookkeeping columns: id, state, next_attempt_at, claimed_by, claimed_until,
attempts, last_error. A worker (a thread in each gateway process, or a command of its own):

1. claims due rows with a lease: on PostgreSQL it picks them with SELECT ... FOR UPDATE SKIP
   LOCKED, so workers in several processes never wait on or take the same row, then sets the
   lease; on SQLite the UPDATE that sets the lease checks again that each row is still due,
   under the database's single write lock, and returns the rows it took;
2. does the work of each row, and marks it finished (each outbox its own way);
3. on a failure, gives the row back for a later attempt after a capped, jittered backoff; when
   the peer is unreachable, gives back the rest of the batch too and pauses the loop as long.

A worker that dies holding rows leaves them to others once the lease runs out.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ecgateway.clock import utcnow
from ecgateway.db import in_values


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff for the nth attempt, capped, with jitter over its upper half."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return rng.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class LeasedRows:
    """The claim, retry and release statements of one table of leased work rows."""

    model: Any  # the ORM class: id, state, next_attempt_at, claimed_by, claimed_until, attempts, last_error
    pending: str  # the state of a row still to be done

    def claim(self, sessions: sessionmaker[Session], *, by: str, limit: int, lease_seconds: float) -> list[int]:
        """Take up to limit due rows for by, for lease_seconds; their ids, in id order."""
        m = self.model
        now = utcnow()
        due = (m.state == self.pending, m.next_attempt_at <= now,
               sa.or_(m.claimed_until.is_(None), m.claimed_until < now))
        pick = (sa.select(m.id).where(*due).order_by(m.next_attempt_at, m.id).limit(limit)
                .with_for_update(skip_locked=True))  # PostgreSQL; SQLite renders no locking clause
        # Two statements, not UPDATE ... IN (SELECT ... LIMIT): PostgreSQL may rescan such a
        # subquery, and a rescan skips the rows just updated and picks more than the limit.
        with sessions() as session, session.begin():
            picked = list(session.execute(pick).scalars())
            if not picked:
                return []
            # The due conditions again: on SQLite another worker may have claimed a picked row
            # between the SELECT and this UPDATE, which runs under the database's write lock.
            claimed = session.execute(
                sa.update(m).where(in_values(m.id, picked), *due)
                .values(claimed_by=by, claimed_until=now + dt.timedelta(seconds=lease_seconds))
                .returning(m.id),
                execution_options={"synchronize_session": False},
            ).scalars()
            return sorted(claimed)

    def held_by(self, by: str) -> tuple:
        """The conditions of a row this worker still holds."""
        return self.model.state == self.pending, self.model.claimed_by == by

    def retry(self, session: Session, row_id: int, *, by: str, delay: float, error: BaseException) -> None:
        """In session's transaction: count the attempt, note the error, due again after delay."""
        m = self.model
        session.execute(
            sa.update(m).where(m.id == row_id, *self.held_by(by))
            .values(attempts=m.attempts + 1, next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                    claimed_by=None, claimed_until=None, last_error=f"{type(error).__name__}: {error}"[:1000]),
            execution_options={"synchronize_session": False},
        )

    def release(self, sessions: sessionmaker[Session], row_ids: list[int], *, by: str, delay: float) -> None:
        """Give back rows not tried in this pass, due again after delay, without counting an attempt."""
        if not row_ids:
            return
        m = self.model
        with sessions() as session, session.begin():
            session.execute(
                sa.update(m).where(in_values(m.id, row_ids), *self.held_by(by))
                .values(next_attempt_at=utcnow() + dt.timedelta(seconds=delay), claimed_by=None, claimed_until=None),
                execution_options={"synchronize_session": False},
            )


class PassCounts(Protocol):
    """What one pass of a worker reports: at least how many rows it claimed and how long to pause."""

    claimed: int
    pause_seconds: float


Counts = TypeVar("Counts", bound=PassCounts)


def add_counts(total: Counts, one: Counts) -> None:
    """Add one pass's counters to total; pause_seconds is the last pass's."""
    for f in fields(total):  # type: ignore[arg-type] - the results are dataclasses
        if f.name != "pause_seconds":
            setattr(total, f.name, getattr(total, f.name) + getattr(one, f.name))
    total.pause_seconds = one.pause_seconds


class PollingWorker(ABC):
    """The loop of a worker over leased rows: a pass, then wait for the poll interval, a wake-up,
    or the pause a pass asked for (an unreachable peer). Subclasses give run_once, poll_seconds,
    batch_size and may do chores before each pass; call start_loop_state() when built."""

    thread_name = "worker"
    max_passes = 1000  # of run_until_idle
    log = logging.getLogger("ecgateway.worker")

    def start_loop_state(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def run_once(self) -> PassCounts:
        """Claim due rows and work them off; one pass."""

    @abstractmethod
    def poll_seconds(self) -> float:
        """How long an idle worker waits before it looks for due rows again."""

    @abstractmethod
    def batch_size(self) -> int:
        """How many rows one pass claims at most (a fuller pass looks again at once)."""

    def before_pass(self) -> None:  # noqa: B027 - a hook with nothing to do by default, not an abstract step
        """Work done before each pass of the loop (none by default)."""

    def run_until_idle(self, max_passes: int | None = None):
        """Passes until nothing is due (or a pass asks for a pause); the totals of the pass results."""
        total = None
        for _ in range(max_passes or self.max_passes):
            one = self.run_once()
            if total is None:
                total = one
            else:
                add_counts(total, one)
            if one.claimed == 0 or one.pause_seconds:
                break
        return total

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Loop until stop is set."""
        stop = stop or self._stop
        while not stop.is_set():
            self.before_pass()
            try:
                result = self.run_once()
            except Exception:  # noqa: BLE001 - e.g. the portal database restarting: keep the worker alive
                self.log.exception("%s: pass failed; retrying in %.1fs", self.thread_name, self.poll_seconds())
                stop.wait(self.poll_seconds())
                continue
            if result.pause_seconds:
                stop.wait(result.pause_seconds)  # new rows do not cut a pause short
            elif result.claimed < self.batch_size():
                self._wake.wait(self.poll_seconds())
                self._wake.clear()

    def wake(self) -> None:
        """Look for due rows now (called after a transaction that added one committed)."""
        self._wake.set()

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current row; rows it still holds return after their lease."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
