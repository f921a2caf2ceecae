"""Acting on behalf of a customer account: start, change, choose addresses, end, re-check.

Every decision about an account goes through the accounts package's compiled query for
the rep (rep_scope + may_act): the same query that builds the rep's list. The session row
only remembers what was chosen; it is never trusted on its own (recheck runs each request).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ecgateway.accounts import WorkWithAccounts, may_act, rep_scope
from ecgateway.audit import record
from ecgateway.audit.service import looks_like_card_number
from ecgateway.auth import sessions
from ecgateway.auth.models import AuthSession
from ecgateway.auth.roles import CUSTOMER, may_act_on_behalf
from ecgateway.clock import as_utc, utcnow
from ecgateway.config import Settings
from ecgateway.errors import GatewayError
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.obo.context import ActingContext, Actor
from ecgateway.portal.models import User


class OboRefused(GatewayError):
    """A request about on-behalf-of that is refused; status for HTTP, message for the person."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message, status=status)


REASON_MAX = 200  # characters of a reason or ticket number
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class TimeBox:
    """The running on-behalf-of session's limit, for the banner and the API."""

    started_at: dt.datetime
    ends_at: dt.datetime
    seconds_left: int
    extended: bool
    may_extend: bool  # not extended yet, and the rep's own sign-in lasts beyond the limit
    warn_seconds: int
    extend_minutes: int


@dataclass(frozen=True)
class Ended:
    reason: str  # for the person: why their on-behalf-of session ended
    token: str  # the rotated session id


def acting_context(user: User, auth_session: AuthSession | None) -> ActingContext:
    """The context services get: actor always; subject the served account or the user's own."""
    actor = Actor.of(user)
    if auth_session is not None and auth_session.obo_an8 is not None and may_act_on_behalf(user):
        return ActingContext(actor=actor, subject_an8=auth_session.obo_an8, billing_an8=auth_session.billing_an8,
                             shipping_an8=auth_session.shipping_an8, on_behalf=True)
    if user.user_type == CUSTOMER:
        return ActingContext(actor=actor, subject_an8=user.account_an8,
                             billing_an8=auth_session.billing_an8 if auth_session else None,
                             shipping_an8=auth_session.shipping_an8 if auth_session else None)
    return ActingContext(actor=actor, subject_an8=None)


