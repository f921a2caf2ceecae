"""The receipt: when an account asked for one (default off), a session that changed something
ends -> a short e-mail to the account's customer users reaches the loopback SMTP server (aiosmtpd);
a session that changed nothing, or an account without the setting, gets none; never twice."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecgateway.auth.models import OboReceipt
from ecgateway.obo.receipts import ReceiptingMailSender
from mail.smtp_server import running_smtp, smtp_settings
from web.web_env import api_client, build_gateway


@pytest.fixture(scope="module")
def smtp(backend):  # one server per backend, so each run counts its own messages
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="module")
def gw(jde_db, portal_url, tmp_path_factory, smtp):
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("gw"), **smtp_settings(smtp),
                            mail_run_with_server=False,
                            public_url="https://portal.example.com")
    yield gateway
    gateway.runtime.dispose()


def sender(gw) -> ReceiptingMailSender:
    return ReceiptingMailSender(sessions=gw.runtime.portal_sessions, settings=gw.settings)


def rep_session(gw, *, reason: str, change: bool) -> None:
    rep, token = api_client(gw, "sales1")
    token = rep.post("/api/v1/obo", json={"an8": gw.accounts[0], "reason": reason},
                     headers={"X-CSRF-Token": token}).json()["csrf_token"]
    h = {"X-CSRF-Token": token}
    if change:
        item = rep.get("/api/v1/catalog", params={"limit": 5}).json()["items"][0]["item"]
        assert rep.post("/api/v1/cart/lines", json={"item": item, "quantity": 1}, headers=h).status_code == 201
        assert rep.delete("/api/v1/cart", headers=h).status_code == 200  # Empty Cart: a change the customer is told of
    assert rep.post("/logout", data={"csrf_token": token}).status_code == 303  # sign-out ends the session too


def test_the_receipt_reaches_the_smtp_server_when_a_session_that_changed_something_ends(gw, smtp):
    rep_session(gw, reason="before the setting", change=True)  # receipts off (the default): nothing
    sender(gw).run_until_idle()
    assert smtp.to("cust1@example.com") == []
    cust, token = api_client(gw, "cust1")
    assert cust.put("/api/v1/account/settings", json={"obo_receipts": True},
                    headers={"X-CSRF-Token": token}).status_code == 200
    rep_session(gw, reason="looked only", change=False)  # changed nothing: no receipt
    rep_session(gw, reason="Ticket 5150: empty the cart", change=True)
    sender(gw).run_until_idle()
    got = smtp.wait_for("cust1@example.com")
    assert len(got) == 1
    text = got[0].text
    assert "Sales1 Tester (sales)" in text and "Ticket 5150: empty the cart" in text
    assert "Emptied 1 cart of the account (1 line)" in text
    assert "https://portal.example.com/account/access-history" in text
    assert "looked only" not in text and "before the setting" not in text
    # Each ended session is looked at once: another pass sends nothing more.
    sender(gw).run_until_idle()
    assert len(smtp.to("cust1@example.com")) == 1
    with gw.portal() as db:
        sent = db.scalars(sa.select(OboReceipt).where(OboReceipt.an8 == gw.accounts[0])).all()
        assert sorted(r.recipients for r in sent) == [0, 1]


def test_a_session_ended_by_an_admin_or_by_its_time_box_gets_its_receipt_too(gw, smtp):
    """Every way a session ends writes obo.end, and the receipt follows from that entry: shown here
    for the two ends that are not the rep's own sign-out."""
    import datetime as dt

    from ecgateway import clock

    cust, token = api_client(gw, "cust1")
    assert cust.put("/api/v1/account/settings", json={"obo_receipts": True},
                    headers={"X-CSRF-Token": token}).status_code == 200
    sender(gw).run_until_idle()
    before = len(smtp.to("cust1@example.com"))

    def acting_with_a_change(reason: str):
        rep, token = api_client(gw, "sales1")
        token = rep.post("/api/v1/obo", json={"an8": gw.accounts[0], "reason": reason},
                         headers={"X-CSRF-Token": token}).json()["csrf_token"]
        item = rep.get("/api/v1/catalog", params={"limit": 5}).json()["items"][0]["item"]
        assert rep.post("/api/v1/cart/lines", json={"item": item, "quantity": 1},
                        headers={"X-CSRF-Token": token}).status_code == 201
        assert rep.delete("/api/v1/cart", headers={"X-CSRF-Token": token}).status_code == 200
        return rep

    # An admin ends it from the supervisor's view.
    rep = acting_with_a_change("Ticket 7001: ended by the supervisor")
    admin, admin_token = api_client(gw, "admin1")
    live = [s for s in admin.get("/api/v1/admin/supervisor/sessions").json() if s["rep_login"] == "sales1"]
    assert len(live) == 1
    r = admin.post(f"/api/v1/admin/supervisor/sessions/{live[0]['id']}/end", json={"reason": "wrong account"},
                   headers={"X-CSRF-Token": admin_token})
    assert r.status_code == 200, r.text
    sender(gw).run_until_idle()
    got = smtp.wait_for("cust1@example.com", count=before + 1)
    assert "Ticket 7001: ended by the supervisor" in got[-1].text

    # The time box ends it: the rep's next request after the limit.
    rep = acting_with_a_change("Ticket 7002: ended by the time box")
    start = clock.utcnow()
    for minute in range(20, gw.settings.obo_max_minutes, 20):  # working on: the idle timeout does not end it
        with clock.frozen(start + dt.timedelta(minutes=minute)):
            assert rep.get("/api/v1/obo").json()["acting"] is True
    with clock.frozen(start + dt.timedelta(minutes=gw.settings.obo_max_minutes + 1)):
        state = rep.get("/api/v1/obo").json()
    assert state["acting"] is False and "limit" in state["notice"]
    sender(gw).run_until_idle()
    got = smtp.wait_for("cust1@example.com", count=before + 2)
    assert "Ticket 7002: ended by the time box" in got[-1].text
    assert len(smtp.to("cust1@example.com")) == before + 2  # one each, nothing twice
