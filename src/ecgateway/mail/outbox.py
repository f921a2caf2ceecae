"""The e-mail outbox: `enqueue` in the caller's transaction, and the sender that delivers.

A message is rendered and stored by `enqueue` in the same transaction as the action it tells of
(a list saved, a list rejected), so either both are committed or neither. The sender (a thread
started with the server as the order relay is, or `ecgateway mail run`) repeatedly claims due
rows with a lease (ecgateway.leased, the same claim and loop as the order relay's), hands each to the transport (SMTP, or an .eml file), and marks
it sent. When the server cannot be reached the message stays pending and is tried again after a
capped, jittered backoff; the rest of the batch waits as long. A 5xx refusal marks it dead.
Each message keeps its Message-ID across attempts, so a resend after a crash is recognisable.
"""

from __future__ import annotations

import logging
import os
import random
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ecgateway.clock import as_utc, utcnow
from ecgateway.config import Settings, get_settings
from ecgateway.errors import GatewayError
from ecgateway.leased import LeasedRows, PollingWorker, backoff_seconds
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


ROWS = LeasedRows(EmailMessage, MAIL_PENDING)


@dataclass
class MailSender(PollingWorker):
    sessions: sessionmaker[Session]
    settings: Settings
    transport: Transport | None = None
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")
    rng: random.Random = field(default_factory=random.Random)

    thread_name = "mail-sender"
    max_passes = 100
    log = log

    def __post_init__(self) -> None:
        self.transport = self.transport or make_transport(self.settings)
        self.start_loop_state()

    def poll_seconds(self) -> float:
        return self.settings.mail_poll_seconds

    def batch_size(self) -> int:
        return self.settings.mail_batch_size

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

    # --- steps ------------------------------------------------------------------------------

    def _claim(self) -> list[int]:
        return ROWS.claim(self.sessions, by=self.name, limit=self.settings.mail_batch_size,
                          lease_seconds=self.settings.mail_lease_seconds)

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
            ROWS.retry(session, message_id, by=self.name, delay=delay, error=exc)
        return delay

    def _release(self, message_ids: list[int], delay: float) -> None:
        ROWS.release(self.sessions, message_ids, by=self.name, delay=delay)


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