def start(db: Session, jde: Jde, *, wwa: WorkWithAccounts, user: User, auth_session: AuthSession,
          an8: int, billing_an8: int | None = None, reason: str | None = None,
          settings: Settings | None = None) -> str:
    """Start (or change to) acting for account an8; returns the new session id.

    reason: the rep's reason or ticket number; asked, required or ignored by ECGW_OBO_REASON.
    The session is time-boxed (ECGW_OBO_MAX_MINUTES), never beyond the rep's own sign-in.
    A refusal is audited and committed before OboRefused is raised, so it stays on record.
    """
    settings = settings or Settings()
    actor = Actor.of(user)
    previous = auth_session.obo_an8
    given = clean_reason(reason) if settings.obo_reason != "off" else None
    if not may_act_on_behalf(user):
        _refuse(db, user, an8, f"user type {user.user_type} may not act on behalf of anyone")
        raise OboRefused("Only internal representatives (AR, sales, customer service) may act on behalf of an account.", 403)
    scope = rep_scope(db, rep=user, wwa=wwa)
    if not may_act(jde.conn, wwa=wwa, scope=scope, an8=an8):
        _refuse(db, user, an8, f"account not in the rep's list ({scope.reason})")
        raise OboRefused(f"Account {an8} is not in your list of accounts, or does not exist. "
                         "Pick an account from your list; an administrator sets which accounts you may serve.", 404)
    billing = billing_addresses(jde, account_an8=an8)
    if billing_an8 is None:
        chosen = billing[0].an8 if billing else None
    elif any(b.an8 == billing_an8 for b in billing):
        chosen = billing_an8
    else:
        _refuse(db, user, an8, f"billing address {billing_an8} is not one of the account's")
        raise OboRefused(f"Billing address {billing_an8} does not belong to account {an8}. "
                         "Choose one of the billing addresses listed on the account page.", 422)
    if given is not None and len(given) > REASON_MAX:
        _refuse(db, user, an8, f"reason longer than {REASON_MAX} characters")
        raise OboRefused(f"The reason has {len(given)} characters; keep it to {REASON_MAX} (a ticket number and a "
                         "few words), then act on behalf again.", 422)
    if given and looks_like_card_number(given):
        _refuse(db, user, an8, "reason holds a card number")
        raise OboRefused("The reason looks like it holds a card number. Never type card numbers here: give a "
                         "ticket number or a few words instead.", 422)
    if settings.obo_reason == "required" and not given:
        _refuse(db, user, an8, "no reason given")
        raise OboRefused("Give a reason or ticket number to act on behalf of an account: type it in the Reason "
                         "field, then press Act on behalf again.", 422)
    if previous is not None:  # the session for the previous account ends here
        record(db, actor=actor, subject_an8=previous, action="obo.end", object=f"account {previous}",
               outcome="ok", detail=end_detail(auth_session, f"changed to account {an8}"))
    token = sessions.rotate(db, auth_session)
    now = utcnow()
    auth_session.obo_an8 = an8
    auth_session.billing_an8 = chosen
    auth_session.shipping_an8 = None
    auth_session.obo_started_at = now
    auth_session.obo_reason = given or None
    auth_session.obo_ends_at = min(now + dt.timedelta(minutes=settings.obo_max_minutes), _sign_in_ends(auth_session, settings))
    auth_session.obo_extended_at = None
    action = "obo.start" if previous is None else "obo.change"
    detail = {"billing_an8": chosen}
    if previous is not None:
        detail["from_an8"] = previous
    if given:
        detail["obo_reason"] = given
    entry = record(db, actor=actor, subject_an8=an8, action=action, object=f"account {an8}", outcome="ok",
                   detail=detail)
    auth_session.obo_start_seq = entry.seq
    db.commit()
    return token


