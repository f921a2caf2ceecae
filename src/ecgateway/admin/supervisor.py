"""The supervisor's view: who acts for whom now, activity over a period, alerts, one account's reps.

Every figure is one statement: the period's rows of the daily roll-up (admin/rollup.py, kept by
the relay loop) plus the entries not rolled up yet (today's) counted live from the audit table
(indexes of migration 0050_supervisor), so it equals what counting the entries by hand gives;
figures_direct counts the same from the audit entries alone. Nothing here writes an audit entry
except ending a session. Reps are told from other actors by their user type (auth.roles.is_rep).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecgateway.admin import rollup
from ecgateway.admin.models import SupervisorAlert
from ecgateway.admin.users import AdminError, NotFound
from ecgateway.audit import record
from ecgateway.audit.actions import words
from ecgateway.audit.models import AuditEntry
from ecgateway.auth import sessions
from ecgateway.auth.models import AuthSession
from ecgateway.auth.roles import ADMIN, is_rep
from ecgateway.clock import as_utc, utcnow
from ecgateway.config import Settings
from ecgateway.db import in_values
from ecgateway.mail import MailAddressInvalid, enqueue
from ecgateway.obo.context import ActingContext, Actor
from ecgateway.portal.models import User

_log = logging.getLogger(__name__)

SESSION_STARTS = rollup.SESSION_STARTS  # each begins acting for one account
MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 14
TOP_ACCOUNTS = 10
ALERT_WINDOW = dt.timedelta(hours=1)
REASON_MAX = 300
ACCOUNT_ENTRIES = 500  # the newest entries of one account shown (its whole history stays in the log)


# -- live sessions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LiveSession:
    id: int  # auth_sessions.id: a row number, not the session's secret
    rep_id: int
    rep_login: str
    rep_name: str
    account: int
    since: dt.datetime
    last_seen: dt.datetime
    reason: str | None  # the rep's reason or ticket for this session, when given
    last_action: str | None  # the words of the rep's latest entry for this account
    last_action_at: dt.datetime | None


def live_sessions(portal: Session, *, settings: Settings, now: dt.datetime | None = None) -> list[LiveSession]:
    """Every on-behalf-of session still within its timeouts, longest-running first."""
    now = now or utcnow()
    rows = portal.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.obo_an8.is_not(None), User.active.is_(True),
               AuthSession.last_seen_at >= now - dt.timedelta(minutes=settings.session_idle_minutes),
               AuthSession.created_at >= now - dt.timedelta(minutes=settings.session_absolute_minutes))
        .order_by(AuthSession.obo_started_at, AuthSession.id)
    ).all()
    rows = [(row, user) for row, user in rows if is_rep(user)]
    last = _last_actions(portal, rows)
    out = []
    for row, user in rows:
        since = as_utc(row.obo_started_at or row.rotated_at)
        entry = last.get(row.id)
        out.append(LiveSession(
            id=row.id, rep_id=user.id, rep_login=user.login, rep_name=user.name, account=row.obo_an8, since=since,
            last_seen=as_utc(row.last_seen_at), reason=session_reason(row),
            last_action=_words(entry) if entry is not None else None,
            last_action_at=as_utc(entry.at) if entry is not None else None,
        ))
    return out


def _last_actions(portal: Session, sessions_: list[tuple[AuthSession, User]]) -> dict[int, AuditEntry]:
    """The latest entry of each live session (by the rep, for its account, since the entry that opened
    it): one short walk back along the rep's entries (index actor_user_id, seq) per session, all of
    them in one statement."""
    if not sessions_:
        return {}
    walks = []
    for row, user in sessions_:
        walk = select(AuditEntry.seq).where(AuditEntry.actor_user_id == user.id, AuditEntry.subject_an8 == row.obo_an8)
        if row.obo_start_seq is not None:
            walk = walk.where(AuditEntry.seq >= row.obo_start_seq)
        else:  # a session opened before sessions kept their first entry: bounded by its start time
            walk = walk.where(AuditEntry.at >= as_utc(row.obo_started_at or row.rotated_at))
        walks.append(walk.order_by(AuditEntry.seq.desc()).limit(1).scalar_subquery())
    found = []
    for i in range(0, len(walks), 200):  # one statement of scalar subqueries per 200 sessions
        found += list(portal.execute(select(*walks[i:i + 200])).one())
    seqs = {row.id: seq for (row, _), seq in zip(sessions_, found, strict=True) if seq is not None}
    if not seqs:
        return {}
    entries = {e.seq: e for e in portal.scalars(select(AuditEntry).where(in_values(AuditEntry.seq, sorted(set(seqs.values())))))}
    return {sid: entries[seq] for sid, seq in seqs.items() if seq in entries}


def session_reason(row: AuthSession) -> str | None:
    """The reason or ticket the rep gave when starting this session (ECGW_OBO_REASON), if any."""
    return row.obo_reason or None


def end_session(portal: Session, *, ctx: ActingContext, session_id: int, reason: str) -> LiveSession:
    """An admin ends a rep's running on-behalf-of session: the rep's next request shows why.

    The rep stays signed in as themself (their cart is kept); two entries: obo.end as the rep's
    session ending (every end is one), admin.obo_end for the admin who ended it.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise AdminError("Give the reason the representative will read, e.g. 'wrong account' or a ticket number.",
                         field="reason", status=422)
    if len(reason) > REASON_MAX:
        raise AdminError(f"The reason is {len(reason)} characters; keep it under {REASON_MAX}.", field="reason",
                         status=422)
    row = portal.get(AuthSession, session_id)
    user = portal.get(User, row.user_id) if row is not None else None
    if row is None or row.obo_an8 is None or user is None:
        raise NotFound(f"Session {session_id} is not acting on behalf of anyone now: it has ended already. "
                       "The list of live sessions shows the ones still running.")
    an8, started = row.obo_an8, as_utc(row.obo_started_at or row.rotated_at)
    live = LiveSession(id=row.id, rep_id=user.id, rep_login=user.login, rep_name=user.name, account=an8,
                       since=started, last_seen=as_utc(row.last_seen_at), reason=session_reason(row),
                       last_action=None, last_action_at=None)
    end_reason = f"ended by administrator {ctx.actor.login}: {reason}"
    end_detail = sessions.obo_end_detail(row, end_reason)  # with the rep's reason and the session's start
    for column in AuthSession.__table__.columns:  # every on-behalf-of column, as obo.service._clear does
        if column.name.startswith("obo_") or column.name in ("billing_an8", "shipping_an8"):
            setattr(row, column.key, None)
    row.notice = (f"An administrator ({ctx.actor.login}) ended your on-behalf-of session for account {an8}: "
                  f"{reason}. You are signed in as yourself; your cart is kept.")
    record(portal, actor=Actor.of(user), subject_an8=an8, action="obo.end", object=f"account {an8}", outcome="ok",
           detail=end_detail)
    record(portal, actor=ctx.actor, subject_an8=an8, action="admin.obo_end", object=f"rep {user.login}",
           outcome="ok", detail={"rep_id": user.id, "reason": reason, "started_at": started.isoformat()})
    portal.flush()
    return live


