"""The e-mail outbox: `enqueue` in the caller's transaction, and the sender that delivers.

A message is rendered and stored by `enqueue` in the same transaction as the action it tells of
(a list saved, a list rejected), so either both are committed or neither. The sender (a thread
started with the server as the order relay is, or `ecgateway mail run`) repeatedly claims due
rows with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the UPDATE re-checks the due
conditions under the write lock), hands each to the transport (SMTP, or an .eml file), and marks
it sent. When the server cannot be reached the message stays pending and is tried again after a
capped, jittered backoff; the rest of the batch waits as long. A 5xx refusal marks it dead.
Each message keeps its Message-ID across attempts, so a resend after a crash is recognisable.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import re
import secrets
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ecgateway.clock import as_utc, utcnow
from ecgateway.config import Settings, get_settings
from ecgateway.db import in_values
from ecgateway.errors import GatewayError
from ecgateway.mail.models import MAIL_DEAD, MAIL_PENDING, MAIL_SENT, EmailMessage
from ecgateway.mail.render import render
from ecgateway.mail.transport import (
    MailRefused,
    MailUnavailable,
    Transport,
    build_message,
    make_transport,
    new_message_id,
)

log = logging.getLogger("ecgateway.mail")

_ADDRESS = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+")


class MailAddressInvalid(GatewayError):
    """An e-mail address the gateway cannot send to."""

    status = 400


def enqueue(db: Session, to: str, template: str, context: Mapping[str, Any], *,
            settings: Settings | None = None) -> EmailMessage:
    """Render templates/email/<template>.txt/.html with context and add the message to db's transaction.

    Nothing is sent until the caller commits; a rollback drops the message with the action.
    """
    settings = settings or get_settings()
    address = (to or "").strip()
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise MailAddressInvalid(f"{address or 'an empty address'!r} is not an e-mail address the gateway can send to",
                                 field="email")
    rendered = render(settings.resource("templates"), template, context)
    message = EmailMessage(to_addr=address, template=template, subject=rendered.subject[:255],
                           text_body=rendered.text, html_body=rendered.html, state=MAIL_PENDING,
                           next_attempt_at=utcnow(), message_id=new_message_id(settings), created_at=utcnow())
    db.add(message)
    db.flush()
    return message


@dataclass
class SendResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    refused: int = 0
    pause_seconds: float = 0.0  # > 0 when the server was unreachable


@dataclass
class MailSender:
    sessions: sessionmaker[Session]
    settings: Settings
    transport: Transport | None = None
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.transport = self.transport or make_transport(self.settings)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> SendResult:
        """Claim due messages and send them; one pass."""
        result = SendResult()
        ids = self._claim()
        result.claimed = len(ids)
        for n, message_id in enumerate(ids):
            row = self._load(message_id)
            if row is None:
                continue
            try:
                self.transport.send(build_message(sender=self.settings.mail_from, to=row.to_addr, subject=row.subject,
                                                  text=row.text_body, html=row.html_body, message_id=row.message_id))
            except MailUnavailable as exc:
                delay = self._retry(message_id, row.attempts, exc)
                self._release(ids[n + 1:], delay)
                result.retried += 1
                result.pause_seconds = delay
                log.warning("mail: cannot send, %d message(s) wait; next try in %.1fs: %s", len(ids) - n, delay, exc)
                break
            except MailRefused as exc:
                self._finish(message_id, MAIL_DEAD, f"refused: {exc}")
                result.refused += 1
                log.error("mail: message %d to %s refused for good: %s", message_id, row.to_addr, exc)
            except Exception as exc:  # noqa: BLE001 - unknown failure: keep the message, try later
                log.exception("mail: sending message %d failed unexpectedly; it will be retried", message_id)
                self._retry(message_id, row.attempts, exc)
                result.retried += 1
            else:
                self._finish(message_id, MAIL_SENT, "")
                result.sent += 1
        return result

    def run_until_idle(self, max_passes: int = 100) -> SendResult:
        """Passes until nothing is due (or the server is unreachable); the totals."""
        total = SendResult()
        for _ in range(max_passes):
            one = self.run_once()
            for name in ("claimed", "sent", "retried", "refused"):
                setattr(total, name, getattr(total, name) + getattr(one, name))
            total.pause_seconds = one.pause_seconds
            if one.claimed == 0 or one.pause_seconds:
                break
        return total

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Loop until stop is set, as the order relay does: pass, then wait (poll, wake-up or backoff)."""
        stop = stop or self._stop
        while not stop.is_set():
            try:
                result = self.run_once()
            except Exception:  # noqa: BLE001 - e.g. the portal database restarting: keep the sender alive
                log.exception("mail: sender pass failed; retrying in %.1fs", self.settings.mail_poll_seconds)
                stop.wait(self.settings.mail_poll_seconds)
                continue
            if result.pause_seconds:
                stop.wait(result.pause_seconds)
            elif result.claimed < self.settings.mail_batch_size:
                self._wake.wait(self.settings.mail_poll_seconds)
                self._wake.clear()

    def wake(self) -> None:
        """Look for due messages now (after a transaction that enqueued one committed)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="mail-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # --- steps ------------------------------------------------------------------------------

    def _claim(self) -> list[int]:
        now = utcnow()
        due = (
            EmailMessage.state == MAIL_PENDING,
            EmailMessage.next_attempt_at <= now,
            sa.or_(EmailMessage.claimed_until.is_(None), EmailMessage.claimed_until < now),
        )
        pick = (sa.select(EmailMessage.id).where(*due).order_by(EmailMessage.next_attempt_at, EmailMessage.id)
                .limit(self.settings.mail_batch_size).with_for_update(skip_locked=True))
        with self.sessions() as session, session.begin():
            picked = list(session.execute(pick).scalars())
            if not picked:
                return []
            claimed = session.execute(
                sa.update(EmailMessage).where(in_values(EmailMessage.id, picked), *due)
                .values(claimed_by=self.name,
                        claimed_until=now + dt.timedelta(seconds=self.settings.mail_lease_seconds))
                .returning(EmailMessage.id),
                execution_options={"synchronize_session": False},
            ).scalars()
            return sorted(claimed)

    def _load(self, message_id: int):
        with self.sessions() as session:
            return session.execute(
                sa.select(EmailMessage.to_addr, EmailMessage.subject, EmailMessage.text_body, EmailMessage.html_body,
                          EmailMessage.message_id, EmailMessage.attempts)
                .where(EmailMessage.id == message_id, EmailMessage.state == MAIL_PENDING,
                       EmailMessage.claimed_by == self.name)
            ).first()

    def _finish(self, message_id: int, state: str, error: str) -> None:
        with self.sessions() as session, session.begin():
            session.execute(
                sa.update(EmailMessage)
                .where(EmailMessage.id == message_id, EmailMessage.state == MAIL_PENDING)
                .values(state=state, attempts=EmailMessage.attempts + 1, claimed_by=None, claimed_until=None,
                        last_error=error[:1000], sent_at=utcnow() if state == MAIL_SENT else None)
            )

    def _retry(self, message_id: int, attempts: int, exc: BaseException) -> float:
        delay = backoff_seconds(attempts + 1, base=self.settings.mail_backoff_base_seconds,
                                cap=self.settings.mail_backoff_cap_seconds, rng=self.rng)
        with self.sessions() as session, session.begin():
            session.execute(
                sa.update(EmailMessage)
                .where(EmailMessage.id == message_id, EmailMessage.claimed_by == self.name,
                       EmailMessage.state == MAIL_PENDING)
                .values(attempts=EmailMessage.attempts + 1, next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                        claimed_by=None, claimed_until=None, last_error=f"{type(exc).__name__}: {exc}"[:1000])
            )
        return delay

    def _release(self, message_ids: list[int], delay: float) -> None:
        if not message_ids:
            return
        with self.sessions() as session, session.begin():
            session.execute(
                sa.update(EmailMessage)
                .where(in_values(EmailMessage.id, message_ids), EmailMessage.claimed_by == self.name,
                       EmailMessage.state == MAIL_PENDING)
                .values(next_attempt_at=utcnow() + dt.timedelta(seconds=delay), claimed_by=None, claimed_until=None)
            )


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff for the nth attempt, capped, jittered over its upper half (as the order relay's)."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return rng.uniform(ceiling / 2, ceiling)


def mail_report(session: Session) -> list[str]:
    """The lines of `ecgateway mail status`: messages per state, the oldest waiting one and its last error."""
    counts = dict(session.execute(sa.select(EmailMessage.state, sa.func.count()).group_by(EmailMessage.state)).all())
    lines = [", ".join(f"{state} {counts.get(state, 0)}" for state in (MAIL_PENDING, MAIL_SENT, MAIL_DEAD))]
    oldest = session.scalars(sa.select(EmailMessage).where(EmailMessage.state == MAIL_PENDING)
                             .order_by(EmailMessage.id).limit(1)).first()
    if oldest is not None:
        age = utcnow() - as_utc(oldest.created_at)
        lines.append(f"oldest pending: message {oldest.id} ({oldest.template}) to {oldest.to_addr}, "
                     f"{int(age.total_seconds())} s old, {oldest.attempts} attempt(s); "
                     f"last error: {oldest.last_error or '-'}")
    return lines
