"""What the idle warning (templates/_idle.html, static/js/idle.js) needs to know on every page:
how many seconds of the signed-in session's idle time are left, and whose drafts a form keeps."""

from __future__ import annotations

from fastapi import Request

from ecgateway.auth.sessions import TOUCH_EVERY
from ecgateway.clock import as_utc, utcnow

WARN_SECONDS = 120  # the dialog shows this long before the idle timeout


def idle_for(request: Request, auth) -> dict | None:
    """None for anonymous pages; else seconds left, the timeout, the warning time, and the draft key's parts."""
    if auth is None or getattr(auth, "session", None) is None or auth.user is None:
        return None
    settings = request.app.state.settings
    return {
        "left": seconds_left(auth.session, settings), "minutes": settings.session_idle_minutes,
        "warn": WARN_SECONDS, "touch": int(TOUCH_EVERY.total_seconds()),
        "user": auth.user.login, "acting": auth.context.subject_an8 if auth.on_behalf else "",
    }


def seconds_left(session, settings) -> int:
    """Idle seconds left before the session ends (last_seen_at is written at most every TOUCH_EVERY)."""
    spent = (utcnow() - as_utc(session.last_seen_at)).total_seconds()
    return max(0, int(settings.session_idle_minutes * 60 - spent))