# -- the period and its figures -----------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    date_from: dt.date  # UTC days, inclusive
    date_to: dt.date

    @property
    def start(self) -> dt.datetime:
        return _day_start(self.date_from)

    @property
    def end(self) -> dt.datetime:  # exclusive
        return _day_start(self.date_to + dt.timedelta(days=1))

    @property
    def days(self) -> list[dt.date]:
        return [self.date_from + dt.timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]

    def query_args(self) -> dict[str, str]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}


def period(date_from: str | None, date_to: str | None, *, today: dt.date | None = None) -> Period:
    """The period asked for (YYYY-MM-DD, UTC, inclusive); default the last 14 days to today."""
    today = today or utcnow().date()
    end = _parse_day(date_to, "date_to") or today
    start = _parse_day(date_from, "date_from") or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise AdminError(f"The period starts ({start}) after it ends ({end}); put the earlier date in From.",
                         field="date_from")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise AdminError(f"The period is {(end - start).days + 1} days; choose at most {MAX_PERIOD_DAYS}.",
                         field="date_from")
    return Period(start, end)


@dataclass(frozen=True)
class OrderFigure:
    channel: str  # "on behalf" (a rep placed it) or "customer"
    currency: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class RefusalFigure:
    rep_login: str
    refused_starts: int
    refused_actions: int


