"""The supervisor's daily roll-up (issue 18, part 5): the figures read from it (plus the entries not rolled
up yet, counted live) equal the figures counted from the audit entries directly, and counted by hand, as
new entries arrive, when one arrives late for a day already rolled up, and across a day boundary; a period
read from the roll-up alone agrees with the same period counted live. Real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from admin.test_supervisor import _by_hand, _write, write_generated
from ecgateway.admin import rollup
from ecgateway.admin import supervisor as sv
from ecgateway.admin.models import (
    SupervisorDayOrders,
    SupervisorDayRefusals,
    SupervisorDayReps,
    SupervisorDaySessions,
    SupervisorRollup,
)
from ecgateway.audit import verify
from ecgateway.audit.models import AuditEntry

DAY0 = dt.datetime(2032, 5, 10, tzinfo=dt.UTC)  # days no other test of the module writes on
DAYS = 5
PERIOD = sv.Period(DAY0.date(), (DAY0 + dt.timedelta(days=DAYS - 1)).date())


def _activity(gw, rng: random.Random, n: int, first_day: int, days: int) -> None:
    """n entries of every kind the figures count, at random times of the given days, written in time order
    (as the gateway writes them; a late entry is written by the test itself)."""
    cust = gw.user("cust1")
    times = sorted(DAY0 + dt.timedelta(days=first_day, minutes=rng.randrange(days * 24 * 60), seconds=rng.randrange(60))
                   for _ in range(n))
    for i, at in enumerate(times):
        kind = rng.choice(["start", "change", "refused_start", "refused_cart", "order_rep", "order_customer",
                           "order_refused", "cart"])
        write_generated(gw, rng, at, kind, name=f"order {i}", accounts=gw.accounts[:8], customer=cust)


def _same(a: sv.Figures, b: sv.Figures) -> bool:
    return (a.sessions, a.orders, a.refusals, a.accounts, a.reps) == (b.sessions, b.orders, b.refusals, b.accounts,
                                                                      b.reps)


def _check(gw, within: sv.Period = PERIOD) -> sv.Figures:
    """The figures (roll-up + live) equal the direct count and the count by hand, for the period and each day."""
    with gw.portal() as db:
        figs, direct = sv.figures(db, within=within), sv.figures_direct(db, within=within)
        days = [(sv.figures(db, within=sv.Period(d, d)), sv.figures_direct(db, within=sv.Period(d, d)))
                for d in within.days]
    assert _same(figs, direct), (figs, direct)
    for rolled, counted in days:
        assert _same(rolled, counted), (rolled.period, rolled, counted)
    expected = _by_hand(gw, within)
    assert figs.sessions == expected["sessions"]
    assert {(o.channel, o.currency): (o.count, o.amount) for o in figs.orders} == expected["orders"]
    assert {r.rep_login: (r.refused_starts, r.refused_actions) for r in figs.refusals} == expected["refusals"]
    assert [(a.account, a.sessions, a.reps) for a in figs.accounts] == expected["accounts"]
    return figs


def _state(gw) -> tuple[int, int]:
    """(last rolled-up entry, entries after it)."""
    with gw.portal() as db:
        last = rollup.last_seq(db)
        return last, db.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.seq > last))


def _catch_up(gw, now: dt.datetime, **kwargs) -> int:
    with gw.portal() as db:
        return rollup.catch_up(db, now=now, **kwargs)


def test_the_roll_up_equals_the_direct_count_as_entries_arrive_and_across_a_day_boundary(gw):
    rng = random.Random(1818)
    _activity(gw, rng, 160, 0, 4)  # days 0-3
    figs = _check(gw)  # nothing rolled up yet: every entry counted live
    assert sum(figs.sessions.values()) > 20 and figs.orders and figs.refusals

    # "Today" is day 3: the days before it are rolled up, in batches of 17 entries (rows of a day met again
    # in a later batch are added to); day 3 stays live.
    today = DAY0 + dt.timedelta(days=3, hours=12)
    assert _catch_up(gw, today, batch=17) > 0
    with gw.portal() as db:
        rolled_days = set(db.scalars(sa.select(SupervisorDayReps.day)))
        assert {(DAY0 + dt.timedelta(days=d)).date() for d in range(3)} <= rolled_days
        assert db.scalar(sa.select(sa.func.count()).select_from(SupervisorDayOrders)) > 0
        assert db.scalar(sa.select(sa.func.count()).select_from(SupervisorDayRefusals)) > 0
        live_today = db.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.seq > rollup.last_seq(db), AuditEntry.at >= today.replace(hour=0)))
    assert live_today > 0  # today's entries were not rolled up
    _check(gw)
    assert _catch_up(gw, today) == 0  # nothing new before today: a second run adds nothing

    # New entries arrive: two late for a day already rolled up (numbered after last_seq), then today's
    _write(gw, DAY0 + dt.timedelta(days=1, hours=23, minutes=59), "sales1", "obo.start", "ok", gw.accounts[3],
           {"billing_an8": gw.accounts[3]})
    _write(gw, DAY0 + dt.timedelta(days=1, hours=22), "cust1", "order.place", "ok", gw.user("cust1").account_an8,
           {"on_behalf": False, "total": "12.34", "currency": "USD", "lines": 1}, obj="order late")
    _activity(gw, rng, 30, 3, 1)
    _check(gw)  # the late ones counted live
    # Rolled up through the late entries (with the entries of today written before them: each to its own
    # day); the 30 written after them stay live.
    assert _catch_up(gw, today) >= 2
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.sum(SupervisorDayOrders.orders)).where(
            SupervisorDayOrders.day == (DAY0 + dt.timedelta(days=1)).date())) > 0
    assert _state(gw)[1] == 30
    _check(gw)

    # Across the day boundary: day 3 ends, day 4 begins; entries of day 4 arrive.
    tomorrow = DAY0 + dt.timedelta(days=4, seconds=1)
    _activity(gw, rng, 30, 4, 1)
    assert _catch_up(gw, tomorrow) > 0
    with gw.portal() as db:
        assert (DAY0 + dt.timedelta(days=3)).date() in set(db.scalars(sa.select(SupervisorDayReps.day)))
    last, after = _state(gw)
    assert after > 0  # day 4's entries, counted live
    _check(gw)
    with gw.portal() as db:  # what stays live is day 4's
        assert db.scalar(sa.select(sa.func.min(AuditEntry.at)).where(AuditEntry.seq > last)) >= tomorrow.replace(second=0)

    # The page, the JSON API and a CSV read the same figures.
    args = {"date_from": PERIOD.date_from.isoformat(), "date_to": PERIOD.date_to.isoformat()}
    with gw.portal() as db:
        direct = sv.figures_direct(db, within=PERIOD)
    admin = gw.client("admin1")
    body = admin.get("/api/v1/admin/supervisor/figures", params=args).json()
    assert sum(r["sessions"] for r in body["sessions_per_day"]) == sum(direct.sessions.values())
    assert [(a["account"], a["sessions"], a["reps"]) for a in body["accounts"]] == \
        [(a.account, a.sessions, a.reps) for a in direct.accounts]
    assert admin.get("/admin/supervisor", params=args).status_code == 200


def test_a_rolled_up_period_agrees_with_the_same_period_counted_live(gw):
    """Days 0-3 wholly rolled up (no entry of theirs left after last_seq) against the same days with the
    roll-up emptied (every entry counted live): the same figures, both equal to the count by hand."""
    _catch_up(gw, DAY0 + dt.timedelta(days=30))
    within = sv.Period(DAY0.date(), (DAY0 + dt.timedelta(days=3)).date())
    with gw.portal() as db:
        last = rollup.last_seq(db)
        assert not db.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.seq > last, AuditEntry.at >= within.start, AuditEntry.at < within.end))
        rolled = sv.figures(db, within=within)
    assert sum(rolled.sessions.values()) > 20
    expected = _check(gw, within)
    with gw.portal() as db:  # empty the roll-up: every entry is counted live
        for table in (SupervisorDaySessions, SupervisorDayReps, SupervisorDayOrders, SupervisorDayRefusals):
            db.execute(sa.delete(table))
        db.execute(sa.update(SupervisorRollup).values(last_seq=0))
        db.commit()
        live = sv.figures(db, within=within)
    assert _same(rolled, live) and _same(live, expected)
    assert _catch_up(gw, DAY0 + dt.timedelta(days=30), batch=1000) > 0  # rebuilt from the log: the same again
    with gw.portal() as db:
        assert _same(sv.figures(db, within=within), rolled)


def test_the_relay_loop_keeps_the_roll_up(gw):
    """The chore the app gives its relay loop rolls up the days before today (the real today)."""
    relay = gw.app.state.relay
    chore = next(c for c in relay.chores if c.name == "supervisor roll-up")
    assert chore.every == gw.settings.supervisor_rollup_seconds > 0
    _write(gw, dt.datetime(2020, 1, 2, 10, tzinfo=dt.UTC), "cs1", "obo.start", "ok", gw.accounts[1],
           {"billing_an8": gw.accounts[1]})  # an entry of long ago, not rolled up yet
    with gw.portal() as db:
        db.execute(sa.update(SupervisorRollup).values(last_seq=0))  # and every day to roll up again
        for table in (SupervisorDaySessions, SupervisorDayReps, SupervisorDayOrders, SupervisorDayRefusals):
            db.execute(sa.delete(table))
        db.commit()
    chore.due = 0.0
    relay.run_chores()
    last, _ = _state(gw)
    with gw.portal() as db:
        newest_before_today = db.scalar(sa.select(sa.func.max(AuditEntry.seq)).where(
            AuditEntry.at < dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)))
        day = dt.date(2020, 1, 2)
        assert db.scalar(sa.select(sa.func.sum(SupervisorDayReps.sessions)).where(SupervisorDayReps.day == day)) == 1
    assert last >= newest_before_today
    _check(gw, sv.Period(dt.date(2020, 1, 1), dt.date(2020, 1, 3)))


@pytest.mark.parametrize("batch", [7, 50])
def test_two_runs_at_once_roll_each_entry_up_once(gw, batch):
    """Two processes' chores at once (two sessions, interleaved batch by batch): each entry is added once."""
    with gw.portal() as db:
        db.execute(sa.update(SupervisorRollup).values(last_seq=0))
        for table in (SupervisorDaySessions, SupervisorDayReps, SupervisorDayOrders, SupervisorDayRefusals):
            db.execute(sa.delete(table))
        db.commit()
    later = DAY0 + dt.timedelta(days=30)
    with gw.portal() as one, gw.portal() as two:
        while rollup.catch_up(one, now=later, batch=batch, max_batches=1) + \
                rollup.catch_up(two, now=later, batch=batch, max_batches=1):
            pass
    _check(gw)


def test_the_chain_is_intact_after_it_all(gw):
    with gw.portal() as db:
        assert verify(db).ok
