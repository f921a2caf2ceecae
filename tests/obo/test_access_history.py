"""What the customer sees: the sessions in which a rep acted for their own account (who, when,
the reason, what was done), from the audit; nobody else's; and the receipts setting."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ecgateway.audit.models import AuditEntry
from ecgateway.auth.users import create_user
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.obo import history
from ecgateway.portal.models import User
from obo.test_obo_lifecycle import new_rep
from web.web_env import PASSWORD, api_client


def ship_to(gw, account: int) -> int:
    with gw.runtime.jde_engine.connect() as conn:
        jde = Jde(conn, gw.runtime.jde, gw.settings.company)
        bill = billing_addresses(jde, account_an8=account)[0].an8
        return shipping_addresses(jde, billing_an8=bill)[0].an8


def customer_of(gw, login: str, account: int) -> None:
    with gw.portal() as db:
        if db.scalar(sa.select(User.id).where(User.login == login)) is None:
            create_user(db, login=login, name=login.title(), user_type="Customer", email=f"{login}@example.com",
                        password=PASSWORD, account_an8=account)
            db.commit()


def test_the_customer_sees_each_reps_session_with_reason_and_what_was_done(gw):
    own, other = gw.accounts[0], gw.accounts[1]  # cust1 belongs to accounts[0]
    new_rep(gw, "hist1", accounts=[own, other])
    rep, token = api_client(gw, "hist1")
    r = rep.post("/api/v1/obo", json={"an8": own, "reason": "Ticket 77: phone order"}, headers={"X-CSRF-Token": token})
    token = r.json()["csrf_token"]
    h = {"X-CSRF-Token": token}
    items = [i["item"] for i in rep.get("/api/v1/catalog", params={"limit": 40}).json()["items"] if i["available"]]
    assert rep.post("/api/v1/cart/lines", json={"item": items[0], "quantity": 2}, headers=h).status_code == 201
    placed = rep.post("/api/v1/orders", json={"ship_to": ship_to(gw, own), "customer_po": "PO-HIST"},
                      headers={**h, "Idempotency-Key": str(uuid.uuid4())})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    emptied = rep.delete("/api/v1/cart", headers=h)
    assert emptied.status_code == 200, emptied.text
    # Then the rep acts for another account: nothing of that shows for cust1.
    token = rep.post("/api/v1/obo", json={"an8": other, "reason": "SECRET-OTHER"}, headers=h).json()["csrf_token"]
    rep.delete("/api/v1/obo", headers={"X-CSRF-Token": token})

    cust, _ = api_client(gw, "cust1")
    r = cust.get("/api/v1/account/access-history")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["account_an8"] == own
    mine = [v for v in body["visits"] if v["reason"] == "Ticket 77: phone order"]
    assert len(mine) == 1
    visit = mine[0]
    assert visit["rep_name"] == "Hist1" and visit["rep_role"] == "sales"
    assert visit["ended_at"] is not None and visit["end_reason"] == f"changed to account {other}"
    texts = [d["text"] for d in visit["done"]]
    assert texts[0].startswith(f"Placed order {order_id}")
    assert [d["action"] for d in visit["done"]] == ["order.place", "cart.empty"]
    assert "SECRET-OTHER" not in r.text
    # The page: on the account page (newest five) and its own page.
    page = gw.client("cust1")
    account_page = page.get("/account").text
    assert "Representatives who acted for your account" in account_page and "Ticket 77: phone order" in account_page
    full = page.get("/account/access-history").text
    assert "Hist1" in full and f"Placed order {order_id}" in full and "SECRET-OTHER" not in full


def test_nobody_else_sees_an_accounts_history(gw):
    own, other = gw.accounts[0], gw.accounts[1]
    new_rep(gw, "hist2", accounts=[other])
    rep, token = api_client(gw, "hist2")
    token = rep.post("/api/v1/obo", json={"an8": other, "reason": "only-for-other"},
                     headers={"X-CSRF-Token": token}).json()["csrf_token"]
    # A rep acting for the account, the rep signed in, an admin: none gets the customer's history routes.
    assert rep.get("/api/v1/account/access-history").status_code == 403
    assert rep.get("/account/access-history").status_code == 403
    assert "Representatives who acted for your account" not in rep.get("/account").text
    admin, _ = api_client(gw, "admin1")
    assert admin.get("/api/v1/account/access-history").status_code == 403
    rep.delete("/api/v1/obo", headers={"X-CSRF-Token": token})
    # The customer of the first account never sees the other account's sessions, whatever they pass.
    cust, _ = api_client(gw, "cust1")
    for query in ({}, {"before": 2_000_000_000}, {"limit": 100}, {"an8": other}, {"account": other}):
        r = cust.get("/api/v1/account/access-history", params=query)
        assert r.status_code == 200 and "only-for-other" not in r.text and r.json()["account_an8"] == own
    # ...and the other account's own customer does.
    customer_of(gw, "cust-other", other)
    theirs, _ = api_client(gw, "cust-other")
    assert "only-for-other" in theirs.get("/api/v1/account/access-history").text


def test_paging_and_sessions_without_an_end(gw):
    account = gw.accounts[2]
    new_rep(gw, "hist3", accounts=[account])
    rep, token = api_client(gw, "hist3")
    for n in range(3):
        token = rep.post("/api/v1/obo", json={"an8": account, "reason": f"visit {n}"},
                         headers={"X-CSRF-Token": token}).json()["csrf_token"]
        if n < 2:
            token = rep.delete("/api/v1/obo", headers={"X-CSRF-Token": token}).json()["csrf_token"]
    with gw.portal() as db:
        first = history.access_history(db, an8=account, limit=2)
        assert [v.reason for v in first.visits] == ["visit 2", "visit 1"]
        assert first.visits[0].ended_at is None and first.visits[1].ended_at is not None
        rest = history.access_history(db, an8=account, before=first.next_before, limit=2)
        assert [v.reason for v in rest.visits] == ["visit 0"] and rest.next_before is None
        assert rest.visits[0].done == []


def test_the_receipts_setting_is_the_customers_own_and_audited(gw):
    cust, token = api_client(gw, "cust1")
    assert cust.get("/api/v1/account/settings").json() == {"obo_receipts": False}  # default off
    r = cust.put("/api/v1/account/settings", json={"obo_receipts": True}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json() == {"obo_receipts": True}
    with gw.portal() as db:
        entry = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "account.receipts")
                           .order_by(AuditEntry.seq.desc())).first()
        assert entry.subject_an8 == gw.accounts[0] and '"obo_receipts":true' in entry.detail
    page = gw.client("cust1")
    csrf = page.get("/api/v1/session").json()["csrf_token"]
    assert "Stop the receipts" in page.get("/account/access-history").text
    assert page.post("/account/receipts", data={"csrf_token": csrf}).status_code == 303  # off again
    assert cust.get("/api/v1/account/settings").json() == {"obo_receipts": False}
    # A rep acting for the account may not change it.
    rep, token = api_client(gw, "sales1")
    token = rep.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": token}).json()["csrf_token"]
    assert rep.put("/api/v1/account/settings", json={"obo_receipts": True},
                   headers={"X-CSRF-Token": token}).status_code == 403
    rep.delete("/api/v1/obo", headers={"X-CSRF-Token": token})
