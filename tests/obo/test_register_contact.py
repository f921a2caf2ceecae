"""Registering a contact on behalf: only inside the rep's restriction (the picker's compiled query),
only with the register right, never a reserved type, never a duplicate e-mail; the contact's
single-use, expiring set-password link arrives over SMTP (aiosmtpd on loopback) and the rep never
sees it; audited with both names; the customer's access history lists the registration."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from ecgateway import clock
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import RIGHT_REGISTER
from ecgateway.auth.rights import set_right
from ecgateway.mail import MailSender
from ecgateway.portal.models import User
from mail.smtp_server import running_smtp, smtp_settings
from obo.test_obo_lifecycle import new_rep
from web.web_env import api_client, build_gateway

NEW_PASSWORD = "a long new password 77"


@pytest.fixture(scope="module")
def smtp(backend):
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="module")
def gw(jde_db, portal_url, tmp_path_factory, smtp):
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("gw"), **smtp_settings(smtp),
                            mail_run_with_server=False,
                            public_url="http://portal.example.com")
    yield gateway
    gateway.runtime.dispose()


def registrar(gw, login: str, accounts: list[int], *, right: bool = True):
    new_rep(gw, login, accounts=accounts)
    if right:
        with gw.portal() as db:
            set_right(db, user_id=gw.users[login], right=RIGHT_REGISTER, granted=True, by="test")
            db.commit()
    return api_client(gw, login)


def register(client, token, an8, **body):
    return client.post(f"/api/v1/accounts/{an8}/contacts", json={"name": "Jane Buyer", **body},
                       headers={"X-CSRF-Token": token})


def user_by_email(gw, email: str) -> User | None:
    with gw.portal() as db:
        return db.scalar(sa.select(User).where(sa.func.lower(User.email) == email.lower()))


def mailed_link(gw, smtp, to: str) -> str:
    MailSender(sessions=gw.runtime.portal_sessions, settings=gw.settings).run_until_idle()
    text = smtp.wait_for(to)[-1].text
    return re.search(r"http://portal\.example\.com/set-password#(\S+)", text).group(1)


def test_registration_only_inside_the_reps_restriction_and_with_the_right(gw):
    inside, outside = gw.accounts[0], gw.accounts[5]
    client, token = registrar(gw, "reg1", [inside])
    r = register(client, token, outside, email="out@example.com")
    assert r.status_code == 404 and "not in your list" in r.json()["message"]
    assert register(client, token, 99_999_999, email="none@example.com").status_code == 404
    assert user_by_email(gw, "out@example.com") is None
    r = register(client, token, inside, email="in@example.com")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["account_an8"] == inside and body["login"] == "in@example.com" and body["mailed_to"] == "in@example.com"
    user = user_by_email(gw, "in@example.com")
    assert user.user_type == "Customer" and user.account_an8 == inside and user.password_hash is None
    # Without the right: 403 (and the form is not offered); a customer or an admin: 403 too.
    other, other_token = registrar(gw, "reg2", [inside], right=False)
    r = register(other, other_token, inside, email="x2@example.com")
    assert r.status_code == 403 and "register right" in r.json()["message"]
    assert other.get(f"/accounts/{inside}/contacts/new").status_code == 403
    for login in ("cust1", "admin1"):
        c, t = api_client(gw, login)
        assert register(c, t, inside, email=f"{login}-x@example.com").status_code == 403
    with gw.portal() as db:
        refused = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "contact.register",
                                                         AuditEntry.outcome == "refused")).all()
    assert {json.loads(e.detail)["reason"] for e in refused} >= {"account not in the rep's list", "no register right"}


@pytest.mark.parametrize("user_type", ["Internal_AR", "Internal_SalesRep", "Internal_CustomerService", "Admin",
                                       "Superuser"])
def test_reserved_types_are_refused(gw, user_type):
    client, token = registrar(gw, f"reg-{user_type.lower()}", [gw.accounts[0]])
    email = f"{user_type.lower()}@example.com"
    r = register(client, token, gw.accounts[0], email=email, user_type=user_type)
    assert r.status_code == 422 and "always customer users" in r.json()["message"]
    assert user_by_email(gw, email) is None


def test_a_duplicate_email_is_refused_clearly(gw):
    client, token = registrar(gw, "reg3", [gw.accounts[0]])
    assert register(client, token, gw.accounts[0], email="twice@example.com").status_code == 201
    r = register(client, token, gw.accounts[0], email="  TWICE@example.com ", login="another")
    assert r.status_code == 409
    assert "already a portal user with the e-mail address TWICE@example.com" in r.json()["message"]
    r = register(client, token, gw.accounts[0], email="sales1@example.com")  # a rep's own address
    assert r.status_code == 409
    # The page keeps what was typed and says it beside the form.
    page = gw.client("reg3")
    csrf = page.get("/api/v1/session").json()["csrf_token"]
    r = page.post(f"/accounts/{gw.accounts[0]}/contacts",
                  data={"csrf_token": csrf, "name": "Jane Again", "email": "twice@example.com"})
    assert r.status_code == 409 and "already a portal user" in r.text and 'value="Jane Again"' in r.text


def test_the_link_arrives_by_email_works_once_and_expires_and_the_rep_never_sees_it(gw, smtp):
    client, token = registrar(gw, "reg4", [gw.accounts[0]])
    r = register(client, token, gw.accounts[0], email="link@example.com", name="Linda Link")
    assert r.status_code == 201
    secret = mailed_link(gw, smtp, "link@example.com")
    assert secret not in r.text
    with gw.portal() as db:
        entry = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "contact.register",
                                                       AuditEntry.outcome == "ok")
                           .order_by(AuditEntry.seq.desc())).first()
    assert entry.actor_login == "reg4" and json.loads(entry.detail)["contact_name"] == "Linda Link"
    assert secret not in entry.detail
    anon = gw.client()
    data = {"token": secret, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert anon.post("/set-password", data=data).status_code in (200, 303)
    again = anon.post("/set-password", data=data)
    assert again.status_code == 410 and "already used" in again.text
    assert gw.client().post("/login", data={"login": "link@example.com", "password": NEW_PASSWORD}).status_code == 303
    # A second contact's link, used after it expired (72 hours), is refused.
    assert register(client, token, gw.accounts[0], email="late@example.com").status_code == 201
    late = mailed_link(gw, smtp, "late@example.com")
    with clock.frozen(clock.utcnow() + dt.timedelta(hours=73)):
        r = gw.client().post("/set-password", data={"token": late, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 410 and "expired" in r.text


def test_the_registration_shows_in_the_customers_access_history(gw):
    client, token = registrar(gw, "reg5", [gw.accounts[0]])
    token = client.post("/api/v1/obo", json={"an8": gw.accounts[0], "reason": "new buyer"},
                        headers={"X-CSRF-Token": token}).json()["csrf_token"]
    assert register(client, token, gw.accounts[0], email="histo@example.com", name="Hist O").status_code == 201
    client.delete("/api/v1/obo", headers={"X-CSRF-Token": token})
    register(client, client.get("/api/v1/session").json()["csrf_token"], gw.accounts[0],
             email="solo@example.com", name="Solo Contact")  # outside a session: its own line
    cust, _ = api_client(gw, "cust1")
    visits = cust.get("/api/v1/account/access-history").json()["visits"]
    texts = [d["text"] for v in visits for d in v["done"]]
    assert any("Registered Hist O" in t for t in texts) and any("Registered Solo Contact" in t for t in texts)
    session = next(v for v in visits if v["reason"] == "new buyer")
    assert [d["action"] for d in session["done"]] == ["contact.register"]
