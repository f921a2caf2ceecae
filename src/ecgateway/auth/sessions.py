"""Server-side sessions: the browser holds a random id, the database holds its hash.

Timeouts: idle (since the last request) and absolute (since sign-in). Rotating the id for
on-behalf-of keeps the sign-in time, so acting for a customer never extends a session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ecgateway.audit.service import record
from ecgateway.auth.models import AuthSession
from ecgateway.clock import as_utc, utcnow
from ecgateway.config import Settings
from ecgateway.obo.context import Actor
from ecgateway.portal.models import User

# last_seen_at is written at most this often, so a busy rep does not write on every request.
TOUCH_EVERY = dt.timedelta(seconds=30)


def cookie_name(settings: Settings) -> str:
    """`__Host-` needs Secure, so the prefix is only used when cookies are marked Secure."""
    return "__Host-ecgw_session" if settings.cookie_secure else "ecgw_session"


def cookie_attributes(settings: Settings) -> dict:
    """For Starlette's set_cookie: a session cookie (no max-age: closing the browser ends it)."""
    return {"key": cookie_name(settings), "path": "/", "httponly": True, "samesite": "lax", "secure": settings.cookie_secure}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Loaded:
    session: AuthSession | None
    ended: str | None = None  # why a session the browser presented is no longer valid
    # The session's user, read in the same statement. Held here because the Session's identity map
    # holds objects weakly: with no reference left, the next db.get(User, ...) read it again.
    user: User | None = None


def start_session(db: Session, *, user: User, now: dt.datetime | None = None) -> tuple[AuthSession, str]:
    """A new session for user; returns it and the id to put in the cookie (shown nowhere else)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = AuthSession(
        token_hash=hash_token(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
        created_at=now, last_seen_at=now, rotated_at=now,
    )
    db.add(row)
    db.flush()
    return row, token


def load_session(db: Session, token: str | None, *, settings: Settings, now: dt.datetime | None = None) -> Loaded:
    """The live session for a cookie value, or why there is none (expired rows are removed)."""
    if not token or len(token) > 200:
        return Loaded(None)
    # The user comes in the same statement (the request needs it next: Loaded.user).
    found = db.execute(select(AuthSession, User).outerjoin(User, User.id == AuthSession.user_id)
                       .where(AuthSession.token_hash == hash_token(token))).first()
    row = found[0] if found is not None else None
    if row is None:
        return Loaded(None, "unknown")
    now = now or utcnow()
    if now - as_utc(row.created_at) >= dt.timedelta(minutes=settings.session_absolute_minutes):
        end_session(db, row, reason="session limit")
        return Loaded(None, f"Your session reached its {settings.session_absolute_minutes}-minute limit. Please sign in again.")
    if now - as_utc(row.last_seen_at) >= dt.timedelta(minutes=settings.session_idle_minutes):
        end_session(db, row, reason="idle timeout")
        return Loaded(None, f"Your session ended after {settings.session_idle_minutes} minutes without activity. Please sign in again.")
    if now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
    return Loaded(row, user=found[1])


def rotate(db: Session, row: AuthSession, *, now: dt.datetime | None = None) -> str:
    """Give the session a new id and CSRF token; the old id stops working. Keeps created_at."""
    token = secrets.token_urlsafe(32)
    row.token_hash = hash_token(token)
    row.csrf_token = secrets.token_urlsafe(32)
    row.rotated_at = now or utcnow()
    db.flush()
    return token


def end_session(db: Session, row: AuthSession, *, reason: str) -> None:
    """Remove a session; an on-behalf-of session it carries is audited as ended, with reason."""
    record_obo_ends(db, [row], reason=reason)
    db.delete(row)
    db.flush()


def purge_expired(db: Session, *, settings: Settings, now: dt.datetime | None = None) -> int:
    """Remove sessions past either timeout that no browser came back with (run at each sign-in)."""
    now = now or utcnow()
    expired = ((AuthSession.last_seen_at < now - dt.timedelta(minutes=settings.session_idle_minutes))
               | (AuthSession.created_at < now - dt.timedelta(minutes=settings.session_absolute_minutes)))
    record_obo_ends(db, db.scalars(select(AuthSession).where(expired, AuthSession.obo_an8.is_not(None))),
                    reason="session expired")
    result = db.execute(delete(AuthSession).where(expired))
    return result.rowcount or 0


def end_user_sessions(db: Session, *, user_id: int, reason: str = "signed out everywhere") -> int:
    """Sign a user out everywhere (deactivation, type change); returns how many sessions ended."""
    record_obo_ends(db, db.scalars(select(AuthSession).where(AuthSession.user_id == user_id,
                                                             AuthSession.obo_an8.is_not(None))), reason=reason)
    result = db.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    return result.rowcount or 0


def record_obo_ends(db: Session, rows: Iterable[AuthSession], *, reason: str) -> None:
    """Audit obo.end for each session in rows that is acting on behalf of an account, as the
    rep who was acting; every way a session ends goes through here or through obo.end."""
    for row in list(rows):
        user = db.get(User, row.user_id) if row.obo_an8 is not None else None
        if user is not None:
            record(db, actor=Actor.of(user), subject_an8=row.obo_an8, action="obo.end",
                   object=f"account {row.obo_an8}", outcome="ok", detail=obo_end_detail(row, reason))


def obo_end_detail(row: AuthSession, reason: str) -> dict:
    """An obo.end entry's detail: why it ended, and which session (its reason, start, opening entry)."""
    detail: dict = {"reason": reason}
    if row.obo_reason:
        detail["obo_reason"] = row.obo_reason
    if row.obo_started_at is not None:
        detail["started_at"] = as_utc(row.obo_started_at).isoformat(timespec="seconds").replace("+00:00", "Z")
    if row.obo_start_seq is not None:
        detail["start_seq"] = row.obo_start_seq
    return detail


def csrf_matches(row: AuthSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(row.csrf_token.encode(), presented.encode("utf-8", "replace"))
