"""Managed lists end to end, in-process app over real SQLite/PostgreSQL, with a real SMTP server on
loopback (aiosmtpd): the rep saves the cart as a list -> the customer receives the e-mail -> opens
the link, signs in, changes a quantity, accepts -> the cart lines carry the list -> the order is
placed and reaches JDE -> the list is closed; a rejection e-mails the rep; SMTP down -> the list is
saved and its e-mail goes when the server is back; a rep without the right gets 403; a customer
never sees another account's list."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from ecgateway.auth.users import create_user
from ecgateway.clock import frozen, utcnow
from ecgateway.commerce.models import Cart, CartLine, ManagedList, Order, OrderLine
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.handle import Jde
from ecgateway.mail.models import MAIL_PENDING, MAIL_SENT, EmailMessage
from mail.smtp_server import running_smtp, smtp_settings
from web.web_env import PASSWORD, build_gateway, csrf_of


@pytest.fixture(scope="module")
def smtp():
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="module")
def gw(jde_db, portal_url, tmp_path_factory, smtp):
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("gw"), **smtp_settings(smtp),
                            mail_from="Portal <noreply@portal.example.com>",
                            mail_backoff_base_seconds=30, mail_backoff_cap_seconds=60)
    with gateway.portal() as db:  # a customer of another account, who must never see account 0's lists
        other = create_user(db, login="cust2", name="Other Buyer", user_type="Customer", email="cust2@example.com",
                            password=PASSWORD, account_an8=gateway.accounts[1])
        db.commit()
        gateway.users["cust2"] = other.id
    yield gateway
    gateway.runtime.dispose()


def acting(gw, login):
    c = gw.client(login)
    r = c.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def signed_in(gw, login):
    c = gw.client(login)
    return c, {"X-CSRF-Token": csrf_of(c)}


def grant(gw, login, granted=True):
    admin, h = signed_in(gw, "admin1")
    r = admin.post(f"/api/v1/admin/users/{gw.users[login]}/rights", json={"right": "lists.create", "granted": granted},
                   headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def priced_items(client, n):
    r = client.get("/api/v1/catalog", params={"limit": 40})
    assert r.status_code == 200, r.text
    return [i for i in r.json()["items"] if i["available"]][:n]


def ship_to(gw):
    with gw.runtime.jde_engine.connect() as jde:
        handle = Jde(jde, gw.runtime.jde, "00000")
        bill = billing_addresses(handle, account_an8=gw.accounts[0])[0].an8
        return shipping_addresses(handle, billing_an8=bill)[0].an8


def fill_rep_cart(gw, rep, h, n=2):
    with gw.portal() as db:
        db.execute(sa.delete(Cart))
        db.commit()
    items = priced_items(rep, n)
    for qty, it in enumerate(items, start=2):
        assert rep.post("/api/v1/cart/lines", json={"item": it["item"], "quantity": qty}, headers=h).status_code == 201
    return items


def deliver(gw):
    return gw.app.state.mailer.run_until_idle()


def link_in(text: str) -> str:
    return re.search(r"(http://\S+/lists/open\?t=\S+)", text).group(1)


def test_a_rep_without_the_right_gets_403_and_the_refusal_is_audited(gw):
    grant(gw, "ar1", granted=False)
    rep, h = acting(gw, "ar1")
    fill_rep_cart(gw, rep, h, 1)
    r = rep.post("/api/v1/lists", json={"name": "Not allowed"}, headers=h)
    assert r.status_code == 403 and "right" in r.json()["message"]
    page = rep.get("/cart")
    assert page.status_code == 200 and "do not have the right to prepare lists" in page.text
    form = rep.post("/lists", data={"csrf_token": h["X-CSRF-Token"], "name": "x"})
    assert form.status_code == 403
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(ManagedList)) == 0
    audit = signed_in(gw, "admin1")[0].get("/api/v1/admin/audit", params={"action": "list.create"}).json()
    assert any(e["outcome"] == "refused" for e in audit["items"]), audit


def test_list_email_link_sign_in_accept_order_and_the_list_closes(gw, smtp):
    with smtp.lock:
        smtp.received.clear()  # the server serves both backends' modules
    grant(gw, "sales1")
    rep, h = acting(gw, "sales1")
    a, b = fill_rep_cart(gw, rep, h)
    r = rep.post("/api/v1/lists", json={"name": "Spring restock", "note": "As agreed on the phone.",
                                        "quoted_items": [a["item"]]}, headers=h)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "open" and [ln["quoted"] for ln in made["items"]] == [True, False]
    assert {ln["uom"] for ln in made["items"]} != {""}
    assert len(rep.get("/api/v1/cart").json()["lines"]) == 2  # the rep's cart is left as it was

    assert deliver(gw).sent >= 1
    [mail] = smtp.wait_for("cust1@example.com")
    assert mail.message["Subject"] == "A list to approve from Sales1 Tester: Spring restock"
    assert "As agreed on the phone." in mail.text and PASSWORD not in mail.text + mail.html
    assert "ecgw_session" not in mail.message.as_string()
    link = link_in(mail.text)
    assert link in mail.html.replace("&amp;", "&")

    # The link, not signed in: sign-in first, then the list.
    cust = gw.client()
    target = urlsplit(link).path + "?" + urlsplit(link).query
    first = cust.get(target)
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
    login = cust.post("/login", data={"login": "cust1", "password": PASSWORD, "next": target})
    assert login.status_code == 303 and login.headers["location"] == target
    opened = cust.get(target)
    assert opened.status_code == 303 and opened.headers["location"] == f"/lists/{made['id']}"
    page = cust.get(opened.headers["location"])
    assert page.status_code == 200 and "Spring restock" in page.text and "Add to my cart" in page.text
    assert "Spring restock" in cust.get("/cart").text and "Spring restock" in cust.get("/account").text
    csrf = {"X-CSRF-Token": csrf_of(cust)}

    # Changes, then accept: the cart holds the lines with the list's reference.
    r = cust.put(f"/api/v1/lists/{made['id']}/lines/{b['item']}", json={"quantity": 7}, headers=csrf)
    assert r.status_code == 200 and r.json()["items"][1]["quantity"] == 7
    assert rep.put(f"/api/v1/lists/{made['id']}/lines/{b['item']}", json={"quantity": 1}, headers=h).status_code == 403
    assert rep.post(f"/api/v1/lists/{made['id']}/accept", headers=h).status_code == 403
    r = cust.post(f"/api/v1/lists/{made['id']}/accept", headers=csrf)
    assert r.status_code == 200 and r.json()["lines_added"] == 2
    assert cust.post(f"/api/v1/lists/{made['id']}/accept", headers=csrf).status_code == 422  # once only
    with gw.portal() as db:
        lines = db.execute(sa.select(CartLine.item, CartLine.quantity, CartLine.list_id).join(Cart)
                           .where(Cart.rep_id.is_(None), Cart.account_an8 == gw.accounts[0])).all()
    assert {(ln.item, ln.quantity, ln.list_id) for ln in lines} == {(a["item"], 2, made["id"]), (b["item"], 7, made["id"])}
    cart = cust.get("/api/v1/cart").json()
    quoted = next(ln for ln in cart["lines"] if ln["item"] == a["item"])
    assert Decimal(quoted["unit_price"]) == Decimal(made["items"][0]["unit_price"])
    assert quoted["source"] == f"quoted on list {made['id']}" and quoted["list_id"] == made["id"]

    # The order: its lines keep the reference; once JDE has it, the list is closed.
    r = cust.post("/api/v1/orders", json={"ship_to": ship_to(gw), "customer_po": "PO-LIST-1"},
                  headers={**csrf, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    assert cust.get(f"/api/v1/lists/{made['id']}").json()["status"] == "accepted"
    assert gw.app.state.relay.run_until_idle().sent == 1
    with gw.portal() as db:
        assert set(db.scalars(sa.select(OrderLine.list_id).where(OrderLine.order_id == order_id))) == {made["id"]}
        assert db.get(Order, order_id).status == "sent"
    done = cust.get(f"/api/v1/lists/{made['id']}").json()
    assert done["status"] == "ordered" and done["order_id"] == order_id
    assert [h_["action"] for h_ in done["history"] if h_["outcome"] == "ok"] == [
        "list.create", "list.open", "list.change", "list.accept", "list.ordered"]
    assert {h_["who"] for h_ in done["history"] if h_["outcome"] == "refused"} == {"sales1", "cust1"}
    rep_view = rep.get(f"/api/v1/lists/{made['id']}").json()  # the rep's side sees the same history
    assert [h_["action"] for h_ in rep_view["history"]] == [h_["action"] for h_ in done["history"]]
    assert "ordered" in rep.get(f"/lists/{made['id']}").text

    # Another account's customer never sees it.
    other, other_h = signed_in(gw, "cust2")
    assert other.get(f"/api/v1/lists/{made['id']}").status_code == 404
    assert other.get(f"/lists/{made['id']}").status_code == 404
    assert other.get("/api/v1/lists").json()["items"] == []
    assert other.post(f"/api/v1/lists/{made['id']}/reject", json={}, headers=other_h).status_code == 404
    assert other.get(target, follow_redirects=True).status_code == 404  # the link of another account's list


def test_reject_emails_the_rep_with_the_reason(gw, smtp):
    grant(gw, "sales1")
    rep, h = acting(gw, "sales1")
    fill_rep_cart(gw, rep, h, 1)
    made = rep.post("/api/v1/lists", json={"name": "Autumn offer"}, headers=h).json()
    cust, csrf = signed_in(gw, "cust1")
    r = cust.post(f"/api/v1/lists/{made['id']}/reject", json={"reason": "Budget is frozen until March"}, headers=csrf)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    deliver(gw)
    mail = next(m for m in smtp.wait_for("sales1@example.com") if "Autumn offer" in m.message["Subject"])
    assert "Budget is frozen until March" in mail.text and "Budget is frozen until March" in mail.html
    assert f"/lists/{made['id']}" in mail.text
    view = rep.get(f"/api/v1/lists/{made['id']}").json()
    assert view["reject_reason"] == "Budget is frozen until March" and view["history"][-1]["action"] == "list.reject"
    assert cust.post(f"/api/v1/lists/{made['id']}/accept", headers=csrf).status_code == 422


def test_smtp_down_the_list_is_saved_and_its_email_goes_when_smtp_is_back(gw, smtp):
    grant(gw, "sales1")
    rep, h = acting(gw, "sales1")
    fill_rep_cart(gw, rep, h, 1)
    deliver(gw)
    before = len(smtp.to("cust1@example.com"))
    smtp.stop()
    try:
        r = rep.post("/api/v1/lists", json={"name": "While SMTP is down"}, headers=h)
        assert r.status_code == 201, r.text
        result = deliver(gw)
        assert result.sent == 0 and result.retried == 1
        with gw.portal() as db:
            waiting = db.scalars(sa.select(EmailMessage).where(EmailMessage.state == MAIL_PENDING)).all()
            assert len(waiting) == 1 and waiting[0].attempts == 1 and waiting[0].last_error
    finally:
        smtp.start()
    cust, _ = signed_in(gw, "cust1")
    assert any(x["name"] == "While SMTP is down" for x in cust.get("/api/v1/lists", params={"open": True}).json()["items"])
    with frozen(utcnow() + dt.timedelta(seconds=61)):
        assert deliver(gw).sent == 1
    got = smtp.wait_for("cust1@example.com", count=before + 1)
    assert "While SMTP is down" in got[-1].message["Subject"]
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(EmailMessage)
                         .where(EmailMessage.state != MAIL_SENT)) == 0


def test_the_lists_api_is_in_the_openapi_document(gw):
    client, _ = signed_in(gw, "cust1")
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/v1/lists", "/api/v1/lists/{list_id}", "/api/v1/lists/{list_id}/lines/{item}",
            "/api/v1/lists/{list_id}/accept", "/api/v1/lists/{list_id}/reject",
            "/api/v1/admin/users/{user_id}/rights"} <= set(paths)
    assert set(paths["/api/v1/lists"]) == {"get", "post"}


def test_expired_or_altered_links_say_so_with_the_way_back(gw):
    cust, _ = signed_in(gw, "cust1")
    bad = cust.get("/lists/open", params={"t": "abc.def"})
    assert bad.status_code == 400 and "/cart" in bad.text
    from ecgateway.mail import sign_link

    token = sign_link(gw.settings.secret, purpose="list.open", subject="1", expires_in=dt.timedelta(seconds=1))
    with frozen(utcnow() + dt.timedelta(minutes=5)):
        late = cust.get("/lists/open", params={"t": token})
    assert late.status_code == 410 and "expired" in late.text
    wrong = sign_link(gw.settings.secret, purpose="password.set", subject="1", expires_in=dt.timedelta(days=1))
    assert cust.get("/lists/open", params={"t": wrong}).status_code == 400


def test_which_account_types_may_receive_lists_is_a_setting(gw):
    from ecgateway.commerce.lists import may_create_lists
    from ecgateway.jde.codes import party_code
    from ecgateway.obo.context import ActingContext, Actor
    from ecgateway.portal.models import User

    grant(gw, "sales1")
    with gw.portal() as db, gw.runtime.reading_jde() as jde:
        ctx = ActingContext(actor=Actor.of(db.get(User, gw.users["sales1"])), subject_an8=gw.accounts[0],
                            on_behalf=True)
        klass = party_code(jde, an8=gw.accounts[0], column="abac03").code
        assert may_create_lists(db, jde, ctx=ctx, settings=gw.settings) is None  # default ["*"]: every account
        only = gw.settings.model_copy(update={"lists_account_types": (klass,)})
        assert may_create_lists(db, jde, ctx=ctx, settings=only) is None
        other = gw.settings.model_copy(update={"lists_account_types": ("ZZZ",)})
        refusal = may_create_lists(db, jde, ctx=ctx, settings=other)
        assert refusal and "ECGW_LISTS_ACCOUNT_TYPES" in refusal and "ZZZ" in refusal


def test_the_list_prices_follow_jde_quoted_lines_keep_their_quote_zero_drops_and_an_expired_list_is_closed(gw):
    """Parts of the issue no other test showed: JDE's price now for the lines not quoted, the quote
    kept for the others, a quantity of 0 dropping a line (out of the total), the expiry; the page
    shows unit prices with JDE's UPRC decimals and amounts with the currency's, in the rep's words."""
    import html

    grant(gw, "sales1")
    rep, h = acting(gw, "sales1")
    a, b = fill_rep_cart(gw, rep, h)
    tomorrow = (utcnow() + dt.timedelta(days=1)).date().isoformat()
    r = rep.post("/api/v1/lists", json={"name": "Price check", "quoted_items": [a["item"]], "expires_on": tomorrow},
                 headers=h)
    assert r.status_code == 201, r.text
    made = r.json()
    before = {ln["item"]: Decimal(ln["unit_price"]) for ln in made["items"]}
    cust, csrf = signed_in(gw, "cust1")
    f4106 = gw.runtime.jde.F4106
    with gw.runtime.jde_engine.begin() as jde:  # JDE's price of both items doubles
        jde.execute(sa.update(f4106).where(f4106.c.bplitm.in_([a["item"], b["item"]]))
                    .values(bpuprc=f4106.c.bpuprc * 2))
    try:
        now = {ln["item"]: ln for ln in cust.get(f"/api/v1/lists/{made['id']}").json()["items"]}
        assert Decimal(now[a["item"]]["unit_price"]) == before[a["item"]] and now[a["item"]]["quoted"]
        assert Decimal(now[b["item"]]["unit_price"]) > before[b["item"]] and not now[b["item"]]["quoted"]

        page = html.unescape(cust.get(f"/lists/{made['id']}").text)
        places = int(gw.settings.decimals.get("UPRC", 4))
        cells = re.findall(r'<td class="num">[\d,]+\.(\d+)(?: <span class="tag">quoted</span>)?</td>\s*'
                           r'<td class="num">[\d,]+\.(\d+)</td>', page)  # unit price, then the line's amount
        assert len(cells) == 2 and all(len(u) == places and len(x) == 2 for u, x in cells), cells
        total = re.search(r'id="list-total">([\d,]+(?:\.(\d+))?)</td>', page)
        assert total and len(total.group(2) or "") == 2, total  # the account's currency has two decimals

        # 0 drops the line: it stays on the list, marked, out of the total
        r = cust.put(f"/api/v1/lists/{made['id']}/lines/{b['item']}", json={"quantity": 0}, headers=csrf)
        assert r.status_code == 200, r.text
        dropped = {ln["item"]: ln for ln in r.json()["items"]}[b["item"]]
        assert dropped["dropped"] and dropped["unit_price"] is None and dropped["extended"] is None
        assert Decimal(r.json()["total"]) == Decimal(now[a["item"]]["extended"])
    finally:
        with gw.runtime.jde_engine.begin() as jde:
            jde.execute(sa.update(f4106).where(f4106.c.bplitm.in_([a["item"], b["item"]]))
                        .values(bpuprc=f4106.c.bpuprc / 2))

    # Past its expiry the list reads "expired" and can no longer be accepted
    with gw.portal() as db:
        db.get(ManagedList, made["id"]).expires_at = utcnow() - dt.timedelta(minutes=1)
        db.commit()
    assert cust.get(f"/api/v1/lists/{made['id']}").json()["status"] == "expired"
    r = cust.post(f"/api/v1/lists/{made['id']}/accept", headers=csrf)
    assert r.status_code in (409, 410, 422), r.text
    assert "expired" in r.json()["message"]
    assert all(ln["list_id"] != made["id"] for ln in cust.get("/api/v1/cart").json()["lines"])


