"""Leases of in-flight Idempotency-Keys, and the clean-up of those whose request died.

A request placing an order holds its key "in flight" for KEY_LEASE (commerce/orders.py). A
request that crashed (kill -9, a lost process) leaves its key in flight: a retry with the
same key after the lease takes it over and runs the checkout again, which is safe, because
the order, its outbox row and the key's "done" commit in one transaction: either that
transaction committed (the key is done and the retry gets that order) or nothing of it did
(the retry makes the order, once). A request still running past its lease fails at its
commit instead (the key's claim token changed), so two requests never both make the order.
`purge_expired_keys` deletes the in-flight rows whose lease ran out; the order relay calls it
every KEY_PURGE_SECONDS, so such rows do not pile up.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.clock import utcnow
from ecgateway.commerce.models import KEY_IN_FLIGHT, IdempotencyKey

# Longer than one checkout takes (one pricing call: AIS times out after ECGW_AIS_TIMEOUT_SECONDS,
# 10 s by default); a retry within it gets 409 "still being processed".
KEY_LEASE = dt.timedelta(seconds=30)
KEY_PURGE_SECONDS = 60.0


def purge_expired_keys(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete in-flight keys whose lease ran out (their request died); the caller commits. Returns how many."""
    now = now or utcnow()
    return session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.state == KEY_IN_FLIGHT, IdempotencyKey.claimed_until < now),
        execution_options={"synchronize_session": False},
    ).rowcount