@dataclass(frozen=True)
class AccountFigure:
    account: int
    sessions: int
    reps: int


@dataclass
class Figures:
    period: Period
    sessions: dict[tuple[dt.date, str], int]  # (day, rep login) -> on-behalf sessions started
    orders: list[OrderFigure]
    refusals: list[RefusalFigure]
    accounts: list[AccountFigure]
    reps: list[str] = field(default_factory=list)  # reps with sessions, most sessions first

    def sessions_per_day(self) -> list[tuple[dt.date, dict[str, int]]]:
        return [(day, {rep: self.sessions.get((day, rep), 0) for rep in self.reps}) for day in self.period.days]

    def sessions_per_rep(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for (_, rep), n in self.sessions.items():
            totals[rep] += n
        return dict(totals)

    def as_json(self) -> dict:
        return {
            "date_from": self.period.date_from.isoformat(), "date_to": self.period.date_to.isoformat(),
            "sessions_per_day": [{"day": d.isoformat(), "rep": rep, "sessions": n}
                                 for (d, rep), n in sorted(self.sessions.items())],
            "orders": [{"channel": o.channel, "currency": o.currency, "count": o.count, "amount": str(o.amount)}
                       for o in self.orders],
            "refusals": [{"rep": r.rep_login, "refused_starts": r.refused_starts,
                          "refused_actions": r.refused_actions} for r in self.refusals],
            "accounts": [{"account": a.account, "sessions": a.sessions, "reps": a.reps} for a in self.accounts],
        }


def figures(portal: Session, *, within: Period) -> Figures:
    """The period's figures: each one statement over the daily roll-up and the entries after it."""
    bounds = (within.date_from, within.date_to, within.start, within.end)
    sessions = {(_as_date(d), login): int(n) for d, login, n in rollup.sessions_per_day(portal, *bounds)}
    u = rollup.sessions_rows(portal, *bounds)
    n = func.sum(u.c.n)
    accounts = [AccountFigure(an8, int(k), reps) for an8, k, reps in portal.execute(
        select(u.c.an8, n, func.count(u.c.login.distinct())).where(u.c.an8.is_not(None))
        .group_by(u.c.an8).order_by(n.desc(), u.c.an8).limit(TOP_ACCOUNTS)).all()]
    return _figures(within, sessions, _order_figures(rollup.orders_rows(portal, *bounds)),
                    _refusal_figures(portal, rollup.refusals_rows(portal, *bounds)), accounts)


def figures_direct(portal: Session, *, within: Period) -> Figures:
    """The same figures counted from the audit entries alone (no roll-up): what figures() must equal."""
    return _figures(within, _sessions_per_day(portal, within), _orders(portal, within), _refusals(portal, within),
                    _accounts(portal, within))


def _figures(within: Period, sessions, orders, refusals, accounts) -> Figures:
    totals: dict[str, int] = defaultdict(int)
    for (_, rep), n in sessions.items():
        totals[rep] += n
    return Figures(period=within, sessions=sessions, orders=orders, refusals=refusals, accounts=accounts,
                   reps=sorted(totals, key=lambda r: (-totals[r], r)))


# Each figure's CSV: the same numbers as its table, one header row.
FIGURE_NAMES = ("sessions", "orders", "refusals", "accounts")


def figure_rows(figs: Figures, name: str) -> tuple[list[str], list[list]]:
    """Header and rows of one figure, for its CSV (the same numbers as the page's table)."""
    if name == "sessions":
        return ["day_utc", "rep", "sessions"], [[d.isoformat(), rep, n] for d, per in figs.sessions_per_day()
                                                for rep, n in per.items()]
    if name == "orders":
        return ["placed_by", "currency", "orders", "amount"], [[o.channel, o.currency, o.count, str(o.amount)]
                                                                for o in figs.orders]
    if name == "refusals":
        return ["rep", "refused_starts", "refused_actions"], [[r.rep_login, r.refused_starts, r.refused_actions]
                                                               for r in figs.refusals]
    if name == "accounts":
        return ["account", "sessions", "reps"], [[a.account, a.sessions, a.reps] for a in figs.accounts]
    raise NotFound(f"There is no figure {name!r}; the figures are {', '.join(FIGURE_NAMES)}.")


# -- alerts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Alert:
    rep_id: int
    rep_login: str
    refusals: int  # refused attempts in the hour before now
    threshold: int
    first_at: dt.datetime
    last_at: dt.datetime
    first_seq: int
    last_seq: int


def current_alerts(portal: Session, *, settings: Settings, now: dt.datetime | None = None) -> list[Alert]:
    """Reps whose refused attempts in the last hour reached the threshold (at it fires, below it not)."""
    now = now or utcnow()
    threshold = settings.supervisor_alert_refusals
    rows = portal.execute(
        select(AuditEntry.actor_user_id, func.count(), func.min(AuditEntry.at), func.max(AuditEntry.at),
               func.min(AuditEntry.seq), func.max(AuditEntry.seq))
        .where(AuditEntry.outcome == "refused", AuditEntry.at > now - ALERT_WINDOW, AuditEntry.at <= now,
               AuditEntry.actor_user_id.is_not(None))
        .group_by(AuditEntry.actor_user_id)
        .having(func.count() >= threshold)
    ).all()
    reps = _users(portal, [r[0] for r in rows])
    alerts = [Alert(rep_id=uid, rep_login=reps[uid].login, refusals=n, threshold=threshold, first_at=as_utc(first),
                    last_at=as_utc(last), first_seq=s1, last_seq=s2)
              for uid, n, first, last, s1, s2 in rows if uid in reps and is_rep(reps[uid])]
    return sorted(alerts, key=lambda a: (-a.refusals, a.rep_login))


def raise_alerts(portal: Session, *, settings: Settings, now: dt.datetime | None = None,
                 on_new: Callable[[Alert], bool] | None = None) -> list[Alert]:
    """The current alerts; each crossing not raised before is stored (and on_new(alert) called once,
    e.g. to e-mail the admins). A rep alerted within the last hour is not raised again."""
    now = now or utcnow()
    alerts = current_alerts(portal, settings=settings, now=now)
    for alert in alerts:
        recent = portal.scalar(select(func.count()).select_from(SupervisorAlert).where(
            SupervisorAlert.rep_id == alert.rep_id, SupervisorAlert.last_seq >= alert.first_seq))
        if recent:
            continue
        stored = SupervisorAlert(rep_id=alert.rep_id, rep_login=alert.rep_login, refusals=alert.refusals,
                                 threshold=alert.threshold, first_seq=alert.first_seq, last_seq=alert.last_seq,
                                 first_at=alert.first_at, raised_at=now)
        try:
            with portal.begin_nested():  # another process raising the same crossing at once: theirs stands
                portal.add(stored)
        except IntegrityError:
            continue
        if on_new is not None and on_new(alert):
            stored.emailed_at = now
    return alerts


def email_admins(portal: Session, *, settings: Settings) -> Callable[[Alert], bool]:
    """What raise_alerts calls for a new alert: one e-mail per active admin with an address, through
    the e-mail outbox in the caller's transaction (sent after the commit). True when any was queued."""

    def send(alert: Alert) -> bool:
        admins = portal.scalars(select(User).where(User.user_type == ADMIN, User.active.is_(True),
                                                   User.email != "")).all()
        base = (settings.public_url or "http://127.0.0.1:8000").rstrip("/")
        queued = False
        for admin in admins:
            try:
                enqueue(portal, admin.email, "supervisor_alert", {
                    "name": admin.name or admin.login, "rep": alert.rep_login, "refusals": alert.refusals,
                    "threshold": alert.threshold, "since": alert.first_at.strftime("%Y-%m-%d %H:%M UTC"),
                    "until": alert.last_at.strftime("%H:%M UTC"), "entries": base + alert_link(alert),
                    "view": base + "/admin/supervisor"}, settings=settings)
                queued = True
            except MailAddressInvalid:
                continue  # an admin whose address the outbox refuses: the others still hear of it
        return queued

    return send


class AlertWatcher:
    """Raises alerts (and e-mails them) every ECGW_SUPERVISOR_ALERT_CHECK_SECONDS inside each gateway
    process, so an alert goes out with nobody looking at the view. Two processes raising the same
    crossing at once are kept to one alert by the unique (rep_id, first_seq) of ec_supervisor_alerts."""

    def __init__(self, *, sessions: Callable[[], Session], settings: Settings):
        self.sessions, self.settings = sessions, settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[Alert]:
        with self.sessions() as portal:
            try:
                alerts = raise_alerts(portal, settings=self.settings, on_new=email_admins(portal, settings=self.settings))
                portal.commit()
            except IntegrityError:
                portal.rollback()  # another process raised it first
                return []
            return alerts

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="supervisor-alerts", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.supervisor_alert_check_seconds):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the watcher; logged, tried again
                _log.exception("supervisor alert check failed; trying again in %s s",
                               self.settings.supervisor_alert_check_seconds)


