"""The supervisor's view (issue 18): figures equal counts made from the audit entries by hand, ending a
live session ends it (the rep reads why), the alert fires at the threshold and not below, one
account's reps, and non-admins get 403. Real app, real SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecgateway.admin import supervisor as sv
from ecgateway.admin.models import SupervisorAlert
from ecgateway.audit import record, verify
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import AuthSession
from ecgateway.clock import frozen
from ecgateway.obo.context import Actor
from ecgateway.portal.models import User
from web.web_env import REP_LOGINS, api_client, csrf_of

# Activity is written into these days, far from the days other tests of the module write on.
DAY0 = dt.datetime(2031, 3, 2, tzinfo=dt.UTC)
DAYS = 6


def _actor(gw, login) -> Actor:
    return Actor.of(gw.user(login))


def _acting(gw, login, an8, reason=""):
    """A client of the rep, acting on behalf of an8 (the form post, as the picker sends it)."""
    client = gw.client(login)
    token = csrf_of(client)
    assert client.post("/obo", data={"an8": an8, "csrf_token": token, "reason": reason}).status_code == 303
    return client


def _write(gw, at, login, action, outcome, an8, detail=None, obj=None):
    with frozen(at), gw.portal() as db:
        record(db, actor=_actor(gw, login) if login else None, subject_an8=an8, action=action,
               object=obj or f"account {an8}", outcome=outcome, detail=detail or {})
        db.commit()


def write_generated(gw, rng, at, kind: str, *, name: str, accounts: list[int], customer) -> None:
    """One generated entry of a kind the figures count (a rep and an account drawn from rng), at `at`;
    orders are named `name`. Shared by the supervisor's tests and its roll-up's."""
    rep = rng.choice(REP_LOGINS)
    an8 = rng.choice(accounts)
    total = f"{rng.randrange(100, 99999) / 100:.2f}"
    if kind == "start":
        _write(gw, at, rep, "obo.start", "ok", an8, {"billing_an8": an8})
    elif kind == "change":
        _write(gw, at, rep, "obo.change", "ok", an8, {"billing_an8": an8, "from_an8": gw.accounts[0]})
    elif kind == "refused_start":
        _write(gw, at, rep, "obo.start", "refused", an8, {"reason": "account not in the rep's list"})
    elif kind == "refused_cart":
        _write(gw, at, rep, "cart.add", "refused", an8, {"on_behalf": True, "reason": "no price"})
    elif kind == "order_rep":
        _write(gw, at, rep, "order.place", "ok", an8, {"on_behalf": True, "total": total, "currency": "USD",
                                                       "lines": 2}, obj=name)
    elif kind == "order_customer":
        _write(gw, at, "cust1", "order.place", "ok", customer.account_an8,
               {"on_behalf": False, "total": total, "currency": rng.choice(["USD", "CAD"]), "lines": 1}, obj=name)
    elif kind == "order_refused":
        _write(gw, at, "cust1", "order.place", "refused", customer.account_an8, {"on_behalf": False, "reason": "x"},
               obj="checkout")
    else:
        _write(gw, at, rep, "cart.add", "ok", an8, {"on_behalf": True, "quantity": 1})


@pytest.fixture(scope="module")
def activity(gw):
    """Generated activity over DAYS days: starts, changes, refusals, orders by reps and by the customer."""
    rng = random.Random(18)
    cust = gw.user("cust1")
    for i in range(260):
        at = DAY0 + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60), seconds=rng.randrange(60))
        kind = rng.choice(["start", "start", "change", "refused_start", "refused_cart", "order_rep",
                           "order_customer", "order_refused", "cart"])
        write_generated(gw, rng, at, kind, name=f"order {i}", accounts=gw.accounts[:12], customer=cust)
    return sv.Period(DAY0.date(), (DAY0 + dt.timedelta(days=DAYS - 1)).date())


def _by_hand(gw, within: sv.Period):
    """The same figures counted in Python from every entry of the log."""
    with gw.portal() as db:
        entries = list(db.scalars(sa.select(AuditEntry)))
        types = {u.login: u.user_type for u in db.scalars(sa.select(User))}
    inside = [e for e in entries if within.start <= (e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)) < within.end]
    sessions = Counter()
    accounts = defaultdict(lambda: [0, set()])
    orders = defaultdict(lambda: [0, Decimal(0)])
    refusals = defaultdict(lambda: [0, 0])
    for e in inside:
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)
        detail = json.loads(e.detail)
        if e.action in ("obo.start", "obo.change") and e.outcome == "ok":
            sessions[(at.date(), e.actor_login)] += 1
            accounts[e.subject_an8][0] += 1
            accounts[e.subject_an8][1].add(e.actor_login)
        if e.action == "order.place" and e.outcome == "ok":
            key = ("on behalf" if detail["on_behalf"] else "customer", detail["currency"])
            orders[key][0] += 1
            orders[key][1] += Decimal(detail["total"])
        if e.outcome == "refused" and types.get(e.actor_login, "").startswith("Internal_"):
            refusals[e.actor_login][0 if e.action == "obo.start" else 1] += 1
    top = sorted(accounts.items(), key=lambda kv: (-kv[1][0], kv[0]))[: sv.TOP_ACCOUNTS]
    return {
        "sessions": dict(sessions),
        "orders": {k: (n, amt.quantize(Decimal("0.01"))) for k, (n, amt) in orders.items()},
        "refusals": {k: tuple(v) for k, v in refusals.items()},
        "accounts": [(an8, n, len(reps)) for an8, (n, reps) in top],
    }


def test_the_figures_equal_counts_made_from_the_entries(gw, activity):
    expected = _by_hand(gw, activity)
    assert sum(expected["sessions"].values()) > 50 and expected["orders"] and expected["refusals"]
    with gw.portal() as db:
        figs = sv.figures(db, within=activity)
    assert figs.sessions == expected["sessions"]
    assert {(o.channel, o.currency): (o.count, o.amount) for o in figs.orders} == expected["orders"]
    assert {r.rep_login: (r.refused_starts, r.refused_actions) for r in figs.refusals} == expected["refusals"]
    assert [(a.account, a.sessions, a.reps) for a in figs.accounts] == expected["accounts"]

    # the JSON API and each CSV give the same numbers
    client, _ = api_client(gw, "admin1")
    args = {"date_from": activity.date_from.isoformat(), "date_to": activity.date_to.isoformat()}
    body = client.get("/api/v1/admin/supervisor/figures", params=args).json()
    assert {(dt.date.fromisoformat(r["day"]), r["rep"]): r["sessions"] for r in body["sessions_per_day"]} \
        == expected["sessions"]
    assert {(o["channel"], o["currency"]): (o["count"], Decimal(o["amount"])) for o in body["orders"]} \
        == expected["orders"]
    page = gw.client("admin1")
    rows = list(csv.DictReader(io.StringIO(page.get("/admin/supervisor/sessions.csv", params=args).text)))
    assert {(dt.date.fromisoformat(r["day_utc"]), r["rep"]): int(r["sessions"]) for r in rows if r["sessions"] != "0"} \
        == expected["sessions"]
    rows = list(csv.DictReader(io.StringIO(page.get("/admin/supervisor/refusals.csv", params=args).text)))
    assert {r["rep"]: (int(r["refused_starts"]), int(r["refused_actions"])) for r in rows} == expected["refusals"]
    rows = list(csv.DictReader(io.StringIO(page.get("/admin/supervisor/accounts.csv", params=args).text)))
    assert [(int(r["account"]), int(r["sessions"]), int(r["reps"])) for r in rows] == expected["accounts"]
    rows = list(csv.DictReader(io.StringIO(page.get("/admin/supervisor/orders.csv", params=args).text)))
    assert {(r["placed_by"], r["currency"]): (int(r["orders"]), Decimal(r["amount"])) for r in rows} \
        == expected["orders"]

    # the page: a chart (SVG) and its table for each figure
    html = page.get("/admin/supervisor", params=args).text
    for chart in ("chart-sessions", "chart-orders-count", "chart-orders-amount", "chart-refusals", "chart-accounts"):
        assert f'<svg id="{chart}" role="img"' in html
    for table in ("table-sessions", "table-orders", "table-refusals", "table-accounts"):
        assert f'id="{table}"' in html


def test_a_period_that_is_not_right_is_said_so_not_a_500(gw):
    page = gw.client("admin1")
    r = page.get("/admin/supervisor", params={"date_from": "2031-13-01"})
    assert r.status_code == 200 and "is not a date" in r.text and "The last 14 days are shown instead" in r.text
    client, _ = api_client(gw, "admin1")
    r = client.get("/api/v1/admin/supervisor/figures", params={"date_from": "2031-03-09", "date_to": "2031-03-01"})
    assert r.status_code == 400 and r.json()["field"] == "date_from"
    r = client.get("/api/v1/admin/supervisor/figures", params={"date_from": "2020-01-01", "date_to": "2031-03-01"})
    assert r.status_code == 400 and "at most 366" in r.json()["message"]
    assert page.get("/admin/supervisor/nothing.csv").status_code == 404
    r = page.get("/admin/supervisor/accounts", params={"account": "12x"})
    # A wrong account goes back to the view, where its form is, with the message shown once (issue 15, part 6).
    assert r.status_code == 303 and r.headers["location"] == "/admin/supervisor", (r.status_code, r.headers)
    view = page.get("/admin/supervisor")
    assert view.status_code == 200 and "is not an account number" in view.text  # the message, once, where the form is


def test_ending_a_live_session_ends_it_and_the_rep_reads_why(gw):
    an8 = gw.accounts[1]
    rep = _acting(gw, "sales1", an8, reason="call from the buyer, ticket 99")
    rep.get("/account")
    admin, csrf = api_client(gw, "admin1")
    live = [s for s in admin.get("/api/v1/admin/supervisor/sessions").json() if s["rep_login"] == "sales1"]
    assert len(live) == 1 and live[0]["account"] == an8
    assert "Impersonation starts" in live[0]["last_action"]
    assert live[0]["reason"] == "call from the buyer, ticket 99"  # the rep's reason for the session
    assert "call from the buyer, ticket 99" in gw.client("admin1").get("/admin/supervisor").text
    sid = live[0]["id"]

    assert admin.post(f"/api/v1/admin/supervisor/sessions/{sid}/end", json={"reason": ""},
                      headers={"X-CSRF-Token": csrf}).status_code == 422  # a reason is required
    r = admin.post(f"/api/v1/admin/supervisor/sessions/{sid}/end", json={"reason": "ticket 4711: wrong account"},
                   headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert not [s for s in admin.get("/api/v1/admin/supervisor/sessions").json() if s["rep_login"] == "sales1"]

    page = rep.get("/catalog")  # the rep's next request: why, once; acting no more
    assert "ended your on-behalf-of session for account" in page.text and "ticket 4711: wrong account" in page.text
    assert rep.get("/api/v1/obo").json()["acting"] is False
    assert "ticket 4711" not in rep.get("/accounts").text  # shown once
    with gw.portal() as db:
        row = db.get(AuthSession, sid)
        assert row is not None and row.obo_an8 is None  # still signed in as themself
        last = list(db.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(6)))
    ends = {e.action: e for e in last if e.action in ("obo.end", "admin.obo_end")}
    assert ends["obo.end"].actor_login == "sales1" and "ticket 4711" in json.loads(ends["obo.end"].detail)["reason"]
    assert ends["admin.obo_end"].actor_login == "admin1" and ends["admin.obo_end"].subject_an8 == an8

    again = admin.post(f"/api/v1/admin/supervisor/sessions/{sid}/end", json={"reason": "again"},
                       headers={"X-CSRF-Token": csrf})
    assert again.status_code == 404 and "has ended already" in again.json()["message"]


def test_ending_from_the_page_form(gw):
    an8 = gw.accounts[2]
    rep = _acting(gw, "ar1", an8)
    page = gw.client("admin1")
    html = page.get("/admin/supervisor").text
    assert f"End ar1's session for {an8}" in html
    with gw.portal() as db:
        sid = db.scalar(sa.select(AuthSession.id).where(AuthSession.user_id == gw.users["ar1"],
                                                        AuthSession.obo_an8 == an8))
    csrf = page.get("/api/v1/session").json()["csrf_token"]
    r = page.post(f"/admin/supervisor/sessions/{sid}/end", data={"csrf_token": csrf, "reason": "  "})
    assert r.status_code == 422 and "Give the reason" in r.text
    r = page.post(f"/admin/supervisor/sessions/{sid}/end", data={"csrf_token": csrf, "reason": "end of shift"})
    assert r.status_code == 200 and "ar1 no longer acts on behalf of account" in r.text
    assert "end of shift" in rep.get("/accounts").text


def test_the_alert_fires_at_the_threshold_and_not_below(gw):
    threshold = gw.settings.supervisor_alert_refusals
    now = dt.datetime(2031, 6, 1, 10, 0, tzinfo=dt.UTC)
    _write(gw, now - dt.timedelta(minutes=61), "cs1", "obo.start", "refused", 1, {"reason": "old"})  # outside the hour
    for i in range(threshold - 1):
        _write(gw, now - dt.timedelta(minutes=50 - i), "cs1", "obo.start", "refused", 1000 + i, {"reason": "probe"})
    for _ in range(threshold + 2):  # a customer's refusals never alert
        _write(gw, now - dt.timedelta(minutes=5), "cust1", "order.place", "refused", 1, {"reason": "x"}, obj="checkout")
    with gw.portal() as db:
        assert not [a for a in sv.current_alerts(db, settings=gw.settings, now=now)]
    _write(gw, now - dt.timedelta(minutes=1), "cs1", "cart.add", "refused", 1, {"reason": "probe"})
    sent = []
    with gw.portal() as db:
        alerts = sv.raise_alerts(db, settings=gw.settings, now=now, on_new=lambda a: sent.append(a) or True)
        db.commit()
        assert [(a.rep_login, a.refusals) for a in alerts] == [("cs1", threshold)]
        again = sv.raise_alerts(db, settings=gw.settings, now=now + dt.timedelta(minutes=1),
                                on_new=lambda a: sent.append(a) or True)
        db.commit()
        assert len(again) == 1 and len(sent) == 1  # raised (and e-mailed) once per crossing
        stored = db.scalars(sa.select(SupervisorAlert).where(SupervisorAlert.rep_login == "cs1")).all()
        assert len(stored) == 1 and stored[0].emailed_at is not None
        assert not sv.current_alerts(db, settings=gw.settings, now=now + dt.timedelta(minutes=52))
    with frozen(now):
        html = gw.client("admin1").get("/admin/supervisor").text
        fragment = gw.client("admin1").get("/admin/supervisor/live").text
    assert html.index('id="alerts-title"') < html.index('id="live-sessions"') < html.index('id="activity"')
    assert f"cs1</strong>: {threshold} refused attempts" in html and "cs1</strong>" in fragment
    assert "/admin/audit?rep=cs1&amp;outcome=refused&amp;date_from=2031-06-01" in html


def test_a_new_alert_is_e_mailed_to_the_admins_once_through_the_outbox(gw, tmp_path):
    """The watcher each gateway process runs raises the crossing and queues one e-mail per admin; the
    mail sender hands it to a real SMTP server on loopback; the next check sends nothing more."""
    from ecgateway.mail import MailSender
    from mail.smtp_server import SmtpServer

    server = SmtpServer().start()
    try:
        settings = gw.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": server.port,
                                                  "smtp_security": "none", "public_url": "https://portal.example.com"})
        now = dt.datetime(2031, 8, 1, 15, 0, tzinfo=dt.UTC)
        for i in range(settings.supervisor_alert_refusals):
            _write(gw, now - dt.timedelta(minutes=30 - i), "ar1", "obo.start", "refused", 2000 + i, {"reason": "probe"})
        watcher = sv.AlertWatcher(sessions=gw.runtime.portal_sessions, settings=settings)
        with frozen(now):
            assert [a.rep_login for a in watcher.run_once()] == ["ar1"]
            MailSender(sessions=gw.runtime.portal_sessions, settings=settings).run_until_idle()
            got = [m for m in server.wait_for("admin1@example.com") if "ar1" in m.message["Subject"]]
            assert len(got) == 1
            assert "ar1 had 5 refused attempts" in got[0].message["Subject"].replace("\n", "")
            assert "https://portal.example.com/admin/audit?rep=ar1&outcome=refused&date_from=2031-08-01" in got[0].text
            watcher.run_once()  # the same crossing: no second alert, no second e-mail
            MailSender(sessions=gw.runtime.portal_sessions, settings=settings).run_until_idle()
        assert len([m for m in server.to("admin1@example.com") if "ar1" in m.message["Subject"]]) == 1
    finally:
        server.stop()


def test_one_account_seen_from_the_admin_side(gw):
    an8 = gw.accounts[5]
    t = dt.datetime(2031, 7, 1, 9, 0, tzinfo=dt.UTC)
    _write(gw, t, "sales1", "obo.start", "ok", an8, {"billing_an8": an8})
    _write(gw, t + dt.timedelta(minutes=3), "sales1", "cart.add", "ok", an8, {"on_behalf": True, "quantity": 2},
           obj="item X")
    _write(gw, t + dt.timedelta(minutes=9), "sales1", "obo.end", "ok", an8, {"reason": "ended by the rep"})
    _write(gw, t + dt.timedelta(hours=2), "cs1", "obo.start", "ok", an8, {"billing_an8": an8})
    _write(gw, t + dt.timedelta(hours=2, minutes=1), "cust1", "cart.add", "ok", an8, {"quantity": 1}, obj="item Y")
    client, _ = api_client(gw, "admin1")
    body = client.get(f"/api/v1/admin/supervisor/accounts/{an8}").json()
    assert [r["rep_login"] for r in body["reps"]][:2] == ["cs1", "sales1"]
    newest, older = body["sessions"][0], body["sessions"][1]
    assert newest["rep_login"] == "cs1" and newest["ended_at"] is None
    assert older["rep_login"] == "sales1" and older["end_reason"] == "ended by the rep"
    assert [a["action"] for a in older["actions"]] == ["obo.start", "cart.add", "obo.end"]
    assert all(a["description"] for a in older["actions"])
    html = gw.client("admin1").get(f"/admin/supervisor/accounts/{an8}").text
    assert "sales1" in html and "cs1" in html and "item Y" not in html  # the customer's own actions are not a rep's


def test_non_admins_get_403_on_every_supervisor_route(gw):
    routes = [("GET", "/admin/supervisor"), ("GET", "/admin/supervisor/live"), ("GET", "/admin/supervisor/sessions.csv"),
              ("GET", "/admin/supervisor/accounts?account=1"), ("GET", f"/admin/supervisor/accounts/{gw.accounts[0]}"),
              ("GET", "/api/v1/admin/supervisor/figures"), ("GET", "/api/v1/admin/supervisor/sessions"),
              ("GET", "/api/v1/admin/supervisor/alerts"), ("GET", f"/api/v1/admin/supervisor/accounts/{gw.accounts[0]}")]
    for login in ("ar1", "sales1", "cs1", "cust1"):
        client, csrf = api_client(gw, login)
        for method, path in routes:
            assert client.request(method, path).status_code == 403, (login, path)
        r = client.post("/api/v1/admin/supervisor/sessions/1/end", json={"reason": "x"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403, login
    assert gw.client().get("/api/v1/admin/supervisor/figures").status_code == 401


def test_the_chain_is_intact_after_it_all(gw):
    with gw.portal() as db:
        assert verify(db).ok


def test_a_form_left_open_from_the_ended_session_does_not_act_for_the_account(gw):
    """An admin ends the session while the rep has a page of it open; the rep then sends that page's form.
    The session id and CSRF token are kept (the rep stays signed in as themself: ending lowers what the
    session may do, so there is nothing to fixate), but the form acts for no account: it is refused in the
    page's words with a way back, the rep reads why the session ended, and nothing is written for the account."""
    an8 = gw.accounts[4]
    rep = _acting(gw, "cs1", an8)
    token = csrf_of(rep)  # the token of the page left open
    admin, csrf = api_client(gw, "admin1")
    sid = next(s["id"] for s in admin.get("/api/v1/admin/supervisor/sessions").json() if s["rep_login"] == "cs1")
    with gw.portal() as db:
        session_hash = db.get(AuthSession, sid).token_hash
    assert admin.post(f"/api/v1/admin/supervisor/sessions/{sid}/end", json={"reason": "wrong customer"},
                      headers={"X-CSRF-Token": csrf}).status_code == 200
    with gw.portal() as db:
        before = db.scalar(sa.select(sa.func.max(AuditEntry.seq)))
        row = db.get(AuthSession, sid)
        assert row.token_hash == session_hash and row.csrf_token == token  # not rotated: decided, see the docstring
    r = rep.post("/cart/add", data={"csrf_token": token, "item": "1001", "quantity": "1"})
    assert r.status_code == 403
    assert f"ended your on-behalf-of session for account {an8}: wrong customer" in r.text  # why, on that response
    assert "Choose an account first" in r.text and 'href="/accounts"' in r.text  # the page's words, a way back
    with gw.portal() as db:
        assert not list(db.scalars(sa.select(AuditEntry).where(AuditEntry.seq > before)))
    page = rep.get("/accounts")  # still signed in as themself, the notice shown once
    assert page.status_code == 200 and "wrong customer" not in page.text and "cs1" in page.text
