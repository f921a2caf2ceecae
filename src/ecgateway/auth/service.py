"""Sign-in and sign-out, each audited in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ecgateway.audit import record
from ecgateway.auth import sessions, throttle
from ecgateway.auth.models import AuthSession
from ecgateway.auth.passwords import hash_password, needs_rehash, verify_password
from ecgateway.auth.users import get_by_login
from ecgateway.config import Settings
from ecgateway.errors import GatewayError
from ecgateway.obo.context import Actor
from ecgateway.portal.models import User

# One message for every bad combination: it must not tell which logins exist.
BAD_LOGIN = "The login or password is not right. Check both and try again; after several failures sign-in pauses for a while."


class SignInError(GatewayError):
    """Sign-in refused; status is the HTTP status to answer with, message is for the person."""

    def __init__(self, message: str, status: int = 401, retry_after: int | None = None):
        super().__init__(message, status=status)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else None


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: AuthSession
    token: str  # for the cookie only


def sign_in(db: Session, *, login: str, password: str, ip: str, previous: AuthSession | None = None,
            settings: Settings | None = None) -> SignedIn:
    """Check the password and open a fresh session (a session the browser had before is ended).

    Failures are noted for the throttle and audited, then committed, and SignInError is raised.
    """
    login = (login or "").strip()[:64]
    attempt = throttle.note_failure(db, login=login, ip=ip)  # until the password proves otherwise
    db.commit()
    wait = throttle.wait_seconds(db, login=login, ip=ip)
    if wait:
        throttle.forget(db, attempt)
        record(db, actor=None, subject_an8=None, action="auth.sign_in", object=f"login {login}",
               outcome="refused", detail={"reason": "throttled", "ip": ip})
        db.commit()
        minutes = (wait + 59) // 60
        raise SignInError(f"Too many failed sign-ins for this login or address. Wait {minutes} minute(s) and try again, "
                          "or ask an administrator to check the account.", status=429, retry_after=wait)
    user = get_by_login(db, login) if login else None
    password_ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not password_ok or not user.active:
        reason = "unknown login" if user is None else ("wrong password" if not password_ok else "user deactivated")
        record(db, actor=None, subject_an8=None, action="auth.sign_in", object=f"login {login}",
               outcome="refused", detail={"reason": reason, "ip": ip, "user_id": user.id if user else None})
        db.commit()
        raise SignInError(BAD_LOGIN, status=401)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if previous is not None:
        sessions.end_session(db, previous, reason="signed in again")
    throttle.clear_failures(db, login=login)
    if settings is not None:
        sessions.purge_expired(db, settings=settings)
    row, token = sessions.start_session(db, user=user)
    record(db, actor=Actor.of(user), subject_an8=user.account_an8, action="auth.sign_in",
           object=f"login {user.login}", outcome="ok", detail={"ip": ip})
    db.commit()
    return SignedIn(user=user, session=row, token=token)


def sign_out(db: Session, *, user: User, auth_session: AuthSession) -> None:
    """End the session and with it any on-behalf-of session it carries."""
    subject = auth_session.obo_an8 or user.account_an8
    sessions.end_session(db, auth_session, reason="sign-out")  # audits obo.end when acting
    record(db, actor=Actor.of(user), subject_an8=subject, action="auth.sign_out", object=f"login {user.login}",
           outcome="ok")
    db.commit()
