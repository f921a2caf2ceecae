"""What a customer sees of the reps who acted for their account: each on-behalf-of session (who,
when, the reason if given, what was done), read from the audit log and nothing else.

A session is the run of one rep's entries for the account from its obo.start (or obo.change)
to its obo.end. Entries written before obo.end named its session (start_seq) are grouped the
same way: a later start by the same rep for the account closes the one before.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ecgateway.audit.models import AuditEntry
from ecgateway.clock import as_utc
from ecgateway.db import in_values
from ecgateway.portal.models import User

OPENS = ("obo.start", "obo.change")
# What the customer is told was done (outcome ok only): orders, lists, registrations, carts emptied.
DONE = ("order.place", "cart.empty", "contact.register")
DONE_PREFIXES = ("list.",)
# Done also outside an on-behalf-of session (a rep registers a contact from the account page): its own line.
ALONE = ("contact.register",)
MAX_PAGE = 100
TYPE_WORDS = {"Internal_AR": "accounts receivable", "Internal_SalesRep": "sales",
              "Internal_CustomerService": "customer service"}


@dataclass(frozen=True)
class Done:
    at: dt.datetime
    action: str
    text: str  # in the customer's words, e.g. "Placed order 12 (125.00 USD)"


@dataclass
class Visit:
    """One on-behalf-of session for the account."""

    start_seq: int
    rep_user_id: int | None
    rep_name: str
    rep_role: str  # "sales", "customer service"...
    started_at: dt.datetime
    reason: str | None
    ended_at: dt.datetime | None = None  # None: still running
    end_reason: str | None = None
    extended: bool = False
    done: list[Done] = field(default_factory=list)

    @property
    def changed_something(self) -> bool:
        return bool(self.done)


@dataclass(frozen=True)
class History:
    visits: list[Visit]
    next_before: int | None  # pass as before= for the older sessions; None: no more


def access_history(db: Session, *, an8: int, before: int | None = None, limit: int = 20) -> History:
    """The account's on-behalf-of sessions, newest first; before: a start_seq from the last page."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = (select(AuditEntry).where(AuditEntry.subject_an8 == an8, in_values(AuditEntry.action, (*OPENS, *ALONE)),
                                     AuditEntry.outcome == "ok")
            .order_by(AuditEntry.seq.desc()).limit(limit + 1))
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    starts = list(db.scalars(stmt))
    more = len(starts) > limit
    starts = starts[:limit]
    if not starts:
        return History([], None)
    visits = _group(db, an8=an8, starts=starts)
    return History(visits, starts[-1].seq if more else None)


def visit(db: Session, *, an8: int, start_seq: int) -> Visit | None:
    """One session by the seq of its opening entry (for the receipt), or None."""
    entry = db.get(AuditEntry, start_seq)
    if entry is None or entry.subject_an8 != an8 or entry.action not in OPENS or entry.outcome != "ok":
        return None
    return _group(db, an8=an8, starts=[entry])[0]


# -- helpers -------------------------------------------------------------------------------

def _group(db: Session, *, an8: int, starts: list[AuditEntry]) -> list[Visit]:
    actors = {e.actor_user_id for e in starts}
    users = {u.id: u for u in db.scalars(select(User).where(in_values(User.id, sorted(a for a in actors if a))))}
    first = min(e.seq for e in starts)
    wanted = or_(in_values(AuditEntry.action, (*OPENS, "obo.end", "obo.extend", *DONE)),
                 *(AuditEntry.action.startswith(p) for p in DONE_PREFIXES))
    later = db.scalars(select(AuditEntry).where(
        AuditEntry.subject_an8 == an8, AuditEntry.seq > first, in_values(AuditEntry.actor_user_id, sorted(a for a in actors if a is not None)),
        AuditEntry.outcome == "ok", wanted).order_by(AuditEntry.seq))
    visits = {e.seq: _visit(e, users.get(e.actor_user_id)) for e in starts if e.action in OPENS}
    alone = {e.seq for e in starts if e.action in ALONE}
    open_by_actor: dict[int | None, Visit | None] = {}
    for entry in sorted({e.seq: e for e in [*starts, *later]}.values(), key=lambda e: e.seq):
        detail = _detail(entry)
        if entry.action in OPENS:
            open_by_actor[entry.actor_user_id] = visits.get(entry.seq)  # a start not on this page: None
            continue
        current = open_by_actor.get(entry.actor_user_id)
        if entry.action == "obo.end":
            named = visits.get(detail.get("start_seq")) if isinstance(detail.get("start_seq"), int) else None
            closing = named or current
            if closing is not None and closing.ended_at is None:
                closing.ended_at = as_utc(entry.at)
                closing.end_reason = str(detail.get("reason") or "") or None
            if closing is current:
                open_by_actor[entry.actor_user_id] = None
        elif current is None:
            if entry.seq in alone:
                single = _visit(entry, users.get(entry.actor_user_id))
                single.ended_at, single.reason = single.started_at, None
                single.done.append(Done(at=single.started_at, action=entry.action, text=_done_text(entry, detail)))
                visits[entry.seq] = single
            continue
        elif entry.action == "obo.extend":
            current.extended = True
        else:
            current.done.append(Done(at=as_utc(entry.at), action=entry.action, text=_done_text(entry, detail)))
    return [visits[e.seq] for e in starts if e.seq in visits]


def _visit(entry: AuditEntry, user: User | None) -> Visit:
    detail = _detail(entry)
    reason = detail.get("obo_reason")
    return Visit(start_seq=entry.seq, rep_user_id=entry.actor_user_id,
                 rep_name=(user.name if user else "") or entry.actor_login or "a representative",
                 rep_role=TYPE_WORDS.get(user.user_type if user else "", "representative"),
                 started_at=as_utc(entry.at), reason=str(reason) if reason else None)


def _detail(entry: AuditEntry) -> dict:
    try:
        value = json.loads(entry.detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _done_text(entry: AuditEntry, detail: dict) -> str:
    obj = entry.object or ""
    if entry.action == "order.place":
        total = f" ({detail['total']} {detail.get('currency', '')})".replace(" )", ")") if detail.get("total") else ""
        return f"Placed {obj}{total}"
    if entry.action == "cart.empty":
        carts, lines = detail.get("carts", 0), detail.get("lines", 0)
        return f"Emptied {carts} cart{'' if carts == 1 else 's'} of the account ({lines} line{'' if lines == 1 else 's'})"
    if entry.action == "contact.register":
        who = detail.get("contact_name") or obj.removeprefix("user ")
        return f"Registered {who} as a new user of the account (they set their own password by e-mail)"
    area, _, verb = entry.action.partition(".")
    return f"{area.capitalize()} {verb.replace('_', ' ')}: {obj}".strip()
