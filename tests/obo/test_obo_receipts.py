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
