"""The supervisor's daily roll-up: the figures of the audit entries per UTC day, kept by the relay loop.

Invariant: the daily tables (admin/models.py, migration 0070_supervisor_rollup) hold exactly the
audit entries numbered 1..last_seq (ec_supervisor_rollup). A figure of a period is the period's
roll-up rows plus the entries after last_seq counted live from the audit table (its indexes), in
one statement, so the two parts always meet at the same last_seq (even when a catch-up commits
meanwhile, on PostgreSQL's READ COMMITTED) and the figure equals counting the entries directly.

catch_up (the relay loop's chore, ECGW_SUPERVISOR_ROLLUP_SECONDS) rolls up the entries after
last_seq that precede today's start (UTC), in batches of BATCH entries, one transaction each:
today, still being written, is always counted live. The days are UTC days, the view's days.
An entry that arrives late (its `at` before a day already rolled up, its number after last_seq)
is still counted, live, until the next catch-up adds it to its own day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Numeric,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecgateway.admin.models import (
    SupervisorDayOrders,
    SupervisorDayRefusals,
    SupervisorDayReps,
    SupervisorDaySessions,
    SupervisorRollup,
)
from ecgateway.audit.models import AuditEntry
from ecgateway.clock import as_utc, utcnow
from ecgateway.db import in_values

SESSION_STARTS = ("obo.start", "obo.change")  # each begins acting for one account
STATE_ID = 1
BATCH = 50_000  # entries per catch-up transaction
E4 = Decimal(10_000)


# -- what each figure counts (the same conditions for the roll-up, the live part and the direct count) --

def session_starts():
    return (in_values(AuditEntry.action, SESSION_STARTS), AuditEntry.outcome == "ok")


def orders_placed():
    return (AuditEntry.action == "order.place", AuditEntry.outcome == "ok")


def refused():
    return (AuditEntry.outcome == "refused", AuditEntry.actor_user_id.is_not(None))


def day_of(dialect: str):
    """The entry's UTC day, as the database writes it."""
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", AuditEntry.at))
    return func.date(AuditEntry.at)  # SQLite keeps the UTC wall time as text


def json_text(dialect: str, key: str):
    """One key of the entry's detail (canonical JSON text), as text."""
    if dialect == "postgresql":
        return cast(AuditEntry.detail, JSONB)[key].astext
    return func.json_extract(AuditEntry.detail, f"$.{key}")


def channel_of(dialect: str):
    """'on behalf' when the order's detail says on_behalf true (or 1), else 'customer'."""
    flag = func.lower(cast(json_text(dialect, "on_behalf"), String))
    return case((flag.in_(["1", "true"]), "on behalf"), else_="customer")


def currency_of(dialect: str):
    return func.coalesce(json_text(dialect, "currency"), "")


def total_of(dialect: str):
    return cast(json_text(dialect, "total"), Numeric(18, 4))


def is_start_refusal():
    return case((AuditEntry.action == "obo.start", 1), else_=0)


def is_action_refusal():
    return case((AuditEntry.action == "obo.start", 0), else_=1)


def _dialect(portal: Session) -> str:
    return portal.get_bind().dialect.name


# -- the figures: roll-up rows of the period + entries after last_seq -----------------------------

def _after_rollup():
    """Conditions that keep the entries not rolled up yet (seq > last_seq), bounded below by the oldest
    of them so the live part reads an index range from there, not the whole period."""
    last = func.coalesce(select(SupervisorRollup.last_seq).where(SupervisorRollup.id == STATE_ID).scalar_subquery(), 0)
    # The oldest `at` after last_seq, read along the entries' numbers (a few thousand: today's): a plain
    # min(at) is planned on ix_audit_entries_at, which walks the whole rolled-up log before finding one.
    after = (select(AuditEntry.at.label("at")).where(AuditEntry.seq > last).order_by(AuditEntry.seq)
             .limit(2**62).subquery("after_rollup"))
    oldest = select(func.min(after.c.at)).scalar_subquery()
    return (AuditEntry.seq > last, AuditEntry.at >= oldest)


def _in_period(start: dt.datetime, end: dt.datetime):
    return (AuditEntry.at >= start, AuditEntry.at < end, *_after_rollup())