def alert_link(alert: Alert) -> str:
    """The transaction log showing the rep's refused entries of that day (UTC)."""
    return (f"/admin/audit?rep={alert.rep_login}&outcome=refused&date_from={alert.first_at.date().isoformat()}"
            f"&date_to={alert.last_at.date().isoformat()}&sort=date&direction=desc")


# -- one account, seen from the admin side --------------------------------------------------------

@dataclass
class ServedSession:
    rep_login: str
    rep_name: str
    started_at: dt.datetime | None  # None: the account's newest entries begin inside this session
    ended_at: dt.datetime | None = None
    end_reason: str | None = None
    reason: str | None = None
    actions: list[tuple[dt.datetime, str, str, str]] = field(default_factory=list)  # at, action, outcome, words


@dataclass
class AccountHistory:
    account: int
    sessions: list[ServedSession]  # newest first
    reps: list[tuple[str, str, int, dt.datetime, dt.datetime]]  # login, name, sessions, first, last
    truncated: bool  # more entries than ACCOUNT_ENTRIES: the oldest are in the transaction log


def account_history(portal: Session, *, account: int, limit: int = ACCOUNT_ENTRIES) -> AccountHistory:
    """Which reps served the account, when, and what they did: its entries written by reps, by session."""
    rows = list(portal.scalars(select(AuditEntry).where(AuditEntry.subject_an8 == account)
                               .order_by(AuditEntry.seq.desc()).limit(limit + 1)))
    truncated = len(rows) > limit
    rows = list(reversed(rows[:limit]))
    users = _users(portal, {r.actor_user_id for r in rows if r.actor_user_id is not None})
    open_by_rep: dict[int, ServedSession] = {}
    sessions: list[ServedSession] = []
    for entry in rows:
        user = users.get(entry.actor_user_id)
        if user is None or not is_rep(user):
            continue
        detail = _detail(entry)
        at = as_utc(entry.at)
        if entry.action in SESSION_STARTS and entry.outcome == "ok":
            current = ServedSession(user.login, user.name, at, reason=detail.get("session_reason")
                                    or detail.get("obo_reason"))
            open_by_rep[user.id] = current
            sessions.append(current)
        current = open_by_rep.get(user.id)
        if current is None:
            current = ServedSession(user.login, user.name, None)
            open_by_rep[user.id] = current
            sessions.append(current)
        current.actions.append((at, entry.action, entry.outcome, _words(entry)))
        if entry.action == "obo.end":
            current.ended_at, current.end_reason = at, detail.get("reason")
            open_by_rep.pop(user.id, None)
    reps: dict[str, list] = {}
    for s in sessions:
        first = s.started_at or s.actions[0][0]
        last = s.ended_at or s.actions[-1][0]
        if s.rep_login not in reps:
            reps[s.rep_login] = [s.rep_login, s.rep_name, 0, first, last]
        rep = reps[s.rep_login]
        rep[2] += 1 if s.started_at is not None else 0
        rep[3], rep[4] = min(rep[3], first), max(rep[4], last)
    return AccountHistory(account=account, sessions=list(reversed(sessions)),
                          reps=sorted((tuple(r) for r in reps.values()), key=lambda r: r[4], reverse=True),
                          truncated=truncated)


