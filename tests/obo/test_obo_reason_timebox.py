"""A reason per on-behalf-of session (off / optional / required) and the time box of a session:
the limit ends it with a notice on a clock the test controls, the rep stays signed in, the cart
is kept, one audited extension, and never beyond the rep's own idle or absolute timeout."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from ecgateway import clock
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import AuthSession
from obo.test_obo_lifecycle import new_rep
from web.web_env import api_client

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def entries(gw, login: str, action: str) -> list[AuditEntry]:
    with gw.portal() as db:
        return db.scalars(sa.select(AuditEntry).where(AuditEntry.actor_user_id == gw.users[login],
                                                      AuditEntry.action == action).order_by(AuditEntry.seq)).all()


def session_row(gw, login: str) -> AuthSession:
    with gw.portal() as db:
        return db.scalar(sa.select(AuthSession).where(AuthSession.user_id == gw.users[login]))


def start(client, token, an8, reason=None):
    body = {"an8": an8} if reason is None else {"an8": an8, "reason": reason}
    return client.post("/api/v1/obo", json=body, headers={"X-CSRF-Token": token})


@pytest.fixture()
def reason_setting(gw):
    before = gw.settings.obo_reason
    yield lambda value: setattr(gw.settings, "obo_reason", value)
    gw.settings.obo_reason = before


# -- the reason -------------------------------------------------------------------------------

def test_a_required_reason_is_refused_when_empty_and_stored_on_the_session_and_in_the_audit(gw, reason_setting):
    reason_setting("required")
    new_rep(gw, "why1", accounts=gw.accounts[:2])
    client, token = api_client(gw, "why1")
    a = gw.accounts[0]
    for empty in (None, "", "   \t "):
        r = start(client, token, a, empty)
        assert r.status_code == 422, r.text
        assert "reason or ticket number" in r.json()["message"]
    refused = entries(gw, "why1", "obo.start")
    assert [e.outcome for e in refused] == ["refused"] * 3
    assert all("no reason given" in e.detail for e in refused)
    assert client.get("/api/v1/obo").json()["acting"] is False
    r = start(client, token, a, "  Ticket   4711:\nreorder by phone ")
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["acting"] and state["reason"] == "Ticket 4711: reorder by phone"
    assert session_row(gw, "why1").obo_reason == "Ticket 4711: reorder by phone"
    ok = entries(gw, "why1", "obo.start")[-1]
    assert ok.outcome == "ok" and json.loads(ok.detail)["obo_reason"] == "Ticket 4711: reorder by phone"
    assert session_row(gw, "why1").obo_start_seq == ok.seq
    # The banner shows it; ending the session writes it into obo.end too.
    page = client.get("/account").text
    assert 'data-testid="obo-reason"' in page and "Ticket 4711: reorder by phone" in page
    token = state["csrf_token"]
    r = client.delete("/api/v1/obo", headers={"X-CSRF-Token": token})
    end = json.loads(entries(gw, "why1", "obo.end")[-1].detail)
    assert end["obo_reason"] == "Ticket 4711: reorder by phone" and end["start_seq"] == ok.seq
    assert session_row(gw, "why1").obo_reason is None


def test_the_reason_form_field_on_the_pages_and_the_settings_off_and_optional(gw, reason_setting):
    new_rep(gw, "why2", accounts=gw.accounts[:2])
    client = gw.client("why2")
    token = client.get("/api/v1/session").json()["csrf_token"]
    a, b = gw.accounts[:2]
    reason_setting("required")
    assert "Reason or ticket number (required)" in client.get("/accounts").text
    page = client.post("/obo", data={"an8": a, "csrf_token": token})
    assert page.status_code == 422 and "Reason field" in page.text and 'href="/accounts"' in page.text
    r = client.post("/obo", data={"an8": a, "csrf_token": token, "reason": "INC-22"})
    assert r.status_code == 303
    token = client.get("/api/v1/session").json()["csrf_token"]
    reason_setting("optional")
    assert client.post("/obo", data={"an8": b, "csrf_token": token}).status_code == 303  # a change, no reason
    assert session_row(gw, "why2").obo_reason is None
    token = client.get("/api/v1/session").json()["csrf_token"]
    reason_setting("off")
    assert "Reason or ticket number" not in client.get("/accounts").text
    assert client.post("/obo", data={"an8": a, "csrf_token": token, "reason": "ignored"}).status_code == 303
    assert session_row(gw, "why2").obo_reason is None
    assert "obo_reason" not in entries(gw, "why2", "obo.change")[-1].detail


def test_a_reason_too_long_or_holding_a_card_number_is_refused_not_stored(gw, reason_setting):
    reason_setting("optional")
    new_rep(gw, "why3", accounts=gw.accounts[:1])
    client, token = api_client(gw, "why3")
    r = start(client, token, gw.accounts[0], "x" * 201)
    assert r.status_code == 422 and "200" in r.json()["message"]
    r = start(client, token, gw.accounts[0], "card 4111 1111 1111 1111")
    assert r.status_code == 422 and "card number" in r.json()["message"]
    assert "4111 1111" not in json.dumps([e.detail for e in entries(gw, "why3", "obo.start")])


def test_the_transaction_log_shows_the_reason_and_finds_sessions_by_it(gw, reason_setting):
    reason_setting("optional")
    new_rep(gw, "why4", accounts=gw.accounts[:2])
    client, token = api_client(gw, "why4")
    token = start(client, token, gw.accounts[0], "Ticket ZX-981 100%_sure").json()["csrf_token"]
    client.delete("/api/v1/obo", headers={"X-CSRF-Token": token})
    admin, _ = api_client(gw, "admin1")
    r = admin.get("/api/v1/admin/audit", params={"reason": "zx-981"})
    assert r.status_code == 200, r.text
    lines = r.json()["items"]
    assert {line["action"] for line in lines} == {"obo.start", "obo.end"}
    assert {line["csr"] for line in lines} == {"why4"}
    assert any("reason: Ticket ZX-981" in line["description"] for line in lines)
    # LIKE's wildcards are taken literally: "%" and "_" match only themselves.
    assert len(_lines(admin.get("/api/v1/admin/audit", params={"reason": "100%_sure"}).json())) == 2
    assert _lines(admin.get("/api/v1/admin/audit", params={"reason": "100%%"}).json()) == []
    page = admin.get("/admin/audit", params={"reason": "ZX-981"}).text
    assert 'id="reason"' in page and "reason: Ticket ZX-981" in page


def _lines(body: dict) -> list:
    return body["items"]


# -- the time box -----------------------------------------------------------------------------

def test_the_time_box_ends_the_session_at_its_limit_keeps_the_cart_and_the_sign_in(gw, reason_setting):
    reason_setting("optional")
    new_rep(gw, "box1", accounts=gw.accounts[:1])
    a = gw.accounts[0]
    with clock.frozen(T0):
        client, token = api_client(gw, "box1")
        state = start(client, token, a, "T-1").json()
        token = state["csrf_token"]
        assert state["time_box"]["seconds_left"] == 60 * 60
        item = client.get("/api/v1/catalog", params={"limit": 5}).json()["items"][0]["item"]
        r = client.post("/api/v1/cart/lines", json={"item": item, "quantity": 3}, headers={"X-CSRF-Token": token})
        assert r.status_code == 201, r.text
    for minute in (20, 40, 59):  # the rep keeps working: the idle timeout (30 min) is not what ends it
        with clock.frozen(T0 + dt.timedelta(minutes=minute)):
            state = client.get("/api/v1/obo").json()
            assert state["acting"] is True
    assert state["time_box"]["seconds_left"] == 60
    page_at_59 = None
    with clock.frozen(T0 + dt.timedelta(minutes=59)):
        page_at_59 = client.get("/account").text
    assert "hidden" not in _warning_tag(page_at_59) and "1:00" in page_at_59
    old_cookie = client.cookies.get("ecgw_session")
    with clock.frozen(T0 + dt.timedelta(minutes=60)):
        state = client.get("/api/v1/obo").json()
    assert state["acting"] is False
    assert "60-minute limit" in state["notice"] and "cart for the account is kept" in state["notice"]
    assert client.cookies.get("ecgw_session") != old_cookie  # the id rotated when acting ended
    end = entries(gw, "box1", "obo.end")[-1]
    assert json.loads(end.detail)["reason"] == "time limit reached" and end.subject_an8 == a
    with clock.frozen(T0 + dt.timedelta(minutes=61)):
        assert client.get("/api/v1/session").status_code == 200  # still signed in as themself
        token = client.get("/api/v1/session").json()["csrf_token"]
        token = start(client, token, a).json()["csrf_token"]
        cart = client.get("/api/v1/cart").json()
    assert [(line["item"], line["quantity"]) for line in cart["lines"]] == [(item, 3)]


def _warning_tag(page: str) -> str:
    at = page.index('data-testid="obo-warning"')
    return page[page.rindex("<", 0, at):page.index(">", at) + 1]


def test_one_audited_extension_and_the_warning_before_the_limit(gw):
    new_rep(gw, "box2", accounts=gw.accounts[:1])
    a = gw.accounts[0]
    with clock.frozen(T0):
        client, token = api_client(gw, "box2")
        token = start(client, token, a).json()["csrf_token"]
        early = client.get("/account").text
    assert 'data-testid="obo-countdown"' in early and "60:00" in early
    assert "hidden" in _warning_tag(early)  # the warning waits until two minutes before
    for minute in (20, 40):
        with clock.frozen(T0 + dt.timedelta(minutes=minute)):
            assert client.get("/api/v1/obo").json()["acting"] is True
    with clock.frozen(T0 + dt.timedelta(minutes=58, seconds=30)):
        warned = client.get("/account").text
        assert "hidden" not in _warning_tag(warned) and 'data-testid="obo-extend"' in warned
        r = client.post("/api/v1/obo/extend", headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text
        box = r.json()["time_box"]
        assert box["extended"] is True and box["may_extend"] is False
        assert box["ends_at"].startswith("2027-03-01T11:00")
        again = client.post("/api/v1/obo/extend", headers={"X-CSRF-Token": token})
        assert again.status_code == 409 and "already extended once" in again.json()["message"]
        assert 'data-testid="obo-extend"' not in client.get("/account").text
    ext = entries(gw, "box2", "obo.extend")
    assert len(ext) == 1 and json.loads(ext[0].detail)["minutes"] == 60
    for minute in (80, 100, 119):
        with clock.frozen(T0 + dt.timedelta(minutes=minute)):
            assert client.get("/api/v1/obo").json()["acting"] is True
    with clock.frozen(T0 + dt.timedelta(minutes=120)):
        assert client.get("/api/v1/obo").json()["acting"] is False


def test_the_time_box_never_extends_the_reps_own_idle_or_absolute_timeout(gw, monkeypatch):
    monkeypatch.setattr(gw.settings, "session_absolute_minutes", 90)
    new_rep(gw, "box3", accounts=gw.accounts[:1])
    a = gw.accounts[0]
    with clock.frozen(T0):
        client, token = api_client(gw, "box3")
    signed_in_at = session_row(gw, "box3").created_at
    for minute in (25, 50):
        with clock.frozen(T0 + dt.timedelta(minutes=minute)):
            assert client.get("/api/v1/session").status_code == 200
    with clock.frozen(T0 + dt.timedelta(minutes=70)):
        token = client.get("/api/v1/session").json()["csrf_token"]
        state = start(client, token, a).json()
        token = state["csrf_token"]
        # 60 minutes would run past the sign-in's 90-minute limit: the box stops at the sign-in's end.
        assert state["time_box"]["seconds_left"] == 20 * 60 and state["time_box"]["may_extend"] is False
        r = client.post("/api/v1/obo/extend", headers={"X-CSRF-Token": token})
        assert r.status_code == 409 and "own sign-in ends" in r.json()["message"]
    assert session_row(gw, "box3").created_at == signed_in_at  # neither start nor extend moved the sign-in
    with clock.frozen(T0 + dt.timedelta(minutes=89)):
        assert client.get("/api/v1/obo").json()["acting"] is True
    with clock.frozen(T0 + dt.timedelta(minutes=90)):
        assert client.get("/api/v1/obo").status_code == 401  # the sign-in itself ended, on time
    # Idle: acting for a customer keeps no session alive without requests.
    new_rep(gw, "box4", accounts=gw.accounts[:1])
    with clock.frozen(T0):
        idle, token = api_client(gw, "box4")
        start(idle, token, a)
    with clock.frozen(T0 + dt.timedelta(minutes=gw.settings.session_idle_minutes)):
        assert idle.get("/api/v1/obo").status_code == 401
