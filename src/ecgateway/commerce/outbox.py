"""The outbox relay: sends committed orders to the ERP, at least once, keyed so JDE keeps one.

Each order's outbox row is committed with the order. A relay (a thread started with the
server, or `ecgateway outbox run`) repeatedly:

1. claims due rows with a lease (ecgateway.leased, shared with the e-mail outbox: FOR UPDATE
   SKIP LOCKED on PostgreSQL, a re-checking UPDATE under the write lock on SQLite);
2. sends each order with `Erp.submit_order` (the ERP drops a second order with the same
   key, so a relay that died after sending and before step 3 does no harm);
3. marks the row done and the order sent only after the ERP accepted it.

A row whose send failed is retried after a capped, jittered backoff. When the ERP is
unavailable the relay releases the rest of its batch and pauses for that backoff instead of
calling again at once (the ERP client's circuit breaker also fails fast meanwhile).
A row the ERP refused is marked dead and its order rejected; it is never retried.
A relay that dies holding rows leaves them to others once the lease runs out.
Every KEY_PURGE_SECONDS a pass also deletes the Idempotency-Keys left in flight by requests
that died (commerce/keys.py), in a short transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session, sessionmaker

from ecgateway.audit.service import record
from ecgateway.clock import utcnow
from ecgateway.commerce.keys import KEY_PURGE_SECONDS, purge_expired_keys
from ecgateway.commerce.lists import close_lists_of_order
from ecgateway.commerce.models import (
    ORDER_REJECTED,
    ORDER_SENT,
    ORDER_WAITING,
    OUTBOX_DEAD,
    OUTBOX_DONE,
    OUTBOX_PENDING,
    Order,
    OutboxMessage,
)
from ecgateway.erp.base import (
    Erp,
    ErpRejected,
    ErpUnavailable,
    OrderLine,
    OrderReceipt,
    OrderSubmission,
)
from ecgateway.leased import LeasedRows, PollingWorker, backoff_seconds

log = logging.getLogger("ecgateway.outbox")


class OutboxSettings(BaseSettings):
    """How the relay runs; read from ECGW_OUTBOX_* variables."""

    model_config = SettingsConfigDict(env_prefix="ECGW_OUTBOX_", env_file=".env", extra="ignore")

    run_with_server: bool = True  # start a relay thread inside every gateway process
    poll_seconds: float = 1.0  # how often an idle relay looks for due rows (other processes' orders)
    lease_seconds: float = 60.0  # longer than one ERP call may take, timeouts and retries included
    batch_size: int = 20
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 300.0


@dataclass
class RelayHooks:
    """Points a drill or test can stop at: after the claim is committed, after the ERP accepted."""

    on_claimed: Callable[[list[int]], None] | None = None
    on_sent: Callable[[int, OrderReceipt], None] | None = None


@dataclass
class Chore:
    """Work the relay loop does besides orders, every `every` seconds (the search index refresh)."""

    name: str
    every: float
    run: Callable[[], object]
    due: float = 0.0  # time.monotonic() of the next run; 0: at the first pass


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    rejected: int = 0
    pause_seconds: float = 0.0  # > 0 when the ERP was unavailable: wait this long before the next pass


ROWS = LeasedRows(OutboxMessage, OUTBOX_PENDING)


@dataclass
class Relay(PollingWorker):
    sessions: sessionmaker[Session]
    erp: Erp
    settings: OutboxSettings = field(default_factory=OutboxSettings)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")
    hooks: RelayHooks = field(default_factory=RelayHooks)
    rng: random.Random = field(default_factory=random.Random)
    chores: list[Chore] = field(default_factory=list)

    thread_name = "outbox-relay"
    log = log

    def __post_init__(self) -> None:
        self.start_loop_state()
        self._next_key_purge = 0.0  # time.monotonic() of the next clean-up of dead requests' keys

    def run_once(self) -> PassResult:
        """Claim due rows and send them; one pass."""
        result = PassResult()
        if time.monotonic() >= self._next_key_purge:
            self.purge_keys()
        ids = self._claim()
        result.claimed = len(ids)
        if not ids:
            return result
        if self.hooks.on_claimed:
            self.hooks.on_claimed(ids)
        for n, outbox_id in enumerate(ids):
            submission, attempts = self._load(outbox_id)
            if submission is None:
                continue
            try:
                receipt = self.erp.submit_order(submission)
            except ErpUnavailable as exc:
                delay = self._retry(outbox_id, attempts, exc)
                self._release(ids[n + 1:], delay)
                result.retried += 1
                result.pause_seconds = delay
                log.warning("outbox: ERP unavailable, %d order(s) wait; next try in %.1fs: %s",
                            len(ids) - n, delay, exc)
                break
            except ErpRejected as exc:
                self._reject(outbox_id, exc)
                result.rejected += 1
            except Exception as exc:  # noqa: BLE001 - a failure we do not know: keep the order, retry later
                log.exception("outbox: sending row %d failed unexpectedly; it will be retried", outbox_id)
                self._retry(outbox_id, attempts, exc)
                result.retried += 1
            else:
                if self.hooks.on_sent:
                    self.hooks.on_sent(outbox_id, receipt)
                self._done(outbox_id, receipt)
                result.sent += 1
        return result

    def poll_seconds(self) -> float:
        return self.settings.poll_seconds

    def batch_size(self) -> int:
        return self.settings.batch_size

    def before_pass(self) -> None:
        self.run_chores()

    def run_chores(self) -> None:
        """Run the chores that are due; a failing chore is logged and tried again at its next time."""
        now = time.monotonic()
        for chore in self.chores:
            if chore.every <= 0 or now < chore.due:
                continue
            chore.due = now + chore.every
            try:
                chore.run()
            except Exception:  # noqa: BLE001 - e.g. JDE unreachable: orders keep flowing, the chore retries
                log.exception("relay chore %s failed; next try in %.0fs", chore.name, chore.every)

    def purge_keys(self) -> int:
        """Delete the in-flight Idempotency-Keys whose lease ran out; how many."""
        self._next_key_purge = time.monotonic() + KEY_PURGE_SECONDS
        with self.sessions() as session, session.begin():
            purged = purge_expired_keys(session)
        if purged:
            log.info("outbox: removed %d Idempotency-Key(s) left in flight by requests that died", purged)
        return purged

    # --- steps ------------------------------------------------------------------------------

    def _claim(self) -> list[int]:
        return ROWS.claim(self.sessions, by=self.name, limit=self.settings.batch_size,
                          lease_seconds=self.settings.lease_seconds)

    def _load(self, outbox_id: int) -> tuple[OrderSubmission | None, int]:
        """The order to send and its attempts so far, if this relay still holds the row."""
        with self.sessions() as session:
            row = session.execute(
                sa.select(OutboxMessage.payload, OutboxMessage.attempts).where(
                    OutboxMessage.id == outbox_id, OutboxMessage.state == OUTBOX_PENDING,
                    OutboxMessage.claimed_by == self.name)
            ).first()
        if row is None:
            return None, 0
        return submission_from_json(row.payload), row.attempts

    def _done(self, outbox_id: int, receipt: OrderReceipt) -> None:
        now = utcnow()
        plain = {"synchronize_session": False}
        with self.sessions() as session, session.begin():
            row = session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id, OutboxMessage.state == OUTBOX_PENDING)
                .values(state=OUTBOX_DONE, done_at=now, claimed_by=None, claimed_until=None, last_error="")
                .returning(OutboxMessage.order_id, OutboxMessage.attempts),
                execution_options=plain,
            ).first()
            if row is None:
                return  # another relay finished it after our lease ran out; the ERP kept one order
            account = session.execute(
                sa.update(Order).where(Order.id == row.order_id)
                .values(status=ORDER_SENT, erp_reference=receipt.erp_reference, status_detail=receipt.status,
                        updated_at=now)
                .returning(Order.account_an8),
                execution_options=plain,
            ).scalar_one()
            record(session, actor=None, subject_an8=account, action="order.sent",
                   object=f"order {row.order_id}", outcome="ok",
                   detail={"erp_reference": receipt.erp_reference, "erp_status": receipt.status,
                           "attempts": row.attempts + 1, "relay": self.name})
            # Managed lists the order's lines came from are closed once the order reached JD Edwards.
            close_lists_of_order(session, order_id=row.order_id, erp_reference=receipt.erp_reference)

    def _retry(self, outbox_id: int, attempts: int, exc: BaseException) -> float:
        delay = backoff_seconds(attempts + 1, base=self.settings.backoff_base_seconds,
                                cap=self.settings.backoff_cap_seconds, rng=self.rng)
        now = utcnow()
        with self.sessions() as session, session.begin():
            ROWS.retry(session, outbox_id, by=self.name, delay=delay, error=exc)
            order_id = session.scalar(sa.select(OutboxMessage.order_id).where(OutboxMessage.id == outbox_id))
            session.execute(
                sa.update(Order).where(Order.id == order_id, Order.status == ORDER_WAITING)
                .values(status_detail=f"waiting for JD Edwards: {exc}"[:500], updated_at=now)
            )
        return delay

    def _release(self, outbox_ids: list[int], delay: float) -> None:
        ROWS.release(self.sessions, outbox_ids, by=self.name, delay=delay)

    def _reject(self, outbox_id: int, exc: ErpRejected) -> None:
        now = utcnow()
        with self.sessions() as session, session.begin():
            marked = session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id, OutboxMessage.state == OUTBOX_PENDING)
                .values(state=OUTBOX_DEAD, attempts=OutboxMessage.attempts + 1, claimed_by=None,
                        claimed_until=None, last_error=f"rejected: {exc}"[:1000])
            ).rowcount
            if not marked:
                return
            row = session.get(OutboxMessage, outbox_id)
            order = session.get(Order, row.order_id)
            # JDE's own words, which the rep and the customer read in the order history.
            order.status, order.status_detail, order.updated_at = ORDER_REJECTED, exc.reason[:500], now
            record(session, actor=None, subject_an8=order.account_an8, action="order.rejected",
                   object=f"order {order.id}", outcome="error", detail={"reason": exc.reason[:300], "relay": self.name})
        log.error("outbox: JD Edwards refused order row %d: %s", outbox_id, exc)


def outbox_counts(session: Session) -> dict[str, int]:
    """Rows per outbox state."""
    rows = session.execute(sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state))
    return {state: count for state, count in rows}


def outbox_report(session: Session, *, rejected: int = 10) -> list[str]:
    """The lines of `ecgateway outbox status`: rows per state, the oldest waiting order, the latest refused."""
    counts = outbox_counts(session)
    lines = [", ".join(f"{state} {counts.get(state, 0)}" for state in (OUTBOX_PENDING, OUTBOX_DONE, OUTBOX_DEAD))]
    oldest = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.state == OUTBOX_PENDING).order_by(OutboxMessage.id).limit(1)
    ).first()
    if oldest is not None:
        created = oldest.created_at if oldest.created_at.tzinfo else oldest.created_at.replace(tzinfo=dt.UTC)
        age = dt.datetime.now(dt.UTC) - created
        lines.append(f"oldest pending: order {oldest.order_id}, {int(age.total_seconds())} s old, "
                     f"{oldest.attempts} attempt(s); last error: {oldest.last_error or '-'}")
    refused = session.execute(
        sa.select(Order.id, Order.account_an8, Order.sold_to, Order.customer_po, Order.status_detail)
        .join(OutboxMessage, OutboxMessage.order_id == Order.id)
        .where(OutboxMessage.state == OUTBOX_DEAD).order_by(OutboxMessage.id.desc()).limit(rejected)
    ).all()
    if refused:
        lines.append(f"refused by JD Edwards (latest {len(refused)}; placed again from the order page):")
        lines.extend(f"  order {r.id}, account {r.account_an8}, sold-to {r.sold_to}, PO {r.customer_po}: "
                     f"{r.status_detail or '-'}" for r in refused)
    return lines


def submission_to_json(order: OrderSubmission) -> dict:
    """An order as the outbox keeps it: plain JSON, amounts as decimal strings."""
    return {
        "erp_key": order.erp_key, "sold_to": order.sold_to, "ship_to": order.ship_to,
        "parent": order.parent, "company": order.company, "branch": order.branch, "currency": order.currency,
        "customer_po": order.customer_po, "placed_by": order.placed_by,
        "lines": [{"item": ln.item, "quantity": ln.quantity, "uom": ln.uom, "unit_price": str(ln.unit_price)}
                  for ln in order.lines],
    }


def submission_from_json(data: dict) -> OrderSubmission:
    """The order back from the outbox; rows written before the rename carry the key as idempotency_key."""
    return OrderSubmission(
        erp_key=data["erp_key"] if "erp_key" in data else data["idempotency_key"], sold_to=int(data["sold_to"]), ship_to=int(data["ship_to"]),
        parent=int(data["parent"]), company=data["company"], branch=data["branch"], currency=data["currency"],
        customer_po=data["customer_po"], placed_by=data["placed_by"],
        lines=tuple(OrderLine(item=ln["item"], quantity=int(ln["quantity"]), uom=ln["uom"],
                              unit_price=Decimal(ln["unit_price"])) for ln in data["lines"]),
    )