def sessions_per_day(portal: Session, date_from: dt.date, date_to: dt.date, start: dt.datetime,
                     end: dt.datetime) -> list:
    """(day, login, n): the sessions started per day and actor login, one statement."""
    d, day = SupervisorDayReps, day_of(_dialect(portal))
    rolled = select(d.day.label("day"), d.actor_login.label("login"), d.sessions.label("n")
                    ).where(d.day >= date_from, d.day <= date_to)
    live = (select(day.label("day"), AuditEntry.actor_login.label("login"), func.count().label("n"))
            .where(*session_starts(), *_in_period(start, end))
            .group_by(day, AuditEntry.actor_login))
    u = union_all(rolled, live).subquery("reps")
    return portal.execute(select(u.c.day, u.c.login, func.sum(u.c.n)).group_by(u.c.day, u.c.login)).all()


def sessions_rows(portal: Session, date_from: dt.date, date_to: dt.date, start: dt.datetime, end: dt.datetime):
    """A subquery of (day, login, an8, n): the sessions started, per day, actor login and account."""
    d, day = SupervisorDaySessions, day_of(_dialect(portal))
    rolled = select(d.day.label("day"), d.actor_login.label("login"), d.subject_an8.label("an8"),
                    d.sessions.label("n")).where(d.day >= date_from, d.day <= date_to)
    live = (select(day.label("day"), AuditEntry.actor_login.label("login"), AuditEntry.subject_an8.label("an8"),
                   func.count().label("n"))
            .where(*session_starts(), *_in_period(start, end))
            .group_by(day, AuditEntry.actor_login, AuditEntry.subject_an8))
    return union_all(rolled, live).subquery("sessions")


def orders_rows(portal: Session, date_from: dt.date, date_to: dt.date, start: dt.datetime, end: dt.datetime) -> list:
    """(channel, currency, count, amount as Decimal) per channel and currency, one statement."""
    name = _dialect(portal)
    o = SupervisorDayOrders
    channel, currency = channel_of(name), currency_of(name)
    rolled = select(o.channel.label("channel"), o.currency.label("currency"), o.orders.label("n"),
                    o.amount_e4.label("e4"), cast(null(), Numeric(18, 4)).label("amount")
                    ).where(o.day >= date_from, o.day <= date_to)
    live = (select(channel.label("channel"), currency.label("currency"), func.count().label("n"),
                   cast(literal(0), BigInteger).label("e4"), func.sum(total_of(name)).label("amount"))
            .where(*orders_placed(), *_in_period(start, end))
            .group_by(channel, currency))
    u = union_all(rolled, live).subquery("orders")
    rows = portal.execute(select(u.c.channel, u.c.currency, func.sum(u.c.n), func.sum(u.c.e4), func.sum(u.c.amount))
                          .group_by(u.c.channel, u.c.currency)).all()
    return [(ch, cur, int(n or 0), Decimal(int(e4 or 0)) / E4 + Decimal(str(amount or 0)))
            for ch, cur, n, e4, amount in rows]


def refusals_rows(portal: Session, date_from: dt.date, date_to: dt.date, start: dt.datetime, end: dt.datetime) -> list:
    """(actor user id, refused starts, refused actions), one statement."""
    r = SupervisorDayRefusals
    rolled = select(r.actor_user_id.label("uid"), r.refused_starts.label("s"), r.refused_actions.label("a")
                    ).where(r.day >= date_from, r.day <= date_to)
    live = (select(AuditEntry.actor_user_id.label("uid"), func.sum(is_start_refusal()).label("s"),
                   func.sum(is_action_refusal()).label("a"))
            .where(*refused(), *_in_period(start, end))
            .group_by(AuditEntry.actor_user_id))
    u = union_all(rolled, live).subquery("refusals")
    return [(uid, int(s or 0), int(a or 0)) for uid, s, a in
            portal.execute(select(u.c.uid, func.sum(u.c.s), func.sum(u.c.a)).group_by(u.c.uid)).all()]


# -- keeping it --------------------------------------------------------------------------------

def last_seq(portal: Session) -> int:
    return portal.scalar(select(SupervisorRollup.last_seq).where(SupervisorRollup.id == STATE_ID)) or 0