# -- helpers -----------------------------------------------------------------------------------

def _sessions_per_day(portal: Session, within: Period) -> dict[tuple[dt.date, str], int]:
    day = rollup.day_of(_dialect(portal))
    rows = portal.execute(
        select(day, AuditEntry.actor_login, func.count())
        .where(*rollup.session_starts(), AuditEntry.at >= within.start, AuditEntry.at < within.end)
        .group_by(day, AuditEntry.actor_login)
    ).all()
    return {(_as_date(d), login): n for d, login, n in rows}


def _orders(portal: Session, within: Period) -> list[OrderFigure]:
    name = _dialect(portal)
    channel, currency = rollup.channel_of(name), rollup.currency_of(name)
    rows = portal.execute(
        select(channel, currency, func.count(), func.sum(rollup.total_of(name)))
        .where(*rollup.orders_placed(), AuditEntry.at >= within.start, AuditEntry.at < within.end)
        .group_by(channel, currency)
    ).all()
    return _order_figures([(ch, cur, n, Decimal(str(amount or 0))) for ch, cur, n, amount in rows])


def _order_figures(rows) -> list[OrderFigure]:
    """(channel, currency, count, amount) rows, each (channel, currency) once, on behalf first."""
    merged: dict[tuple[str, str], list] = {}
    for ch, cur, n, amount in rows:
        slot = merged.setdefault((ch, cur or ""), [0, Decimal(0)])
        slot[0] += n
        slot[1] += amount
    return [OrderFigure(ch, cur, n, amt.quantize(Decimal("0.01")))
            for (ch, cur), (n, amt) in sorted(merged.items(), key=lambda kv: (kv[0][0] != "on behalf", kv[0][1]))]


