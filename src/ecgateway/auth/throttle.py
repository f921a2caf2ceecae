"""Throttle repeated failed sign-ins, per login and per client address."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ecgateway.auth.models import LoginFailure
from ecgateway.clock import as_utc, utcnow

WINDOW = dt.timedelta(minutes=15)
MAX_PER_LOGIN = 5
MAX_PER_IP = 30


def wait_seconds(db: Session, *, login: str, ip: str, now: dt.datetime | None = None) -> int:
    """0 when the attempt just noted (note_failure, committed) may go on; else how many seconds
    until the oldest failure ages out. The attempt counts itself: noted and committed before the
    password is checked, attempts running at the same moment count each other, so a burst of
    concurrent guesses gets no more tries than the same guesses one after another."""
    now = now or utcnow()
    since = now - WINDOW
    login = _key(login)
    for column, value, limit in ((LoginFailure.login, login, MAX_PER_LOGIN), (LoginFailure.ip, ip, MAX_PER_IP)):
        count, oldest = db.execute(
            select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)
        ).one()
        if count > limit:
            return max(1, int((as_utc(oldest) + WINDOW - now).total_seconds()) + 1)
    return 0


def note_failure(db: Session, *, login: str, ip: str, now: dt.datetime | None = None) -> LoginFailure:
    """Note an attempt as failed until it proves otherwise (see wait_seconds)."""
    now = now or utcnow()
    row = LoginFailure(login=_key(login), ip=ip[:64], at=now)
    db.add(row)
    # Old rows are useless past the window; drop them as we go.
    db.execute(delete(LoginFailure).where(LoginFailure.at < now - 2 * WINDOW))
    db.flush()
    return row


def forget(db: Session, row: LoginFailure) -> None:
    """An attempt that was refused by the throttle itself is not one more failure."""
    db.execute(delete(LoginFailure).where(LoginFailure.id == row.id))


def clear_failures(db: Session, *, login: str) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.login == _key(login)))


def _key(login: str) -> str:
    return login.strip().lower()[:64]