def extend(db: Session, *, user: User, auth_session: AuthSession, settings: Settings | None = None) -> TimeBox:
    """Lengthen the running session once (audited); never beyond the rep's own sign-in."""
    settings = settings or Settings()
    if auth_session.obo_an8 is None or auth_session.obo_ends_at is None:
        raise OboRefused("You are not acting on behalf of an account, so there is no time limit to extend.", 409)
    an8 = auth_session.obo_an8
    if auth_session.obo_extended_at is not None:
        raise OboRefused(f"Your session for account {an8} was already extended once; it ends at "
                         f"{_hhmm(auth_session.obo_ends_at)} UTC. Act on behalf of the account again after that.", 409)
    minutes = settings.obo_extend_minutes or settings.obo_max_minutes
    old_end = as_utc(auth_session.obo_ends_at)
    new_end = min(old_end + dt.timedelta(minutes=minutes), _sign_in_ends(auth_session, settings))
    if new_end <= old_end:
        raise OboRefused(f"Your own sign-in ends at {_hhmm(new_end)} UTC, so this session cannot be extended: "
                         "sign in again afterwards to carry on.", 409)
    now = utcnow()
    auth_session.obo_ends_at = new_end
    auth_session.obo_extended_at = now
    record(db, actor=Actor.of(user), subject_an8=an8, action="obo.extend", object=f"account {an8}", outcome="ok",
           detail={"ends_at": _iso(new_end), "minutes": int((new_end - old_end).total_seconds() // 60),
                   "start_seq": auth_session.obo_start_seq})
    db.commit()
    box = time_box(auth_session, settings)
    assert box is not None
    return box


def time_box(auth_session: AuthSession | None, settings: Settings) -> TimeBox | None:
    """The running session's limit and time left, or None when not acting."""
    if auth_session is None or auth_session.obo_an8 is None or auth_session.obo_ends_at is None:
        return None
    ends = as_utc(auth_session.obo_ends_at)
    left = max(0, int((ends - utcnow()).total_seconds()))
    extend_by = settings.obo_extend_minutes or settings.obo_max_minutes
    may = auth_session.obo_extended_at is None and _sign_in_ends(auth_session, settings) > ends
    started = as_utc(auth_session.obo_started_at) if auth_session.obo_started_at else ends
    return TimeBox(started_at=started, ends_at=ends, seconds_left=left, extended=auth_session.obo_extended_at is not None,
                   may_extend=may, warn_seconds=settings.obo_warn_seconds, extend_minutes=extend_by)


def clean_reason(text: str | None) -> str:
    """A reason as stored: control characters and runs of spaces become one space, trimmed."""
    return _SPACES.sub(" ", "".join(c if c.isprintable() else " " for c in (text or ""))).strip()


def end_detail(auth_session: AuthSession, reason: str) -> dict:
    """The detail of an obo.end entry: why it ended, and which session (its reason, start, first entry)."""
    return sessions.obo_end_detail(auth_session, reason)


def choose_billing(db: Session, jde: Jde, *, user: User, auth_session: AuthSession,
                   billing_an8: int) -> None:
    """Borrow another of the effective account's billing addresses; the shipping choice resets."""
    ctx = acting_context(user, auth_session)
    account = _require_account(ctx)
    billing = billing_addresses(jde, account_an8=account)
    if not any(b.an8 == billing_an8 for b in billing):
        raise OboRefused(f"Billing address {billing_an8} does not belong to account {account}. "
                         "Choose one of the billing addresses listed on the account page.", 422)
    auth_session.billing_an8 = billing_an8
    auth_session.shipping_an8 = None
    record(db, actor=ctx.actor, subject_an8=account, action="obo.billing", object=f"billing address {billing_an8}",
           outcome="ok", detail={"on_behalf": ctx.on_behalf})
    db.commit()


def choose_shipping(db: Session, jde: Jde, *, user: User, auth_session: AuthSession,
                    shipping_an8: int) -> None:
    """Choose the ship-to from the current billing address's list."""
    ctx = acting_context(user, auth_session)
    account = _require_account(ctx)
    if ctx.billing_an8 is None:
        billing = billing_addresses(jde, account_an8=account)
        if not billing:
            raise OboRefused(f"Account {account} has no billing address in JDE, so it cannot have a shipping address.", 409)
        auth_session.billing_an8 = billing[0].an8
    ships = shipping_addresses(jde, billing_an8=auth_session.billing_an8)
    if not any(s.an8 == shipping_an8 for s in ships):
        raise OboRefused(f"Shipping address {shipping_an8} is not one of billing address {auth_session.billing_an8}'s "
                         "shipping addresses. Choose one from the list on the account page.", 422)
    auth_session.shipping_an8 = shipping_an8
    record(db, actor=ctx.actor, subject_an8=account, action="obo.shipping", object=f"shipping address {shipping_an8}",
           outcome="ok", detail={"billing_an8": auth_session.billing_an8, "on_behalf": ctx.on_behalf})
    db.commit()


def end(db: Session, *, user: User, auth_session: AuthSession, reason: str = "ended by the rep") -> str | None:
    """Stop acting on behalf; returns the new session id, or None when nothing was running."""
    if auth_session.obo_an8 is None:
        return None
    an8 = auth_session.obo_an8
    detail = end_detail(auth_session, reason)
    token = _clear(db, auth_session)
    record(db, actor=Actor.of(user), subject_an8=an8, action="obo.end", object=f"account {an8}",
           outcome="ok", detail=detail)
    db.commit()
    return token


def recheck(db: Session, jde_connect, *, wwa: WorkWithAccounts, user: User, auth_session: AuthSession) -> Ended | None:
    """Run on every request while acting: end the session if the rep lost the right to this account.

    jde_connect: a callable giving a JDE connection context, opened only when a check is needed.
    """
    an8 = auth_session.obo_an8
    if an8 is None:
        return None
    if auth_session.obo_ends_at is not None and utcnow() >= as_utc(auth_session.obo_ends_at):
        minutes = int((as_utc(auth_session.obo_ends_at) - as_utc(auth_session.obo_started_at or
                                                                  auth_session.obo_ends_at)).total_seconds() // 60)
        why = (f"Your on-behalf-of session for account {an8} reached its {minutes}-minute limit and has ended. "
               "You are still signed in, and your cart for the account is kept: act on behalf of it again to carry on.")
        return _force_end(db, user, auth_session, why, "time limit reached")
    if not may_act_on_behalf(user):
        why = (f"Your on-behalf-of session for account {an8} has ended: your user type is now {user.user_type}, "
               "which may not act on behalf of customers.")
        return _force_end(db, user, auth_session, why, "user type changed")
    scope = rep_scope(db, rep=user, wwa=wwa)
    with jde_connect() as jde:
        allowed = may_act(jde, wwa=wwa, scope=scope, an8=an8)
    if allowed:
        return None
    why = (f"Your on-behalf-of session for account {an8} has ended: the account is no longer in your list "
           "(an administrator changed which accounts you may serve). Pick another account.")
    return _force_end(db, user, auth_session, why, "restriction no longer allows the account")


def may_see_account(db: Session, jde: Jde, *, wwa: WorkWithAccounts, user: User | None, an8: int) -> bool:
    """The URL rule: a rep sees accounts in their list, a customer only their own; nobody else any."""
    if user is None or not user.active:
        return False
    if user.user_type == CUSTOMER:
        return user.account_an8 == an8
    if may_act_on_behalf(user):
        return may_act(jde.conn, wwa=wwa, scope=rep_scope(db, rep=user, wwa=wwa), an8=an8)
    return False


def effective_account(ctx: ActingContext | None, *, url_an8: int | None = None, url_allowed: bool = False) -> int | None:
    """Whose data a page shows: the URL's account if allowed, else on-behalf-of, else own, else none."""
    if url_an8 is not None and url_allowed:
        return url_an8
    if ctx is None:
        return None
    return ctx.subject_an8


def _require_account(ctx: ActingContext) -> int:
    if ctx.subject_an8 is None:
        raise OboRefused("No account is selected. Act on behalf of an account from your list first.", 409)
    return ctx.subject_an8


def _refuse(db: Session, user: User, an8: int, why: str) -> None:
    record(db, actor=Actor.of(user), subject_an8=an8, action="obo.start", object=f"account {an8}",
           outcome="refused", detail={"reason": why})
    db.commit()


def _clear(db: Session, auth_session: AuthSession) -> str:
    token = sessions.rotate(db, auth_session)
    auth_session.obo_an8 = None
    auth_session.billing_an8 = None
    auth_session.shipping_an8 = None
    auth_session.obo_started_at = None
    auth_session.obo_reason = None
    auth_session.obo_ends_at = None
    auth_session.obo_extended_at = None
    auth_session.obo_start_seq = None
    return token


def _force_end(db: Session, user: User, auth_session: AuthSession, message: str, reason: str) -> Ended:
    an8 = auth_session.obo_an8
    detail = end_detail(auth_session, reason)
    token = _clear(db, auth_session)
    auth_session.notice = message
    record(db, actor=Actor.of(user), subject_an8=an8, action="obo.end", object=f"account {an8}",
           outcome="ok", detail=detail)
    db.commit()
    return Ended(reason=message, token=token)


def prepare_session(db: Session, jde: Jde, *, user: User, auth_session: AuthSession) -> None:
    """Right after sign-in: a customer borrows their account's first billing address by default."""
    if user.user_type != CUSTOMER or user.account_an8 is None:
        return
    billing = billing_addresses(jde, account_an8=user.account_an8)
    auth_session.billing_an8 = billing[0].an8 if billing else None
    db.commit()


def _sign_in_ends(auth_session: AuthSession, settings: Settings) -> dt.datetime:
    """When the rep's own sign-in reaches its absolute limit: no on-behalf-of session outlives it."""
    return as_utc(auth_session.created_at) + dt.timedelta(minutes=settings.session_absolute_minutes)


def _hhmm(when: dt.datetime) -> str:
    return as_utc(when).strftime("%H:%M")


def _iso(when: dt.datetime) -> str:
    return as_utc(when).isoformat(timespec="seconds").replace("+00:00", "Z")