def test_a_list_the_rep_prepared_shows_in_the_customers_access_history(gw):
    """Issue 17 part 4: the customer reads what each rep's session did; a prepared list is one of those steps."""
    grant(gw, "sales1")
    rep = gw.client("sales1")
    r = rep.post("/api/v1/obo", json={"an8": gw.accounts[0], "reason": "Ticket 88: restock list"},
                 headers={"X-CSRF-Token": csrf_of(rep)})
    assert r.status_code == 200, r.text
    h = {"X-CSRF-Token": r.json()["csrf_token"]}
    fill_rep_cart(gw, rep, h, 1)
    made = rep.post("/api/v1/lists", json={"name": "History check"}, headers=h)
    assert made.status_code == 201, made.text
    assert rep.delete("/api/v1/obo", headers=h).status_code == 200
    cust, _ = signed_in(gw, "cust1")
    visits = [v for v in cust.get("/api/v1/account/access-history").json()["visits"]
              if v["reason"] == "Ticket 88: restock list"]
    assert len(visits) == 1
    done = visits[0]["done"]
    assert [d["action"] for d in done] == ["list.create"], done
    assert "History check" in done[0]["text"] or str(made.json()["id"]) in done[0]["text"], done
    assert "Ticket 88: restock list" in gw.client("cust1").get("/account/access-history").text
