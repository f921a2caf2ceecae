"""Acting on behalf: rotation at start/change/end, the per-request re-check, guessed numbers,
billing and shipping choices, the banner, the URL rule, and the audit trail."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from ecgateway.audit import verify
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.sessions import end_user_sessions
from ecgateway.auth.users import create_user
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.portal.models import User
from web.web_env import BASE_URL, PASSWORD, api_client, session_cookie


def audit(gw, **where) -> list[AuditEntry]:
    with gw.portal() as db:
        stmt = sa.select(AuditEntry).order_by(AuditEntry.seq)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return db.scalars(stmt).all()


def with_cookie(gw, cookie: str) -> TestClient:
    client = TestClient(gw.app, base_url=BASE_URL, follow_redirects=False)
    client.cookies.set("ecgw_session", cookie)
    return client


def new_rep(gw, login: str, user_type: str = "Internal_SalesRep", accounts: list[int] | None = None) -> None:
    with gw.portal() as db:
        create_user(db, login=login, name=login.title(), user_type=user_type, password=PASSWORD, email=f"{login}@example.com")
        db.commit()
        gw.users[login] = db.scalar(sa.select(User.id).where(User.login == login))
    if accounts is not None:
        gw.restrict(login, "ABAN8 IN (" + ",".join(f"'{a}'" for a in accounts) + ")")


def addresses(gw, account: int):
    with gw.runtime.jde_engine.connect() as jde:
        billing = billing_addresses(Jde(jde, gw.runtime.jde, gw.settings.company), account_an8=account)
        return [(b.an8, [s.an8 for s in shipping_addresses(Jde(jde, gw.runtime.jde, gw.settings.company), billing_an8=b.an8)]) for b in billing]


def test_session_id_rotates_at_start_change_and_end_and_old_ids_are_rejected(gw):
    client, token = api_client(gw, "sales1")
    a, b = gw.allowed_for("sales1")[:2]
    ids, tokens = [session_cookie(client)], [token]
    for method, body in (("POST", {"an8": a}), ("POST", {"an8": b}), ("DELETE", None)):
        r = client.request(method, "/api/v1/obo", json=body, headers={"X-CSRF-Token": tokens[-1]})
        assert r.status_code == 200, r.text
        ids.append(session_cookie(client))
        tokens.append(r.json()["csrf_token"])
    assert len(set(ids)) == 4 and len(set(tokens)) == 4
    for old in ids[:-1]:
        assert with_cookie(gw, old).get("/api/v1/obo").status_code == 401
    assert with_cookie(gw, ids[-1]).get("/api/v1/obo").json()["acting"] is False
    # The old CSRF token died with the old id.
    r = client.post("/api/v1/obo", json={"an8": a}, headers={"X-CSRF-Token": tokens[-2]})
    assert r.status_code == 403
    rep = gw.users["sales1"]
    actions = [(e.action, e.subject_an8) for e in audit(gw, actor_user_id=rep) if e.action.startswith("obo.")][-4:]
    # A change ends the session for the first account (its own obo.end) before the next one starts.
    assert actions == [("obo.start", a), ("obo.end", a), ("obo.change", b), ("obo.end", b)]


def test_narrowed_restriction_ends_a_running_session_on_the_next_request(gw):
    accounts = gw.accounts[:3]
    new_rep(gw, "narrow1", accounts=accounts)
    client = gw.client("narrow1")
    token = client.get("/api/v1/session").json()["csrf_token"]
    assert client.post("/obo", data={"an8": accounts[2], "csrf_token": token}).status_code == 303
    assert "Acting on behalf of" in client.get("/account").text
    gw.restrict("narrow1", f"ABAN8 IN ('{accounts[0]}','{accounts[1]}')")  # the admin narrows the list
    page = client.get("/accounts")
    assert page.status_code == 200
    assert "Acting on behalf of" not in page.text
    assert "no longer in your list" in page.text  # the message, on the very next request
    state = client.get("/api/v1/obo").json()
    assert state["acting"] is False
    ended = audit(gw, action="obo.end", actor_user_id=gw.users["narrow1"])
    assert ended[-1].subject_an8 == accounts[2] and "restriction" in ended[-1].detail
    # ...and the account is now refused outright.
    r = client.post("/api/v1/obo", json={"an8": accounts[2]}, headers={"X-CSRF-Token": state["csrf_token"]})
    assert r.status_code == 404


def test_type_change_ends_a_running_session(gw):
    new_rep(gw, "mover1", user_type="Internal_AR")
    client, token = api_client(gw, "mover1")
    assert client.post("/api/v1/obo", json={"an8": gw.accounts[5]}, headers={"X-CSRF-Token": token}).status_code == 200
    with gw.portal() as db:
        db.get(User, gw.users["mover1"]).user_type = "Admin"
        db.commit()
    r = client.get("/api/v1/obo")
    assert r.status_code == 200
    assert r.json()["acting"] is False and "user type is now Admin" in r.json()["notice"]
    assert client.get("/api/v1/accounts").status_code == 403


def test_guessed_account_number_is_refused_and_audited(gw):
    client, token = api_client(gw, "ar1")
    outside = [a for a in gw.accounts if a not in gw.allowed_for("ar1")][0]
    for guess in (outside, 99_999_999, gw.employee_an8):
        r = client.post("/api/v1/obo", json={"an8": guess}, headers={"X-CSRF-Token": token})
        assert r.status_code == 404, r.text
        assert f"Account {guess} is not in your list" in r.json()["message"]
        entry = audit(gw, action="obo.start", outcome="refused", subject_an8=guess, actor_user_id=gw.users["ar1"])
        assert entry, guess
        assert client.get(f"/accounts/{guess}").status_code == 404  # nor can the page be read
        assert client.get(f"/api/v1/accounts/{guess}").status_code == 404
    assert client.get("/api/v1/obo").json()["acting"] is False
    # A form post of a guessed number is refused the same way, on an error page that says what to do.
    page = client.post("/obo", data={"an8": outside, "csrf_token": token})
    assert page.status_code == 404 and "Pick an account from your list" in page.text


def test_billing_choice_and_shipping_from_that_billing_address(gw):
    account = next(a for a in gw.allowed_for("sales1") if len(addresses(gw, a)) > 1)
    (first_billing, _), (second_billing, second_ships) = addresses(gw, account)[:2]
    client, token = api_client(gw, "sales1")
    r = client.post("/api/v1/obo", json={"an8": account}, headers={"X-CSRF-Token": token})
    assert r.json()["billing_an8"] == first_billing and r.json()["shipping_an8"] is None  # the default: first
    token = r.json()["csrf_token"]
    r = client.post("/api/v1/obo", json={"an8": account, "billing_an8": second_billing}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["billing_an8"] == second_billing
    token = r.json()["csrf_token"]
    # A shipping address of another billing address is refused.
    other_ship = addresses(gw, account)[0][1][0]
    r = client.post("/api/v1/obo/addresses", json={"shipping_an8": other_ship}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and "not one of billing address" in r.json()["message"]
    r = client.post("/api/v1/obo/addresses", json={"shipping_an8": second_ships[-1]}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["shipping_an8"] == second_ships[-1]
    page = client.get("/account")
    assert f"({second_billing})" in page.text.split('data-testid="obo-banner"')[1].split("</div>")[0]
    assert "shipping here" in page.text
    # A billing address of another account is refused and the choice stays.
    foreign = addresses(gw, gw.accounts[0])[0][0]
    r = client.post("/api/v1/obo/addresses", json={"billing_an8": foreign}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    assert client.get("/api/v1/obo").json()["billing_an8"] == second_billing
    r = client.post("/api/v1/obo", json={"an8": account, "billing_an8": foreign}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422


def test_banner_on_every_page_while_acting_and_top_nav_shows_the_rep(gw):
    client = gw.client("sales1")
    token = client.get("/api/v1/session").json()["csrf_token"]
    a, b = gw.allowed_for("sales1")[:2]
    client.post("/obo", data={"an8": a, "csrf_token": token})
    for path in ("/", "/accounts", "/account", f"/accounts/{b}", "/no-such-page", "/accounts/99999999"):
        page = client.get(path)
        assert 'data-testid="obo-banner"' in page.text, path
        assert f"({a})" in page.text.split('data-testid="obo-banner"')[1], path
        assert "Signed in as <strong>Sales1 Tester</strong>" in page.text, path
    # The URL rule: account b's page shows b while the banner still names a.
    page = client.get(f"/accounts/{b}")
    assert "<h1>" in page.text and f"({b})</span></h1>" in page.text


def test_customer_sees_own_account_only_and_cannot_act(gw):
    own = gw.accounts[0]
    client, token = api_client(gw, "cust1")
    state = client.get("/api/v1/obo").json()
    assert state["acting"] is False and state["account_an8"] == own and state["billing_an8"] is not None
    page = client.get("/account")
    assert page.status_code == 200 and f"({own})" in page.text and "Acting on behalf" not in page.text
    assert client.get(f"/accounts/{gw.accounts[1]}").status_code == 404
    assert client.get(f"/api/v1/accounts/{own}").json()["an8"] == own
    r = client.post("/api/v1/obo", json={"an8": own}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403
    assert audit(gw, action="obo.start", outcome="refused", actor_user_id=gw.users["cust1"])


def test_account_page_shows_addresses_phones_terms_and_open_orders(gw):
    client, _ = api_client(gw, "cs1")
    with gw.runtime.jde_engine.connect() as jde:
        f4211 = gw.runtime.jde.F4211
        with_orders = jde.scalar(sa.select(f4211.c.sdpa8).where(f4211.c.sdnxtr != "999").order_by(f4211.c.sdpa8).limit(1))
    d = client.get(f"/api/v1/accounts/{with_orders}").json()
    assert d["name"] and d["address"]["city"] and d["phones"] and d["credit_limit"] is not None and d["payment_terms"]
    assert d["billing"] and all(b["shipping"] for b in d["billing"])
    assert d["open_orders"] and all(o["status"] != "999" for o in d["open_orders"])
    page = client.get(f"/accounts/{with_orders}")
    assert "Billing addresses" in page.text and "Open orders" in page.text and str(d["open_orders"][0]["number"]) in page.text


def test_admin_ending_a_users_sessions(gw):
    client, _ = api_client(gw, "ar1")
    with gw.portal() as db:
        assert end_user_sessions(db, user_id=gw.users["ar1"]) >= 1
        db.commit()
    assert client.get("/api/v1/session").status_code == 401


def test_audit_chain_is_intact_after_all_of_it(gw):
    with gw.portal() as db:
        result = verify(db)
    assert result.ok, result.message
    assert result.checked > 10
