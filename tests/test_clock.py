"""The one clock: freezing it freezes every "now" the gateway writes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ecgateway import clock
from ecgateway.audit import record
from ecgateway.auth.roles import is_rep, is_staff
from ecgateway.jde.conventions import date_to_julian, today_julian
from ecgateway.obo.context import Actor


def test_frozen_clock_is_what_audit_and_jde_today_read(tmp_path):
    from ecgateway.db import make_engine
    from ecgateway.portal.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    at = dt.datetime(2031, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    with clock.frozen(at), Session(engine) as s:
        assert clock.utcnow() == at
        assert today_julian() == date_to_julian(at.date())
        entry = record(s, actor=None, subject_an8=None, action="auth.sign_in", object="login x", outcome="refused",
                       detail={"reason": "unknown login", "ip": "127.0.0.1", "user_id": None})
        assert clock.as_utc(entry.at) == at
    assert clock.utcnow() != at, "the clock runs again after the block"
    engine.dispose()


def test_actor_of_a_user_and_the_rep_types():
    class U:
        id, login, name, email, user_type = 7, "rep1", "Rep One", "r@example.com", "Internal_AR"

    assert Actor.of(U()) == Actor(user_id=7, login="rep1", name="Rep One", email="r@example.com", user_type="Internal_AR")
    assert [is_rep(t) for t in ("Internal_AR", "Internal_SalesRep", "Internal_CustomerService", "Admin", "Customer")] \
        == [True, True, True, False, False]
    assert is_rep(U()) and is_staff("Admin") and not is_staff("Customer") and not is_rep(None)
