"""Acting on behalf of a customer account: start, change, choose addresses, end, re-check.

Every decision about an account goes through the accounts package's compiled query for
the rep (rep_scope + may_act): the same query that builds the rep's list. The session row
only remembers what was chosen; it is never trusted on its own (recheck runs each request).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ecgateway.accounts import WorkWithAccounts, may_act, rep_scope
from ecgateway.audit import record
from ecgateway.auth import sessions
from ecgateway.auth.models import AuthSession
from ecgateway.auth.roles import CUSTOMER, may_act_on_behalf
from ecgateway.clock import utcnow
from ecgateway.errors import GatewayError
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.obo.context import ActingContext, Actor
from ecgateway.portal.models import User


class OboRefused(GatewayError):
    """A request about on-behalf-of that is refused; status for HTTP, message for the person."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message, status=status)


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
          an8: int, billing_an8: int | None = None) -> str:
    """Start (or change to) acting for account an8; returns the new session id.

    A refusal is audited and committed before OboRefused is raised, so it stays on record.
    """
    actor = Actor.of(user)
    previous = auth_session.obo_an8
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
    token = sessions.rotate(db, auth_session)
    auth_session.obo_an8 = an8
    auth_session.billing_an8 = chosen
    auth_session.shipping_an8 = None
    auth_session.obo_started_at = utcnow()
    action = "obo.start" if previous is None else "obo.change"
    detail = {"billing_an8": chosen}
    if previous is not None:
        detail["from_an8"] = previous
    record(db, actor=actor, subject_an8=an8, action=action, object=f"account {an8}", outcome="ok", detail=detail)
    db.commit()
    return token


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
    token = _clear(db, auth_session)
    record(db, actor=Actor.of(user), subject_an8=an8, action="obo.end", object=f"account {an8}",
           outcome="ok", detail={"reason": reason})
    db.commit()
    return token


def recheck(db: Session, jde_connect, *, wwa: WorkWithAccounts, user: User, auth_session: AuthSession) -> Ended | None:
    """Run on every request while acting: end the session if the rep lost the right to this account.

    jde_connect: a callable giving a JDE connection context, opened only when a check is needed.
    """
    an8 = auth_session.obo_an8
    if an8 is None:
        return None
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
    return token


def _force_end(db: Session, user: User, auth_session: AuthSession, message: str, reason: str) -> Ended:
    an8 = auth_session.obo_an8
    token = _clear(db, auth_session)
    auth_session.notice = message
    record(db, actor=Actor.of(user), subject_an8=an8, action="obo.end", object=f"account {an8}",
           outcome="ok", detail={"reason": reason})
    db.commit()
    return Ended(reason=message, token=token)


def prepare_session(db: Session, jde: Jde, *, user: User, auth_session: AuthSession) -> None:
    """Right after sign-in: a customer borrows their account's first billing address by default."""
    if user.user_type != CUSTOMER or user.account_an8 is None:
        return
    billing = billing_addresses(jde, account_an8=user.account_an8)
    auth_session.billing_an8 = billing[0].an8 if billing else None
    db.commit()