def catch_up(portal: Session, *, now: dt.datetime | None = None, batch: int = BATCH,
             max_batches: int | None = None) -> int:
    """Roll up the entries after last_seq that precede today's start (UTC of now); how many entries
    were rolled up. Commits once per batch; several processes at once roll each entry up once (the
    state row is locked for each batch, and its last_seq moves only forward)."""
    now = as_utc(now or utcnow()).astimezone(dt.UTC)
    cut = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)  # today's start: today is counted live
    _ensure_state(portal)
    # The newest entry before today's start, found walking back from the newest entry (today's are few):
    # every entry up to it is rolled up (one of today's among them, written before it, goes to its own day).
    newest = portal.scalar(select(AuditEntry.seq).where(AuditEntry.seq > last_seq(portal), AuditEntry.at < cut)
                           .order_by(AuditEntry.seq.desc()).limit(1))
    portal.commit()
    done = batches = 0
    while newest is not None and (max_batches is None or batches < max_batches):
        # Lock the state row first (PostgreSQL: the row lock; SQLite: the write lock, BEGIN IMMEDIATE),
        # then read it: another process's batch has committed before.
        portal.execute(update(SupervisorRollup).where(SupervisorRollup.id == STATE_ID)
                       .values(last_seq=SupervisorRollup.last_seq))
        first = last_seq(portal)
        if first >= newest:
            portal.commit()
            break
        upto = min(first + batch, newest)
        _roll(portal, first, upto)
        portal.execute(update(SupervisorRollup).where(SupervisorRollup.id == STATE_ID)
                       .values(last_seq=upto, rolled_at=now))
        portal.commit()
        done += upto - first
        batches += 1
    return done


def _ensure_state(portal: Session) -> None:
    if portal.get(SupervisorRollup, STATE_ID) is not None:
        portal.commit()
        return
    try:
        with portal.begin_nested():
            portal.add(SupervisorRollup(id=STATE_ID, last_seq=0))
        portal.commit()
    except IntegrityError:  # another process made it first
        portal.rollback()


def _roll(portal: Session, first: int, upto: int) -> None:
    """Add the figures of the entries first+1..upto to their days."""
    name = _dialect(portal)
    day = day_of(name)
    span = (AuditEntry.seq > first, AuditEntry.seq <= upto)

    rows = portal.execute(select(day, AuditEntry.actor_login, AuditEntry.subject_an8, func.count())
                          .where(*span, *session_starts())
                          .group_by(day, AuditEntry.actor_login, AuditEntry.subject_an8)).all()
    _merge(portal, SupervisorDaySessions, ("actor_login", "subject_an8"), ("sessions",),
           {(_as_date(d), login, an8): (n,) for d, login, an8, n in rows})
    per_rep: dict[tuple, list[int]] = {}
    for d, login, _, n in rows:
        per_rep.setdefault((_as_date(d), login), [0])[0] += n
    _merge(portal, SupervisorDayReps, ("actor_login",), ("sessions",), {k: tuple(v) for k, v in per_rep.items()})

    channel, currency = channel_of(name), currency_of(name)
    rows = portal.execute(select(day, channel, currency, func.count(), func.sum(total_of(name)))
                          .where(*span, *orders_placed()).group_by(day, channel, currency)).all()
    _merge(portal, SupervisorDayOrders, ("channel", "currency"), ("orders", "amount_e4"),
           {(_as_date(d), ch, cur): (n, int((Decimal(str(amount or 0)) * E4).to_integral_value()))
            for d, ch, cur, n, amount in rows})

    rows = portal.execute(select(day, AuditEntry.actor_user_id, func.sum(is_start_refusal()),
                                 func.sum(is_action_refusal()))
                          .where(*span, *refused()).group_by(day, AuditEntry.actor_user_id)).all()
    _merge(portal, SupervisorDayRefusals, ("actor_user_id",), ("refused_starts", "refused_actions"),
           {(_as_date(d), uid): (int(s), int(a)) for d, uid, s, a in rows})


def _merge(portal: Session, table, keys: tuple[str, ...], values: tuple[str, ...], delta: dict) -> None:
    """Add delta ({(day, *keys): (*values)}) to the table's rows: existing rows updated, new ones inserted."""
    if not delta:
        return
    days = sorted({k[0] for k in delta})
    cols = [table.id, table.day, *(getattr(table, k) for k in keys), *(getattr(table, v) for v in values)]
    existing = {tuple(row[1:2 + len(keys)]): row for row in portal.execute(select(*cols).where(in_values(table.day, days)))}
    updates, inserts = [], []
    for key, add in delta.items():
        row = existing.get(key)
        if row is None:
            inserts.append({"day": key[0], **dict(zip(keys, key[1:], strict=True)), **dict(zip(values, add, strict=True))})
        else:
            old = row[2 + len(keys):]
            updates.append({"id": row[0], **{v: o + a for v, o, a in zip(values, old, add, strict=True)}})
    if inserts:
        portal.execute(table.__table__.insert(), inserts)
    if updates:
        portal.execute(update(table), updates)  # executemany by primary key


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])