def _refusals(portal: Session, within: Period) -> list[RefusalFigure]:
    rows = portal.execute(
        select(AuditEntry.actor_user_id, func.sum(rollup.is_start_refusal()), func.sum(rollup.is_action_refusal()))
        .where(*rollup.refused(), AuditEntry.at >= within.start, AuditEntry.at < within.end)
        .group_by(AuditEntry.actor_user_id)
    ).all()
    return _refusal_figures(portal, rows)


def _refusal_figures(portal: Session, rows) -> list[RefusalFigure]:
    """(user id, refused starts, refused actions) rows: the reps' (other actors left out), most first."""
    users = _users(portal, {r[0] for r in rows})
    per: dict[str, list[int]] = {}
    for uid, starts, actions in rows:
        user = users.get(uid)
        if user is None or not is_rep(user):
            continue
        slot = per.setdefault(user.login, [0, 0])
        slot[0] += int(starts or 0)
        slot[1] += int(actions or 0)
    return sorted((RefusalFigure(login, s, a) for login, (s, a) in per.items()),
                  key=lambda r: (-(r.refused_starts + r.refused_actions), r.rep_login))


def _accounts(portal: Session, within: Period) -> list[AccountFigure]:
    n = func.count()
    rows = portal.execute(
        select(AuditEntry.subject_an8, n, func.count(AuditEntry.actor_login.distinct()))
        .where(*rollup.session_starts(), AuditEntry.at >= within.start, AuditEntry.at < within.end,
               AuditEntry.subject_an8.is_not(None))
        .group_by(AuditEntry.subject_an8)
        .order_by(n.desc(), AuditEntry.subject_an8)
        .limit(TOP_ACCOUNTS)
    ).all()
    return [AccountFigure(an8, sessions, reps) for an8, sessions, reps in rows]


def _dialect(portal: Session) -> str:
    return portal.get_bind().dialect.name


def _users(portal: Session, ids: Iterable[int | None]) -> Mapping[int, User]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {u.id: u for u in portal.scalars(select(User).where(in_values(User.id, wanted)))}


def _words(entry: AuditEntry) -> str:
    return words(entry.action, entry.outcome, rep=entry.actor_login or "", account=entry.subject_an8,
                 obj=entry.object or "", detail=_detail(entry))


def _detail(entry: AuditEntry) -> dict:
    try:
        value = json.loads(entry.detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _parse_day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise AdminError(f"{name} {value[:20]!r} is not a date; write it as YYYY-MM-DD.", field=name) from None


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
